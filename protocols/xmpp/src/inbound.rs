//! One-to-one messages from the stream (live and carbons), and the
//! conversations they belong to.

use crate::chat;
use crate::error::XmppError;
use crate::handoff::Action;
use crate::ns;
use crate::route::DomainKind;
use crate::session::{PendingIq, Session};
use koine_api::{
    Address, Conversation, ConversationKey, ConversationKind, Direction, Event, InputSource,
    Notice, RemoteId,
};
use tokio_xmpp::jid::BareJid;
use tokio_xmpp::minidom::Element;
use tokio_xmpp::parsers::message::Message;

impl Session {
    pub(crate) fn peer_route(&self, domain: &str) -> koine_api::Route {
        self.routes.to_domain(domain)
    }

    pub(crate) async fn on_message(&mut self, m: Message) -> Result<(), XmppError> {
        if crate::mam::is_result(&m) {
            return self.on_mam_result(m).await;
        }
        if crate::muc::is_groupchat(&m) {
            return self.on_groupchat(m).await;
        }
        let (inner, direction) = match chat::unwrap_carbon(&m, &self.own) {
            Some(Ok(pair)) => pair,
            Some(Err(e)) => return self.notice_peer(e).await,
            None => (m, Direction::Incoming),
        };
        if self.omemo_event(&inner).await? {
            return Ok(());
        }
        let sender = match direction {
            Direction::Outgoing => self.own.clone(),
            Direction::Incoming => inner
                .from
                .as_ref()
                .map(|f| f.to_bare().to_string())
                .unwrap_or_default(),
        };
        let Some((inner, encrypted)) = self.omemo_open(inner, &sender).await? else {
            return Ok(());
        };
        let routes = self.routes.clone();
        let cx = chat::Context {
            own: &self.own,
            routes: &routes,
            archived_at: None,
            server_may_date: !self.ready,
        };
        let mut reading = match chat::read(&inner, direction, &cx) {
            Ok(r) => r,
            Err(e) => return self.notice_peer(e).await,
        };
        if direction == Direction::Incoming {
            let stanza_id = reading.stored.as_ref().and_then(|s| s.2.clone());
            self.name_by_server(&mut reading, stanza_id.as_deref());
        }
        for refused in self.refuse_changes_by_others(&mut reading.events, direction) {
            self.notice_peer(refused).await?;
        }
        if let Some((conversation, remote_id, stanza_id)) = &reading.stored {
            self.ensure_conversation(conversation).await?;
            if let Some(sid) = stanza_id {
                self.mam.seen(remote_id, sid);
            }
        }
        for mut e in reading.events {
            if let Event::MessageReceived(m) = &mut e {
                if !self.first_time(m) {
                    continue;
                }
                if encrypted {
                    self.omemo_protect(m.conversation.as_str(), &mut m.route);
                }
            }
            self.emit_inbound(e).await?;
        }
        if encrypted {
            self.omemo_commit_when_stored().await?;
        }
        // What depends on the message being stored waits until it is.
        if let Some((_, _, Some(sid))) = reading.stored
            && let Some(a) = self.events.after_stored(Action::ArchiveMarker(sid))
        {
            self.apply(a).await?;
        }
        if let Some((to, id)) = reading.receipt
            && let Some(a) = self.events.after_stored(Action::Receipt(to, id))
        {
            self.apply(a).await?;
        }
        Ok(())
    }

    /// Reports an event from the network: one the engine stores (a message,
    /// an edit, a delivery state) is tracked until stored, see `handoff`.
    pub(crate) async fn emit_inbound(&mut self, e: Event) -> Result<(), XmppError> {
        match e {
            Event::MessageReceived(_)
            | Event::MessageChanged { .. }
            | Event::DeliveryUpdated { .. } => self.events.emit_stored(e)?,
            other => self.events.emit(other).await?,
        }
        Ok(())
    }

    /// Whether `m` was not reported yet in this session.
    pub(crate) fn first_time(&mut self, m: &koine_api::Message) -> bool {
        self.emitted
            .insert(
                (
                    m.conversation.as_str().to_owned(),
                    m.remote_id.as_str().to_owned(),
                ),
                m.direction,
            )
            .is_none()
    }

    /// Names an incoming message whose sender reused one of its ids by
    /// `stanza_id`, the id our server gave it (see [`crate::ids`]); a
    /// correction then means the sender's latest message of that id.
    pub(crate) fn name_by_server(&mut self, reading: &mut chat::Reading, stanza_id: Option<&str>) {
        for e in &mut reading.events {
            match e {
                Event::MessageReceived(m) => {
                    let id = self.sender_ids.remote_id(
                        m.conversation.as_str(),
                        m.remote_id.as_str(),
                        stanza_id,
                    );
                    if let Some(stored) = &mut reading.stored {
                        stored.1.clone_from(&id);
                    }
                    m.remote_id = RemoteId::new(id);
                }
                Event::MessageChanged {
                    conversation,
                    remote_id,
                    ..
                } => {
                    let target = self
                        .sender_ids
                        .target(conversation.as_str(), remote_id.as_str());
                    *remote_id = RemoteId::new(target);
                }
                _ => {}
            }
        }
    }

    /// Who wrote message `remote_id` of the one-to-one `conversation`, as
    /// far as the plugin knows: the user, when it is one of the local ids
    /// this account sent (the acknowledged log, kept across restarts: a
    /// peer reusing that id for a message of its own does not make it
    /// theirs); else the author of the message reported in this session.
    pub(crate) fn author_of(&self, conversation: &str, remote_id: &str) -> Option<Direction> {
        if self.acked.contains_key(remote_id) {
            return Some(Direction::Outgoing);
        }
        self.emitted
            .get(&(conversation.to_owned(), remote_id.to_owned()))
            .copied()
    }

    /// Removes from `events` the corrections (XEP-0308) of a message that
    /// the one who sent them (`editor`: the peer, or one of the user's own
    /// devices) did not write; only a message's sender may correct it.
    /// Returns what was refused, for a notice. A correction of a message
    /// the plugin does not know stays: the engine, which stored it, checks.
    pub(crate) fn refuse_changes_by_others(
        &self,
        events: &mut Vec<Event>,
        editor: Direction,
    ) -> Vec<String> {
        let mut refused = Vec::new();
        events.retain(|e| match e {
            Event::MessageChanged {
                conversation,
                remote_id,
                ..
            } => match self.author_of(conversation.as_str(), remote_id.as_str()) {
                Some(author) if author != editor => {
                    refused.push(format!(
                        "correction of message {} in {} by someone who did not write it",
                        remote_id.as_str(),
                        conversation.as_str()
                    ));
                    false
                }
                _ => true,
            },
            _ => true,
        });
        refused
    }

    pub(crate) async fn notice_peer(&self, detail: String) -> Result<(), XmppError> {
        self.events
            .emit(Event::Notice(Notice::MalformedInput {
                source: InputSource::Peer,
                detail,
            }))
            .await?;
        Ok(())
    }

    /// Reports a conversation the first time it is seen, and asks its
    /// domain's disco#info once (gateway detection).
    pub(crate) async fn ensure_conversation(
        &mut self,
        key: &ConversationKey,
    ) -> Result<(), XmppError> {
        if !self.conversations.insert(key.as_str().to_owned()) {
            return Ok(());
        }
        let Ok(peer) = koine_api::Jid::parse(key.as_str()) else {
            return Ok(());
        };
        let domain = peer.domain().to_owned();
        if domain != self.cfg.domain() && !self.routes.knows(&domain) {
            self.routes.learn(&domain, DomainKind::Server);
            if let Ok(to) = BareJid::new(&domain) {
                self.probing.insert(domain.clone(), Vec::new());
                let q = Element::builder("query", ns::DISCO_INFO).build();
                self.iq_get(Some(to.into()), q, PendingIq::DiscoInfo { domain })
                    .await?;
            }
        }
        self.upsert_conversation(key).await
    }

    pub(crate) async fn upsert_conversation(&self, key: &ConversationKey) -> Result<(), XmppError> {
        let Ok(peer) = koine_api::Jid::parse(key.as_str()) else {
            return Ok(());
        };
        let mut route = self.peer_route(peer.domain());
        self.omemo_protect(peer.as_str(), &mut route);
        let title = self
            .roster
            .get(peer.as_str())
            .and_then(|i| i.name.clone())
            .unwrap_or_else(|| peer.as_str().to_owned());
        self.events
            .emit(Event::ConversationUpserted(Conversation {
                key: key.clone(),
                title,
                kind: ConversationKind::Direct,
                route,
                peer: Some(Address::Jid(peer)),
                read_only: false,
            }))
            .await?;
        Ok(())
    }
}
