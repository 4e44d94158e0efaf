//! One running session: login (with the pin prompt), resource binding or
//! resumption, then the loop that serves commands and reads the stream.

use crate::chat;
use crate::config::Config;
use crate::connect::{self, Authenticated, Stream};
use crate::error::XmppError;
use crate::handoff::{Action, Handoff};
use crate::ns;
use crate::roster;
use crate::route::{DomainKind, Routes};
use crate::sm::SmState;
use crate::store::{self, Pins};
use crate::tls;
use futures::{SinkExt, StreamExt};
use koine_api::{
    Address, Availability, Command, ConnectionState, Conversation, ConversationKey,
    ConversationKind, Decision, Direction, Event, EventSink, InputSource, LocalId, Notice, Prompt,
    PromptAnswer, PromptId, PromptKind, RemoteId, Request, RequestId, RequestKind, SendError,
    SessionContext, Timestamp,
};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use tokio::sync::mpsc;
use tokio_xmpp::Stanza;
use tokio_xmpp::jid::{BareJid, FullJid, Jid as XJid};
use tokio_xmpp::minidom::Element;
use tokio_xmpp::parsers::bind::{BindQuery, BindResponse};
use tokio_xmpp::parsers::iq::Iq;
use tokio_xmpp::parsers::message::Message;
use tokio_xmpp::parsers::presence::{Presence, Show, Type as PresenceType};
use tokio_xmpp::parsers::sm;
use tokio_xmpp::xmlstream::{FallibleStreamElement, ReadError, Timeouts, XmppStreamElement};

/// What an iq we sent is for.
#[derive(Debug, Clone)]
pub(crate) enum PendingIq {
    Roster,
    RosterSet,
    DiscoInfo { domain: String },
    Carbons,
    Ready,
    RoomConfigured { room: String },
    Mam(crate::mam::Query),
    ServerInfo,
    UploadItems,
    UploadInfo { jid: String },
    UploadSlot { local_id: LocalId, index: usize },
    Ignore,
}

/// A running, bound session.
pub(crate) struct Session {
    pub(crate) cfg: Config,
    pub(crate) stream: Stream,
    #[allow(dead_code)]
    pub(crate) jid: FullJid,
    pub(crate) own: String,
    pub(crate) routes: Routes,
    pub(crate) sm: Option<SmState>,
    pub(crate) data_dir: PathBuf,
    pub(crate) events: Handoff,
    /// We answered the server's `<r/>` with less than we had received: send
    /// `<a/>` again as the engine catches up.
    pub(crate) ack_owed: bool,
    pub(crate) iqs: HashMap<String, PendingIq>,
    pub(crate) roster: HashMap<String, roster::Item>,
    pub(crate) presences: HashMap<String, HashMap<String, Availability>>,
    pub(crate) acked: HashMap<String, String>,
    pub(crate) acked_log: Option<std::fs::File>,
    pub(crate) conversations: HashSet<String>,
    pub(crate) requests: HashSet<String>,
    pub(crate) r_outstanding: bool,
    pub(crate) needs_flush: bool,
    pub(crate) inbound_since_save: u32,
    pub(crate) mam: crate::mam::State,
    /// `(conversation, remote id)` of messages reported in this session: a
    /// message replayed by stream resumption and by the archive is reported once.
    pub(crate) emitted: HashSet<(String, String)>,
    /// Joined rooms (bare JID) and our nickname in each.
    pub(crate) rooms: HashMap<String, String>,
    pub(crate) uploads: crate::upload::Uploads,
    /// Domains asked for disco#info, with the acknowledgements whose route
    /// waits for the answer.
    pub(crate) probing: HashMap<String, Vec<LocalId>>,
    /// The spam-reporting namespace (XEP-0377) the server offers, if any.
    pub(crate) reporting: Option<&'static str>,
}

const ACKED_LOG: &str = "acked-local-ids.log";

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Runs a session to its end.
pub async fn run(mut cx: SessionContext) -> Result<(), XmppError> {
    let cfg = Config::from_settings(&cx.settings)?;
    let password = cx
        .secret
        .as_ref()
        .map(|s| s.expose().to_owned())
        .ok_or_else(|| koine_api::SettingsError::Missing("password".into()))?;
    cx.events
        .emit(Event::ConnectionChanged(ConnectionState::Connecting))
        .await?;
    let authed = loop {
        let pins: Pins = store::load(&cx.data_dir, Pins::FILE);
        let (tls_config, verifier) =
            tls::client_config(cfg.extra_ca_file.as_deref(), pins.for_host(&cfg.domain()))?;
        match connect::authenticate(&cfg, &password, tls_config, &verifier, Timeouts::default())
            .await
        {
            Ok(a) => break a,
            Err(XmppError::Untrusted {
                host,
                reason,
                fingerprint: Some(fp),
            }) => {
                if !ask_pin(&mut cx, &host, &fp, &reason).await? {
                    offline(&cx.events, "certificate").await;
                    return Err(XmppError::Untrusted {
                        host,
                        reason,
                        fingerprint: Some(fp),
                    });
                }
                let mut pins: Pins = store::load(&cx.data_dir, Pins::FILE);
                pins.pins.push((host, fp));
                store::save(&cx.data_dir, Pins::FILE, &pins)?;
            }
            Err(e) => {
                let reason = match &e {
                    XmppError::Auth(_) => "auth",
                    XmppError::Untrusted { .. } | XmppError::NoTls => "certificate",
                    _ => "network",
                };
                offline(&cx.events, reason).await;
                return Err(e);
            }
        }
    };
    let mut session = Session::start(cfg, authed, &cx).await?;
    let result = session.serve(&mut cx.commands).await;
    session.persist_sm();
    if let Err(e) = &result
        && !matches!(e, XmppError::EngineGone)
    {
        let _ = session
            .events
            .emit(Event::ConnectionChanged(ConnectionState::Offline {
                reason: "network".into(),
            }))
            .await;
    }
    session
        .events
        .close(std::time::Duration::from_secs(2))
        .await;
    result
}

async fn offline(events: &EventSink, reason: &str) {
    let _ = events
        .emit(Event::ConnectionChanged(ConnectionState::Offline {
            reason: reason.into(),
        }))
        .await;
}

/// Raises a pin prompt and waits for the answer. Durable commands that arrive
/// meanwhile are refused as offline (the outbox keeps them).
async fn ask_pin(
    cx: &mut SessionContext,
    host: &str,
    fingerprint: &str,
    reason: &str,
) -> Result<bool, XmppError> {
    cx.events
        .emit(Event::Notice(Notice::CertificateRejected {
            host: host.to_owned(),
            reason: reason.to_owned(),
        }))
        .await?;
    let id = PromptId::new(format!("pin:{host}:{fingerprint}"));
    cx.events
        .emit(Event::PromptRaised(Prompt {
            id: id.clone(),
            kind: PromptKind::PinCertificate {
                host: host.to_owned(),
                fingerprint: fingerprint.to_owned(),
                reason: reason.to_owned(),
            },
        }))
        .await?;
    while let Some(cmd) = cx.commands.recv().await {
        match cmd {
            Command::AnswerPrompt { prompt, answer } if prompt == id => {
                return Ok(answer == PromptAnswer::Confirm);
            }
            other => {
                if let Some(local_id) = other.local_id() {
                    cx.events
                        .emit(Event::SendFailed {
                            local_id: local_id.clone(),
                            error: SendError::Offline,
                        })
                        .await?;
                }
            }
        }
    }
    Err(XmppError::EngineGone)
}

impl Session {
    async fn start(
        cfg: Config,
        authed: Authenticated,
        cx: &SessionContext,
    ) -> Result<Self, XmppError> {
        let Authenticated {
            mut stream,
            features,
            tls,
            pinned,
        } = authed;
        let saved: SmState = store::load(&cx.data_dir, SmState::FILE);
        let sm_offered = features.stream_management.is_some();
        let own = cfg.jid.to_string();
        let mut resumed = None;
        if sm_offered
            && saved.id.is_some()
            && saved.bound_jid.is_some()
            && let Some(previd) = saved.id.clone()
        {
            resumed = try_resume(&mut stream, &saved, previd).await?;
        }
        let (jid, sm, to_resend, fresh) = match resumed {
            Some((h, jid)) => {
                let mut state = saved;
                let rest = state.resumed(h);
                (jid, Some(state), rest, false)
            }
            None => {
                let jid = bind(&mut stream, cfg.resource.clone()).await?;
                let mut state = saved;
                let rest = if sm_offered {
                    let id = enable_sm(&mut stream).await?;
                    state.restart(id, jid.to_string())
                } else {
                    state.restart(None, jid.to_string())
                };
                (jid, sm_offered.then_some(state), rest, true)
            }
        };
        let acked = load_acked(&cx.data_dir);
        let acked_log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(cx.data_dir.join(ACKED_LOG))
            .ok();
        let mut session = Self {
            routes: Routes::new(cfg.domain(), tls, pinned),
            cfg,
            stream,
            jid,
            own,
            sm,
            data_dir: cx.data_dir.clone(),
            events: Handoff::new(cx.events.clone()),
            ack_owed: false,
            iqs: HashMap::new(),
            roster: HashMap::new(),
            presences: HashMap::new(),
            acked,
            acked_log,
            conversations: HashSet::new(),
            requests: HashSet::new(),
            r_outstanding: false,
            needs_flush: false,
            inbound_since_save: 0,
            mam: crate::mam::State::load(&cx.data_dir),
            emitted: HashSet::new(),
            rooms: HashMap::new(),
            uploads: crate::upload::Uploads::default(),
            reporting: None,
            probing: HashMap::new(),
        };
        session.persist_sm();
        for u in to_resend {
            session.resend(&u.xml, u.local_id).await?;
        }
        session
            .iq_get(None, roster::get_query(), PendingIq::Roster)
            .await?;
        if fresh {
            session
                .send_stanza(Stanza::Presence(Presence::available()), None)
                .await?;
            let carbons = Element::builder("enable", ns::CARBONS).build();
            session.iq_set(None, carbons, PendingIq::Carbons).await?;
        }
        session.ask_server_features().await?;
        // The server handles a session's stanzas in order: once this ping is
        // answered, our presence is in place and messages reach us live (and
        // the server's features are known).
        let ping = Element::builder("ping", "urn:xmpp:ping").build();
        session.iq_get(None, ping, PendingIq::Ready).await?;
        session.catch_up().await?;
        session.flush().await?;
        Ok(session)
    }

    /// Serves until the command channel closes (Ok) or the stream breaks.
    async fn serve(&mut self, commands: &mut mpsc::Receiver<Command>) -> Result<(), XmppError> {
        loop {
            if let Some(sm) = &self.sm
                && !sm.unacked.is_empty()
                && !self.r_outstanding
            {
                self.stream
                    .feed(&XmppStreamElement::SM(sm::Nonza::Req(sm::R)))
                    .await?;
                self.r_outstanding = true;
                self.needs_flush = true;
            }
            self.flush().await?;
            tokio::select! {
                item = self.stream.next() => {
                    match item {
                        Some(Ok(FallibleStreamElement::Ok(el))) => self.on_element(el).await?,
                        Some(Ok(FallibleStreamElement::Err(e))) => {
                            if matches!(e, tokio_xmpp::xmlstream::StreamElementError::InvalidStanza { .. }) {
                                self.count_inbound().await?;
                            }
                            self.notice_malformed(e.to_string()).await?;
                        }
                        Some(Err(ReadError::SoftTimeout)) => self.keepalive().await?,
                        Some(Err(ReadError::ParseError(e))) => {
                            return Err(XmppError::Protocol(e.to_string()));
                        }
                        Some(Err(ReadError::HardError(e))) => return Err(e.into()),
                        Some(Err(ReadError::StreamFooterReceived)) | None => {
                            return Err(XmppError::Network("server closed the stream".into()));
                        }
                    }
                }
                Some(done) = self.uploads.next_done() => self.on_put_done(done).await?,
                stored = self.events.changed() => {
                    stored?;
                    for action in self.events.ready() {
                        self.apply(action).await?;
                    }
                }
                cmd = commands.recv() => {
                    match cmd {
                        // The engine stopped the account: keep the server's
                        // session hibernating so the next start resumes it.
                        None => return Ok(()),
                        Some(cmd) => self.on_command(cmd).await?,
                    }
                }
            }
        }
    }

    pub(crate) async fn flush(&mut self) -> Result<(), XmppError> {
        if self.needs_flush {
            SinkExt::<&XmppStreamElement>::flush(&mut self.stream).await?;
            self.needs_flush = false;
        }
        Ok(())
    }

    async fn keepalive(&mut self) -> Result<(), XmppError> {
        if self.sm.is_some() {
            self.stream
                .feed(&XmppStreamElement::SM(sm::Nonza::Req(sm::R)))
                .await?;
            self.r_outstanding = true;
        } else {
            let ping = Element::builder("ping", "urn:xmpp:ping").build();
            self.iq_get(None, ping, PendingIq::Ignore).await?;
        }
        self.needs_flush = true;
        Ok(())
    }

    pub(crate) fn persist_sm(&mut self) {
        if let Some(sm) = &self.sm
            && let Err(e) = store::save(&self.data_dir, SmState::FILE, sm)
        {
            tracing::warn!(error = %e, "could not save stream-management state");
        }
        self.mam.save(&self.data_dir);
        self.inbound_since_save = 0;
    }

    /// One more inbound stanza read: it counts as handled once the events
    /// reported for it so far are stored.
    async fn count_inbound(&mut self) -> Result<(), XmppError> {
        let Some(sm) = &mut self.sm else {
            return Ok(());
        };
        sm.received = sm.received.wrapping_add(1);
        let n = sm.received;
        match self.events.after_stored(Action::Inbound(n)) {
            Some(a) => self.apply(a).await,
            None => Ok(()),
        }
    }

    /// Runs what waited for the engine to store the events before it.
    pub(crate) async fn apply(&mut self, action: Action) -> Result<(), XmppError> {
        match action {
            Action::Inbound(n) => {
                if let Some(sm) = &mut self.sm {
                    sm.inbound = n;
                    self.inbound_since_save += 1;
                    if self.ack_owed {
                        self.ack_owed = sm.inbound != sm.received;
                        self.stream
                            .feed(&XmppStreamElement::SM(sm::Nonza::Ack(sm::A::new(n))))
                            .await?;
                        self.needs_flush = true;
                    }
                }
            }
            Action::ArchiveMarker(id) => self.mam.advance(&id),
            Action::Receipt(to, id) => {
                if self.cfg.send_receipts {
                    let r = chat::outgoing_receipt(to, &id);
                    self.send_stanza(Stanza::Message(r), None).await?;
                }
            }
        }
        Ok(())
    }

    pub(crate) async fn notice_malformed(&self, detail: String) -> Result<(), XmppError> {
        tracing::debug!(%detail, "malformed input");
        self.events
            .emit(Event::Notice(Notice::MalformedInput {
                source: InputSource::Server,
                detail,
            }))
            .await?;
        Ok(())
    }

    /// Sends a stanza, tracking it for stream management.
    pub(crate) async fn send_stanza(
        &mut self,
        stanza: Stanza,
        local_id: Option<LocalId>,
    ) -> Result<(), XmppError> {
        let to_domain = match &stanza {
            Stanza::Message(m) => m.to.as_ref().map(|t| t.domain().to_string()),
            _ => None,
        };
        if let Some(sm) = &mut self.sm {
            let el: Element =
                xso::transform(&stanza).map_err(|e| XmppError::Protocol(e.to_string()))?;
            sm.record_sent(String::from(&el), local_id.clone(), to_domain.clone());
        }
        self.stream.feed(&XmppStreamElement::Stanza(stanza)).await?;
        self.needs_flush = true;
        if self.sm.is_none() {
            // Without stream management the write is all the server confirms.
            self.flush().await?;
            if let Some(id) = local_id {
                self.acknowledged(id, to_domain).await?;
            }
        }
        Ok(())
    }

    async fn resend(&mut self, xml: &str, local_id: Option<LocalId>) -> Result<(), XmppError> {
        let Some(el) = ns::element(xml) else {
            return Ok(());
        };
        match xso::transform::<Stanza, Element>(&el) {
            Ok(stanza) => self.send_stanza(stanza, local_id).await,
            Err(e) => {
                tracing::warn!(error = %e, "dropping an unreadable queued stanza");
                Ok(())
            }
        }
    }

    /// Whether a durable command is sent and waits for the server's ack.
    pub(crate) fn is_unacked(&self, local_id: &LocalId) -> bool {
        self.sm.as_ref().is_some_and(|s| {
            s.unacked
                .iter()
                .any(|u| u.local_id.as_ref() == Some(local_id))
        })
    }

    /// A durable command reached the server.
    pub(crate) async fn acknowledged(
        &mut self,
        local_id: LocalId,
        to_domain: Option<String>,
    ) -> Result<(), XmppError> {
        let domain = to_domain.unwrap_or_else(|| self.cfg.domain());
        if self
            .acked
            .insert(local_id.as_str().to_owned(), domain.clone())
            .is_none()
            && let Some(f) = &mut self.acked_log
        {
            let _ = writeln!(f, "{}\t{domain}", local_id.as_str());
        }
        if let Some(held) = self.probing.get_mut(&domain) {
            // The route waits for what the domain says it is.
            held.push(local_id);
            return Ok(());
        }
        self.report_ack(local_id, &domain).await
    }

    /// Reports `SendAcked` for a command sent to `domain`.
    pub(crate) async fn report_ack(
        &mut self,
        local_id: LocalId,
        domain: &str,
    ) -> Result<(), XmppError> {
        let mut route = self.routes.to_domain(domain);
        if let Some(hops) = self.uploads.media.remove(local_id.as_str()) {
            route.hops.extend(hops);
        }
        self.events
            .emit(Event::SendAcked {
                remote_id: RemoteId::new(local_id.as_str()),
                local_id,
                route,
            })
            .await?;
        Ok(())
    }

    pub(crate) async fn iq_get(
        &mut self,
        to: Option<XJid>,
        payload: Element,
        pending: PendingIq,
    ) -> Result<String, XmppError> {
        let id = new_id();
        let iq = Iq::Get {
            from: None,
            to,
            id: id.clone(),
            payload,
        };
        self.iqs.insert(id.clone(), pending);
        self.send_stanza(Stanza::Iq(iq), None).await?;
        Ok(id)
    }

    pub(crate) async fn iq_set(
        &mut self,
        to: Option<XJid>,
        payload: Element,
        pending: PendingIq,
    ) -> Result<String, XmppError> {
        let id = new_id();
        let iq = Iq::Set {
            from: None,
            to,
            id: id.clone(),
            payload,
        };
        self.iqs.insert(id.clone(), pending);
        self.send_stanza(Stanza::Iq(iq), None).await?;
        Ok(id)
    }

    async fn on_element(&mut self, el: XmppStreamElement) -> Result<(), XmppError> {
        match el {
            XmppStreamElement::Stanza(stanza) => {
                match stanza {
                    Stanza::Message(m) => self.on_message(m).await?,
                    Stanza::Presence(p) => self.on_presence(p).await?,
                    Stanza::Iq(iq) => self.on_iq(iq).await?,
                }
                self.count_inbound().await?;
                if self.inbound_since_save >= 50 {
                    self.persist_sm();
                }
            }
            XmppStreamElement::SM(sm::Nonza::Req(_)) => {
                self.persist_sm();
                let h = self.sm.as_ref().map_or(0, |s| s.inbound);
                self.ack_owed = self.sm.as_ref().is_some_and(|s| s.inbound != s.received);
                self.stream
                    .feed(&XmppStreamElement::SM(sm::Nonza::Ack(sm::A::new(h))))
                    .await?;
                self.needs_flush = true;
            }
            XmppStreamElement::SM(sm::Nonza::Ack(a)) => {
                self.r_outstanding = false;
                let done = self
                    .sm
                    .as_mut()
                    .map(|s| s.acknowledge(a.h))
                    .unwrap_or_default();
                for u in done {
                    if let Some(id) = u.local_id {
                        self.acknowledged(id, u.to_domain).await?;
                    }
                }
                self.persist_sm();
            }
            XmppStreamElement::StreamError(e) => {
                return Err(XmppError::Network(format!("stream error: {e:?}")));
            }
            other => {
                self.notice_malformed(format!("unexpected stream element {other:?}"))
                    .await?;
            }
        }
        Ok(())
    }

    fn peer_route(&self, domain: &str) -> koine_api::Route {
        self.routes.to_domain(domain)
    }

    async fn on_message(&mut self, m: Message) -> Result<(), XmppError> {
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
        let routes = self.routes.clone();
        let cx = chat::Context {
            own: &self.own,
            routes: &routes,
            fallback_time: None,
        };
        let reading = match chat::read(&inner, direction, &cx) {
            Ok(r) => r,
            Err(e) => return self.notice_peer(e).await,
        };
        if let Some((conversation, remote_id, stanza_id)) = &reading.stored {
            self.ensure_conversation(conversation).await?;
            if let Some(sid) = stanza_id {
                self.mam.seen(remote_id, sid);
            }
        }
        for e in reading.events {
            if let Event::MessageReceived(m) = &e
                && !self.first_time(m)
            {
                continue;
            }
            self.emit_inbound(e).await?;
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
        self.emitted.insert((
            m.conversation.as_str().to_owned(),
            m.remote_id.as_str().to_owned(),
        ))
    }

    async fn notice_peer(&self, detail: String) -> Result<(), XmppError> {
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
                route: self.peer_route(peer.domain()),
                peer: Some(Address::Jid(peer)),
                read_only: false,
            }))
            .await?;
        Ok(())
    }

    async fn on_presence(&mut self, p: Presence) -> Result<(), XmppError> {
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

    async fn subscription_answer(
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

    async fn on_iq(&mut self, iq: Iq) -> Result<(), XmppError> {
        let from_ok = |from: Option<&XJid>, own: &str| {
            from.is_none_or(|f| f.as_str() == own || f.to_bare().as_str() == own)
        };
        match iq {
            Iq::Result {
                id, from, payload, ..
            } => {
                let Some(pending) = self.iqs.remove(&id) else {
                    return Ok(());
                };
                self.on_iq_result(pending, from, payload).await?;
            }
            Iq::Error {
                id, from, error, ..
            } => {
                let Some(pending) = self.iqs.remove(&id) else {
                    return Ok(());
                };
                tracing::debug!(?pending, ?from, ?error, "iq error");
                match pending {
                    PendingIq::Mam(q) => self.mam_failed(q).await?,
                    PendingIq::DiscoInfo { domain } => self.on_domain_info(domain, None).await?,
                    PendingIq::UploadItems => self.on_upload_items(None).await?,
                    PendingIq::UploadInfo { jid } => self.on_upload_info(jid, None).await?,
                    PendingIq::UploadSlot { local_id, index } => {
                        use tokio_xmpp::parsers::stanza_error::DefinedCondition;
                        let too_large = error.defined_condition == DefinedCondition::NotAcceptable;
                        self.on_upload_slot(local_id, index, None, too_large)
                            .await?
                    }
                    PendingIq::RoomConfigured { room } => {
                        self.report_room(&ConversationKey::new(room), false).await?
                    }
                    // A server without ping still handled our presence first.
                    PendingIq::Ready => self.on_iq_result(PendingIq::Ready, None, None).await?,
                    _ => {}
                }
            }
            Iq::Set {
                id, from, payload, ..
            } => {
                if payload.is("query", ns::ROSTER) && from_ok(from.as_ref(), &self.own) {
                    self.on_roster_push(&payload).await?;
                    let to = from.unwrap_or_else(|| self.cfg.jid.clone().into());
                    let reply = Iq::empty_result(to, id);
                    self.send_stanza(Stanza::Iq(reply), None).await?;
                } else {
                    self.reply_unsupported(from, id).await?;
                }
            }
            Iq::Get {
                id, from, payload, ..
            } => {
                if payload.is("ping", "urn:xmpp:ping") {
                    let to = from.unwrap_or_else(|| self.cfg.jid.clone().into());
                    self.send_stanza(Stanza::Iq(Iq::empty_result(to, id)), None)
                        .await?;
                } else if payload.is("query", ns::DISCO_INFO) {
                    let Some(to) = from else { return Ok(()) };
                    let features = [
                        ns::DISCO_INFO,
                        ns::RECEIPTS,
                        ns::MARKERS,
                        ns::CHATSTATES,
                        ns::CORRECT,
                        "urn:xmpp:ping",
                    ];
                    let mut xml = format!(
                        "<query xmlns='{}'><identity category='client' type='pc' name='Koine'/>",
                        ns::DISCO_INFO
                    );
                    for f in features {
                        xml.push_str(&format!("<feature var='{f}'/>"));
                    }
                    xml.push_str("</query>");
                    if let Some(q) = ns::element(&xml) {
                        let reply = Iq::Result {
                            from: None,
                            to: Some(to),
                            id,
                            payload: Some(q),
                        };
                        self.send_stanza(Stanza::Iq(reply), None).await?;
                    }
                } else {
                    self.reply_unsupported(from, id).await?;
                }
            }
        }
        Ok(())
    }

    async fn reply_unsupported(&mut self, from: Option<XJid>, id: String) -> Result<(), XmppError> {
        use tokio_xmpp::parsers::stanza_error::{DefinedCondition, ErrorType, StanzaError};
        let Some(to) = from else { return Ok(()) };
        let err = StanzaError::new(
            ErrorType::Cancel,
            DefinedCondition::ServiceUnavailable,
            "en",
            "",
        );
        let reply = Iq::Error {
            from: None,
            to: Some(to),
            id,
            error: err,
            payload: None,
        };
        self.send_stanza(Stanza::Iq(reply), None).await
    }

    async fn on_iq_result(
        &mut self,
        pending: PendingIq,
        from: Option<XJid>,
        payload: Option<Element>,
    ) -> Result<(), XmppError> {
        match pending {
            PendingIq::Roster => {
                if from
                    .as_ref()
                    .is_some_and(|f| f.to_bare().as_str() != self.own)
                {
                    return self
                        .notice_malformed("roster result from a stranger".into())
                        .await;
                }
                let Some(q) = payload.filter(|p| p.is("query", ns::ROSTER)) else {
                    return Ok(());
                };
                let (items, bad) = roster::parse_query(&q);
                for b in bad {
                    self.notice_malformed(b).await?;
                }
                self.roster = items
                    .iter()
                    .map(|i| (i.jid.as_str().to_owned(), i.clone()))
                    .collect();
                self.events
                    .emit(Event::RosterReplaced(
                        items.iter().map(roster::Item::contact).collect(),
                    ))
                    .await?;
            }
            PendingIq::DiscoInfo { domain } => self.on_domain_info(domain, payload).await?,
            PendingIq::Mam(q) => self.mam_done(q, payload).await?,
            PendingIq::ServerInfo => self.on_server_info(payload),
            PendingIq::UploadItems => self.on_upload_items(payload).await?,
            PendingIq::UploadInfo { jid } => self.on_upload_info(jid, payload).await?,
            PendingIq::UploadSlot { local_id, index } => {
                self.on_upload_slot(local_id, index, payload, false).await?
            }
            PendingIq::RoomConfigured { room } => {
                self.report_room(&ConversationKey::new(room), false).await?;
            }
            PendingIq::Ready => {
                self.events
                    .emit(Event::ConnectionChanged(ConnectionState::Online {
                        link: self.routes.link(),
                    }))
                    .await?;
            }
            PendingIq::RosterSet | PendingIq::Carbons | PendingIq::Ignore => {}
        }
        Ok(())
    }

    async fn on_roster_push(&mut self, q: &Element) -> Result<(), XmppError> {
        let (items, bad) = roster::parse_query(q);
        for b in bad {
            self.notice_malformed(b).await?;
        }
        for item in items {
            if item.subscription == "remove" {
                self.roster.remove(item.jid.as_str());
                self.events
                    .emit(Event::ContactRemoved(Address::Jid(item.jid.clone())))
                    .await?;
            } else {
                self.roster
                    .insert(item.jid.as_str().to_owned(), item.clone());
                self.events
                    .emit(Event::ContactUpdated(item.contact()))
                    .await?;
            }
        }
        Ok(())
    }

    async fn on_command(&mut self, cmd: Command) -> Result<(), XmppError> {
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
            Command::SetVerified { .. } => {
                self.events
                    .emit(Event::Notice(Notice::Unsupported {
                        feature: "omemo".into(),
                    }))
                    .await?;
            }
            Command::AnswerPrompt { .. } => {}
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
        if !self.rooms.contains_key(conversation.as_str()) {
            self.ensure_conversation(conversation).await?;
        }
        let m = build(&to, &local_id);
        self.send_stanza(Stanza::Message(m), Some(local_id)).await
    }
}

/// Reads the log of acknowledged local ids: one `local-id<TAB>domain` a line.
fn load_acked(dir: &std::path::Path) -> HashMap<String, String> {
    std::fs::read_to_string(dir.join(ACKED_LOG))
        .map(|s| {
            s.lines()
                .filter_map(|l| l.split_once('\t'))
                .map(|(id, domain)| (id.to_owned(), domain.to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

async fn next_nonza(stream: &mut Stream) -> Result<XmppStreamElement, XmppError> {
    loop {
        match stream.next().await {
            Some(Ok(FallibleStreamElement::Ok(el))) => return Ok(el),
            Some(Ok(FallibleStreamElement::Err(e))) => {
                return Err(XmppError::Protocol(e.to_string()));
            }
            Some(Err(ReadError::SoftTimeout)) => continue,
            Some(Err(ReadError::HardError(e))) => return Err(e.into()),
            Some(Err(ReadError::ParseError(e))) => return Err(XmppError::Protocol(e.to_string())),
            Some(Err(ReadError::StreamFooterReceived)) | None => {
                return Err(XmppError::Network("closed during setup".into()));
            }
        }
    }
}

async fn bind(stream: &mut Stream, resource: Option<String>) -> Result<FullJid, XmppError> {
    let id = new_id();
    let iq = Iq::from_set(id.clone(), BindQuery::new(resource));
    stream
        .send(&XmppStreamElement::Stanza(Stanza::Iq(iq)))
        .await?;
    loop {
        if let XmppStreamElement::Stanza(Stanza::Iq(iq)) = next_nonza(stream).await? {
            if iq.id() != id {
                continue;
            }
            return match iq {
                Iq::Result {
                    payload: Some(p), ..
                } => BindResponse::try_from(p)
                    .map(|r| r.jid)
                    .map_err(|e| XmppError::Protocol(format!("bind: {e}"))),
                other => Err(XmppError::Protocol(format!("bind refused: {other:?}"))),
            };
        }
    }
}

async fn enable_sm(stream: &mut Stream) -> Result<Option<String>, XmppError> {
    stream
        .send(&XmppStreamElement::SM(sm::Nonza::Enable(
            sm::Enable::new().with_resume(),
        )))
        .await?;
    loop {
        match next_nonza(stream).await? {
            XmppStreamElement::SM(sm::Nonza::Enabled(e)) => {
                return Ok(e.resume.then(|| e.id.map(|i| i.0)).flatten());
            }
            XmppStreamElement::SM(sm::Nonza::Failed(_)) => return Ok(None),
            _ => continue,
        }
    }
}

/// Tries to resume; `Some((h, jid))` on success.
async fn try_resume(
    stream: &mut Stream,
    saved: &SmState,
    previd: String,
) -> Result<Option<(u32, FullJid)>, XmppError> {
    let Some(jid) = saved
        .bound_jid
        .as_deref()
        .and_then(|j| FullJid::new(j).ok())
    else {
        return Ok(None);
    };
    stream
        .send(&XmppStreamElement::SM(sm::Nonza::Resume(sm::Resume {
            h: saved.inbound,
            previd: sm::StreamId(previd),
        })))
        .await?;
    loop {
        match next_nonza(stream).await? {
            XmppStreamElement::SM(sm::Nonza::Resumed(r)) => return Ok(Some((r.h, jid))),
            XmppStreamElement::SM(sm::Nonza::Failed(_)) => return Ok(None),
            _ => continue,
        }
    }
}
