//! Why a message could not be sent, in the user's language: each
//! [`SendError`] kind has its own sentence; a server's own words, when it
//! gave some, come after it.

use crate::fl;
use koine_api::SendError;

/// The reason shown in "Could not send: …".
pub fn text(error: &SendError) -> String {
    match error {
        SendError::NotOptedIn => fl!("send-error-not-opted-in"),
        SendError::Blocked => fl!("send-error-blocked"),
        SendError::NoSuchRecipient => fl!("send-error-no-such-recipient"),
        SendError::TooLarge => fl!("send-error-too-large"),
        SendError::RateLimited => fl!("send-error-rate-limited"),
        SendError::Offline => fl!("send-error-offline"),
        SendError::ReadOnly => fl!("send-error-read-only"),
        SendError::Unsupported(what) => fl!("send-error-unsupported", what = what.clone()),
        SendError::NotPaired => fl!("send-error-not-paired"),
        SendError::IdentityChanged { with } => {
            fl!("send-error-identity-changed", with = with.to_string())
        }
        SendError::CannotEncrypt { reason } => {
            fl!("send-error-cannot-encrypt", reason = reason.clone())
        }
        SendError::Rejected(why) => fl!("send-error-rejected", why = why.clone()),
        other => other.to_string(),
    }
}
