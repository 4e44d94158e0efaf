//! What the window does with the engine's events (`Engine::subscribe`):
//! statuses, new and updated messages, questions, requests, people.

use crate::app::{App, Effect};
use koine_api::AccountId;
use koine_core::{AccountStatus, ConversationId, EngineEvent};

impl App {
    /// The accounts' last statuses, read at startup (an account may be
    /// listed before or after).
    pub(crate) fn statuses_loaded(&mut self, statuses: Vec<(AccountId, AccountStatus)>) {
        for (account, status) in statuses {
            if let Some(row) = self.accounts.iter_mut().find(|a| a.record.id == account) {
                row.status = status.clone();
            }
            self.statuses.insert(account, status);
        }
    }

    /// Puts a conversation's record in the list, in place of the old one.
    fn conversation_changed(&mut self, mut record: koine_core::ConversationRecord) {
        // The open chat is being read.
        if Some(record.id) == self.selected {
            record.unread = 0;
        } else if let Some(draft) = &record.draft {
            self.drafts
                .entry(record.id)
                .or_insert_with(|| draft.clone());
        }
        match self.conversations.iter_mut().find(|c| c.id == record.id) {
            Some(row) => *row = record,
            None => self.conversations.push(record),
        }
    }

    /// Handles one event of the engine.
    pub(crate) fn on_engine(&mut self, event: EngineEvent) -> Vec<Effect> {
        match event {
            EngineEvent::AccountStatus { account, status } => {
                if !matches!(status, koine_core::AccountStatus::Online { .. }) {
                    self.presences.forget_account(&account);
                }
                self.statuses.insert(account.clone(), status.clone());
                if let Some(row) = self.accounts.iter_mut().find(|a| a.record.id == account) {
                    row.status = status;
                    Vec::new()
                } else {
                    vec![Effect::LoadLists]
                }
            }
            EngineEvent::ChatState {
                conversation,
                from,
                state,
                ..
            } => {
                self.chat_state(conversation, from, state);
                Vec::new()
            }
            EngineEvent::MessageStored { message, .. } => {
                self.stopped_typing(message.conversation, &message.sender);
                // The conversation's record came just before, in its own
                // event: nothing to read again.
                let mut effects: Vec<Effect> =
                    self.notification_for(&message).into_iter().collect();
                if Some(message.conversation) == self.selected {
                    if !self.messages.iter().any(|m| m.id == message.id) {
                        effects.extend(self.want_previews([&message]));
                        self.messages.push(message);
                    }
                    effects.push(Effect::MarkRead(self.selected.unwrap_or(ConversationId(0))));
                }
                effects
            }
            EngineEvent::MessageUpdated { message, .. } => {
                let effects = if Some(message.conversation) == self.selected {
                    self.want_previews([&message])
                } else {
                    Vec::new()
                };
                if let Some(m) = self.messages.iter_mut().find(|m| m.id == message.id) {
                    *m = message;
                } else if Some(message.conversation) == self.selected
                    && self.jump_to.is_none()
                    && self.messages.last().is_none_or(|last| last.id < message.id)
                {
                    // One's own message, first seen when the network took it.
                    self.messages.push(message);
                }
                effects
            }
            EngineEvent::Notice { account, notice } => {
                self.notice(account, notice);
                Vec::new()
            }
            EngineEvent::PromptRaised { account, prompt } => {
                self.prompt_raised(account, prompt);
                Vec::new()
            }
            EngineEvent::ConversationChanged { conversation, .. } => {
                self.conversation_changed(conversation);
                Vec::new()
            }
            EngineEvent::ConversationRemoved { conversation, .. } => {
                self.conversations.retain(|c| c.id != conversation);
                self.drafts.remove(&conversation);
                if self.selected == Some(conversation) {
                    self.close_chat();
                }
                Vec::new()
            }
            EngineEvent::RequestReceived { .. }
            | EngineEvent::RequestsChanged
            | EngineEvent::RequestResolved { .. } => {
                vec![Effect::LoadRequests, Effect::LoadBlocked]
            }
            EngineEvent::PeopleChanged => {
                let mut effects = vec![Effect::LoadPeople];
                effects.extend(self.people_changed());
                effects
            }
            EngineEvent::RouteSettled {
                provisional: Some(expected),
                route,
                ..
            } if route.protection() < expected.protection() => {
                // The network sent it less protected than the chat promised:
                // said at once, never only in the inspector.
                self.error = Some(crate::fl!(
                    "route-settled-weaker",
                    summary = crate::route::protection_text(&route)
                ));
                Vec::new()
            }
            EngineEvent::SendFailed {
                error, will_retry, ..
            } if !will_retry => {
                self.error = Some(crate::fl!(
                    "send-failed",
                    reason = crate::send_errors::text(&error)
                ));
                Vec::new()
            }
            EngineEvent::Presence {
                account,
                address,
                availability,
                status,
            } => {
                self.presences.set(account, &address, availability, status);
                Vec::new()
            }
            EngineEvent::EngineError { detail, .. } => {
                self.error = Some(crate::fl!("engine-store-error", detail = detail));
                Vec::new()
            }
            _ => Vec::new(),
        }
    }
}
