//! The engine's unified model: records as stored and shown, across networks.

use koine_api::{
    AccountId, Address, Content, ConversationKey, ConversationKind, DeliveryState, Direction,
    LocalId, ProtocolId, RemoteId, Route, Settings, Timestamp,
};
use serde::{Deserialize, Serialize};

/// The store's id of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConversationId(pub i64);

/// The store's id of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub i64);

/// A configured account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    /// Its id.
    pub id: AccountId,
    /// Which plugin serves it.
    pub protocol: ProtocolId,
    /// The name shown in lists (usually the user id on that network).
    pub label: String,
    /// Settings (never secrets).
    pub settings: Settings,
    /// Whether the engine connects it.
    pub enabled: bool,
    /// When it was added.
    pub created_at: Timestamp,
}

/// A conversation in the unified list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationRecord {
    /// The store's id.
    pub id: ConversationId,
    /// The account it belongs to.
    pub account: AccountId,
    /// The network's key.
    pub key: ConversationKey,
    /// Title.
    pub title: String,
    /// Direct or group.
    pub kind: ConversationKind,
    /// The other person of a direct chat.
    pub peer: Option<Address>,
    /// The route the plugin last reported for it.
    pub route: Option<Route>,
    /// The other side opted out, or the room was left.
    pub read_only: bool,
    /// Kept apart in Requests until the user accepts it.
    pub is_request: bool,
    /// Pinned to the top.
    pub pinned: bool,
    /// Unread incoming messages.
    pub unread: u32,
    /// Time of the last message.
    pub last_activity: Timestamp,
    /// The unsent draft.
    pub draft: Option<String>,
    /// Its last message, as the list shows it.
    #[serde(default)]
    pub preview: Option<Preview>,
}

/// A conversation's last message, as the conversation list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preview {
    /// Sent from here (or another own device) or received.
    pub direction: Direction,
    /// Who wrote it, as the network named them.
    pub sender_name: Option<String>,
    /// Its text, at most [`Preview::MAX_CHARS`] characters.
    pub text: String,
    /// Whether it carries files.
    pub attachments: bool,
    /// Whether it was deleted.
    pub deleted: bool,
}

impl Preview {
    /// How much of the text the list gets.
    pub const MAX_CHARS: usize = 200;
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMessage {
    /// The store's id.
    pub id: MessageId,
    /// Its conversation.
    pub conversation: ConversationId,
    /// The network's id, once known.
    pub remote_id: Option<RemoteId>,
    /// The local id of a message sent from here.
    pub local_id: Option<LocalId>,
    /// Who wrote it.
    pub sender: Address,
    /// Their display name.
    pub sender_name: Option<String>,
    /// Incoming or outgoing.
    pub direction: Direction,
    /// When.
    pub timestamp: Timestamp,
    /// Text and attachments.
    pub content: Content,
    /// The message it replies to.
    pub reply_to: Option<RemoteId>,
    /// When it was last edited.
    pub edited_at: Option<Timestamp>,
    /// Deleted for everyone.
    pub deleted: bool,
    /// Delivery state.
    pub state: DeliveryState,
    /// Why it failed, for failed messages.
    pub error: Option<String>,
    /// The route it travelled. For an outgoing message not yet sent, the
    /// route its conversation had when it was queued, marked provisional.
    pub route: Option<Route>,
    /// Whether `route` is only what is expected: the plugin has not yet
    /// reported how the message actually went.
    #[serde(default)]
    pub route_provisional: bool,
    /// Reactions as (sender, emoji).
    pub reactions: Vec<(String, String)>,
}
