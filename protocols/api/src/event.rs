//! Events a plugin session reports to the engine.

use crate::address::{Address, PhoneNumber};
use crate::consent::{Prompt, Request};
use crate::error::SendError;
use crate::ids::{ConversationKey, LocalId, RemoteId, RequestId};
use crate::message::{Author, ChatState, DeliveryState, Message, MessageChange, Timestamp};
use crate::notice::Notice;
use crate::route::Route;
use serde::{Deserialize, Serialize};

/// A fact reported by a plugin session. Events are named as facts; the engine
/// stores what needs storing and forwards the rest to the UI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// The connection changed state.
    ConnectionChanged(ConnectionState),
    /// The full contact list, replacing what was known.
    RosterReplaced(Vec<Contact>),
    /// One contact was added or changed.
    ContactUpdated(Contact),
    /// One contact was removed.
    ContactRemoved(Address),
    /// Someone's presence changed.
    PresenceChanged {
        /// Who.
        address: Address,
        /// Their availability.
        availability: Availability,
        /// Their status text.
        status: Option<String>,
    },
    /// A conversation appeared or changed (title, route, kind).
    ConversationUpserted(Conversation),
    /// A message arrived, or an outgoing one from another of the user's devices
    /// was seen (carbons, sync). Reported again after a reconnect is fine: the
    /// engine de-duplicates on `(conversation, remote_id)`.
    MessageReceived(Message),
    /// A page of history, oldest first.
    HistoryPage {
        /// The conversation.
        conversation: ConversationKey,
        /// The messages.
        messages: Vec<Message>,
        /// Whether older messages remain.
        more: bool,
    },
    /// A durable command was accepted by the network.
    SendAcked {
        /// The command's local id.
        local_id: LocalId,
        /// The id the network gave the message.
        remote_id: RemoteId,
        /// The route it took.
        route: Route,
    },
    /// A message was handed to the next hop (the user's phone), which has
    /// not confirmed sending it yet: it is [`DeliveryState::Handed`] until
    /// a `SendAcked` or `SendFailed` for the same local id. It stays in the
    /// outbox, so a later session hands it again (plugins make that
    /// idempotent).
    SendHanded {
        /// The command's local id.
        local_id: LocalId,
    },
    /// A durable command failed.
    SendFailed {
        /// The command's local id.
        local_id: LocalId,
        /// Why.
        error: SendError,
    },
    /// A message's delivery state advanced (receipt, marker).
    DeliveryUpdated {
        /// The conversation.
        conversation: ConversationKey,
        /// The message.
        remote_id: RemoteId,
        /// The new state.
        state: DeliveryState,
    },
    /// A message was edited, reacted to or deleted.
    MessageChanged {
        /// The conversation.
        conversation: ConversationKey,
        /// The message.
        remote_id: RemoteId,
        /// What changed.
        change: MessageChange,
        /// Who changed it; an edit or deletion by anyone but the original
        /// sender is refused by the engine.
        by: Author,
        /// When.
        at: Timestamp,
    },
    /// Someone is typing (or stopped).
    ChatStateChanged {
        /// The conversation.
        conversation: ConversationKey,
        /// Who.
        from: Address,
        /// The state.
        state: ChatState,
    },
    /// A request from someone unknown arrived.
    RequestReceived(Request),
    /// A request was settled elsewhere (on another device, or withdrawn).
    RequestResolved(RequestId),
    /// The plugin needs the user to answer something.
    PromptRaised(Prompt),
    /// Something the user should see.
    Notice(Notice),
    /// What someone's profile on the network (an XMPP vCard, a directory
    /// entry) says about them. Phone numbers and e-mail addresses found there
    /// are strong signals that two addresses belong to one person; the engine
    /// suggests merging them and never merges by itself.
    ProfileLearned(Profile),
}

/// Connection states of one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConnectionState {
    /// Connecting or authenticating.
    Connecting,
    /// Connected and ready: the engine replays its outbox now.
    Online {
        /// The route of the client link as negotiated (host, TLS or Noise).
        link: crate::route::Hop,
    },
    /// Not connected.
    Offline {
        /// Why, as a short machine reason (`network`, `server-closed`, `auth`).
        reason: String,
    },
}

/// A contact as the network reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// The address.
    pub address: Address,
    /// The name to show.
    pub name: Option<String>,
    /// Groups, where the network has them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Whether both sides agreed to be contacts.
    pub mutual: bool,
}

/// The identifiers someone's profile lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Whose profile.
    pub address: Address,
    /// Phone numbers in E.164 form. Numbers written without a country code
    /// cannot be placed and are left out by the plugin.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<PhoneNumber>,
    /// E-mail addresses, as written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
}

/// Presence availability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// Available.
    Online,
    /// Away or idle.
    Away,
    /// Do not disturb.
    Busy,
    /// Not connected.
    Offline,
}

/// A conversation as the network reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// The network's key.
    pub key: ConversationKey,
    /// The title to show.
    pub title: String,
    /// One-to-one or group.
    pub kind: ConversationKind,
    /// The other person, for a direct chat.
    pub peer: Option<Address>,
    /// How messages in this conversation travel.
    pub route: Route,
    /// Whether the conversation is read-only (the other side opted out, a left room).
    pub read_only: bool,
}

/// One-to-one or group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationKind {
    /// Two people.
    Direct,
    /// A room or group chat.
    Group,
}
