//! What a protocol can do, as data. The UI hides what a network cannot do
//! instead of failing when the user tries.

use crate::route::E2eScheme;
use serde::{Deserialize, Serialize};

/// Capabilities of a protocol (or of one account, once connected).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Capabilities {
    /// One-to-one chats.
    pub direct_chats: bool,
    /// Group chats / rooms.
    pub group_chats: bool,
    /// Message corrections.
    pub edits: bool,
    /// Emoji reactions.
    pub reactions: bool,
    /// Replies that quote a message.
    pub replies: bool,
    /// Deleting sent messages for everyone.
    pub deletes: bool,
    /// Delivery receipts.
    pub delivery_receipts: bool,
    /// Read markers.
    pub read_receipts: bool,
    /// Typing notifications.
    pub typing: bool,
    /// Presence (online, away).
    pub presence: bool,
    /// Server-side history paging.
    pub history: bool,
    /// Largest attachment in bytes; `None` when attachments are unsupported.
    pub max_attachment_bytes: Option<u64>,
    /// End-to-end schemes this plugin can use.
    pub e2e: Vec<E2eScheme>,
    /// Blocking a sender at the network level.
    pub blocking: bool,
    /// Reporting spam or abuse to the operator.
    pub reporting: bool,
    /// A contact list kept by the network.
    pub roster: bool,
}

impl Capabilities {
    /// Nothing but one-to-one text. Start from this and switch on what the
    /// protocol supports.
    pub fn text_only() -> Self {
        Self {
            direct_chats: true,
            group_chats: false,
            edits: false,
            reactions: false,
            replies: false,
            deletes: false,
            delivery_receipts: false,
            read_receipts: false,
            typing: false,
            presence: false,
            history: false,
            max_attachment_bytes: None,
            e2e: Vec::new(),
            blocking: false,
            reporting: false,
            roster: false,
        }
    }
}
