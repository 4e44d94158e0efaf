//! HTTPS to the app's local server: its certificate is self-signed, so it
//! is pinned. The pin comes from the account's settings
//! (`certificate_fingerprint`, read off the phone) or from the user, who
//! compares the fingerprint Koine shows once and accepts it (kept in the
//! account's keyring scope). A later certificate that does not match ends
//! the session as untrusted, before any credential is sent.

use super::http::{self, HttpError};
use super::session::CERTIFICATE_PIN_SECRET;
use crate::kdeconnect::tls::{fingerprint, fingerprint_for_display};
use crate::settings::GateSettings;
use koine_api::{
    Command, ConnectionState, Event, Notice, Prompt, PromptAnswer, PromptId, PromptKind, SendError,
    SessionContext, SessionError, TlsVersion,
};

fn offline(reason: &str) -> Event {
    Event::ConnectionChanged(ConnectionState::Offline {
        reason: reason.to_owned(),
    })
}

async fn rejected(cx: &SessionContext, host: &str, reason: &str) -> SessionError {
    let _ = cx
        .events
        .emit(Event::Notice(Notice::CertificateRejected {
            host: host.to_owned(),
            reason: reason.to_owned(),
        }))
        .await;
    let _ = cx.events.emit(offline("untrusted")).await;
    SessionError::Untrusted(format!("{host}: {reason}"))
}

async fn stored_pin(cx: &SessionContext) -> Result<Option<String>, SessionError> {
    let store = cx.secrets.clone();
    tokio::task::spawn_blocking(move || store.get(CERTIFICATE_PIN_SECRET))
        .await
        .map_err(|e| SessionError::Storage(e.to_string()))?
        .map(|s| s.map(|s| s.expose().to_owned()))
        .map_err(SessionError::from)
}

async fn store_pin(cx: &SessionContext, pin: String) -> Result<(), SessionError> {
    let store = cx.secrets.clone();
    tokio::task::spawn_blocking(move || {
        store.set(CERTIFICATE_PIN_SECRET, &koine_api::Secret::new(pin))
    })
    .await
    .map_err(|e| SessionError::Storage(e.to_string()))?
    .map_err(SessionError::from)
}

/// The pin of the app's certificate and the TLS version, once the
/// certificate is trusted: pinned before, or accepted by the user now.
/// `None` when the session was stopped while the user was asked.
pub async fn trusted_certificate(
    cx: &mut SessionContext,
    settings: &GateSettings,
) -> Result<Option<(String, TlsVersion)>, SessionError> {
    let host = settings.base.authority();
    let (cert, version) = match http::server_certificate(&settings.base).await {
        Ok(seen) => seen,
        Err(HttpError::Tls(reason)) => return Err(rejected(cx, &host, &reason).await),
        Err(e) => {
            let _ = cx
                .events
                .emit(Event::Notice(Notice::DeviceUnreachable {
                    device: settings.phone_label.clone(),
                }))
                .await;
            let _ = cx.events.emit(offline("network")).await;
            return Err(SessionError::Network(e.to_string()));
        }
    };
    let seen = fingerprint(&cert);
    let pinned = match &settings.certificate_pin {
        Some(pin) => Some(pin.clone()),
        None => stored_pin(cx).await?,
    };
    match pinned {
        Some(pin) if pin == seen => return Ok(Some((pin, version))),
        Some(_) => return Err(rejected(cx, &host, "pin-mismatch").await),
        None => {}
    }
    let short: String = seen.chars().take(16).collect();
    let prompt = PromptId::new(format!("smsgate-pin-{short}"));
    cx.events
        .emit(Event::PromptRaised(Prompt {
            id: prompt.clone(),
            kind: PromptKind::PinCertificate {
                host: host.clone(),
                fingerprint: fingerprint_for_display(&seen),
                reason: "self-signed".into(),
            },
        }))
        .await?;
    // Nothing else is done, and no credential is sent, until the user
    // answers.
    while let Some(command) = cx.commands.recv().await {
        match command {
            Command::AnswerPrompt { prompt: p, answer } if p == prompt => {
                if answer != PromptAnswer::Confirm {
                    return Err(rejected(cx, &host, "refused-by-user").await);
                }
                store_pin(cx, seen.clone()).await?;
                return Ok(Some((seen, version)));
            }
            other => {
                if let Some(local_id) = other.local_id() {
                    cx.events
                        .emit(Event::SendFailed {
                            local_id: local_id.clone(),
                            error: SendError::Offline,
                        })
                        .await?;
                }
            }
        }
    }
    Ok(None)
}
