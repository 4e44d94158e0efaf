//! Messages, attachments, reactions and delivery state.

use crate::address::Address;
use crate::ids::{ConversationKey, LocalId, RemoteId};
use crate::route::Route;
use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The current time.
    pub fn now() -> Self {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Self(millis)
    }
}

/// The content of a message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    /// The text, possibly empty when the message is only attachments.
    pub text: String,
    /// Attached files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

impl Content {
    /// Text only.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            attachments: Vec::new(),
        }
    }
}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The file name shown to the user.
    pub name: String,
    /// The MIME type, e.g. `image/png`.
    pub mime: String,
    /// Size in bytes.
    pub size: u64,
    /// Where the bytes are: a local file for outgoing, a network locator for incoming.
    pub source: AttachmentSource,
    /// SHA-256 of the plaintext, hex, when known.
    pub sha256: Option<String>,
}

/// Where an attachment's bytes are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum AttachmentSource {
    /// A file on this machine.
    LocalPath(String),
    /// A network locator the plugin understands (URL, `mxc://`, `aesgcm://`).
    Remote(String),
    /// A file received from the network and kept on this machine sealed
    /// with its account's file key (the `koine-vault` crate): the path of
    /// the sealed file, inside the account's data directory. Only the
    /// engine opens it, for the window to preview or open.
    Sealed(String),
}

/// Delivery state of a message, in the order it normally advances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Stored locally, waiting to be handed to the network.
    Queued,
    /// Handed to the next hop (the user's phone, for SMS), which has not
    /// confirmed sending it: not "sent", and not waiting here either.
    Handed,
    /// Accepted by the first server.
    Sent,
    /// Reached the recipient's device.
    Delivered,
    /// Read by the recipient.
    Read,
    /// Gave up; see the error.
    Failed,
}

impl DeliveryState {
    /// Whether moving from `self` to `next` is progress (states never go backwards;
    /// a receipt for "delivered" arriving after "read" is ignored). A failure
    /// reported after the first hop took the message (an SMS the phone could
    /// not send) replaces "sent"; a delivered or read message did not fail.
    pub fn advances_to(self, next: DeliveryState) -> bool {
        match (self, next) {
            (DeliveryState::Failed, DeliveryState::Failed) => false,
            (DeliveryState::Failed, _) => true,
            (_, DeliveryState::Failed) => {
                matches!(
                    self,
                    DeliveryState::Queued | DeliveryState::Handed | DeliveryState::Sent
                )
            }
            _ => next > self,
        }
    }
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Sent by this account (from this device or another of the user's).
    Outgoing,
    /// Received from someone else.
    Incoming,
}

/// A message as a plugin reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The conversation it belongs to.
    pub conversation: ConversationKey,
    /// The network's id of the message; the engine de-duplicates on it.
    pub remote_id: RemoteId,
    /// For a message sent from this device: the local id it was sent with.
    pub local_id: Option<LocalId>,
    /// Who wrote it.
    pub sender: Address,
    /// The sender's display name, when the network gives one.
    pub sender_name: Option<String>,
    /// Incoming or outgoing.
    pub direction: Direction,
    /// When it was sent, by the server's clock where available.
    pub timestamp: Timestamp,
    /// Text and attachments.
    pub content: Content,
    /// The message it replies to.
    pub reply_to: Option<RemoteId>,
    /// The route it actually travelled.
    pub route: Route,
}

/// Who made a change to a message, as the network authenticated them.
///
/// The engine applies an edit or a deletion only when its author wrote the
/// original (XEP-0308, the Matrix spec's `m.replace` rule): a contact cannot
/// rewrite the user's words, nor another contact's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "address", rename_all = "snake_case")]
pub enum Author {
    /// This account: from this device or another of the user's own devices.
    Me,
    /// Someone else, by the address the network vouches for (in a group, the
    /// same address the plugin gives as the sender of their messages).
    Other(Address),
    /// Someone the network lets remove other people's messages (a room
    /// moderator), as the plugin checked against the room's rules: their
    /// deletions and removals of reactions apply to anyone's message, and
    /// they edit nobody's.
    Moderator(Address),
}

/// A change to a message already reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum MessageChange {
    /// The text was corrected.
    Edited {
        /// The new text.
        text: String,
    },
    /// A reaction was added by `by`.
    ReactionAdded {
        /// Who reacted.
        by: Address,
        /// The emoji (a key, usually one grapheme).
        key: String,
    },
    /// A reaction was removed.
    ReactionRemoved {
        /// Who had reacted.
        by: Address,
        /// The emoji.
        key: String,
    },
    /// The message was deleted (redacted, retracted).
    Deleted,
}

/// Whether the user is typing, paused or gone (XEP-0085, Matrix typing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatState {
    /// Composing now.
    Composing,
    /// Stopped composing.
    Paused,
    /// Looking at the chat, not typing.
    Active,
    /// Left the chat.
    Gone,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_failure_overrides_sent() {
        use DeliveryState::*;
        // The phone or carrier reports a failure after the first hop took
        // the message (an SMS the phone could not send).
        assert!(Sent.advances_to(Failed));
        // A message already delivered or read did not fail.
        assert!(!Delivered.advances_to(Failed));
        assert!(!Read.advances_to(Failed));
    }

    #[test]
    fn delivery_state_never_goes_backwards() {
        use DeliveryState::*;
        assert!(Queued.advances_to(Sent));
        assert!(Sent.advances_to(Read));
        assert!(!Read.advances_to(Delivered));
        assert!(!Sent.advances_to(Sent));
        assert!(Queued.advances_to(Failed));
        assert!(!Delivered.advances_to(Failed));
        assert!(Failed.advances_to(Sent));
    }

    #[test]
    fn handed_to_the_phone_is_between_queued_and_sent() {
        use DeliveryState::*;
        // Handed to the phone, not confirmed: later than queued, and the
        // phone's echo (sent) or its failure replaces it.
        assert!(Queued.advances_to(Handed));
        assert!(Handed.advances_to(Sent));
        assert!(Handed.advances_to(Failed));
        assert!(!Sent.advances_to(Handed));
        assert!(!Handed.advances_to(Queued));
        assert_eq!(serde_json::to_string(&Handed).expect("json"), "\"handed\"");
    }
}
