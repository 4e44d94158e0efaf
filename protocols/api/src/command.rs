//! Commands the engine sends to a plugin session.

use crate::address::Address;
use crate::consent::{Decision, PromptAnswer};
use crate::ids::{ConversationKey, LocalId, PromptId, RemoteId, RequestId};
use crate::message::{ChatState, Content};
use serde::{Deserialize, Serialize};

/// An intent, sent by the engine to one account's session.
///
/// Commands that carry a [`LocalId`] are durable: the engine stores them in its
/// outbox before sending, and sends them again with the same local id after a
/// reconnect or a restart until the plugin answers with
/// [`crate::Event::SendAcked`] or a final [`crate::Event::SendFailed`]. A plugin
/// must therefore treat a repeated local id as the same message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Command {
    /// Send a message.
    SendMessage {
        /// The engine's id for it.
        local_id: LocalId,
        /// Where to.
        conversation: ConversationKey,
        /// What.
        content: Content,
        /// The message it answers.
        reply_to: Option<RemoteId>,
    },
    /// Correct a message sent earlier.
    EditMessage {
        /// The engine's id for this edit.
        local_id: LocalId,
        /// The conversation.
        conversation: ConversationKey,
        /// The message to correct.
        target: RemoteId,
        /// The new text.
        text: String,
    },
    /// Add or remove a reaction.
    React {
        /// The engine's id for this reaction.
        local_id: LocalId,
        /// The conversation.
        conversation: ConversationKey,
        /// The message reacted to.
        target: RemoteId,
        /// The emoji.
        key: String,
        /// True to remove it.
        remove: bool,
    },
    /// Delete a message for everyone.
    DeleteMessage {
        /// The engine's id for this deletion.
        local_id: LocalId,
        /// The conversation.
        conversation: ConversationKey,
        /// The message.
        target: RemoteId,
    },
    /// Mark everything up to this message as read.
    MarkRead {
        /// The conversation.
        conversation: ConversationKey,
        /// The last message read.
        up_to: RemoteId,
    },
    /// Tell the other side about typing.
    SetChatState {
        /// The conversation.
        conversation: ConversationKey,
        /// The state.
        state: ChatState,
    },
    /// Fetch older messages.
    FetchHistory {
        /// The conversation.
        conversation: ConversationKey,
        /// Fetch messages before this one; `None` for the newest.
        before: Option<RemoteId>,
        /// How many at most.
        limit: u32,
    },
    /// Open (or find) a direct conversation with someone.
    OpenConversation {
        /// Who.
        with: Address,
    },
    /// Add someone to the contact list.
    AddContact {
        /// Who.
        address: Address,
        /// The name to show.
        name: Option<String>,
    },
    /// Remove someone from the contact list.
    RemoveContact {
        /// Who.
        address: Address,
    },
    /// Join a group chat.
    JoinRoom {
        /// The room address (MUC JID, room alias or id).
        room: String,
    },
    /// Leave a group chat.
    LeaveRoom {
        /// The conversation.
        conversation: ConversationKey,
    },
    /// Answer a request.
    AnswerRequest {
        /// The request.
        request: RequestId,
        /// The decision.
        decision: Decision,
    },
    /// Answer a prompt.
    AnswerPrompt {
        /// The prompt.
        prompt: PromptId,
        /// The answer.
        answer: PromptAnswer,
    },
    /// Mark the other side's keys as verified (or not) after the user compared them.
    SetVerified {
        /// Whose keys.
        with: Address,
        /// Verified or not.
        verified: bool,
    },
}

impl Command {
    /// The local id of a durable command (one the outbox keeps), if it is one.
    pub fn local_id(&self) -> Option<&LocalId> {
        match self {
            Command::SendMessage { local_id, .. }
            | Command::EditMessage { local_id, .. }
            | Command::React { local_id, .. }
            | Command::DeleteMessage { local_id, .. } => Some(local_id),
            _ => None,
        }
    }
}
