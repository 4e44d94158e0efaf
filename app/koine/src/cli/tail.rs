//! `koine tail`.

use super::safe::field;
use clap::Args;
use koine_core::{Engine, EngineEvent};
use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct TailArgs {
    /// One JSON object per line (machine-readable).
    #[arg(long)]
    json: bool,
    /// Only this account (id or label).
    #[arg(long)]
    account: Option<String>,
}

pub async fn run(engine: &Engine, args: TailArgs) -> anyhow::Result<ExitCode> {
    let mut events = engine.subscribe();
    match &args.account {
        Some(a) => engine.start(&engine.find_account(a)?.id)?,
        None => engine.start_all()?,
    }
    let stop = shutdown_signal();
    tokio::pin!(stop);
    let mut out = std::io::stdout().lock();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            event = events.recv() => match event {
                Ok(event) => {
                    let event = without_secrets(event);
                    if args.json {
                        serde_json::to_writer(&mut out, &event)?;
                        writeln!(out)?;
                    } else {
                        writeln!(out, "{}", human(&event))?;
                    }
                    out.flush()?;
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    // A script reading the stream must know it has a gap:
                    // the events are in the store, not in this output.
                    tracing::warn!(skipped = n, "tail fell behind");
                    if args.json {
                        writeln!(out, "{}", serde_json::json!({"type": "skipped", "count": n}))?;
                    } else {
                        writeln!(out, "[koine] {n} events skipped: this output fell behind")?;
                    }
                    out.flush()?;
                }
                Err(_) => break,
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The event with any secret a prompt carries replaced: `tail` output is
/// often kept in files. The recovery key is shown by `koine prompts list`,
/// which the user runs to see it.
fn without_secrets(event: EngineEvent) -> EngineEvent {
    match event {
        EngineEvent::PromptRaised {
            account,
            prompt:
                koine_api::Prompt {
                    id,
                    kind: koine_api::PromptKind::SaveRecoveryKey { account: whose, .. },
                },
        } => EngineEvent::PromptRaised {
            account,
            prompt: koine_api::Prompt {
                id,
                kind: koine_api::PromptKind::SaveRecoveryKey {
                    account: whose,
                    key: koine_api::Secret::new("(hidden here: see `koine prompts list`)"),
                },
            },
        },
        other => other,
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn human(event: &EngineEvent) -> String {
    match event {
        EngineEvent::AccountStatus { account, status } => {
            field(&format!("[{account}] {status:?}")).into_owned()
        }
        EngineEvent::MessageStored { account, message } => format!(
            "[{}] {} {}: {}",
            field(account.as_str()),
            message.timestamp.0,
            field(
                &message
                    .sender_name
                    .clone()
                    .unwrap_or_else(|| message.sender.to_string())
            ),
            field(&message.content.text)
        ),
        other => field(&format!("{other:?}")).into_owned(),
    }
}
