//! `koine people send`: to a person by the chosen route, refusing a
//! downgrade the user has not allowed.

use super::{print_choice, print_json};
use anyhow::bail;
use koine_api::{Content, DeliveryState};
use koine_core::{DowngradeConsent, Engine, EngineError, EngineEvent, Person, RouteSelection};
use std::process::ExitCode;
use std::time::Duration;

/// Exit code when the route is a downgrade the user has not allowed.
const NEEDS_CONSENT: u8 = 4;
/// Exit code when the message is queued but not yet sent.
const QUEUED: u8 = 3;
/// Exit code when the network refused the message.
const REFUSED: u8 = 2;

pub(super) async fn run(
    engine: &Engine,
    person: &Person,
    selection: &RouteSelection,
    text: String,
    consent: DowngradeConsent,
    wait: u64,
) -> anyhow::Result<ExitCode> {
    let mut events = engine.subscribe();
    let sent = match engine
        .send_to_person(person.id, selection, Content::text(text), consent)
        .await
    {
        Err(EngineError::DowngradeNeedsConsent { .. }) => {
            print_choice(&engine.choose_route(person.id, selection)?);
            eprintln!(
                "koine: not sent: this route is less protected than another way to reach {}; \
                 pass --allow-downgrade once (or always) to use it",
                person.name
            );
            return Ok(ExitCode::from(NEEDS_CONSENT));
        }
        other => other?,
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    if let Err(EngineError::ProfileInUse) = engine.start(&sent.route.account) {
        return handed_off(engine, &sent, deadline).await;
    }
    loop {
        let event = match tokio::time::timeout_at(deadline, events.recv()).await {
            Err(_) => {
                print_json(
                    &serde_json::json!({"local_id": sent.local_id, "state": "queued", "via": sent.route.account}),
                )?;
                return Ok(ExitCode::from(QUEUED));
            }
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => continue,
            Ok(Err(_)) => bail!("the engine stopped"),
            Ok(Ok(event)) => event,
        };
        match event {
            EngineEvent::MessageUpdated { message, .. }
                if message.id == sent.message
                    && message.state >= DeliveryState::Sent
                    && message.state != DeliveryState::Failed =>
            {
                print_json(&serde_json::json!({
                    "local_id": sent.local_id, "state": message.state, "via": sent.route.account,
                    "protocol": sent.route.protocol, "route": message.route,
                }))?;
                return Ok(ExitCode::SUCCESS);
            }
            EngineEvent::SendFailed {
                local_id,
                error,
                will_retry: false,
                ..
            } if local_id == sent.local_id => {
                eprintln!("koine: error: not sent: {error}");
                return Ok(ExitCode::from(REFUSED));
            }
            _ => {}
        }
    }
}

/// Another Koine (the window, `koine tail`) runs the sessions: the message
/// queued here in the shared store is sent by that process, and this
/// command follows its state in the store.
async fn handed_off(
    engine: &Engine,
    sent: &koine_core::PersonSend,
    deadline: tokio::time::Instant,
) -> anyhow::Result<ExitCode> {
    if let Err(e) = engine.hand_off(&sent.route.account).await {
        eprintln!("koine: another Koine runs this profile and did not take it ({e})");
        print_json(
            &serde_json::json!({"local_id": sent.local_id, "state": "queued", "via": sent.route.account}),
        )?;
        return Ok(ExitCode::from(QUEUED));
    }
    match crate::cli::send::follow_in_store(engine, sent.message, deadline).await? {
        Some(message) if message.state == DeliveryState::Failed => {
            eprintln!(
                "koine: error: not sent: {}",
                message.error.unwrap_or_default()
            );
            Ok(ExitCode::from(REFUSED))
        }
        Some(message) => {
            print_json(&serde_json::json!({
                "local_id": sent.local_id, "state": message.state, "via": sent.route.account,
                "protocol": sent.route.protocol, "route": message.route, "by": "the running Koine",
            }))?;
            Ok(ExitCode::SUCCESS)
        }
        None => {
            print_json(
                &serde_json::json!({"local_id": sent.local_id, "state": "queued", "via": sent.route.account}),
            )?;
            Ok(ExitCode::from(QUEUED))
        }
    }
}
