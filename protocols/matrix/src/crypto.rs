//! End-to-end encryption housekeeping: the cross-signing identity, key
//! backup with a recovery key, and interactive SAS verification surfaced as
//! a [`PromptKind::CompareEmoji`] prompt.
//!
//! - **Cross-signing** is bootstrapped on the account's first device. A
//!   server may take the first upload of an account's cross-signing keys
//!   without user-interactive auth (MSC3967; Synapse does), which is how an
//!   account signed in by SSO, with no password, gets its identity (checked
//!   in `tests/sso.rs`). Where the server asks for auth, the account
//!   password answers it; an SSO account on such a server gets no identity
//!   yet (answering through the server's fallback page is open work).
//! - **Key backup**: recovery is enabled once; the recovery key goes to the
//!   account's keyring scope (`matrix-recovery-key`), from which a later
//!   device of the same account recovers its secrets and backup. The key is
//!   also shown to the user ([`PromptKind::SaveRecoveryKey`]) at each login
//!   until they confirm they saved it: a key kept only in this computer's
//!   keyring would be lost with it.
//! - **Verification**: a [`Command::SetVerified`](koine_api::Command) with
//!   `verified: true` starts a SAS verification with that user; an incoming
//!   request is accepted. Either way, once the keys are exchanged the seven
//!   emoji are raised as a prompt; `Confirm` confirms, `Reject` reports a
//!   mismatch. When it completes, the rooms' routes are re-reported (now
//!   `Verified` where every other member is).

use crate::account::{AccountSettings, keyring};
use crate::session::Session;
use futures::StreamExt;
use koine_api::{
    Address, Event, EventSink, Mxid, Notice, Prompt, PromptAnswer, PromptId, PromptKind, Secret,
    SecretStore, SessionContext, SessionError,
};
use matrix_sdk::Client;
use matrix_sdk::encryption::recovery::RecoveryState;
use matrix_sdk::encryption::verification::{
    SasState, SasVerification, Verification, VerificationRequest, VerificationRequestState,
};
use matrix_sdk::ruma::UserId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// Keyring entry holding the recovery key.
const RECOVERY_SECRET: &str = "matrix-recovery-key";
/// Keyring entry set once the user said the recovery key is saved.
const RECOVERY_SAVED: &str = "matrix-recovery-key-saved";
/// How long a verification waits for the user.
const PROMPT_TIMEOUT: Duration = Duration::from_secs(600);

/// Prompts waiting for an answer.
pub(crate) type Prompts = Arc<Mutex<HashMap<PromptId, oneshot::Sender<PromptAnswer>>>>;

/// Something a background task tells the session.
#[derive(Debug)]
pub(crate) enum Internal {
    /// A verification completed: routes may now be verified.
    Verified,
}

/// Starts the account's encryption housekeeping after the first sync.
pub(crate) fn start(
    client: &Client,
    cx: &SessionContext,
    account: &AccountSettings,
    prompts: &Prompts,
) {
    let client = client.clone();
    let user = account.user_id.clone();
    let password = cx.secret.clone();
    let secrets = Arc::clone(&cx.secrets);
    let events = cx.events.clone();
    let prompts = Arc::clone(prompts);
    tokio::spawn(async move {
        bootstrap_cross_signing(&client, &user, password.as_ref()).await;
        if let Err(e) = key_backup(&client, &secrets).await {
            tracing::debug!("key backup set-up failed: {e}");
        }
        if let Err(e) = show_recovery_key(&user, &secrets, &events, &prompts).await {
            tracing::debug!("recovery key not shown: {e}");
        }
    });
}

/// Shows the recovery key in the keyring once, until the user says it is
/// saved (a keyring entry remembers that). A key that only the keyring
/// holds is lost with this computer: the user must have it too.
async fn show_recovery_key(
    user: &UserId,
    secrets: &Arc<dyn SecretStore>,
    events: &EventSink,
    prompts: &Prompts,
) -> Result<(), crate::MatrixError> {
    let Some(key) = keyring(secrets, |s| s.get(RECOVERY_SECRET)).await? else {
        return Ok(());
    };
    if keyring(secrets, |s| s.get(RECOVERY_SAVED)).await?.is_some() {
        return Ok(());
    }
    let Ok(account) = Mxid::parse(user.as_str()) else {
        return Ok(());
    };
    let id = PromptId::new("matrix-recovery-key");
    let (tx, rx) = oneshot::channel();
    if let Ok(mut p) = prompts.lock() {
        p.insert(id.clone(), tx);
    }
    let prompt = Prompt {
        id: id.clone(),
        kind: PromptKind::SaveRecoveryKey {
            account: Address::Mxid(account),
            key,
        },
    };
    if events.emit(Event::PromptRaised(prompt)).await.is_err() {
        return Ok(());
    }
    // The question stays open as long as the session: the user may be away.
    if let Ok(PromptAnswer::Confirm) = rx.await {
        keyring(secrets, |s| s.set(RECOVERY_SAVED, &Secret::new("yes"))).await?;
    }
    Ok(())
}

async fn bootstrap_cross_signing(client: &Client, user: &UserId, password: Option<&Secret>) {
    use matrix_sdk::ruma::api::client::uiaa;
    let encryption = client.encryption();
    let Err(e) = encryption.bootstrap_cross_signing_if_needed(None).await else {
        return;
    };
    let (Some(uiaa_info), Some(password)) = (e.as_uiaa_response(), password) else {
        tracing::debug!("cross-signing bootstrap failed: {e}");
        return;
    };
    let mut auth = uiaa::Password::new(
        uiaa::UserIdentifier::from(&user.to_owned()),
        password.expose().to_owned(),
    );
    auth.session = uiaa_info.session.clone();
    if let Err(e) = encryption
        .bootstrap_cross_signing(Some(uiaa::AuthData::Password(auth)))
        .await
    {
        tracing::debug!("cross-signing bootstrap failed: {e}");
    }
}

/// Enables recovery (secret storage + key backup) once, keeping the key in
/// the keyring; a new device of the account recovers with it.
async fn key_backup(
    client: &Client,
    secrets: &Arc<dyn SecretStore>,
) -> Result<(), crate::MatrixError> {
    let recovery = client.encryption().recovery();
    let mut states = recovery.state_stream();
    let mut state = recovery.state();
    let deadline = tokio::time::Instant::now()
        .checked_add(Duration::from_secs(30))
        .unwrap_or_else(tokio::time::Instant::now);
    while state == RecoveryState::Unknown {
        match tokio::time::timeout_at(deadline, states.next()).await {
            Ok(Some(next)) => state = next,
            _ => return Ok(()),
        }
    }
    let saved = keyring(secrets, |s| s.get(RECOVERY_SECRET)).await?;
    match (state, saved) {
        (RecoveryState::Enabled, _) => Ok(()),
        (RecoveryState::Disabled, _) => {
            let key = recovery
                .enable()
                .await
                .map_err(|e| crate::MatrixError::Storage(format!("recovery: {e}")))?;
            let key = Secret::new(key);
            keyring(secrets, move |s| s.set(RECOVERY_SECRET, &key)).await
        }
        (RecoveryState::Incomplete, Some(key)) => recovery
            .recover(key.expose())
            .await
            .map_err(|e| crate::MatrixError::Storage(format!("recovery: {e}"))),
        _ => Ok(()),
    }
}

/// Answers a verification prompt.
pub(crate) async fn answer_prompt(
    s: &mut Session,
    prompt: &PromptId,
    answer: PromptAnswer,
) -> Result<(), SessionError> {
    let waiting = s.prompts.lock().ok().and_then(|mut p| p.remove(prompt));
    if let Some(tx) = waiting {
        let _ = tx.send(answer);
    }
    Ok(())
}

/// Starts a SAS verification with a user (the user asked to verify them).
pub(crate) async fn set_verified(
    s: &mut Session,
    with: &Address,
    verified: bool,
) -> Result<(), SessionError> {
    let Address::Mxid(mxid) = with else {
        return Ok(());
    };
    let Ok(user) = UserId::parse(mxid.as_str()) else {
        return Ok(());
    };
    if !verified {
        // Matrix has no "unverify": a verification stands until the identity changes.
        return unsupported(&s.events, "unverify").await;
    }
    let request = match s.client.encryption().request_user_identity(&user).await {
        Ok(Some(identity)) => identity.request_verification().await.ok(),
        _ => None,
    };
    match request {
        Some(request) => {
            spawn_verification(s, request);
            Ok(())
        }
        None => unsupported(&s.events, "verification-without-identity").await,
    }
}

async fn unsupported(events: &EventSink, feature: &str) -> Result<(), SessionError> {
    events
        .emit(Event::Notice(Notice::Unsupported {
            feature: feature.into(),
        }))
        .await
        .map_err(Into::into)
}

/// An incoming verification request (to-device or in a room) named by its flow id.
pub(crate) async fn incoming_request(s: &mut Session, sender: &UserId, flow_id: &str) {
    if let Some(request) = s
        .client
        .encryption()
        .get_verification_request(sender, flow_id)
        .await
    {
        spawn_verification(s, request);
    }
}

fn spawn_verification(s: &Session, request: VerificationRequest) {
    let events = s.events.clone();
    let prompts = Arc::clone(&s.prompts);
    let internal = s.internal.clone();
    let client = s.client.clone();
    tokio::spawn(async move {
        let other = request.other_user_id().to_owned();
        let result = run_verification(request, events, prompts).await;
        if let Ok(true) = result {
            // The signature upload finishes after the SAS flow says done:
            // report the routes once the store sees the identity verified.
            for _ in 0..100 {
                if let Ok(Some(identity)) = client.encryption().get_user_identity(&other).await
                    && identity.is_verified()
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let _ = internal.send(Internal::Verified).await;
        } else if let Err(e) = result {
            tracing::debug!("verification ended: {e}");
        }
    });
}

async fn run_verification(
    request: VerificationRequest,
    events: EventSink,
    prompts: Prompts,
) -> Result<bool, matrix_sdk::Error> {
    let mut changes = request.changes();
    if !request.we_started() {
        request.accept().await?;
    }
    let sas = loop {
        if request.is_ready()
            && request.we_started()
            && let Some(sas) = request.start_sas().await?
        {
            break sas;
        }
        match changes.next().await {
            Some(VerificationRequestState::Transitioned {
                verification: Verification::SasV1(sas),
                ..
            }) => break sas,
            Some(VerificationRequestState::Ready { .. }) => continue,
            Some(VerificationRequestState::Done | VerificationRequestState::Cancelled(_))
            | None => {
                return Ok(false);
            }
            Some(_) => {}
        }
    };
    run_sas(sas, events, prompts).await
}

async fn run_sas(
    sas: SasVerification,
    events: EventSink,
    prompts: Prompts,
) -> Result<bool, matrix_sdk::Error> {
    let mut changes = sas.changes();
    if !sas.we_started() {
        sas.accept().await?;
    }
    let Ok(with) = Mxid::parse(sas.other_user_id().as_str()) else {
        return sas.cancel().await.map(|()| false);
    };
    let mut prompted = false;
    loop {
        if !prompted && let Some(emoji) = sas.emoji() {
            prompted = true;
            let id = PromptId::new(format!("sas-{}", uuid::Uuid::new_v4().simple()));
            let (tx, rx) = oneshot::channel();
            if let Ok(mut p) = prompts.lock() {
                p.insert(id.clone(), tx);
            }
            let prompt = Prompt {
                id: id.clone(),
                kind: PromptKind::CompareEmoji {
                    with: Address::Mxid(with.clone()),
                    emoji: emoji
                        .iter()
                        .map(|e| (e.symbol.to_owned(), e.description.to_owned()))
                        .collect(),
                },
            };
            if events.emit(Event::PromptRaised(prompt)).await.is_err() {
                return sas.cancel().await.map(|()| false);
            }
            match tokio::time::timeout(PROMPT_TIMEOUT, rx).await {
                Ok(Ok(PromptAnswer::Confirm)) => sas.confirm().await?,
                Ok(Ok(PromptAnswer::Reject)) => return sas.mismatch().await.map(|()| false),
                _ => {
                    if let Ok(mut p) = prompts.lock() {
                        p.remove(&id);
                    }
                    return sas.cancel().await.map(|()| false);
                }
            }
        }
        if sas.is_done() {
            return Ok(true);
        }
        match changes.next().await {
            Some(SasState::Done { .. }) => return Ok(true),
            Some(SasState::Cancelled(_)) | None => return Ok(false),
            Some(_) => {}
        }
    }
}
