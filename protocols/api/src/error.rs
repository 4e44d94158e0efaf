//! Typed errors of plugin sessions.

use crate::account::{SecretError, SettingsError};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why a session ended. The engine reconnects with backoff when
/// [`SessionError::is_retryable`] says so, and otherwise shows the error and
/// waits for the user.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The server refused the credentials.
    #[error("authentication failed")]
    AuthFailed,
    /// The server could not be reached or the connection dropped.
    #[error("network error: {0}")]
    Network(String),
    /// The server's certificate or key was not accepted.
    #[error("the server's identity could not be verified: {0}")]
    Untrusted(String),
    /// The server sent something that breaks the protocol.
    #[error("protocol error: {0}")]
    Protocol(#[from] ProtocolError),
    /// The account's settings are incomplete or wrong.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The keyring failed.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// Local storage of the plugin failed.
    #[error("storage error: {0}")]
    Storage(String),
}

impl SessionError {
    /// Whether reconnecting later may help.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SessionError::Network(_) | SessionError::Protocol(_))
    }
}

/// Input from the network that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// Bytes that do not parse (broken XML, JSON, protobuf, frame).
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// What was being parsed (`frame`, `stanza`, `packet`).
        what: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// Something larger than the protocol's limit.
    #[error("{what} of {size} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// What.
        what: &'static str,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A valid message at the wrong moment.
    #[error("unexpected {0}")]
    Unexpected(String),
    /// Decryption or authentication of a message failed.
    #[error("could not decrypt: {0}")]
    Decrypt(String),
    /// The peer asked for a protocol version we refuse.
    #[error("unsupported protocol version {0}")]
    Version(String),
}

/// Why a durable command failed.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SendError {
    /// The recipient has not opted in (gatekeeper interop).
    #[error("the recipient has not opted in")]
    NotOptedIn,
    /// The recipient blocked us, or we blocked them.
    #[error("blocked")]
    Blocked,
    /// The recipient does not exist.
    #[error("no such recipient")]
    NoSuchRecipient,
    /// Too large for the network.
    #[error("too large")]
    TooLarge,
    /// The server asked us to slow down; retry later.
    #[error("rate limited")]
    RateLimited,
    /// Not connected now; the outbox keeps it for later.
    #[error("offline")]
    Offline,
    /// The chat is read-only.
    #[error("the conversation is read-only")]
    ReadOnly,
    /// The network does not support this command.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The device that relays it (phone) is not paired.
    #[error("the relay device is not paired")]
    NotPaired,
    /// The contact's identity key changed since the user verified it: no
    /// message goes to the new key until the user accepts it.
    #[error("the identity key of {with} changed since you verified it: accept the new key first")]
    IdentityChanged {
        /// Whose key changed.
        with: crate::address::Address,
    },
    /// The conversation is end-to-end encrypted and this message cannot be
    /// encrypted now; it was not sent unencrypted.
    #[error("it cannot be encrypted now, so it was not sent: {reason}")]
    CannotEncrypt {
        /// Why, for the details.
        reason: String,
    },
    /// Anything else the server said.
    #[error("rejected by the server: {0}")]
    Rejected(String),
}

impl SendError {
    /// Whether the outbox should keep the command and try again later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SendError::RateLimited | SendError::Offline)
    }
}

impl From<crate::address::AddressError> for ProtocolError {
    fn from(e: crate::address::AddressError) -> Self {
        ProtocolError::Malformed {
            what: "address",
            detail: e.to_string(),
        }
    }
}

impl From<crate::address::AddressError> for SessionError {
    fn from(e: crate::address::AddressError) -> Self {
        SessionError::Protocol(e.into())
    }
}
