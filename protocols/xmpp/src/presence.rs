//! Presence (RFC 6121): contacts' availability and subscription requests,
//! which become Koine requests.

use crate::chat;
use crate::error::XmppError;
use crate::roster;
use crate::session::Session;
use koine_api::{
    Address, Availability, ConversationKey, Event, Request, RequestId, RequestKind, Timestamp,
};
use tokio_xmpp::Stanza;
use tokio_xmpp::jid::BareJid;
use tokio_xmpp::parsers::presence::{Presence, Show, Type as PresenceType};

impl Session {
    pub(crate) async fn on_presence(&mut self, p: Presence) -> Result<(), XmppError> {
        let Some(from) = p.from.as_ref().and_then(chat::api_jid) else {
            return Ok(());
        };
        let bare = from.bare();
        if bare.as_str() == self.own {
            return Ok(()); // our own resources
        }
        match p.type_ {
            PresenceType::Subscribe => {
                if let Some(item) = self.roster.get(bare.as_str()) {
                    if item.they_follow() {
                        return Ok(());
                    }
                    if item.we_follow() {
                        // We asked first: their request completes a mutual subscription.
                        return self.subscription_answer(&bare, true).await;
                    }
                }
                if self.requests.insert(bare.as_str().to_owned()) {
                    let preview = p.statuses.values().next().cloned();
                    self.events
                        .emit(Event::RequestReceived(Request {
                            id: RequestId::new(format!("subscribe:{}", bare.as_str())),
                            kind: RequestKind::ContactRequest,
                            from: Address::Jid(bare.clone()),
                            display_name: None,
                            conversation: Some(ConversationKey::new(bare.as_str())),
                            preview,
                            received: Timestamp::now(),
                        }))
                        .await?;
                }
            }
            PresenceType::Unsubscribe if self.requests.remove(bare.as_str()) => {
                self.events
                    .emit(Event::RequestResolved(RequestId::new(format!(
                        "subscribe:{}",
                        bare.as_str()
                    ))))
                    .await?;
            }
            PresenceType::None | PresenceType::Unavailable => {
                if self.on_room_presence(&p).await? {
                    return Ok(());
                }
                let resource = from
                    .as_str()
                    .split_once('/')
                    .map(|(_, r)| r.to_owned())
                    .unwrap_or_default();
                let availability = if p.type_ == PresenceType::Unavailable {
                    Availability::Offline
                } else {
                    match p.show {
                        Some(Show::Away) | Some(Show::Xa) => Availability::Away,
                        Some(Show::Dnd) => Availability::Busy,
                        _ => Availability::Online,
                    }
                };
                let entry = self.presences.entry(bare.as_str().to_owned()).or_default();
                if availability == Availability::Offline {
                    entry.remove(&resource);
                } else {
                    entry.insert(resource, availability);
                }
                let best = [Availability::Online, Availability::Busy, Availability::Away]
                    .into_iter()
                    .find(|a| entry.values().any(|v| v == a))
                    .unwrap_or(Availability::Offline);
                let status = p.statuses.values().next().cloned();
                self.events
                    .emit(Event::PresenceChanged {
                        address: Address::Jid(bare),
                        availability: best,
                        status,
                    })
                    .await?;
            }
            _ => {}
        }
        Ok(())
    }

    pub(crate) async fn subscription_answer(
        &mut self,
        who: &koine_api::Jid,
        accept: bool,
    ) -> Result<(), XmppError> {
        let to = BareJid::new(who.as_str()).map_err(|e| XmppError::Protocol(e.to_string()))?;
        let reply = if accept {
            Presence::subscribed()
        } else {
            Presence::new(PresenceType::Unsubscribed)
        }
        .with_to(to.clone());
        self.send_stanza(Stanza::Presence(reply), None).await?;
        if accept
            && !self
                .roster
                .get(who.as_str())
                .is_some_and(roster::Item::we_follow)
        {
            self.send_stanza(Stanza::Presence(Presence::subscribe().with_to(to)), None)
                .await?;
        }
        Ok(())
    }
}
