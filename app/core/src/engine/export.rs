//! Export of history as JSON.

use super::{Engine, EngineError};
use crate::model::{ConversationId, ConversationRecord, StoredMessage};
use koine_api::{AccountId, ProtocolId, Timestamp};
use serde::Serialize;

/// A full or partial export. Settings and secrets are never exported.
#[derive(Debug, Clone, Serialize)]
pub struct Export {
    /// Format version of this document.
    pub format: u32,
    /// When it was made.
    pub exported_at: Timestamp,
    /// The conversations with their messages.
    pub conversations: Vec<ExportedConversation>,
}

/// One conversation in an export.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedConversation {
    /// The account.
    pub account: AccountId,
    /// The account's network.
    pub protocol: ProtocolId,
    /// The conversation.
    pub conversation: ConversationRecord,
    /// Every message, oldest first, each with its route.
    pub messages: Vec<StoredMessage>,
}

impl Engine {
    /// Each distinct route a conversation's messages took, with how many and
    /// when first and last, oldest first (`koine routes check`).
    pub fn route_uses(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<crate::store::RouteUse>, EngineError> {
        let store = self.store();
        store.conversation(conversation)?;
        Ok(store.route_uses(conversation)?)
    }

    /// Exports one conversation, or all of them.
    pub fn export(&self, only: Option<ConversationId>) -> Result<Export, EngineError> {
        let store = self.store();
        let accounts = store.accounts()?;
        let conversations = match only {
            Some(id) => vec![store.conversation(id)?],
            None => store.conversations()?,
        };
        let mut out = Vec::with_capacity(conversations.len());
        for conversation in conversations {
            let protocol = accounts
                .iter()
                .find(|a| a.id == conversation.account)
                .map(|a| a.protocol.clone())
                .unwrap_or_else(|| ProtocolId::new("unknown"));
            let messages = store.messages(conversation.id, None, u32::MAX)?;
            out.push(ExportedConversation {
                account: conversation.account.clone(),
                protocol,
                conversation,
                messages,
            });
        }
        Ok(Export {
            format: 1,
            exported_at: Timestamp::now(),
            conversations: out,
        })
    }
}
