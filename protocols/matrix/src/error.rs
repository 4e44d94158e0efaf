//! The crate's error type and how it maps onto the plugin API's errors.

use koine_api::{ProtocolError, SecretError, SendError, SessionError, SettingsError};
use matrix_sdk::ruma::api::error::ErrorKind;
use thiserror::Error;

/// Everything that can go wrong inside the Matrix plugin.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MatrixError {
    /// The account settings are incomplete or invalid.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The keyring failed.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The homeserver refused the credentials or the stored access token.
    #[error("the homeserver refused the credentials")]
    AuthFailed,
    /// An HTTP or Matrix API error from the SDK.
    #[error(transparent)]
    Sdk(#[from] matrix_sdk::Error),
    /// An HTTP-level error from the SDK.
    #[error(transparent)]
    Http(#[from] matrix_sdk::HttpError),
    /// The SDK client could not be built (store, homeserver URL).
    #[error(transparent)]
    Build(#[from] matrix_sdk::ClientBuildError),
    /// The homeserver's TLS certificate or handshake was refused.
    #[error("tls: {0}")]
    Tls(String),
    /// The homeserver could not be reached.
    #[error("network: {0}")]
    Network(String),
    /// Local storage (the plugin's data directory) failed.
    #[error("storage: {0}")]
    Storage(String),
    /// No password was given and the homeserver offers no sign-in through
    /// the browser.
    #[error("no password, and the homeserver offers no sign-in through the browser")]
    NoSignInMethod,
    /// The user cancelled the sign-in through the browser.
    #[error("the sign-in through the browser was cancelled")]
    SignInCancelled,
    /// The browser did not come back in time.
    #[error("the sign-in through the browser was not finished in time")]
    SignInTimedOut,
    /// The browser sign-in logged in another user than the account's.
    #[error("signed in as {got}, but the account is {expected}")]
    WrongAccount {
        /// The account's user id.
        expected: String,
        /// Who the server logged in.
        got: String,
    },
    /// The key of the encrypted store (this device's identity and message
    /// keys) is not in the keyring, but the store is there: the keyring is
    /// another one, or the profile was restored without it. Nothing is
    /// wiped; the user may choose to start over with a new identity
    /// (the account setting [`crate::account::START_OVER`] set to
    /// `store_id`).
    #[error(
        "the key of this account's encrypted store is missing from the keyring; \
         its identity and message keys are kept: restore the keyring, or start \
         over with a new identity by setting start_over to {store_id} in the \
         account's settings"
    )]
    StoreKeyMissing {
        /// The store to discard, if the user chooses to.
        store_id: String,
    },
    /// Another session (another Koine process on the same profile) drives
    /// this device: it holds the crypto store's cross-process lock.
    #[error("this account's device is in use by another Koine process")]
    DeviceInUse,
    /// The homeserver or a peer sent something that does not parse.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// What was being parsed.
        what: &'static str,
        /// What was wrong.
        detail: String,
    },
}

/// The Matrix error code of an SDK error, if the server sent one.
pub(crate) fn error_kind(e: &matrix_sdk::Error) -> Option<&ErrorKind> {
    e.client_api_error_kind()
}

/// Whether the server refused the credentials or the token.
pub(crate) fn is_auth_error(e: &matrix_sdk::Error) -> bool {
    is_auth_kind(error_kind(e))
}

fn is_auth_kind(kind: Option<&ErrorKind>) -> bool {
    matches!(
        kind,
        Some(ErrorKind::Forbidden | ErrorKind::UnknownToken { .. } | ErrorKind::UserDeactivated)
    )
}

fn http_to_session(e: &matrix_sdk::HttpError) -> SessionError {
    use matrix_sdk::HttpError;
    if is_auth_kind(e.client_api_error_kind()) {
        return SessionError::AuthFailed;
    }
    match e {
        HttpError::Reqwest(r) if r.is_decode() || r.is_body() => {
            SessionError::Protocol(ProtocolError::Malformed {
                what: "http response",
                detail: r.to_string(),
            })
        }
        HttpError::Reqwest(r) => SessionError::Network(r.to_string()),
        HttpError::Api(inner) => match inner.as_ref() {
            matrix_sdk::ruma::api::error::FromHttpResponseError::Server(_) => {
                SessionError::Protocol(ProtocolError::Unexpected(e.to_string()))
            }
            _ => SessionError::Protocol(ProtocolError::Malformed {
                what: "http response",
                detail: e.to_string(),
            }),
        },
        other => SessionError::Network(other.to_string()),
    }
}

impl From<MatrixError> for SessionError {
    fn from(e: MatrixError) -> Self {
        match e {
            MatrixError::Settings(s) => SessionError::Settings(s),
            MatrixError::Secret(s) => SessionError::Secret(s),
            MatrixError::AuthFailed
            | MatrixError::NoSignInMethod
            | MatrixError::SignInCancelled
            | MatrixError::SignInTimedOut
            | MatrixError::WrongAccount { .. } => SessionError::AuthFailed,
            MatrixError::Http(h) => http_to_session(&h),
            MatrixError::Sdk(matrix_sdk::Error::Http(h)) => http_to_session(&h),
            MatrixError::Sdk(other) => {
                if is_auth_kind(error_kind(&other)) {
                    SessionError::AuthFailed
                } else {
                    SessionError::Protocol(ProtocolError::Unexpected(other.to_string()))
                }
            }
            MatrixError::Build(b) => SessionError::Storage(b.to_string()),
            e @ (MatrixError::StoreKeyMissing { .. } | MatrixError::DeviceInUse) => {
                SessionError::Storage(e.to_string())
            }
            MatrixError::Storage(s) => SessionError::Storage(s),
            MatrixError::Tls(s) => SessionError::Untrusted(s),
            MatrixError::Network(s) => SessionError::Network(s),
            MatrixError::Malformed { what, detail } => {
                SessionError::Protocol(ProtocolError::Malformed { what, detail })
            }
        }
    }
}

/// Maps an SDK error of a send onto the API's [`SendError`].
pub(crate) fn send_error(e: &matrix_sdk::Error) -> SendError {
    match error_kind(e) {
        Some(ErrorKind::LimitExceeded { .. }) => SendError::RateLimited,
        Some(ErrorKind::Forbidden) => SendError::Rejected(e.to_string()),
        Some(ErrorKind::TooLarge) => SendError::TooLarge,
        Some(_) => SendError::Rejected(e.to_string()),
        None => match e {
            matrix_sdk::Error::Http(h)
                if matches!(h.as_ref(), matrix_sdk::HttpError::Reqwest(_)) =>
            {
                SendError::Offline
            }
            _ => SendError::Rejected(e.to_string()),
        },
    }
}
