//! The user's own changes to messages: corrections, reactions, deletions.
//! Each is applied to the store at once, so every view shows it, queued in
//! the outbox with its own local id in the same transaction, then handed to
//! the account's session (or replayed when it next connects). A repeated
//! delivery of the network's echo changes nothing: reactions are keyed by
//! (message, sender, emoji) and an edit sets the same text.

use super::{Engine, EngineError, EngineEvent};
use crate::model::MessageId;
use koine_api::Direction;
use koine_api::{Address, Command, LocalId, MessageChange};

/// A change the user makes to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnChange {
    /// Correct the text of one's own message.
    Edit(String),
    /// Add a reaction.
    React(String),
    /// Take one's reaction back.
    Unreact(String),
    /// Delete one's own message for everyone.
    Delete,
}

impl Engine {
    /// Applies `change` to message `id` and sends it. Only messages the
    /// network has taken (they have a remote id) can be changed; edits and
    /// deletions only on one's own messages, and not on deleted ones.
    pub async fn change_message(
        &self,
        id: MessageId,
        change: OwnChange,
    ) -> Result<(), EngineError> {
        let (message, conversation) = {
            let store = self.store();
            let message = store.message(id)?;
            let conversation = store.conversation(message.conversation)?;
            (message, conversation)
        };
        let account = conversation.account.clone();
        let me = self.own_address(&account)?;
        let command = {
            let Some(target) = message.remote_id.clone() else {
                return Err(EngineError::CannotChange("not sent yet".into()));
            };
            let own = message.direction == Direction::Outgoing;
            if matches!(change, OwnChange::Edit(_) | OwnChange::Delete) && (!own || message.deleted)
            {
                return Err(EngineError::CannotChange(
                    "only your own messages can be corrected or deleted".into(),
                ));
            }
            if let OwnChange::Edit(text) = &change
                && text.trim().is_empty()
            {
                return Err(EngineError::CannotChange("empty correction".into()));
            }
            let local_id = LocalId::new(uuid::Uuid::new_v4().to_string());
            let key = conversation.key.clone();
            let remove = matches!(change, OwnChange::Unreact(_));
            let (command, applied) = match change {
                OwnChange::Edit(text) => (
                    Command::EditMessage {
                        local_id,
                        conversation: key,
                        target: target.clone(),
                        text: text.clone(),
                    },
                    MessageChange::Edited { text },
                ),
                OwnChange::React(emoji) | OwnChange::Unreact(emoji) => {
                    let applied = if remove {
                        MessageChange::ReactionRemoved {
                            by: me,
                            key: emoji.clone(),
                        }
                    } else {
                        MessageChange::ReactionAdded {
                            by: me,
                            key: emoji.clone(),
                        }
                    };
                    let command = Command::React {
                        local_id,
                        conversation: key,
                        target: target.clone(),
                        key: emoji,
                        remove,
                    };
                    (command, applied)
                }
                OwnChange::Delete => (
                    Command::DeleteMessage {
                        local_id,
                        conversation: key,
                        target: target.clone(),
                    },
                    MessageChange::Deleted,
                ),
            };
            self.store().apply_own_change(
                &account,
                &conversation.key,
                &target,
                &applied,
                &command,
            )?;
            if applied == MessageChange::Deleted {
                self.store().checkpoint()?;
            }
            command
        };
        let message = self.store().message(id)?;
        self.emit(EngineEvent::MessageUpdated {
            account: account.clone(),
            message,
        });
        self.dispatch(&account, command).await;
        Ok(())
    }

    /// The user's own address on an account (as its plugin writes it).
    pub(super) fn own_address(
        &self,
        account: &koine_api::AccountId,
    ) -> Result<Address, EngineError> {
        let record = self.store().account(account)?;
        let protocol = self
            .inner
            .registry
            .get(&record.protocol)
            .ok_or_else(|| EngineError::UnknownProtocol(record.protocol.to_string()))?;
        Ok(protocol
            .parse_address(&record.label)
            .unwrap_or_else(|_| Address::Room(record.label.clone())))
    }
}
