//! The crate's typed errors.

use koine_api::{ProtocolError, SessionError};
use thiserror::Error;

/// Why a packet from the phone (or the desktop, for the simulated phone) was
/// refused. Every variant is input that came from outside: none of them is a
/// bug of ours, and none of them ends the process.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PacketError {
    /// The packet is larger than the protocol's limit.
    #[error("packet of {size} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// Its size (or the size read so far).
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The bytes are not UTF-8.
    #[error("packet is not UTF-8")]
    NotUtf8,
    /// The bytes are not JSON.
    #[error("packet is not JSON: {0}")]
    Json(String),
    /// The JSON is not an object.
    #[error("packet is not a JSON object")]
    NotObject,
    /// A required field is absent.
    #[error("packet lacks the field {0}")]
    MissingField(&'static str),
    /// A field has the wrong JSON type or an impossible value.
    #[error("field {field} is not {expected}")]
    WrongType {
        /// The field.
        field: &'static str,
        /// What it should be.
        expected: &'static str,
    },
    /// The body does not match the packet type's schema.
    #[error("body of {kind} does not fit: {detail}")]
    Body {
        /// The packet type.
        kind: String,
        /// What serde said.
        detail: String,
    },
}

impl From<PacketError> for ProtocolError {
    fn from(e: PacketError) -> Self {
        match e {
            PacketError::TooLarge { size, limit } => ProtocolError::TooLarge {
                what: "packet",
                size,
                limit,
            },
            other => ProtocolError::Malformed {
                what: "packet",
                detail: other.to_string(),
            },
        }
    }
}

/// Errors of a link to the phone (TCP, TLS, packets, payloads).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LinkError {
    /// The socket failed or closed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The peer did not answer in time.
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    /// The peer closed the connection.
    #[error("the peer closed the connection")]
    Closed,
    /// A packet could not be decoded.
    #[error(transparent)]
    Packet(#[from] PacketError),
    /// TLS failed (bad certificate, changed pin, handshake).
    #[error("tls: {0}")]
    Tls(String),
    /// The peer refused us (a TLS alert: it does not accept our certificate).
    #[error("refused by the peer: {0}")]
    Refused(String),
    /// The peer speaks a protocol version we refuse, or tried to downgrade.
    #[error("protocol version refused: {0}")]
    Version(String),
    /// The peer broke the handshake's rules.
    #[error("handshake: {0}")]
    Handshake(String),
    /// Local key or certificate handling failed.
    #[error("local identity: {0}")]
    Identity(String),
}

impl From<LinkError> for SessionError {
    fn from(e: LinkError) -> Self {
        match e {
            LinkError::Io(e) => SessionError::Network(e.to_string()),
            LinkError::Timeout(w) => SessionError::Network(format!("timed out waiting for {w}")),
            LinkError::Closed => SessionError::Network("the phone closed the connection".into()),
            LinkError::Packet(p) => SessionError::Protocol(p.into()),
            LinkError::Tls(t) => SessionError::Untrusted(t),
            LinkError::Refused(_) => SessionError::AuthFailed,
            LinkError::Version(v) => SessionError::Protocol(ProtocolError::Version(v)),
            LinkError::Handshake(h) => SessionError::Protocol(ProtocolError::Unexpected(h)),
            LinkError::Identity(i) => SessionError::Storage(i),
        }
    }
}

/// Sorts a TLS failure: an alert from the peer means it refused us.
pub(crate) fn tls_error(e: std::io::Error) -> LinkError {
    let refused = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .is_some_and(|r| matches!(r, rustls::Error::AlertReceived(_)));
    if refused {
        LinkError::Refused(e.to_string())
    } else if e.kind() == std::io::ErrorKind::UnexpectedEof {
        LinkError::Closed
    } else {
        LinkError::Tls(e.to_string())
    }
}
