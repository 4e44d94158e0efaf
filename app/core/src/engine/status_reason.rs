//! Why an account is offline or stopped, typed so that the window can say it
//! in the user's language. The details are a server's or a library's words:
//! for logs and the command line, never the main text of the window.

use koine_api::SessionError;
use serde::Serialize;
use std::fmt;

/// Why an account is offline or stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum StatusReason {
    /// The server refused the credentials.
    AuthFailed,
    /// The server could not be reached, or the connection dropped.
    Network {
        /// The system's words, when known.
        detail: Option<String>,
    },
    /// The server's certificate or key was not accepted.
    Untrusted {
        /// What did not match, when known.
        detail: Option<String>,
    },
    /// The server sent something that breaks the protocol.
    Protocol {
        /// What was wrong.
        detail: String,
    },
    /// The account's settings are incomplete or wrong.
    Settings {
        /// Which setting and why.
        detail: String,
    },
    /// The keyring refused or failed.
    Keyring {
        /// The keyring's words.
        detail: String,
    },
    /// The plugin's own files could not be written or read.
    PluginStorage {
        /// The system's words.
        detail: String,
    },
    /// Koine's history refused a write: nothing was acknowledged to the
    /// network, which delivers again after the reconnection.
    StoreFailed {
        /// The database's words.
        detail: String,
    },
    /// The network plugin crashed (a notice says more).
    PluginFailed,
    /// The session ended without an error (the server closed it).
    Closed,
    /// A reason the plugin named that Koine has no words for.
    Other {
        /// The plugin's short machine reason.
        reason: String,
    },
}

impl From<&SessionError> for StatusReason {
    fn from(e: &SessionError) -> Self {
        match e {
            SessionError::AuthFailed => Self::AuthFailed,
            SessionError::Network(d) => Self::Network {
                detail: Some(d.clone()),
            },
            SessionError::Untrusted(d) => Self::Untrusted {
                detail: Some(d.clone()),
            },
            SessionError::Protocol(p) => Self::Protocol {
                detail: p.to_string(),
            },
            SessionError::Settings(s) => Self::Settings {
                detail: s.to_string(),
            },
            SessionError::Secret(s) => Self::Keyring {
                detail: s.to_string(),
            },
            SessionError::Storage(d) => Self::PluginStorage { detail: d.clone() },
            other => Self::Other {
                reason: other.to_string(),
            },
        }
    }
}

impl StatusReason {
    /// From a plugin's short machine reason for going offline (`network`,
    /// `auth`, `untrusted`, `closed`…).
    pub fn reported(reason: &str) -> Self {
        match reason {
            "network" => Self::Network { detail: None },
            "auth" => Self::AuthFailed,
            "untrusted" => Self::Untrusted { detail: None },
            "closed" | "server-closed" => Self::Closed,
            other => Self::Other {
                reason: other.to_owned(),
            },
        }
    }
}

/// English, for logs and the command line.
impl fmt::Display for StatusReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AuthFailed => f.write_str("authentication failed"),
            Self::Network { detail: Some(d) } => write!(f, "network error: {d}"),
            Self::Network { detail: None } => f.write_str("network error"),
            Self::Untrusted { detail: Some(d) } => {
                write!(f, "the server's identity could not be verified: {d}")
            }
            Self::Untrusted { detail: None } => {
                f.write_str("the server's identity could not be verified")
            }
            Self::Protocol { detail } => write!(f, "protocol error: {detail}"),
            Self::Settings { detail } => write!(f, "settings: {detail}"),
            Self::Keyring { detail } => write!(f, "keyring: {detail}"),
            Self::PluginStorage { detail } => write!(f, "storage error: {detail}"),
            Self::StoreFailed { detail } => write!(f, "the local store failed: {detail}"),
            Self::PluginFailed => f.write_str("plugin failure"),
            Self::Closed => f.write_str("session ended"),
            Self::Other { reason } => f.write_str(reason),
        }
    }
}
