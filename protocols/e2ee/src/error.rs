//! Errors of the E2EE module.

use thiserror::Error;

/// What can go wrong.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum E2eeError {
    /// A key, bundle or message from a peer or server does not parse.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// What was being read.
        what: &'static str,
        /// Why it failed.
        detail: String,
    },
    /// A bundle's signed prekey signature does not verify.
    #[error("the bundle's signed prekey signature is invalid")]
    BadSignature,
    /// There is no session with the peer yet: fetch a bundle first.
    #[error("no session with {0}")]
    NoSession(String),
    /// A message was seen before (replayed or delivered twice).
    #[error("duplicate message")]
    Duplicate,
    /// A message did not decrypt (wrong keys, tampered, or for another session).
    #[error("could not decrypt: {0}")]
    Decrypt(String),
    /// The local store failed.
    #[error("store: {0}")]
    Store(String),
    /// The keyring failed.
    #[error(transparent)]
    Secret(#[from] koine_api::SecretError),
}

impl From<rusqlite::Error> for E2eeError {
    fn from(e: rusqlite::Error) -> Self {
        E2eeError::Store(e.to_string())
    }
}

impl From<wacore_libsignal::protocol::SignalProtocolError> for E2eeError {
    fn from(e: wacore_libsignal::protocol::SignalProtocolError) -> Self {
        use wacore_libsignal::protocol::SignalProtocolError as S;
        match e {
            S::DuplicatedMessage(..) => E2eeError::Duplicate,
            S::SessionNotFound(a) => E2eeError::NoSession(a.to_string()),
            S::SignatureValidationFailed => E2eeError::BadSignature,
            S::InvalidProtobufEncoding
            | S::CiphertextMessageTooShort(_)
            | S::LegacyCiphertextVersion(_)
            | S::UnrecognizedCiphertextVersion(_)
            | S::UnrecognizedMessageVersion(_)
            | S::NoKeyTypeIdentifier
            | S::BadKeyType(_)
            | S::BadKeyLength(..) => E2eeError::Malformed {
                what: "signal message",
                detail: e.to_string(),
            },
            other => E2eeError::Decrypt(other.to_string()),
        }
    }
}
