//! The crate's error type and its mapping onto the plugin API's errors.

use koine_api::{ProtocolError, SessionError, SettingsError};
use thiserror::Error;

/// Everything that can go wrong inside the XMPP plugin.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum XmppError {
    /// The account settings are incomplete or wrong.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// TCP or DNS failure.
    #[error("network: {0}")]
    Network(String),
    /// The server's certificate was refused.
    #[error("certificate of {host} refused: {reason}")]
    Untrusted {
        /// The host.
        host: String,
        /// Why.
        reason: String,
        /// SHA-256 of the end-entity certificate, when one was presented.
        fingerprint: Option<String>,
    },
    /// The server does not offer TLS on a STARTTLS connection.
    #[error("the server does not offer STARTTLS")]
    NoTls,
    /// The server offers no SCRAM mechanism.
    #[error("the server offers no SCRAM mechanism (offered: {0})")]
    NoScram(String),
    /// The server refused the credentials.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// The server broke the protocol.
    #[error("protocol: {0}")]
    Protocol(String),
    /// Local state could not be read or written.
    #[error("storage: {0}")]
    Storage(String),
    /// The account's file key, or a sealed file, failed.
    #[error(transparent)]
    Vault(#[from] koine_vault::VaultError),
    /// The engine went away.
    #[error("the engine stopped")]
    EngineGone,
}

impl From<koine_api::EngineGone> for XmppError {
    fn from(_: koine_api::EngineGone) -> Self {
        XmppError::EngineGone
    }
}

impl From<std::io::Error> for XmppError {
    fn from(e: std::io::Error) -> Self {
        XmppError::Network(e.to_string())
    }
}

impl From<tokio_xmpp::xmlstream::RecvFeaturesError> for XmppError {
    fn from(e: tokio_xmpp::xmlstream::RecvFeaturesError) -> Self {
        use tokio_xmpp::xmlstream::RecvFeaturesError as E;
        match e {
            E::Io(io) => XmppError::Network(io.to_string()),
            other => XmppError::Protocol(format!("stream features: {other}")),
        }
    }
}

impl From<tokio_xmpp::Error> for XmppError {
    fn from(e: tokio_xmpp::Error) -> Self {
        use tokio_xmpp::Error as E;
        match e {
            E::Auth(a) => XmppError::Auth(a.to_string()),
            E::Io(io) => XmppError::Network(io.to_string()),
            E::Disconnected => XmppError::Network("disconnected".into()),
            other => XmppError::Protocol(other.to_string()),
        }
    }
}

impl From<XmppError> for SessionError {
    fn from(e: XmppError) -> Self {
        match e {
            XmppError::Settings(s) => SessionError::Settings(s),
            XmppError::Network(n) => SessionError::Network(n),
            XmppError::EngineGone => SessionError::Network("engine stopped".into()),
            XmppError::Untrusted { host, reason, .. } => {
                SessionError::Untrusted(format!("{host}: {reason}"))
            }
            XmppError::NoTls => SessionError::Untrusted("no STARTTLS offered".into()),
            XmppError::NoScram(m) => SessionError::Protocol(ProtocolError::Unexpected(format!(
                "no SCRAM mechanism (offered: {m})"
            ))),
            XmppError::Auth(_) => SessionError::AuthFailed,
            XmppError::Protocol(p) => SessionError::Protocol(ProtocolError::Malformed {
                what: "stream",
                detail: p,
            }),
            XmppError::Storage(s) => SessionError::Storage(s),
            XmppError::Vault(v) => v.into(),
        }
    }
}
