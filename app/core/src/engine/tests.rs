//! Engine tests with an in-memory network. (Real plugins run the conformance
//! suite against real servers; this fake exists only to test the engine.)

use super::*;
use koine_api::{
    AccountField, Capabilities, ConnectionState, Contact, DeliveryState, Direction, EndToEnd,
    Event, Hop, HopKind, Jid, Label, Message, ProtocolInfo, Route, SessionContext, SessionError,
    SessionFuture, TransportSecurity,
};
use std::collections::BTreeSet;
use tokio::sync::broadcast as bc;

/// The fake network: what reached "the wire", de-duplicated by local id the
/// way a server with idempotent message ids does.
#[derive(Default)]
struct Wire {
    delivered: Mutex<Vec<(LocalId, String)>>,
    handed: Mutex<Vec<LocalId>>,
    /// Incoming messages the server keeps until the client acknowledges
    /// them (after the engine handled them), and sends again to each new
    /// session, like stream management or a sync token.
    unacked: Mutex<Vec<(String, Message)>>,
    /// Remote ids the client acknowledged, in order.
    acked: Mutex<Vec<RemoteId>>,
}

struct MemNet {
    wire: Arc<Wire>,
    incoming: bc::Sender<(String, Message)>,
}

fn route() -> Route {
    Route {
        hops: vec![Hop::new(
            "mem.invalid",
            HopKind::ClientLink,
            TransportSecurity::Plaintext,
        )],
        end_to_end: EndToEnd::none(),
    }
}

impl Protocol for MemNet {
    fn info(&self) -> ProtocolInfo {
        ProtocolInfo {
            id: ProtocolId::new("mem"),
            name: "Mem".into(),
            capabilities: Capabilities::text_only(),
            account_fields: vec![
                AccountField {
                    key: "mode".into(),
                    label: Label::new("mem-mode", "Mode"),
                    kind: FieldKind::Text,
                    required: false,
                    default: Some("normal".into()),
                },
                AccountField {
                    key: "password".into(),
                    label: Label::new("mem-password", "Password"),
                    kind: FieldKind::Secret,
                    required: true,
                    default: None,
                },
            ],
            account_label: Label::new("mem-account", "Account"),
            face: Default::default(),
        }
    }

    fn parse_address(&self, input: &str) -> Result<Address, koine_api::AddressError> {
        Jid::parse(input).map(Address::Jid)
    }

    fn run(&self, mut cx: SessionContext) -> SessionFuture {
        let wire = self.wire.clone();
        let mut incoming = self.incoming.subscribe();
        Box::pin(async move {
            let mode = cx.settings.get("mode").unwrap_or("normal").to_owned();
            if mode == "panic" {
                panic!("fake plugin told to panic");
            }
            if cx.secret.as_ref().map(Secret::expose) != Some("right password") {
                return Err(SessionError::AuthFailed);
            }
            if mode == "pair-first" {
                // Like KDE Connect: the user must confirm the pairing
                // before the session can go online.
                cx.events
                    .emit(Event::PromptRaised(koine_api::Prompt {
                        id: koine_api::PromptId::new("pair"),
                        kind: koine_api::PromptKind::PairDevice {
                            device: "phone".into(),
                            key: "1234".into(),
                        },
                    }))
                    .await?;
                match cx.commands.recv().await {
                    Some(Command::AnswerPrompt {
                        answer: koine_api::PromptAnswer::Confirm,
                        ..
                    }) => {}
                    Some(_) => return Err(SessionError::AuthFailed),
                    None => return Ok(()),
                }
            }
            let link = route().hops[0].clone();
            cx.events
                .emit(Event::ConnectionChanged(ConnectionState::Online { link }))
                .await?;
            // What the server still holds for this account comes again.
            let held: Vec<Message> = lock(&wire.unacked)
                .iter()
                .filter(|(to, _)| to == cx.account.as_str())
                .map(|(_, m)| m.clone())
                .collect();
            for message in held {
                deliver(&wire, &cx.events, cx.account.as_str(), message).await?;
            }
            loop {
                tokio::select! {
                    command = cx.commands.recv() => {
                        let Some(command) = command else { return Ok(()) };
                        let Command::SendMessage { local_id, content, .. } = command else { continue };
                        lock(&wire.handed).push(local_id.clone());
                        if mode == "stall" {
                            continue;
                        }
                        {
                            let mut delivered = lock(&wire.delivered);
                            if !delivered.iter().any(|(id, _)| id == &local_id) {
                                delivered.push((local_id.clone(), content.text));
                            }
                        }
                        if mode == "deliver-no-ack" {
                            continue;
                        }
                        if mode == "hand-over" {
                            // Like an SMS relay whose phone has not confirmed.
                            cx.events.emit(Event::SendHanded { local_id: local_id.clone() }).await?;
                            continue;
                        }
                        cx.events.emit(Event::SendAcked {
                            local_id: local_id.clone(),
                            remote_id: RemoteId::new(format!("srv-{local_id}")),
                            route: route(),
                        }).await?;
                    }
                    Ok((to, message)) = incoming.recv() => {
                        if to == cx.account.as_str() {
                            lock(&wire.unacked).push((to.clone(), message.clone()));
                            deliver(&wire, &cx.events, &to, message).await?;
                        }
                    }
                }
            }
        })
    }
}

/// Reports an incoming message and acknowledges it to the server once the
/// engine has handled it, as real plugins do.
async fn deliver(
    wire: &Wire,
    events: &koine_api::EventSink,
    to: &str,
    message: Message,
) -> Result<(), SessionError> {
    let remote_id = message.remote_id.clone();
    events.emit_handled(Event::MessageReceived(message)).await?;
    lock(&wire.unacked).retain(|(t, m)| !(t == to && m.remote_id == remote_id));
    lock(&wire.acked).push(remote_id);
    Ok(())
}

fn incoming_from(from: &str, remote: &str, text: &str) -> Message {
    Message {
        conversation: ConversationKey::new(from),
        remote_id: RemoteId::new(remote),
        local_id: None,
        sender: Address::Jid(Jid::parse(from).expect("jid")),
        sender_name: None,
        direction: Direction::Incoming,
        timestamp: Timestamp::now(),
        content: Content::text(text),
        reply_to: None,
        route: route(),
    }
}

struct Fixture {
    dir: tempfile::TempDir,
    wire: Arc<Wire>,
    incoming: bc::Sender<(String, Message)>,
}

impl Fixture {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("tmp"),
            wire: Arc::new(Wire::default()),
            incoming: bc::channel(64).0,
        }
    }

    fn engine(&self) -> Engine {
        let net = MemNet {
            wire: self.wire.clone(),
            incoming: self.incoming.clone(),
        };
        let config = EngineConfig {
            backoff_initial: Duration::from_millis(50),
            backoff_max: Duration::from_millis(200),
            channel_capacity: 64,
        };
        Engine::open(
            Profile::at(self.dir.path()),
            Registry::new().with(Arc::new(net)),
            config,
        )
        .expect("engine")
    }

    fn delivered(&self) -> Vec<(LocalId, String)> {
        lock(&self.wire.delivered).clone()
    }
}

async fn add(engine: &Engine, label: &str, mode: &str, password: &str) -> AccountId {
    let mut settings = Settings::default();
    settings.set("mode", mode);
    engine
        .add_account(
            &ProtocolId::new("mem"),
            label,
            settings,
            Some(Secret::new(password)),
        )
        .await
        .expect("add account")
        .id
}

async fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn wait_event(
    rx: &mut broadcast::Receiver<EngineEvent>,
    what: &str,
    mut pick: impl FnMut(&EngineEvent) -> bool,
) -> EngineEvent {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Ok(e)) if pick(&e) => return e,
            Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(e)) => panic!("event channel closed waiting for {what}: {e}"),
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}

fn is_online(e: &EngineEvent, id: &AccountId) -> bool {
    matches!(e, EngineEvent::AccountStatus { account, status: AccountStatus::Online { .. } } if account == id)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Kill between store and send: the message is committed, the plugin never
/// got it (its session stalls), the process dies. The restarted engine sends
/// it exactly once.
#[test]
fn a_message_queued_before_a_crash_is_sent_exactly_once_after_restart() {
    let fx = Fixture::new();
    let rt = runtime();
    let (account, local_id2) = rt.block_on(async {
        let engine = fx.engine();
        let account = add(&engine, "me@mem.invalid", "stall", "right password").await;
        let mut events = engine.subscribe();
        engine.start(&account).expect("start");
        wait_event(&mut events, "online", |e| is_online(e, &account)).await;
        let (local_id, _) = engine
            .send(
                &account,
                &ConversationKey::new("bob@mem.invalid"),
                Content::text("survive me"),
                None,
            )
            .await
            .expect("send");
        wait_until("the plugin to hold the command", || {
            !lock(&fx.wire.handed).is_empty()
        })
        .await;
        (account, local_id)
    });
    rt.shutdown_background();
    assert!(
        fx.delivered().is_empty(),
        "nothing reached the wire before the crash"
    );

    let rt = runtime();
    rt.block_on(async {
        let engine = fx.engine();
        assert_eq!(engine.outbox_len().expect("outbox"), 1, "the outbox survived the crash");
        set_mode(&engine, &account, "normal");
        let mut events = engine.subscribe();
        engine.start(&account).expect("restart");
        wait_event(&mut events, "the ack", |e| {
            matches!(e, EngineEvent::MessageUpdated { message, .. }
                if message.local_id.as_ref() == Some(&local_id2) && message.state == DeliveryState::Sent)
        })
        .await;
        assert_eq!(engine.outbox_len().expect("outbox"), 0);
        // Give any stray duplicate time to show up.
        tokio::time::sleep(Duration::from_millis(200)).await;
        engine.shutdown().await;
    });
    let delivered = fx.delivered();
    assert_eq!(
        delivered,
        vec![(local_id2, "survive me".to_owned())],
        "sent exactly once"
    );
}

fn set_mode(engine: &Engine, account: &AccountId, mode: &str) {
    engine.with_store(|s| {
        s.set_account_setting(account, "mode", mode)
            .expect("set mode")
    });
}

/// Kill after the wire but before the acknowledgement: the restart sends
/// again with the same local id, and the network keeps one copy.
#[test]
fn a_retry_after_a_lost_acknowledgement_is_delivered_once() {
    let fx = Fixture::new();
    let rt = runtime();
    let (account, local_id) = rt.block_on(async {
        let engine = fx.engine();
        let account = add(
            &engine,
            "me@mem.invalid",
            "deliver-no-ack",
            "right password",
        )
        .await;
        let mut events = engine.subscribe();
        engine.start(&account).expect("start");
        wait_event(&mut events, "online", |e| is_online(e, &account)).await;
        let (local_id, _) = engine
            .send(
                &account,
                &ConversationKey::new("bob@mem.invalid"),
                Content::text("once"),
                None,
            )
            .await
            .expect("send");
        wait_until("delivery", || !fx.delivered().is_empty()).await;
        (account, local_id)
    });
    rt.shutdown_background();

    let rt = runtime();
    rt.block_on(async {
        let engine = fx.engine();
        assert_eq!(engine.outbox_len().expect("outbox"), 1, "no ack: still in the outbox");
        set_mode(&engine, &account, "normal");
        let mut events = engine.subscribe();
        engine.start(&account).expect("restart");
        wait_event(&mut events, "the ack", |e| {
            matches!(e, EngineEvent::MessageUpdated { message, .. }
                if message.local_id.as_ref() == Some(&local_id) && message.state == DeliveryState::Sent)
        })
        .await;
        engine.shutdown().await;
    });
    assert_eq!(
        lock(&fx.wire.handed).len(),
        2,
        "handed to the plugin twice (once per session)"
    );
    assert_eq!(fx.delivered().len(), 1, "but on the wire once");
}

/// A message handed to the next hop that never confirmed it shows as
/// handed over, stays in the outbox, and becomes sent when a later session
/// gets the confirmation.
#[test]
fn a_message_handed_over_stays_in_the_outbox_until_confirmed() {
    let fx = Fixture::new();
    let rt = runtime();
    let (account, local_id) = rt.block_on(async {
        let engine = fx.engine();
        let account = add(&engine, "me@mem.invalid", "hand-over", "right password").await;
        let mut events = engine.subscribe();
        engine.start(&account).expect("start");
        wait_event(&mut events, "online", |e| is_online(e, &account)).await;
        let (local_id, _) = engine
            .send(
                &account,
                &ConversationKey::new("bob@mem.invalid"),
                Content::text("handed"),
                None,
            )
            .await
            .expect("send");
        wait_event(&mut events, "handed over", |e| {
            matches!(e, EngineEvent::MessageUpdated { message, .. }
                if message.local_id.as_ref() == Some(&local_id) && message.state == DeliveryState::Handed)
        })
        .await;
        assert_eq!(engine.outbox_len().expect("outbox"), 1, "not confirmed: still in the outbox");
        engine.shutdown().await;
        (account, local_id)
    });
    rt.shutdown_background();

    let rt = runtime();
    rt.block_on(async {
        let engine = fx.engine();
        set_mode(&engine, &account, "normal");
        let mut events = engine.subscribe();
        engine.start(&account).expect("restart");
        wait_event(&mut events, "the confirmation", |e| {
            matches!(e, EngineEvent::MessageUpdated { message, .. }
                if message.local_id.as_ref() == Some(&local_id) && message.state == DeliveryState::Sent)
        })
        .await;
        assert_eq!(engine.outbox_len().expect("outbox"), 0);
        engine.shutdown().await;
    });
}

/// A store that refuses a write (a full disk): the message is not
/// acknowledged to the network, the session ends, and once the store works
/// again the network's redelivery is stored exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_acknowledged_that_the_store_refused() {
    let fx = Fixture::new();
    let engine = fx.engine();
    let account = add(&engine, "me@mem.invalid", "normal", "right password").await;
    let mut events = engine.subscribe();
    engine.start(&account).expect("start");
    wait_event(&mut events, "online", |e| is_online(e, &account)).await;
    // Someone we know, so the message lands in the inbox.
    engine
        .add_contact(
            &account,
            &Contact {
                address: Address::parse_any("bob@mem.invalid").expect("bob"),
                name: Some("Bob".into()),
                groups: Vec::new(),
                mutual: true,
            },
        )
        .expect("contact");

    engine.with_store(|s| s.refuse_writes(true).expect("read-only"));
    let _ = fx.incoming.send((
        account.to_string(),
        incoming_from("bob@mem.invalid", "m1", "kept"),
    ));
    wait_event(
        &mut events,
        "the store error",
        |e| matches!(e, EngineEvent::EngineError { account: a, .. } if a == &account),
    )
    .await;
    // The session ends instead of counting the message handled.
    wait_event(&mut events, "the session to end", |e| {
        matches!(e, EngineEvent::AccountStatus { account: a, status: AccountStatus::Offline { .. } } if a == &account)
    })
    .await;
    assert!(lock(&fx.wire.acked).is_empty(), "acknowledged unstored");

    engine.with_store(|s| s.refuse_writes(false).expect("writable"));
    wait_event(&mut events, "the redelivered message", |e| {
        matches!(e, EngineEvent::MessageStored { message, .. } if message.content.text == "kept")
    })
    .await;
    wait_until("the acknowledgement", || !lock(&fx.wire.acked).is_empty()).await;
    let conversation = engine
        .with_store(|s| s.conversation_id(&account, &ConversationKey::new("bob@mem.invalid")))
        .expect("lookup")
        .expect("conversation");
    assert_eq!(
        engine
            .with_store(|s| s.message_count(conversation))
            .expect("count"),
        1,
        "stored exactly once"
    );
    assert_eq!(*lock(&fx.wire.acked), vec![RemoteId::new("m1")]);
    engine.shutdown().await;
}

/// Several accounts of one network run at once; one with a wrong password
/// and one whose plugin panics do not take the others down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_accounts_of_one_network_run_side_by_side() {
    let fx = Fixture::new();
    let engine = fx.engine();
    let a = add(&engine, "a@mem.invalid", "normal", "right password").await;
    let b = add(&engine, "b@mem.invalid", "normal", "right password").await;
    let bad = add(&engine, "c@mem.invalid", "normal", "wrong password").await;
    let broken = add(&engine, "d@mem.invalid", "panic", "right password").await;
    let mut events = engine.subscribe();
    engine.start_all().expect("start all");
    let mut online = BTreeSet::new();
    let mut failed = false;
    let mut panic_notice = false;
    while online.len() < 2 || !failed || !panic_notice {
        let e = wait_event(&mut events, "accounts to settle", |_| true).await;
        match e {
            EngineEvent::AccountStatus {
                account,
                status: AccountStatus::Online { .. },
            } => {
                online.insert(account);
            }
            EngineEvent::AccountStatus {
                account,
                status: AccountStatus::Failed { reason },
            } => {
                assert_eq!(account, bad);
                assert_eq!(reason, StatusReason::AuthFailed);
                failed = true;
            }
            EngineEvent::Notice { account, notice } => {
                assert_eq!(account, broken);
                assert!(
                    matches!(&notice, koine_api::Notice::PluginFailed { detail } if detail.contains("told to panic")),
                    "{notice:?}"
                );
                panic_notice = true;
            }
            _ => {}
        }
    }
    assert_eq!(online, BTreeSet::from([a.clone(), b.clone()]));

    for (to, text) in [(&a, "for a"), (&b, "for b")] {
        fx.incoming
            .send((to.to_string(), incoming_from("bob@mem.invalid", text, text)))
            .expect("inject");
        wait_event(&mut events, text, |e| {
            matches!(e, EngineEvent::MessageStored { account, message } if account == to && message.content.text == text)
        })
        .await;
    }
    let conversations = engine.conversations().expect("list");
    assert_eq!(
        conversations.len(),
        2,
        "one conversation per account with bob"
    );
    let owners: BTreeSet<_> = conversations.iter().map(|c| c.account.clone()).collect();
    assert_eq!(owners, BTreeSet::from([a, b]));
    engine.shutdown().await;
}

/// A first message from someone not in the contact list lands in Requests;
/// a contact's goes to the inbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_land_in_requests_and_contacts_in_the_inbox() {
    let fx = Fixture::new();
    let engine = fx.engine();
    let a = add(&engine, "a@mem.invalid", "normal", "right password").await;
    engine.with_store(|s| {
        s.upsert_contact(
            &a,
            &Contact {
                address: Address::Jid(Jid::parse("friend@mem.invalid").expect("jid")),
                name: None,
                groups: vec![],
                mutual: true,
            },
        )
        .expect("contact")
    });
    let mut events = engine.subscribe();
    engine.start(&a).expect("start");
    wait_event(&mut events, "online", |e| is_online(e, &a)).await;
    for (from, text) in [
        ("friend@mem.invalid", "hi it's me"),
        ("spam@mem.invalid", "buy now"),
    ] {
        fx.incoming
            .send((a.to_string(), incoming_from(from, text, text)))
            .expect("inject");
        wait_event(&mut events, text, |e| matches!(e, EngineEvent::MessageStored { message, .. } if message.content.text == text)).await;
    }
    let by_title = |t: &str| {
        engine
            .conversations()
            .expect("list")
            .into_iter()
            .find(|c| c.title == t)
            .expect("conversation")
    };
    assert!(!by_title("friend@mem.invalid").is_request);
    assert!(by_title("spam@mem.invalid").is_request);
    engine.shutdown().await;
}

/// The password goes to the keyring and reaches the plugin, and is nowhere
/// in the profile directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_is_only_in_the_keyring() {
    let fx = Fixture::new();
    let engine = fx.engine();
    let password = "right password";
    let a = add(&engine, "a@mem.invalid", "normal", password).await;
    let mut events = engine.subscribe();
    engine.start(&a).expect("start");
    // Online proves the plugin got the right secret from the keyring.
    wait_event(&mut events, "online", |e| is_online(e, &a)).await;
    engine
        .send(
            &a,
            &ConversationKey::new("bob@mem.invalid"),
            Content::text("hello"),
            None,
        )
        .await
        .expect("send");
    engine.shutdown().await;
    let stored = KeyringSecrets::scoped(a.as_str())
        .get(PASSWORD_SECRET)
        .expect("keyring");
    assert_eq!(
        stored.map(|s| s.expose().to_owned()),
        Some(password.to_owned())
    );
    let hits = find_bytes_under(fx.dir.path(), password.as_bytes());
    assert!(hits.is_empty(), "password found in {hits:?}");
    // A key the plugin kept in the account's scope goes with the account,
    // like its password.
    KeyringSecrets::scoped(a.as_str())
        .set("plugin-key", &Secret::new("k"))
        .expect("plugin secret");
    assert!(engine.account_statuses().contains_key(&a));
    engine.remove_account(&a).await.expect("remove");
    assert!(
        !engine.account_statuses().contains_key(&a),
        "no status is kept for a removed account"
    );
    let scope = KeyringSecrets::scoped(a.as_str());
    assert_eq!(scope.get(PASSWORD_SECRET).expect("keyring"), None);
    assert_eq!(scope.get("plugin-key").expect("keyring"), None);
}

/// Every file under `dir` that contains `needle`.
pub(crate) fn find_bytes_under(dir: &std::path::Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("read dir") {
                stack.push(entry.expect("entry").path());
            }
        } else if let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(needle.len()).any(|w| w == needle)
        {
            hits.push(path);
        }
    }
    hits
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_are_checked_and_secrets_refused_in_settings() {
    let fx = Fixture::new();
    let engine = fx.engine();
    let mut settings = Settings::default();
    settings.set("password", "oops");
    let err = engine
        .add_account(
            &ProtocolId::new("mem"),
            "x@mem.invalid",
            settings,
            Some(Secret::new("p")),
        )
        .await
        .expect_err("a secret in settings is refused");
    assert!(matches!(err, EngineError::Settings(_)));
    let err = engine
        .add_account(
            &ProtocolId::new("mem"),
            "x@mem.invalid",
            Settings::default(),
            None,
        )
        .await
        .expect_err("the password is required");
    assert!(matches!(err, EngineError::Settings(_)));
    let err = engine
        .add_account(&ProtocolId::new("nope"), "x", Settings::default(), None)
        .await
        .expect_err("unknown network");
    assert!(matches!(err, EngineError::UnknownProtocol(_)));
    // Defaults are filled in.
    let record = engine
        .add_account(
            &ProtocolId::new("mem"),
            "x@mem.invalid",
            Settings::default(),
            Some(Secret::new("p")),
        )
        .await
        .expect("ok");
    assert_eq!(record.settings.get("mode"), Some("normal"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_raised_before_online_can_be_answered() {
    let fx = Fixture::new();
    let engine = fx.engine();
    let mut events = engine.subscribe();
    let id = add(
        &engine,
        "pairing@mem.invalid",
        "pair-first",
        "right password",
    )
    .await;
    engine.start(&id).expect("start");
    wait_event(
        &mut events,
        "the pairing prompt",
        |e| matches!(e, EngineEvent::PromptRaised { account, .. } if account == &id),
    )
    .await;
    engine
        .command(
            &id,
            Command::AnswerPrompt {
                prompt: koine_api::PromptId::new("pair"),
                answer: koine_api::PromptAnswer::Confirm,
            },
        )
        .await
        .expect("answer");
    wait_event(&mut events, "online after pairing", |e| is_online(e, &id)).await;
    // A listener that comes late reads the status instead of waiting.
    assert!(matches!(
        engine.account_statuses().get(&id),
        Some(AccountStatus::Online { .. })
    ));
    engine.shutdown().await;
}

/// A second engine on the same profile (another `koine` command while the
/// window runs) starts no session of its own: it queues in the shared store
/// and hands the work to the owner, which sends it once; it lists and
/// answers the owner's open questions through the same channel.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_engine_hands_its_work_to_the_owner() {
    let fx = Fixture::new();
    let owner = fx.engine();
    let id = add(&owner, "me@mem.invalid", "pair-first", "right password").await;
    let mut events = owner.subscribe();
    owner.start(&id).expect("start");
    wait_event(
        &mut events,
        "the pairing prompt",
        |e| matches!(e, EngineEvent::PromptRaised { account, .. } if account == &id),
    )
    .await;

    let other = fx.engine();
    assert!(!other.owns_profile());
    let open = other.owner_prompts().await.expect("the owner's questions");
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].1.id, koine_api::PromptId::new("pair"));
    other
        .answer_owner_prompt(
            &id,
            &koine_api::PromptId::new("pair"),
            koine_api::PromptAnswer::Confirm,
        )
        .await
        .expect("answer through the owner");
    wait_event(&mut events, "online after pairing", |e| is_online(e, &id)).await;
    assert!(other.owner_prompts().await.expect("prompts").is_empty());

    let (local_id, message) = other
        .send(
            &id,
            &ConversationKey::new("bob@mem.invalid"),
            Content::text("from the other process"),
            None,
        )
        .await
        .expect("queue");
    other.hand_off(&id).await.expect("hand off");
    wait_until("sent by the owner", || {
        other
            .message(message)
            .is_ok_and(|m| m.state == DeliveryState::Sent)
    })
    .await;
    assert_eq!(
        fx.delivered(),
        vec![(local_id.clone(), "from the other process".to_owned())]
    );
    // Handing off again sends nothing twice.
    other.hand_off(&id).await.expect("hand off again");
    assert_eq!(
        lock(&fx.wire.handed)
            .iter()
            .filter(|l| **l == local_id)
            .count(),
        1
    );
    owner.shutdown().await;
}

/// A message dated in the future (a forged delay, a wrong clock) is stored
/// as received now: it cannot pin its conversation to the top.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_from_the_future_counts_as_now() {
    let fx = Fixture::new();
    let engine = fx.engine();
    let account = add(&engine, "me@mem.invalid", "normal", "right password").await;
    let mut events = engine.subscribe();
    engine.start(&account).expect("start");
    wait_event(&mut events, "online", |e| is_online(e, &account)).await;
    let mut m = incoming_from("bob@mem.invalid", "future-1", "from 2999");
    m.timestamp = Timestamp(32_503_680_000_000); // the year 3000
    let before = Timestamp::now();
    let _ = fx.incoming.send((account.to_string(), m));
    let stored = wait_event(&mut events, "the message", |e| {
        matches!(e, EngineEvent::MessageStored { message, .. } if message.content.text == "from 2999")
    })
    .await;
    let EngineEvent::MessageStored { message, .. } = stored else {
        unreachable!()
    };
    let after = Timestamp::now();
    assert!(
        before <= message.timestamp && message.timestamp <= after,
        "stored at {:?}",
        message.timestamp
    );
    let conversations = engine.conversations().expect("conversations");
    assert!(
        conversations.iter().all(|c| c.last_activity <= after),
        "{conversations:?}"
    );
    engine.shutdown().await;
}
