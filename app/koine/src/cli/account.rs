//! `koine account ...` and `koine networks`.

use anyhow::{Context, bail};
use clap::Subcommand;
use koine_api::{FieldKind, ProtocolId, Secret, Settings};
use koine_core::Engine;
use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Add an account. The password is read from standard input
    /// (--password-stdin) or asked for on the terminal, and kept only in the
    /// OS keyring.
    Add {
        /// The network (see `koine networks`).
        network: String,
        /// The account's user id on that network (JID, MXID, phone number...).
        label: String,
        /// A setting, as key=value (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        settings: Vec<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// No password: sign in through the server's web page instead (where
        /// the network offers it, e.g. Matrix SSO; the sign-in prompt shows up
        /// in `koine tail` and in the window).
        #[arg(long, conflicts_with = "password_stdin")]
        no_password: bool,
    },
    /// List accounts.
    List {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Change an account's settings (for example `e2ee_start_over=ID`,
    /// the explicit choice to start over with a new encryption identity
    /// after the keyring lost the old one). Takes effect when the account
    /// next connects.
    Set {
        /// Account id or label.
        account: String,
        /// A setting, as key=value (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE", required = true)]
        settings: Vec<String>,
    },
    /// Remove an account, its history, its plugin data and its password.
    Remove {
        /// Account id or label.
        account: String,
    },
}

pub async fn run(engine: &Engine, command: AccountCommand) -> anyhow::Result<ExitCode> {
    match command {
        AccountCommand::Add {
            network,
            label,
            settings,
            password_stdin,
            no_password,
        } => {
            let protocol = ProtocolId::new(network.clone());
            let plugin = engine
                .registry()
                .get(&protocol)
                .with_context(|| format!("unknown network {network:?} (see `koine networks`)"))?;
            let mut parsed = Settings::default();
            for pair in settings {
                let Some((key, value)) = pair.split_once('=') else {
                    bail!("--set expects KEY=VALUE, got {pair:?}");
                };
                parsed.set(key.trim(), value.trim());
            }
            let secret_field = plugin
                .info()
                .account_fields
                .into_iter()
                .find(|f| f.kind == FieldKind::Secret);
            let optional = secret_field.as_ref().is_some_and(|f| !f.required);
            let secret = if secret_field.is_none() {
                None
            } else if no_password {
                if !optional {
                    bail!("this network needs a password");
                }
                None
            } else if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("reading the password from standard input")?;
                Some(Secret::new(line.trim_end_matches(['\r', '\n'])))
            } else if std::io::stdin().is_terminal() {
                Some(Secret::new(
                    rpassword::prompt_password(format!("Password for {label}: "))
                        .context("reading the password")?,
                ))
            } else if optional {
                bail!(
                    "pass --password-stdin, or --no-password to sign in through the server's web page"
                );
            } else {
                bail!("this network needs a password: pass --password-stdin");
            };
            let secret = secret.filter(|s| !(optional && s.expose().is_empty()));
            let record = engine
                .add_account(&protocol, &label, parsed, secret)
                .await?;
            println!("{}", record.id);
            Ok(ExitCode::SUCCESS)
        }
        AccountCommand::List { json } => {
            for a in engine.accounts()? {
                if json {
                    println!(
                        "{}",
                        serde_json::json!({
                            "id": a.id, "network": a.protocol, "label": a.label,
                            "enabled": a.enabled, "settings": a.settings,
                        })
                    );
                } else {
                    println!("{}\t{}\t{}", a.id, a.protocol, a.label);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        AccountCommand::Set { account, settings } => {
            let record = engine.find_account(&account)?;
            for pair in settings {
                let Some((key, value)) = pair.split_once('=') else {
                    bail!("--set expects KEY=VALUE, got {pair:?}");
                };
                engine.set_account_setting(&record.id, key.trim(), value.trim())?;
            }
            println!("{}", record.id);
            Ok(ExitCode::SUCCESS)
        }
        AccountCommand::Remove { account } => {
            let record = engine.find_account(&account)?;
            let signed_out = engine.remove_account_reporting(&record.id).await?;
            println!("removed {}", record.id);
            match signed_out {
                koine_core::ServerSignOut::NotNeeded => {}
                koine_core::ServerSignOut::Done => {
                    println!("the server ended this login: its tokens are no longer valid");
                }
                koine_core::ServerSignOut::Failed(reason) => eprintln!(
                    "koine: warning: the server could not be told ({reason}); the login \
                     stays valid there until it expires or you end it from another client"
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn networks(engine: &Engine) -> ExitCode {
    for plugin in engine.registry().iter() {
        let info = plugin.info();
        println!("{}\t{}", info.id, info.name);
        for field in info.account_fields {
            let required = if field.required {
                "required"
            } else {
                "optional"
            };
            if field.kind == FieldKind::Secret {
                println!(
                    "  {}: {} (asked for when the account is added, kept only in the keyring; {required})",
                    field.key, field.label.fallback
                );
                continue;
            }
            let kind = match field.kind {
                FieldKind::Choice(c) => format!("one of {}", c.join(", ")),
                other => format!("{other:?}").to_lowercase(),
            };
            let default = field
                .default
                .map(|d| format!(", default {d}"))
                .unwrap_or_default();
            println!(
                "  --set {}=...\t{} ({kind}, {required}{default})",
                field.key, field.label.fallback
            );
        }
    }
    ExitCode::SUCCESS
}
