//! The command line of `koine-gatekeeper-server`: `serve`, and admin
//! subcommands that work on the SQLite file (also while the server runs).

use super::Config;
use super::db::Db;
use crate::wire::Peer;
use crate::wire::stanza::Folder;
use clap::{Parser, Subcommand};
use std::io::Write as _;
use std::path::PathBuf;

/// The reference gatekeeper server of Koine's open interop protocol.
#[derive(Debug, Parser)]
#[command(name = "koine-gatekeeper-server", version)]
pub struct Args {
    /// The server's SQLite file.
    #[arg(long, env = "KOINE_GATEKEEPER_DB")]
    pub db: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: Cmd,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Run the server (loopback, dynamic ports by default).
    Serve {
        /// The Noise endpoint.
        #[arg(long, default_value = "127.0.0.1:0")]
        noise: std::net::SocketAddr,
        /// The gatekeeper's HTTP listener.
        #[arg(long, default_value = "127.0.0.1:0")]
        gatekeeper_http: std::net::SocketAddr,
        /// The provider's HTTP listener.
        #[arg(long, default_value = "127.0.0.1:0")]
        provider_http: std::net::SocketAddr,
        /// Messages per second per sender.
        #[arg(long, default_value_t = 20.0)]
        rate: f64,
        /// Burst of messages per sender.
        #[arg(long, default_value_t = 200.0)]
        burst: f64,
        /// Hold each acknowledgement this many milliseconds after storing
        /// the message (for crash-recovery tests of clients).
        #[arg(long, default_value_t = 0)]
        ack_delay_ms: u64,
        /// Serve the HTTP listeners over TLS with this PEM certificate chain.
        #[arg(long, requires = "tls_key", value_name = "PEM")]
        tls_cert: Option<std::path::PathBuf>,
        /// The private key of --tls-cert (PEM).
        #[arg(long, requires = "tls_cert", value_name = "PEM")]
        tls_key: Option<std::path::PathBuf>,
        /// An extra CA (PEM) the media proxy trusts when fetching.
        #[arg(long, value_name = "PEM")]
        trust_ca: Option<std::path::PathBuf>,
    },
    /// Register a provider.
    AddProvider {
        /// Its name (lowercase letters, digits, dots, dashes).
        name: String,
    },
    /// Create an account: `+E164` (gatekeeper user) or `provider:id`.
    AddUser {
        /// The address.
        address: String,
        /// The password.
        password: String,
    },
    /// Opt a gatekeeper user in to a provider.
    OptIn {
        /// The `+E164` user.
        address: String,
        /// The provider.
        provider: String,
        /// Put third-party chats in one inbox instead of a separate folder.
        #[arg(long)]
        combined: bool,
    },
    /// Opt a gatekeeper user out of a provider (chats become read-only).
    OptOut {
        /// The `+E164` user.
        address: String,
        /// The provider.
        provider: String,
    },
}

/// Runs the command line.
pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let peer = |s: &str| Peer::parse(s).map_err(|e| format!("{s}: {e}"));
    match args.command {
        Cmd::Serve {
            noise,
            gatekeeper_http,
            provider_http,
            rate,
            burst,
            ack_delay_ms,
            tls_cert,
            tls_key,
            trust_ca,
        } => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            rt.block_on(super::run(
                Config {
                    db: args.db,
                    noise,
                    gatekeeper_http,
                    provider_http,
                    rate,
                    burst,
                    ack_delay: std::time::Duration::from_millis(ack_delay_ms),
                    tls: tls_cert
                        .zip(tls_key)
                        .map(|(cert, key)| super::TlsFiles { cert, key }),
                    trust_ca,
                },
                |ready| {
                    if let Ok(line) = serde_json::to_string(ready) {
                        let mut out = std::io::stdout();
                        let _ = writeln!(out, "{line}");
                        let _ = out.flush();
                    }
                },
            ))?;
        }
        Cmd::AddProvider { name } => {
            Peer::parse(&format!("{name}:x"))?;
            Db::open(&args.db)?.add_provider(&name)?;
        }
        Cmd::AddUser { address, password } => {
            Db::open(&args.db)?.add_user(&peer(&address)?, &password)?
        }
        Cmd::OptIn {
            address,
            provider,
            combined,
        } => {
            let folder = if combined {
                Folder::Combined
            } else {
                Folder::Separate
            };
            let p = peer(&address)?;
            if !matches!(p, Peer::Gatekeeper(_)) {
                return Err("only gatekeeper users opt in".into());
            }
            let db = Db::open(&args.db)?;
            db.add_provider(&provider)?;
            db.set_optin(&p, &provider, folder, true)?;
        }
        Cmd::OptOut { address, provider } => {
            Db::open(&args.db)?.set_optin(&peer(&address)?, &provider, Folder::Separate, false)?
        }
    }
    Ok(())
}
