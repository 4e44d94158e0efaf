//! Group chats (XEP-0045 MUC): join, send, receive, leave.
//!
//! The room is the conversation (its bare JID). Joining sends presence to
//! `room/nick` and asks for no legacy history (history comes from the room's
//! archive through `FetchHistory`). The join is confirmed by our own presence
//! coming back with status 110; the conversation is then reported with the
//! room service as the hop that reads content. Leaving marks the
//! conversation read-only.

use crate::chat;
use crate::error::XmppError;
use crate::ns;
use crate::session::Session;
use koine_api::{
    Address, Content, Conversation, ConversationKey, ConversationKind, Direction, Event, Jid,
    LocalId, Notice, RemoteId, Timestamp,
};
use tokio_xmpp::Stanza;
use tokio_xmpp::jid::{BareJid, FullJid};
use tokio_xmpp::parsers::message::{Id, Lang, Message, MessageType};
use tokio_xmpp::parsers::presence::{Presence, Type as PresenceType};
use tokio_xmpp::parsers::stanza_id;

/// Splits `room@service[/nick]` into the room and a nickname (the account's
/// user part when none is given).
pub fn parse_room(input: &str, default_nick: &str) -> Option<(BareJid, String)> {
    let (room, nick) = match input.split_once('/') {
        Some((r, n)) if !n.is_empty() => (r, n.to_owned()),
        Some(_) => return None,
        None => (input, default_nick.to_owned()),
    };
    let room = BareJid::new(room).ok()?;
    room.node()?;
    Some((room, nick))
}

/// A groupchat message with a body.
pub fn outgoing(room: &BareJid, local_id: &LocalId, text: &str) -> Message {
    let mut m = Message::groupchat(Some(room.clone().into()));
    m.id = Some(Id(local_id.as_str().to_owned()));
    m.bodies.insert(Lang::new(), text.to_owned());
    m.with_payload(stanza_id::OriginId {
        id: local_id.as_str().to_owned(),
    })
}

impl Session {
    /// `JoinRoom`.
    pub(crate) async fn join_room(&mut self, room: &str) -> Result<(), XmppError> {
        let default_nick = self
            .cfg
            .jid
            .node()
            .map(|n| n.to_string())
            .unwrap_or_else(|| "koine".into());
        let Some((room, nick)) = parse_room(room, &default_nick) else {
            return self
                .notice_malformed(format!("not a room address: {room}"))
                .await;
        };
        let Ok(occupant) = FullJid::new(&format!("{room}/{nick}")) else {
            return self
                .notice_malformed(format!("not a usable nickname: {nick}"))
                .await;
        };
        let mut p = Presence::available().with_to(occupant);
        if let Some(x) = ns::element(&format!(
            "<x xmlns='{}'><history maxstanzas='0'/></x>",
            ns::MUC
        )) {
            p.payloads.push(x);
        }
        self.rooms.insert(room.to_string(), nick);
        self.send_stanza(Stanza::Presence(p), None).await
    }

    /// `LeaveRoom`.
    pub(crate) async fn leave_room(&mut self, key: &ConversationKey) -> Result<(), XmppError> {
        let Some(nick) = self.rooms.remove(key.as_str()) else {
            return Ok(());
        };
        if let Ok(occupant) = FullJid::new(&format!("{}/{nick}", key.as_str())) {
            let p = Presence::unavailable().with_to(occupant);
            self.send_stanza(Stanza::Presence(p), None).await?;
        }
        self.report_room(key, true).await
    }

    pub(crate) async fn report_room(
        &self,
        key: &ConversationKey,
        read_only: bool,
    ) -> Result<(), XmppError> {
        let Ok(room) = Jid::parse(key.as_str()) else {
            return Ok(());
        };
        let title = key
            .as_str()
            .split_once('@')
            .map_or(key.as_str(), |(n, _)| n)
            .to_owned();
        self.events
            .emit(Event::ConversationUpserted(Conversation {
                key: key.clone(),
                title,
                kind: ConversationKind::Group,
                peer: None,
                route: self.routes.to_domain(room.domain()),
                read_only,
            }))
            .await?;
        Ok(())
    }

    /// Presence from a room we are in (or trying to join). Returns whether it was one.
    pub(crate) async fn on_room_presence(&mut self, p: &Presence) -> Result<bool, XmppError> {
        let Some(from) = p.from.as_ref() else {
            return Ok(false);
        };
        let room = from.to_bare().to_string();
        if !self.rooms.contains_key(&room) {
            return Ok(p.payloads.iter().any(|e| e.has_ns(ns::MUC_USER)));
        }
        if p.type_ == PresenceType::Error {
            self.rooms.remove(&room);
            self.events
                .emit(Event::Notice(Notice::Unsupported {
                    feature: "group-chat-join".into(),
                }))
                .await?;
            return Ok(true);
        }
        let self_presence = p.payloads.iter().any(|x| {
            x.is("x", ns::MUC_USER)
                && x.children()
                    .any(|s| s.is("status", ns::MUC_USER) && s.attr("code") == Some("110"))
        });
        // A room that gives our own presence an occupant id gives every
        // occupant one.
        if self_presence
            && p.payloads
                .iter()
                .any(|x| x.is("occupant-id", ns::OCCUPANT_ID))
        {
            self.rooms_with_occupant_ids.insert(room.clone());
        }
        let created = p.payloads.iter().any(|x| {
            x.is("x", ns::MUC_USER)
                && x.children()
                    .any(|s| s.is("status", ns::MUC_USER) && s.attr("code") == Some("201"))
        });
        if created
            && let Ok(to) = BareJid::new(&room)
            && let Some(q) = ns::element(&format!(
                "<query xmlns='{}#owner'><x xmlns='{}' type='submit'/></query>",
                ns::MUC,
                ns::DATA
            ))
        {
            // We created the room: accept the default configuration (an
            // "instant room"), which unlocks it for others.
            let pending = crate::session::PendingIq::RoomConfigured { room: room.clone() };
            self.iq_set(Some(to.into()), q, pending).await?;
            // Reported once the room is unlocked.
            return Ok(true);
        }
        if self_presence && p.type_ == PresenceType::None {
            self.report_room(&ConversationKey::new(room), false).await?;
        }
        Ok(true)
    }

    /// A groupchat message.
    pub(crate) async fn on_groupchat(&mut self, m: Message) -> Result<(), XmppError> {
        let Some(from) = m.from.as_ref() else {
            return Ok(());
        };
        let room = from.to_bare().to_string();
        let Some(own_nick) = self.rooms.get(&room).cloned() else {
            return Ok(()); // not a room we are in
        };
        let Some(mut message) = self.read_groupchat(&m, &room, &own_nick, None) else {
            return Ok(());
        };
        let author = author(&m, self.rooms_with_occupant_ids.contains(&room));
        let correction = m
            .payloads
            .iter()
            .find(|p| p.is("replace", ns::CORRECT))
            .and_then(|p| p.attr("id"));
        if let Some(target) = correction
            && let Some(original) = self.room_authors.get(&(room.clone(), target.to_owned()))
        {
            // Only the occupant who sent a message may correct it (XEP-0308).
            if author.as_ref() != Some(original) {
                return self
                    .notice_peer(format!(
                        "correction of message {target} in {room} by someone who did not write it"
                    ))
                    .await;
            }
            let change = Event::MessageChanged {
                conversation: message.conversation,
                remote_id: RemoteId::new(target),
                change: koine_api::MessageChange::Edited {
                    text: message.content.text,
                },
                // The engine checks this against the original's sender too.
                by: match message.direction {
                    Direction::Outgoing => koine_api::Author::Me,
                    Direction::Incoming => koine_api::Author::Other(message.sender),
                },
                at: message.timestamp,
            };
            return self.emit_inbound(change).await;
        }
        if message.direction == Direction::Incoming {
            let id = self.sender_ids.remote_id(
                &room,
                message.remote_id.as_str(),
                chat::stanza_id_of(&m, Some(&room)).as_deref(),
            );
            message.remote_id = RemoteId::new(id);
        }
        if self.first_time(&message) {
            if let Some(author) = author {
                self.room_authors
                    .insert((room, message.remote_id.as_str().to_owned()), author);
            }
            self.emit_inbound(Event::MessageReceived(message)).await?;
        }
        Ok(())
    }

    /// Reads a groupchat message from `room` (live or archived).
    pub(crate) fn read_groupchat(
        &self,
        m: &Message,
        room: &str,
        own_nick: &str,
        archived_at: Option<Timestamp>,
    ) -> Option<koine_api::Message> {
        read_room_message(m, room, own_nick, archived_at, &self.routes)
    }
}

/// Reads groupchat message `m` from `room` (live or archived); `None` when
/// it lacks what a stored message needs (a nickname, a body, an id).
pub fn read_room_message(
    m: &Message,
    room: &str,
    own_nick: &str,
    archived_at: Option<Timestamp>,
    routes: &crate::route::Routes,
) -> Option<koine_api::Message> {
    let from = m.from.as_ref()?;
    let nick = from.resource().map(|r| r.to_string())?;
    let (_, body) = m
        .get_best_body(vec![])
        .or_else(|| m.bodies.iter().next().map(|(l, b)| (l.clone(), b)))?;
    let remote_id = chat::remote_id_of(m).or_else(|| chat::stanza_id_of(m, Some(room)))?;
    let outgoing = nick == own_nick;
    let sender = Jid::parse(from.as_str()).ok()?;
    // The room dates what it replays (from the room's JID); an
    // occupant's own delay is not believed.
    let timestamp = archived_at.unwrap_or_else(|| chat::live_time(m, Some(room)));
    let room_jid = Jid::parse(room).ok()?;
    let (attachments, text) = crate::oob::read(&m.payloads, body);
    let urls = crate::oob::remote_urls(&attachments);
    Some(koine_api::Message {
        conversation: ConversationKey::new(room),
        remote_id: RemoteId::new(remote_id.clone()),
        local_id: outgoing.then(|| LocalId::new(remote_id)),
        sender: Address::Jid(sender),
        sender_name: Some(nick),
        direction: if outgoing {
            Direction::Outgoing
        } else {
            Direction::Incoming
        },
        timestamp,
        content: Content { text, attachments },
        reply_to: None,
        route: crate::oob::with_media_hops(routes.to_domain(room_jid.domain()), &urls),
    })
}

/// Who sent room message `m`, as far as the room vouches: its occupant id
/// (XEP-0421) when the room gives them (`occupant_ids`; the room strips
/// forged ones), else the occupant's nickname, which someone else can take
/// once they left.
pub fn author(m: &Message, occupant_ids: bool) -> Option<String> {
    if occupant_ids {
        return m
            .payloads
            .iter()
            .find(|p| p.is("occupant-id", ns::OCCUPANT_ID))
            .and_then(|p| p.attr("id"))
            .map(|id| format!("occupant-id:{id}"));
    }
    m.from.as_ref().map(|f| format!("nick:{f}"))
}

/// Whether `m` is a groupchat message.
pub fn is_groupchat(m: &Message) -> bool {
    m.type_ == MessageType::Groupchat
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_addresses() {
        let (room, nick) = parse_room("Lounge@conference.x.org/Ann", "ann").expect("valid");
        assert_eq!(room.as_str(), "lounge@conference.x.org");
        assert_eq!(nick, "Ann");
        let (_, nick) = parse_room("lounge@conference.x.org", "ann").expect("valid");
        assert_eq!(nick, "ann");
        assert!(parse_room("conference.x.org", "ann").is_none());
        assert!(parse_room("lounge@conference.x.org/", "ann").is_none());
    }
}
