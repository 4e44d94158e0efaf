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
    /// The sealed store holds an identity, sessions and prekeys, but the
    /// keyring has no key for it (another keyring, a restored profile). The
    /// store is left untouched: restore the keyring entry, or start over
    /// with a new identity through [`crate::Device::start_over`], which
    /// peers see as an identity change.
    #[error(
        "the keyring has no key for the end-to-end store {} (store {store_id}); \
         its identity and sessions are kept but cannot be read: restore the keyring, \
         or start over with a new identity",
        path.display()
    )]
    StoreKeyMissing {
        /// The store's file.
        path: std::path::PathBuf,
        /// A short, stable id of this store (the same on every attempt and
        /// different for every identity), so a caller can tie the user's
        /// "start over" to the very store it was shown.
        store_id: String,
    },
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
