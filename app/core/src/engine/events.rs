//! What the engine tells the UI and the CLI.

use crate::model::{ConversationId, ConversationRecord, StoredMessage};
use koine_api::{
    AccountId, Address, Availability, ChatState, Hop, LocalId, Notice, Prompt, Request, Route,
    SendError,
};
use serde::Serialize;

pub use super::status_reason::StatusReason;

/// Connection status of one account as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum AccountStatus {
    /// Not started.
    Stopped,
    /// Connecting.
    Connecting,
    /// Connected; the link is the first hop as negotiated.
    Online {
        /// The client link.
        link: Hop,
    },
    /// Lost the connection; the engine retries.
    Offline {
        /// Why.
        reason: StatusReason,
        /// When the next attempt starts, in milliseconds.
        retry_in_ms: u64,
    },
    /// Stopped for good until the user acts (bad password, bad settings).
    Failed {
        /// Why.
        reason: StatusReason,
    },
}

/// An event of the engine.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EngineEvent {
    /// A history written before Koine encrypted it is being encrypted in
    /// place (only while the profile opens: [`crate::Engine::open_reporting`]).
    HistoryEncrypting {
        /// Bytes encrypted so far.
        done_bytes: u64,
        /// Size of the plaintext history.
        total_bytes: u64,
    },
    /// An account's connection changed.
    AccountStatus {
        /// Which account.
        account: AccountId,
        /// Its status.
        status: AccountStatus,
    },
    /// A new message was stored (incoming, or outgoing from another device).
    MessageStored {
        /// Which account.
        account: AccountId,
        /// The message as stored.
        message: StoredMessage,
    },
    /// A stored message changed (acknowledged, delivered, read, edited,
    /// reacted to, failed).
    MessageUpdated {
        /// Which account.
        account: AccountId,
        /// The message as stored now.
        message: StoredMessage,
    },
    /// The plugin reported the route a message (or an edit, a reaction, a
    /// deletion) sent from here actually took; it replaced the provisional
    /// route stored when it was queued. Comes before the `MessageUpdated`
    /// that carries the message with its new route.
    RouteSettled {
        /// Which account.
        account: AccountId,
        /// The command's local id.
        local_id: LocalId,
        /// The message it is, or the message it changed (when known).
        message: Option<crate::model::MessageId>,
        /// What went: a message or a change to one.
        subject: crate::store::RouteSubject,
        /// The route expected when it was queued (`None`: nothing known).
        provisional: Option<Route>,
        /// The route it took, as the plugin reports it.
        route: Route,
    },
    /// A conversation was created or changed (a message stored in it, read,
    /// accepted, renamed). Carries the record as stored now, so a listener
    /// patches its list and never reads it again.
    ConversationChanged {
        /// Which account.
        account: AccountId,
        /// The conversation as stored now.
        conversation: ConversationRecord,
    },
    /// A conversation was deleted (a declined or blocked request).
    ConversationRemoved {
        /// Which account.
        account: AccountId,
        /// Which conversation.
        conversation: ConversationId,
    },
    /// The contact list changed.
    ContactsChanged {
        /// Which account.
        account: AccountId,
    },
    /// Someone's presence changed.
    Presence {
        /// Which account.
        account: AccountId,
        /// Who.
        address: Address,
        /// Availability.
        availability: Availability,
        /// Status text.
        status: Option<String>,
    },
    /// Someone is typing (or stopped).
    ChatState {
        /// Which account.
        account: AccountId,
        /// Where.
        conversation: ConversationId,
        /// Who.
        from: Address,
        /// The state.
        state: ChatState,
    },
    /// A request arrived.
    RequestReceived {
        /// Which account.
        account: AccountId,
        /// The request.
        request: Request,
    },
    /// A plugin asks the user something.
    PromptRaised {
        /// Which account.
        account: AccountId,
        /// The prompt.
        prompt: Prompt,
    },
    /// Something the user should see.
    Notice {
        /// Which account.
        account: AccountId,
        /// The notice.
        notice: Notice,
    },
    /// A message could not be sent.
    SendFailed {
        /// Which account.
        account: AccountId,
        /// Its local id.
        local_id: LocalId,
        /// Why.
        error: SendError,
        /// Whether the outbox keeps it for another try.
        will_retry: bool,
    },
    /// People changed (merge, split, undo, import, an accepted request).
    PeopleChanged,
    /// The Requests inbox changed (a request was answered here).
    RequestsChanged,
    /// The network says a request was resolved (answered here or on
    /// another device, or withdrawn); it left the Requests inbox.
    RequestResolved {
        /// Which account.
        account: AccountId,
        /// The network's request id.
        request: koine_api::RequestId,
    },
    /// The engine itself hit an error (storage); the account goes on.
    EngineError {
        /// Which account.
        account: AccountId,
        /// What failed.
        detail: String,
    },
}
