//! End-to-end encryption housekeeping: cross-signing, verification.

use crate::account::AccountSettings;
use crate::session::Session;
use koine_api::{Address, Event, Notice, PromptAnswer, PromptId, SessionContext, SessionError};
use matrix_sdk::Client;
use matrix_sdk::ruma::UserId;

/// Starts the account's encryption housekeeping after the first sync: the
/// cross-signing identity is created on the first device (authorised with
/// the account password).
pub(crate) async fn start(client: &Client, cx: &SessionContext, account: &AccountSettings) {
    let Some(password) = cx.secret.clone() else {
        return;
    };
    let client = client.clone();
    let user = account.user_id.clone();
    tokio::spawn(async move {
        let encryption = client.encryption();
        if let Err(e) = encryption.bootstrap_cross_signing_if_needed(None).await {
            if let Some(uiaa) = e.as_uiaa_response() {
                let mut password_auth = matrix_sdk::ruma::api::client::uiaa::Password::new(
                    matrix_sdk::ruma::api::client::uiaa::UserIdentifier::from(&user),
                    password.expose().to_owned(),
                );
                password_auth.session = uiaa.session.clone();
                let auth = matrix_sdk::ruma::api::client::uiaa::AuthData::Password(password_auth);
                if let Err(e) = encryption.bootstrap_cross_signing(Some(auth)).await {
                    tracing::debug!("cross-signing bootstrap failed: {e}");
                }
            } else {
                tracing::debug!("cross-signing bootstrap failed: {e}");
            }
        }
    });
}

/// Answers a verification prompt.
pub(crate) async fn answer_prompt(
    _s: &mut Session,
    _prompt: &PromptId,
    _answer: PromptAnswer,
) -> Result<(), SessionError> {
    Ok(())
}

/// Marks a user's cross-signing identity as verified by the user.
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
        return s
            .events
            .emit(Event::Notice(Notice::Unsupported {
                feature: "unverify".into(),
            }))
            .await
            .map_err(Into::into);
    }
    match s.client.encryption().request_user_identity(&user).await {
        Ok(Some(identity)) => {
            if let Err(e) = identity.verify().await {
                tracing::debug!("verifying {user} failed: {e}");
            }
        }
        _ => {
            s.events
                .emit(Event::Notice(Notice::Unsupported {
                    feature: "verification-without-identity".into(),
                }))
                .await?;
        }
    }
    Ok(())
}
