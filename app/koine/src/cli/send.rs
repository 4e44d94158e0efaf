//! `koine send`.

use anyhow::{Context, bail};
use clap::Args;
use koine_api::{
    Attachment, ChatState, Command, Content, ConversationKey, DeliveryState, LocalId, RemoteId,
};
use koine_core::{AccountStatus, Engine, EngineError, EngineEvent};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Exit code when the message is safely queued but not yet sent.
const QUEUED: u8 = 3;
/// Exit code when the network refused the message.
const REFUSED: u8 = 2;

#[derive(Debug, Args)]
pub struct SendArgs {
    /// Account id or label.
    account: String,
    /// Recipient address (phone number, JID, MXID, provider:id), or a
    /// conversation key with --conversation.
    to: String,
    /// The text.
    text: String,
    /// Treat TO as a conversation key (a room id) rather than an address.
    #[arg(long)]
    conversation: bool,
    /// Attach a file (repeatable).
    #[arg(long = "attach", value_name = "FILE")]
    attachments: Vec<PathBuf>,
    /// Reply to this message (its network id).
    #[arg(long, value_name = "REMOTE_ID")]
    reply_to: Option<String>,
    /// Seconds to wait for the network to accept it before leaving it in
    /// the outbox (exit code 3).
    #[arg(long, default_value_t = 30)]
    wait: u64,
    /// Show the recipient that you are typing first, as the window does
    /// while you write (waits until the account is online).
    #[arg(long)]
    typing: bool,
}

fn attachment(path: &std::path::Path) -> anyhow::Result<Attachment> {
    Ok(koine_core::attachment::from_path(path)?)
}

pub async fn run(engine: &Engine, args: SendArgs) -> anyhow::Result<ExitCode> {
    let account = engine.find_account(&args.account)?;
    let plugin = engine
        .registry()
        .get(&account.protocol)
        .with_context(|| format!("this build has no {} plugin", account.protocol))?;
    let key = if args.conversation {
        ConversationKey::new(args.to.clone())
    } else {
        ConversationKey::new(plugin.parse_address(&args.to)?.to_string())
    };
    let content = Content {
        text: args.text.clone(),
        attachments: args
            .attachments
            .iter()
            .map(|p| attachment(p))
            .collect::<anyhow::Result<_>>()?,
    };
    let mut events = engine.subscribe();
    let deadline_at = Duration::from_secs(args.wait);
    match engine.start(&account.id) {
        Ok(()) => {}
        Err(EngineError::ProfileInUse) => {
            return handed_off(engine, &account.id, &key, content, args, deadline_at).await;
        }
        Err(e) => return Err(e.into()),
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.wait);
    if args.typing && online(&mut events, &account.id, deadline).await {
        engine
            .command(
                &account.id,
                Command::SetChatState {
                    conversation: key.clone(),
                    state: ChatState::Composing,
                },
            )
            .await?;
    }
    let (local_id, _) = engine
        .send(&account.id, &key, content, args.reply_to.map(RemoteId::new))
        .await?;
    loop {
        let event = match tokio::time::timeout_at(deadline, events.recv()).await {
            Err(_) => {
                return Ok(queued(
                    &local_id,
                    "kept in the outbox, it goes out the next time Koine connects",
                ));
            }
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => continue,
            Ok(Err(_)) => bail!("the engine stopped"),
            Ok(Ok(event)) => event,
        };
        match event {
            EngineEvent::MessageUpdated { message, .. }
                if message.local_id.as_ref() == Some(&local_id)
                    && message.state >= DeliveryState::Sent
                    && message.state != DeliveryState::Failed =>
            {
                return Ok(sent(&local_id, &message, None));
            }
            EngineEvent::SendFailed {
                local_id: id,
                error,
                will_retry: false,
                ..
            } if id == local_id => {
                return Ok(refused(&local_id, &error));
            }
            EngineEvent::AccountStatus {
                account: a,
                status: AccountStatus::Failed { reason },
            } if a == account.id => {
                print_queued(&local_id);
                bail!(
                    "{} cannot connect: {reason} (the message stays in the outbox)",
                    account.label
                );
            }
            _ => {}
        }
    }
}

/// Waits until the account is online; false at the deadline or when it
/// cannot connect (the message is then queued as usual).
async fn online(
    events: &mut tokio::sync::broadcast::Receiver<EngineEvent>,
    account: &koine_api::AccountId,
    deadline: tokio::time::Instant,
) -> bool {
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(EngineEvent::AccountStatus { account: a, status })) if &a == account => {
                match status {
                    AccountStatus::Online { .. } => return true,
                    AccountStatus::Failed { .. } => return false,
                    _ => {}
                }
            }
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(_)) | Err(_) => return false,
        }
    }
}

/// Another Koine (the window, `koine tail`) runs this profile's sessions:
/// the message is queued here, in the shared store, and that process sends
/// it, so no second session forks the account's encryption state. This
/// command then follows the message's state in the store.
async fn handed_off(
    engine: &Engine,
    account: &koine_api::AccountId,
    key: &ConversationKey,
    content: Content,
    args: SendArgs,
    wait: Duration,
) -> anyhow::Result<ExitCode> {
    let deadline = tokio::time::Instant::now() + wait;
    let (local_id, id) = engine
        .send(account, key, content, args.reply_to.map(RemoteId::new))
        .await?;
    if let Err(e) = engine.hand_off(account).await {
        return Ok(queued(
            &local_id,
            &format!(
                "another Koine runs this profile and did not take it ({e}); it stays in the outbox"
            ),
        ));
    }
    Ok(match follow_in_store(engine, id, deadline).await? {
        Some(message) if message.state == DeliveryState::Failed => {
            refused(&local_id, &message.error.unwrap_or_default())
        }
        Some(message) => sent(&local_id, &message, Some("the running Koine")),
        None => queued(
            &local_id,
            "the running Koine has it in the outbox and sends it when the account is online",
        ),
    })
}

/// Follows, in the shared store, a message another Koine process sends: its
/// row once sent or failed, `None` at the deadline.
pub(super) async fn follow_in_store(
    engine: &Engine,
    id: koine_core::MessageId,
    deadline: tokio::time::Instant,
) -> anyhow::Result<Option<koine_core::StoredMessage>> {
    loop {
        let message = engine.message(id)?;
        if message.state == DeliveryState::Failed || message.state >= DeliveryState::Sent {
            return Ok(Some(message));
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn print_queued(local_id: &LocalId) {
    println!(
        "{}",
        serde_json::json!({"local_id": local_id, "state": "queued"})
    );
}

/// Not sent yet, safely in the outbox: exit code 3.
fn queued(local_id: &LocalId, why: &str) -> ExitCode {
    print_queued(local_id);
    eprintln!("koine: not sent yet: {why}");
    ExitCode::from(QUEUED)
}

/// The network refused it: exit code 2.
fn refused(local_id: &LocalId, error: &(impl serde::Serialize + std::fmt::Display)) -> ExitCode {
    println!(
        "{}",
        serde_json::json!({"local_id": local_id, "state": "failed", "error": error})
    );
    eprintln!("koine: error: not sent: {error}");
    ExitCode::from(REFUSED)
}

/// Accepted by the network (sent by this process or, `sent_by`, another).
fn sent(
    local_id: &LocalId,
    message: &koine_core::StoredMessage,
    sent_by: Option<&str>,
) -> ExitCode {
    let mut out = serde_json::json!({
        "local_id": local_id, "state": message.state,
        "remote_id": message.remote_id, "route": message.route,
    });
    if let Some(by) = sent_by {
        out["sent_by"] = by.into();
    }
    println!("{out}");
    ExitCode::SUCCESS
}
