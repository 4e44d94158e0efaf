//! Typed errors of the wire codecs.

use thiserror::Error;

/// Bytes from the other side that do not follow the protocol.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum WireError {
    /// A frame announced more bytes than the limit allows.
    #[error("frame of {size} bytes exceeds the limit of {limit}")]
    FrameTooLarge {
        /// The announced size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The stream ended in the middle of a frame.
    #[error("the stream ended inside a frame ({buffered} bytes buffered)")]
    Truncated {
        /// Bytes received of the unfinished frame.
        buffered: usize,
    },
    /// A frame body is not UTF-8.
    #[error("frame body is not UTF-8")]
    NotUtf8,
    /// The XML of a stanza does not follow the restricted grammar.
    #[error("malformed XML at byte {offset}: {reason}")]
    Xml {
        /// Where in the stanza.
        offset: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// A known stanza is missing something or has a bad value.
    #[error("malformed <{element}>: {reason}")]
    Stanza {
        /// The element name.
        element: String,
        /// What was wrong.
        reason: String,
    },
    /// An element this version does not know.
    #[error("unknown stanza <{0}>")]
    UnknownStanza(String),
    /// A protobuf payload does not decode.
    #[error("malformed protobuf {what}: {detail}")]
    Protobuf {
        /// Which message.
        what: &'static str,
        /// The decoder's complaint.
        detail: String,
    },
    /// The Noise handshake or a transport message failed.
    #[error("noise: {0}")]
    Noise(String),
    /// The peer speaks another protocol version or sent a bad preamble.
    #[error("bad preamble or unsupported version: {0}")]
    Version(String),
}

impl From<WireError> for koine_api::ProtocolError {
    fn from(e: WireError) -> Self {
        use koine_api::ProtocolError;
        match e {
            WireError::FrameTooLarge { size, limit } => ProtocolError::TooLarge {
                what: "frame",
                size,
                limit,
            },
            WireError::Version(v) => ProtocolError::Version(v),
            WireError::Noise(d) => ProtocolError::Decrypt(d),
            WireError::Truncated { .. } => ProtocolError::Malformed {
                what: "frame",
                detail: e.to_string(),
            },
            WireError::NotUtf8 | WireError::Xml { .. } | WireError::UnknownStanza(_) => {
                ProtocolError::Malformed {
                    what: "stanza",
                    detail: e.to_string(),
                }
            }
            WireError::Stanza { .. } => ProtocolError::Malformed {
                what: "stanza",
                detail: e.to_string(),
            },
            WireError::Protobuf { .. } => ProtocolError::Malformed {
                what: "protobuf",
                detail: e.to_string(),
            },
        }
    }
}
