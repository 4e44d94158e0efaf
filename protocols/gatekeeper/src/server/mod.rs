//! The reference gatekeeper server: the gatekeeper role (Noise endpoint,
//! prekeys, opt-in, store and forward, media proxy) and the provider role
//! (HTTP auth endpoint, media host) in one process, with its own SQLite file.
//!
//! It listens on loopback by default. On start it prints one JSON line on
//! stdout with the bound addresses and its public key, so tests and scripts
//! can use dynamic ports:
//!
//! ```text
//! {"noise":"127.0.0.1:40001","gatekeeper_http":"http://127.0.0.1:40002","provider_http":"http://127.0.0.1:40003","server_key":"…"}
//! ```
//!
//! Logs (stderr) carry metadata only: addresses, sizes, codes; never bodies.

pub mod cli;
mod conn;
pub mod db;
mod http;
mod hub;

use db::Db;
use hub::Hub;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Where and how to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The SQLite file.
    pub db: PathBuf,
    /// The Noise endpoint.
    pub noise: SocketAddr,
    /// The gatekeeper's HTTP listener (proxy, its users' media).
    pub gatekeeper_http: SocketAddr,
    /// The provider's HTTP listener (auth, media host).
    pub provider_http: SocketAddr,
    /// Messages per second per sender.
    pub rate: f64,
    /// Burst of messages per sender.
    pub burst: f64,
    /// Holds each acknowledgement this long after the message is stored.
    /// Zero in normal use; tests of a client's crash recovery set it to
    /// widen the window between "stored by the server" and "acknowledged".
    pub ack_delay: std::time::Duration,
    /// Serve both HTTP listeners over TLS with this PEM certificate chain
    /// and key (then their URLs are `https://`).
    pub tls: Option<TlsFiles>,
    /// An extra CA the media proxy trusts when it fetches from a provider.
    pub trust_ca: Option<PathBuf>,
}

/// A PEM certificate chain and its private key.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

impl Config {
    /// Loopback listeners on free ports, the default limits, no delay.
    pub fn loopback(db: PathBuf) -> Self {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            db,
            noise: any,
            gatekeeper_http: any,
            provider_http: any,
            rate: 20.0,
            burst: 200.0,
            ack_delay: std::time::Duration::ZERO,
            tls: None,
            trust_ca: None,
        }
    }
}

/// State shared by all connections.
pub struct Shared {
    db: Db,
    hub: Hub,
    server_key: Vec<u8>,
    provider_origin: String,
    gatekeeper_origin: String,
    ack_delay: std::time::Duration,
    client: crate::wire::http_client::Client,
}

/// What a started server is bound to.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Ready {
    /// The Noise endpoint.
    pub noise: String,
    /// The gatekeeper HTTP base URL.
    pub gatekeeper_http: String,
    /// The provider HTTP base URL.
    pub provider_http: String,
    /// The server's static public key, hex.
    pub server_key: String,
}

/// Binds the listeners and serves until the process ends; calls `ready`
/// once bound.
pub async fn run(
    config: Config,
    ready: impl FnOnce(&Ready),
) -> Result<(), Box<dyn std::error::Error>> {
    let db = Db::open(&config.db)?;
    let (server_key, server_public) = db.server_key()?;
    let noise = TcpListener::bind(config.noise).await?;
    let gk_http = TcpListener::bind(config.gatekeeper_http).await?;
    let pr_http = TcpListener::bind(config.provider_http).await?;
    let acceptor = match &config.tls {
        Some(f) => Some(tokio_rustls::TlsAcceptor::from(koine_tls::server_config(
            &f.cert, &f.key,
        )?)),
        None => None,
    };
    let client = crate::wire::http_client::Client::new(config.trust_ca.as_deref())?;
    let scheme = if acceptor.is_some() { "https" } else { "http" };
    let r = Ready {
        noise: noise.local_addr()?.to_string(),
        gatekeeper_http: format!("{scheme}://{}", gk_http.local_addr()?),
        provider_http: format!("{scheme}://{}", pr_http.local_addr()?),
        server_key: hex::encode(server_public),
    };
    let shared = Arc::new(Shared {
        db,
        hub: Hub::new(config.rate, config.burst),
        server_key,
        provider_origin: r.provider_http.clone(),
        gatekeeper_origin: r.gatekeeper_http.clone(),
        ack_delay: config.ack_delay,
        client,
    });
    ready(&r);
    tracing::info!(noise = %r.noise, "gatekeeper listening");
    tokio::spawn(http::serve(
        gk_http,
        acceptor.clone(),
        http::Role::Gatekeeper,
        shared.clone(),
    ));
    tokio::spawn(http::serve(
        pr_http,
        acceptor,
        http::Role::Provider,
        shared.clone(),
    ));
    loop {
        let (stream, addr) = noise.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(conn::serve(stream, addr, shared.clone()));
    }
}
