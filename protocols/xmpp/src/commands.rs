//! The engine's commands, mapped onto stanzas.

use crate::chat;
use crate::error::XmppError;
use crate::roster;
use crate::session::{PendingIq, Session};
use koine_api::{Command, ConversationKey, Decision, Event, LocalId, SendError};
use tokio_xmpp::Stanza;
use tokio_xmpp::jid::BareJid;
use tokio_xmpp::parsers::message::Message;
use tokio_xmpp::parsers::presence::Presence;

impl Session {
    pub(crate) async fn on_command(&mut self, cmd: Command) -> Result<(), XmppError> {
        match cmd {
            Command::SendMessage {
                local_id,
                conversation,
                content,
                ..
            } => {
                if !content.attachments.is_empty() {
                    return self
                        .send_with_attachments(local_id, conversation, content)
                        .await;
                }
                let group = self.rooms.contains_key(conversation.as_str());
                self.send_durable(local_id, &conversation, |to, id| {
                    if group {
                        crate::muc::outgoing(to, id, &content.text)
                    } else {
                        chat::outgoing_text(to, id, &content.text)
                    }
                })
                .await?;
            }
            Command::EditMessage {
                local_id,
                conversation,
                target,
                text,
            } => {
                self.send_durable(local_id, &conversation, |to, id| {
                    chat::outgoing_correction(to, id, &target, &text)
                })
                .await?;
            }
            Command::React { local_id, .. } => {
                self.fail(local_id, SendError::Unsupported("reactions".into()))
                    .await?;
            }
            Command::DeleteMessage { local_id, .. } => {
                self.fail(local_id, SendError::Unsupported("deletion".into()))
                    .await?;
            }
            Command::MarkRead {
                conversation,
                up_to,
            } => {
                if let Ok(to) = BareJid::new(conversation.as_str()) {
                    let m = chat::outgoing_displayed(&to, &up_to);
                    self.send_stanza(Stanza::Message(m), None).await?;
                }
            }
            Command::SetChatState {
                conversation,
                state,
            } => {
                if let Ok(to) = BareJid::new(conversation.as_str()) {
                    let m = chat::outgoing_chat_state(&to, state);
                    self.send_stanza(Stanza::Message(m), None).await?;
                }
            }
            Command::FetchHistory {
                conversation,
                before,
                limit,
            } => self.fetch_history(conversation, before, limit).await?,
            Command::OpenConversation { with } => {
                let key = ConversationKey::new(with.to_string());
                self.conversations.remove(key.as_str());
                self.ensure_conversation(&key).await?;
                self.omemo_offer_comparison(key.as_str()).await?;
            }
            Command::AddContact { address, name } => {
                let jid = address.to_string();
                if let Some(q) = roster::set_query(&jid, name.as_deref()) {
                    self.iq_set(None, q, PendingIq::RosterSet).await?;
                }
                if let Ok(to) = BareJid::new(&jid) {
                    self.send_stanza(Stanza::Presence(Presence::subscribe().with_to(to)), None)
                        .await?;
                }
            }
            Command::RemoveContact { address } => {
                if let Some(q) = roster::remove_query(&address.to_string()) {
                    self.iq_set(None, q, PendingIq::RosterSet).await?;
                }
            }
            Command::AnswerRequest { request, decision } => {
                let Some(jid) = request.as_str().strip_prefix("subscribe:") else {
                    return Ok(());
                };
                let Ok(who) = koine_api::Jid::parse(jid) else {
                    return Ok(());
                };
                self.requests.remove(who.as_str());
                self.subscription_answer(&who, decision == Decision::Accept)
                    .await?;
                if matches!(decision, Decision::Block | Decision::Report) {
                    self.block(&who, decision == Decision::Report).await?;
                }
                self.events.emit(Event::RequestResolved(request)).await?;
            }
            Command::JoinRoom { room } => self.join_room(&room).await?,
            Command::LeaveRoom { conversation } => self.leave_room(&conversation).await?,
            Command::SetVerified { with, verified } => {
                self.omemo_set_verified(&with, verified).await?;
            }
            Command::AnswerPrompt { prompt, answer } => {
                self.omemo_answer(&prompt, answer).await?;
            }
            other => {
                if let Some(id) = other.local_id() {
                    self.fail(id.clone(), SendError::Unsupported("command".into()))
                        .await?;
                }
            }
        }
        Ok(())
    }

    pub(crate) async fn fail(&self, local_id: LocalId, error: SendError) -> Result<(), XmppError> {
        self.events
            .emit(Event::SendFailed { local_id, error })
            .await?;
        Ok(())
    }

    /// Sends a durable message once per local id.
    pub(crate) async fn send_durable(
        &mut self,
        local_id: LocalId,
        conversation: &ConversationKey,
        build: impl FnOnce(&BareJid, &LocalId) -> Message,
    ) -> Result<(), XmppError> {
        if let Some(domain) = self.acked.get(local_id.as_str()).cloned() {
            // A replay of something the server already has: acknowledge again.
            return self.acknowledged(local_id, Some(domain)).await;
        }
        if self.is_unacked(&local_id) {
            return Ok(()); // in flight; its ack will come
        }
        let Ok(to) = BareJid::new(conversation.as_str()) else {
            return self.fail(local_id, SendError::NoSuchRecipient).await;
        };
        if to.node().is_none() && !self.routes.is_local(to.domain().as_str()) {
            return self.fail(local_id, SendError::NoSuchRecipient).await;
        }
        let group = self.rooms.contains_key(conversation.as_str());
        if !group {
            self.ensure_conversation(conversation).await?;
        }
        let m = build(&to, &local_id);
        if !group && to.node().is_some() && self.cfg.omemo {
            return self.omemo_send(local_id, to, m).await;
        }
        self.send_stanza(Stanza::Message(m), Some(local_id)).await
    }
}
