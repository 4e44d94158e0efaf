//! One running session: login (with the pin prompt), resource binding or
//! resumption, then the loop that serves commands and reads the stream.

use crate::chat;
use crate::config::Config;
use crate::connect::{self, Authenticated, Stream};
use crate::error::XmppError;
use crate::handoff::{Action, Handoff};
use crate::ns;
use crate::roster;
use crate::route::Routes;
use crate::setup::{bind, enable_sm, try_resume};
use crate::sm::SmState;
use crate::store::{self, Pins};
use crate::tls;
use futures::{SinkExt, StreamExt};
use koine_api::{
    Availability, Command, ConnectionState, Direction, Event, EventSink, InputSource, LocalId,
    Notice, Prompt, PromptAnswer, PromptId, PromptKind, SendError, SessionContext,
};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use tokio::sync::mpsc;
use tokio_xmpp::Stanza;
use tokio_xmpp::jid::FullJid;
use tokio_xmpp::minidom::Element;
use tokio_xmpp::parsers::presence::Presence;
use tokio_xmpp::parsers::sm;
use tokio_xmpp::xmlstream::{FallibleStreamElement, ReadError, Timeouts, XmppStreamElement};

/// What an iq we sent is for.
#[derive(Debug, Clone)]
pub(crate) enum PendingIq {
    Roster,
    RosterSet,
    DiscoInfo {
        domain: String,
    },
    Carbons,
    Ready,
    RoomConfigured {
        room: String,
    },
    Mam(crate::mam::Query),
    ServerInfo,
    UploadItems,
    UploadInfo {
        jid: String,
    },
    UploadSlot {
        local_id: LocalId,
        index: usize,
    },
    Profile {
        jid: String,
        form: crate::vcard::Form,
    },
    Omemo(crate::omemo::Pending),
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
    /// Seals the state files that hold message text.
    pub(crate) vault: koine_vault::Vault,
    pub(crate) events: Handoff,
    /// We answered the server's `<r/>` with less than we had received: send
    /// `<a/>` again as the engine catches up.
    pub(crate) ack_owed: bool,
    pub(crate) iqs: HashMap<String, PendingIq>,
    pub(crate) roster: HashMap<String, roster::Item>,
    pub(crate) presences: HashMap<String, HashMap<String, Availability>>,
    pub(crate) acked: HashMap<String, String>,
    /// The OMEMO layer of acknowledged commands that were sealed with it.
    pub(crate) sealed: HashMap<String, koine_api::EndToEnd>,
    pub(crate) acked_log: Option<std::fs::File>,
    pub(crate) conversations: HashSet<String>,
    pub(crate) requests: HashSet<String>,
    /// Contacts whose profile was asked for in this session.
    pub(crate) profiles_asked: HashSet<String>,
    pub(crate) r_outstanding: bool,
    pub(crate) needs_flush: bool,
    pub(crate) inbound_since_save: u32,
    pub(crate) mam: crate::mam::State,
    /// `(conversation, remote id)` of messages reported in this session, and
    /// who wrote each: a message replayed by stream resumption and by the
    /// archive is reported once, and only its author may change it.
    pub(crate) emitted: HashMap<(String, String), Direction>,
    /// Senders' message ids, so that reusing one hides no message.
    pub(crate) sender_ids: crate::ids::SenderIds,
    /// The server answered the ping sent after login (`Online`): messages
    /// come live from now on, none from offline storage.
    pub(crate) ready: bool,
    /// Joined rooms (bare JID) and our nickname in each.
    pub(crate) rooms: HashMap<String, String>,
    /// Rooms that gave our own presence an occupant id (XEP-0421): they
    /// stamp every occupant's stanzas and strip forged ids.
    pub(crate) rooms_with_occupant_ids: HashSet<String>,
    /// `(room, remote id)` of room messages reported in this session, and
    /// who sent each (see `muc::author`).
    pub(crate) room_authors: HashMap<(String, String), String>,
    pub(crate) uploads: crate::upload::Uploads,
    /// Domains asked for disco#info, with the acknowledgements whose route
    /// waits for the answer.
    pub(crate) probing: HashMap<String, Vec<LocalId>>,
    /// The spam-reporting namespace (XEP-0377) the server offers, if any.
    pub(crate) reporting: Option<&'static str>,
    /// OMEMO, once the device is open.
    pub(crate) omemo: Option<crate::omemo::Omemo>,
}

pub(crate) const ACKED_LOG: &str = "acked-local-ids.log";

pub(crate) fn new_id() -> String {
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
        let vault = koine_vault::Vault::open_async(cx.secrets.clone()).await?;
        let saved: SmState = store::load_sealed(&vault, &cx.data_dir, SmState::FILE);
        let sm_offered = features.stream_management.is_some();
        let own = cfg.jid.to_string();
        let mut resumed = None;
        if sm_offered
            && saved.id.is_some()
            && saved.bound_jid.is_some()
            && let Some(previd) = saved.id.clone()
        {
            resumed = match try_resume(&mut stream, &saved, previd).await {
                Ok(r) => r,
                Err(e) => {
                    // Whatever went wrong, the next attempt starts a fresh
                    // stream rather than the same resumption again; the
                    // unacknowledged stanzas stay to be sent on it.
                    let mut fresh = saved;
                    fresh.id = None;
                    let _ = store::save_sealed(&vault, &cx.data_dir, SmState::FILE, &fresh);
                    return Err(e);
                }
            };
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
        let sealed = load_sealed(&cx.data_dir);
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
            vault,
            events: Handoff::new(cx.events.clone()),
            ack_owed: false,
            iqs: HashMap::new(),
            roster: HashMap::new(),
            presences: HashMap::new(),
            acked,
            sealed,
            acked_log,
            conversations: HashSet::new(),
            requests: HashSet::new(),
            profiles_asked: HashSet::new(),
            r_outstanding: false,
            needs_flush: false,
            inbound_since_save: 0,
            mam: crate::mam::State::load(&cx.data_dir),
            emitted: HashMap::new(),
            sender_ids: crate::ids::SenderIds::load(&cx.data_dir),
            ready: false,
            rooms: HashMap::new(),
            rooms_with_occupant_ids: HashSet::new(),
            room_authors: HashMap::new(),
            uploads: crate::upload::Uploads::default(),
            reporting: None,
            probing: HashMap::new(),
            omemo: None,
        };
        session.persist_sm();
        for u in to_resend {
            session.resend(&u.xml, u.local_id).await?;
        }
        session
            .iq_get(None, roster::get_query(), PendingIq::Roster)
            .await?;
        if fresh {
            let caps = crate::caps::presence_element().into_iter().collect();
            session
                .send_stanza(
                    Stanza::Presence(Presence::available().with_payloads(caps)),
                    None,
                )
                .await?;
            let carbons = Element::builder("enable", ns::CARBONS).build();
            session.iq_set(None, carbons, PendingIq::Carbons).await?;
        }
        session.omemo_start(cx.secrets.clone()).await?;
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
                () = Self::omemo_deadline(self.omemo.as_ref()) => self.omemo_expire().await?,
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
        if self.omemo.as_ref().is_some_and(|o| o.signed_pre_key_due()) {
            self.omemo_publish(true, true).await?;
        }
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
            && let Err(e) = store::save_sealed(&self.vault, &self.data_dir, SmState::FILE, sm)
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
                    self.inbound_since_save = self.inbound_since_save.saturating_add(1);
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
            Action::OmemoCommit => self.omemo_commit().await?,
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
}

/// Reads the log of acknowledged local ids: one `local-id<TAB>domain` a line.
pub(crate) fn load_acked(dir: &std::path::Path) -> HashMap<String, String> {
    acked_lines(dir)
        .into_iter()
        .map(|(id, domain, _)| (id, domain))
        .collect()
}

/// The end-to-end layer each acknowledged command was sealed with, from
/// the log's third column: a replay after a restart is acknowledged on the
/// route it took, not on the plaintext one.
pub(crate) fn load_sealed(dir: &std::path::Path) -> HashMap<String, koine_api::EndToEnd> {
    acked_lines(dir)
        .into_iter()
        .filter_map(|(id, _, e2e)| Some((id, serde_json::from_str(&e2e?).ok()?)))
        .collect()
}

/// `local id \t domain [\t end-to-end layer as JSON]` lines.
fn acked_lines(dir: &std::path::Path) -> Vec<(String, String, Option<String>)> {
    std::fs::read_to_string(dir.join(ACKED_LOG))
        .map(|s| {
            s.lines()
                .filter_map(|l| {
                    let mut parts = l.splitn(3, '\t');
                    let id = parts.next()?;
                    let domain = parts.next()?;
                    Some((
                        id.to_owned(),
                        domain.to_owned(),
                        parts.next().map(str::to_owned),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}
