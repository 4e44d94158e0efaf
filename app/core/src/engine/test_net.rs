//! An in-memory network for the people, route and consent tests: one
//! plugin per network id, with the address form and end-to-end capability
//! of the network it stands for. (Real plugins are tested against real
//! servers; this exists only to test the engine's policies.)

use super::*;
use koine_api::{
    Capabilities, ConnectionState, Contact, Decision, Direction, E2eScheme, EndToEnd, Event, Hop,
    HopKind, Jid, Label, Message, ProtocolInfo, Request, RequestId, Route, SessionContext,
    SessionFuture, TransportSecurity,
};
use tokio::sync::broadcast as bc;

/// What the fake networks saw: messages sent and requests answered.
#[derive(Default)]
pub(super) struct Log {
    pub sent: Mutex<Vec<(AccountId, String, String)>>,
    pub answers: Mutex<Vec<(AccountId, RequestId, Decision)>>,
    /// Edits, reactions and deletions, as the session received them.
    pub changes: Mutex<Vec<Command>>,
    /// Read markers: (account, conversation, up to).
    pub read: Mutex<Vec<(AccountId, String, String)>>,
}

/// What the test pushes to an account's session.
#[derive(Clone, Debug)]
pub(super) enum Push {
    Message(Message),
    Request(Request),
    Conversation(koine_api::Conversation),
    Profile(koine_api::Profile),
    /// Many messages emitted at once, then waited for.
    Burst(Vec<Message>),
    /// A roster entry, as the network reports it.
    Contact(Contact),
}

pub(super) struct Net {
    pub id: &'static str,
    pub e2e: bool,
    pub phones: bool,
    pub log: Arc<Log>,
    pub push: bc::Sender<(AccountId, Push)>,
}

pub(super) fn route(kind: HopKind, e2e: bool) -> Route {
    let mut end_to_end = EndToEnd::none();
    if e2e {
        end_to_end.scheme = E2eScheme::Signal;
        end_to_end.verification = koine_api::Verification::Unverified;
    }
    Route {
        hops: vec![Hop::new("net.invalid", kind, TransportSecurity::Unknown)],
        end_to_end,
    }
}

impl Protocol for Net {
    fn info(&self) -> ProtocolInfo {
        let mut capabilities = Capabilities::text_only();
        capabilities.read_receipts = true;
        if self.e2e {
            capabilities.e2e = vec![E2eScheme::Signal];
        }
        ProtocolInfo {
            id: ProtocolId::new(self.id),
            name: self.id.into(),
            capabilities,
            account_fields: Vec::new(),
            account_label: Label::new("net-account", "Account"),
            face: Default::default(),
        }
    }

    fn parse_address(&self, input: &str) -> Result<Address, koine_api::AddressError> {
        if self.phones {
            koine_api::PhoneNumber::parse(input).map(Address::Phone)
        } else {
            Jid::parse(input).map(Address::Jid)
        }
    }

    fn run(&self, mut cx: SessionContext) -> SessionFuture {
        let log = self.log.clone();
        let mut push = self.push.subscribe();
        let (e2e, sms) = (self.e2e, self.phones && !self.e2e);
        Box::pin(async move {
            let link = Hop::new(
                "net.invalid",
                HopKind::ClientLink,
                TransportSecurity::Unknown,
            );
            cx.events
                .emit(Event::ConnectionChanged(ConnectionState::Online { link }))
                .await?;
            loop {
                tokio::select! {
                    command = cx.commands.recv() => match command {
                        None => return Ok(()),
                        Some(Command::SendMessage { local_id, conversation, content, .. }) => {
                            lock(&log.sent).push((cx.account.clone(), conversation.to_string(), content.text));
                            let kind = if sms { HopKind::Carrier } else { HopKind::ClientLink };
                            cx.events.emit(Event::SendAcked {
                                remote_id: RemoteId::new(format!("r-{local_id}")),
                                local_id,
                                route: route(kind, e2e),
                            }).await?;
                        }
                        Some(Command::MarkRead { conversation, up_to }) => {
                            lock(&log.read).push((cx.account.clone(), conversation.to_string(), up_to.to_string()));
                        }
                        Some(Command::AnswerRequest { request, decision }) => {
                            lock(&log.answers).push((cx.account.clone(), request.clone(), decision));
                            cx.events.emit(Event::RequestResolved(request)).await?;
                        }
                        Some(other) => if let Some(local_id) = other.local_id().cloned() {
                            lock(&log.changes).push(other);
                            cx.events.emit(Event::SendAcked {
                                remote_id: RemoteId::new(format!("r-{local_id}")),
                                local_id,
                                route: route(HopKind::ClientLink, e2e),
                            }).await?;
                        },
                    },
                    Ok((to, what)) = push.recv() => if to == cx.account {
                        let event = match what {
                            Push::Burst(messages) => {
                                for m in messages {
                                    cx.events.emit(Event::MessageReceived(m)).await?;
                                }
                                cx.events.flush().await?;
                                continue;
                            }
                            Push::Message(m) => Event::MessageReceived(m),
                            Push::Request(r) => Event::RequestReceived(r),
                            Push::Conversation(c) => Event::ConversationUpserted(c),
                            Push::Profile(p) => Event::ProfileLearned(p),
                            Push::Contact(c) => Event::ContactUpdated(c),
                        };
                        cx.events.emit_handled(event).await?;
                    }
                }
            }
        })
    }
}

/// Several networks in one engine.
pub(super) struct Nets {
    /// Kept alive for the profile's lifetime.
    pub _dir: tempfile::TempDir,
    pub log: Arc<Log>,
    pub push: bc::Sender<(AccountId, Push)>,
    pub engine: Engine,
}

impl Nets {
    /// `gk` (phone numbers, end-to-end), `sms` (phone numbers, carrier) and
    /// `chat` (JIDs, transport only).
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let log = Arc::new(Log::default());
        let push = bc::channel(64).0;
        let net = |id, e2e, phones| {
            Arc::new(Net {
                id,
                e2e,
                phones,
                log: log.clone(),
                push: push.clone(),
            })
        };
        let registry = Registry::new()
            .with(net("gk", true, true))
            .with(net("sms", false, true))
            .with(net("chat", false, false));
        let engine = Engine::open(Profile::at(dir.path()), registry, EngineConfig::default())
            .expect("engine");
        Self {
            _dir: dir,
            log,
            push,
            engine,
        }
    }

    pub async fn account(&self, protocol: &str, label: &str) -> AccountId {
        self.engine
            .add_account(&ProtocolId::new(protocol), label, Settings::default(), None)
            .await
            .expect("add account")
            .id
    }

    /// A contact in an account's roster, as a plugin would report it.
    pub fn contact(&self, account: &AccountId, address: &str, name: &str) {
        let contact = Contact {
            address: Address::parse_any(address).expect("address"),
            name: Some(name.into()),
            groups: Vec::new(),
            mutual: true,
        };
        self.engine.add_contact(account, &contact).expect("contact");
    }

    /// Like [`Nets::contact`], with an address of any form.
    pub fn contact_at(&self, account: &AccountId, address: Address, name: &str) {
        let contact = Contact {
            address,
            name: Some(name.into()),
            groups: Vec::new(),
            mutual: true,
        };
        self.engine.add_contact(account, &contact).expect("contact");
    }

    /// Starts an account and waits until it is online.
    pub async fn start(&self, account: &AccountId) {
        let mut rx = self.engine.subscribe();
        self.engine.start(account).expect("start");
        wait(&mut rx, "online", |e| {
            matches!(e, EngineEvent::AccountStatus { account: a, status: AccountStatus::Online { .. } } if a == account)
        })
        .await;
    }
}

pub(super) fn message(from: &str, remote: &str, text: &str, kind: HopKind, e2e: bool) -> Message {
    Message {
        conversation: ConversationKey::new(from),
        remote_id: RemoteId::new(remote),
        local_id: None,
        sender: Address::parse_any(from).expect("address"),
        sender_name: None,
        direction: Direction::Incoming,
        timestamp: Timestamp::now(),
        content: Content::text(text),
        reply_to: None,
        route: route(kind, e2e),
    }
}

pub(super) async fn wait(
    rx: &mut broadcast::Receiver<EngineEvent>,
    what: &str,
    mut pick: impl FnMut(&EngineEvent) -> bool,
) -> EngineEvent {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Ok(e)) if pick(&e) => return e,
            Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(e)) => panic!("event channel closed waiting for {what}: {e}"),
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}
