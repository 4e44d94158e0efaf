//! `koine requests` (the one Requests inbox across networks) and
//! `koine policy` (who may reach you directly, per network).

use super::safe::field;
use anyhow::bail;
use clap::Subcommand;
use koine_api::{Decision, ProtocolId};
use koine_core::{AccountStatus, Engine, EngineEvent, InboxRequest, StrangerPolicy};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub enum RequestsCommand {
    /// List pending requests: invites, contact requests, opt-ins and first
    /// messages from strangers.
    List {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Accept: the conversation moves to the inbox, the sender becomes a contact.
    Accept(AnswerArgs),
    /// Decline without blocking.
    Decline(AnswerArgs),
    /// Block the sender (the network's own blocking, and Koine's on SMS).
    Block(AnswerArgs),
    /// Block and report to the operator where the network offers it.
    Report(AnswerArgs),
}

#[derive(Debug, clap::Args)]
pub struct AnswerArgs {
    /// The request: its conversation number, the network's request id or
    /// the sender's address.
    request: String,
    /// Seconds to wait for the account to connect when the network must be told.
    #[arg(long, default_value_t = 30)]
    wait: u64,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Show each network's stranger policy.
    Show,
    /// Set who may write to you directly on a network; others land in Requests.
    Set {
        /// The network (see `koine networks`).
        network: String,
        /// contacts, shared-room (contacts and people you share a room with) or anyone.
        policy: String,
    },
}

fn summary(r: &InboxRequest) -> String {
    let id = r
        .conversation
        .map(|c| c.0.to_string())
        .or_else(|| r.network_request.as_ref().map(ToString::to_string))
        .unwrap_or_default();
    format!(
        "{id}\t{}\t{}\t{}\t{}\t{}",
        field(r.account.as_str()),
        field(r.protocol.as_str()),
        field(&r.display_name.clone().unwrap_or_else(|| r.from.to_string())),
        field(&format!("{:?}", r.kind)),
        field(&r.preview.clone().unwrap_or_default())
    )
}

pub async fn run(engine: &Engine, command: RequestsCommand) -> anyhow::Result<ExitCode> {
    let (args, decision) = match command {
        RequestsCommand::List { json } => {
            let mut out = std::io::stdout().lock();
            for r in engine.requests()? {
                if json {
                    serde_json::to_writer(&mut out, &r)?;
                    writeln!(out)?;
                } else {
                    writeln!(out, "{}", summary(&r))?;
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        RequestsCommand::Accept(a) => (a, Decision::Accept),
        RequestsCommand::Decline(a) => (a, Decision::Decline),
        RequestsCommand::Block(a) => (a, Decision::Block),
        RequestsCommand::Report(a) => (a, Decision::Report),
    };
    let request = engine.find_request(&args.request)?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.wait);
    let mut events = engine.subscribe();
    if request.network_request.is_some() {
        if let Err(koine_core::EngineError::ProfileInUse) = engine.start(&request.account) {
            // Another Koine runs the sessions: it answers on the network.
            let outcome = engine.owner_answer_request(&args.request, decision).await?;
            println!("{}", serde_json::to_string(&outcome)?);
            return Ok(ExitCode::SUCCESS);
        }
        wait_for(&mut events, deadline, "the account to connect", |e| {
            matches!(e, EngineEvent::AccountStatus { account, status: AccountStatus::Online { .. } } if account == &request.account)
        })
        .await?;
    }
    let outcome = engine.answer_request(&request, decision).await?;
    if outcome.network_answered {
        // The network confirms; then the session may stop.
        wait_for(&mut events, deadline, "the network to confirm", |e| {
            matches!(e, EngineEvent::RequestResolved { account, .. } if account == &request.account)
        })
        .await?;
    }
    println!("{}", serde_json::to_string(&outcome)?);
    Ok(ExitCode::SUCCESS)
}

async fn wait_for(
    events: &mut tokio::sync::broadcast::Receiver<EngineEvent>,
    deadline: tokio::time::Instant,
    what: &str,
    mut pick: impl FnMut(&EngineEvent) -> bool,
) -> anyhow::Result<()> {
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Err(_) => bail!("timed out waiting for {what}"),
            Ok(Ok(e)) if pick(&e) => return Ok(()),
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(_)) => bail!("the engine stopped"),
        }
    }
}

pub fn policy(engine: &Engine, command: PolicyCommand) -> anyhow::Result<ExitCode> {
    match command {
        PolicyCommand::Show => {
            for plugin in engine.registry().iter() {
                let id = plugin.info().id;
                println!("{id}\t{}", engine.stranger_policy(&id)?.as_str());
            }
        }
        PolicyCommand::Set { network, policy } => {
            let Some(policy) = StrangerPolicy::parse(&policy) else {
                bail!("unknown policy {policy:?}: use contacts, shared-room or anyone");
            };
            engine.set_stranger_policy(&ProtocolId::new(network), policy)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
