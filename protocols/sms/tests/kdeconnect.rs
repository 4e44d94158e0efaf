//! KDE Connect backend against the simulated phone: pairing, a lost phone
//! and its return, an unpaired phone, clock skew, downgrades, MMS, history,
//! dual SIM, and malformed packets from the phone.

mod common;

use common::{KdeRig, NUMBERS, PHONE_NAME};
use koine_api::{
    Attachment, AttachmentSource, Command, ConnectionState, Content, ConversationKey,
    DeliveryState, Direction, Event, LocalId, Notice, PromptAnswer, PromptKind, Protocol,
    ProtocolError, RemoteId, SendError, SessionError,
};
use koine_conformance::{RunningSession, SessionEnd, TestAccount};
use koine_sms::SmsRelay;
use koine_sms::kdeconnect::identity::Identity;
use koine_sms::kdeconnect::link;
use koine_sms::kdeconnect::packet::kind;
use koine_sms::kdeconnect::tls::LocalIdentity;
use koine_sms::sim::{Carrier, Part};
use std::sync::Arc;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(20);

fn plugin() -> Arc<dyn Protocol> {
    Arc::new(SmsRelay::new("FR"))
}

fn start(account: &TestAccount, dir: &std::path::Path) -> RunningSession {
    RunningSession::start(&plugin(), account, dir, TIMEOUT).expect("session")
}

/// The content of a received file, which the session sealed in `dir`
/// under the account's file key; checks that it is not there in plaintext.
fn opened(a: &koine_api::Attachment, dir: &std::path::Path) -> Vec<u8> {
    let AttachmentSource::Sealed(path) = &a.source else {
        panic!("not fetched and sealed: {a:?}")
    };
    let path = std::path::Path::new(path);
    assert!(path.starts_with(dir), "{path:?} outside {dir:?}");
    let secrets = koine_keyring::KeyringSecrets::scoped(koine_conformance::keyring_scope(dir));
    let vault = koine_vault::Vault::existing(&secrets)
        .expect("keyring")
        .expect("the account's file key");
    let plain = vault.read(path).expect("opens").expect("exists").to_vec();
    let raw = std::fs::read(path).expect("sealed file");
    assert!(
        plain.is_empty() || !raw.windows(plain.len()).any(|w| w == plain.as_slice()),
        "{path:?} holds the plaintext"
    );
    plain
}

fn unpaired(rig: &KdeRig) -> TestAccount {
    TestAccount {
        settings: rig.unpaired_settings(),
        secret: None,
        address: koine_api::Address::Phone(koine_api::PhoneNumber::parse(NUMBERS[0]).expect("n")),
    }
}

fn send(to: &str, text: &str, id: &str) -> Command {
    Command::SendMessage {
        local_id: LocalId::new(id),
        conversation: ConversationKey::new(to),
        content: Content::text(text),
        reply_to: None,
    }
}

async fn acked(s: &mut RunningSession, id: &str) -> RemoteId {
    s.wait_for("ack", |e| match e {
        Event::SendAcked {
            local_id,
            remote_id,
            ..
        } if local_id.as_str() == id => Some(remote_id.clone()),
        Event::SendFailed { local_id, error } if local_id.as_str() == id => {
            panic!("send failed: {error}")
        }
        _ => None,
    })
    .await
    .expect("ack")
}

async fn pair_prompt(s: &mut RunningSession) -> (koine_api::PromptId, String, String) {
    s.wait_for("a pairing prompt", |e| match e {
        Event::PromptRaised(p) => match &p.kind {
            PromptKind::PairDevice { device, key } => {
                Some((p.id.clone(), device.clone(), key.clone()))
            }
            _ => None,
        },
        _ => None,
    })
    .await
    .expect("prompt")
}

/// Waits for the session to end, then collects the events it left behind.
async fn end(s: &mut RunningSession) -> SessionEnd {
    let end = s.ended().await.expect("end");
    s.drain_for(Duration::from_millis(300)).await;
    end
}

fn sms_requests(rig: &KdeRig) -> usize {
    rig.kde
        .journal()
        .iter()
        .filter(|r| r.packet.kind == kind::SMS_REQUEST)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairing_prompts_with_a_key_pins_and_nothing_is_sent_before() {
    let carrier = Carrier::new();
    let rig = KdeRig::start(&carrier, NUMBERS[0], 8, true, 0).await;
    let dirs = tempfile::tempdir().expect("tmp");
    let dir = dirs.path().join("pairing");
    let account = unpaired(&rig);
    let mut s = start(&account, &dir);
    let (prompt, device, key) = pair_prompt(&mut s).await;
    assert_eq!(device, PHONE_NAME);
    assert_eq!(key.len(), 8);
    assert!(key.chars().all(|c| c.is_ascii_hexdigit()));

    // Before pairing, a send fails as NotPaired and reaches nothing.
    s.command(send("+33698765432", "too early", "early"))
        .await
        .expect("cmd");
    let err = s
        .wait_for("NotPaired", |e| match e {
            Event::SendFailed { local_id, error } if local_id.as_str() == "early" => {
                Some(error.clone())
            }
            _ => None,
        })
        .await
        .expect("failure");
    assert_eq!(err, SendError::NotPaired);
    assert_eq!(sms_requests(&rig), 0);
    assert!(rig.kde.paired().is_empty());

    s.command(Command::AnswerPrompt {
        prompt,
        answer: PromptAnswer::Confirm,
    })
    .await
    .expect("answer");
    let link = s.online().await.expect("online after pairing");
    assert_eq!(link.host, PHONE_NAME);
    assert_eq!(
        link.transport,
        koine_api::TransportSecurity::Tls {
            version: koine_api::TlsVersion::Tls13,
            pinned: true
        }
    );
    assert_eq!(rig.kde.paired().len(), 1, "the phone remembers the desktop");

    s.command(send("06 98 76 54 32", "hello after pairing", "l1"))
        .await
        .expect("cmd");
    acked(&mut s, "l1").await;
    let sent = rig
        .phone
        .with_store(|st| st.messages().to_vec())
        .expect("store");
    assert!(
        sent.iter()
            .any(|m| m.body == "hello after pairing" && m.addresses[0].address == "+33698765432")
    );
    assert!(matches!(
        s.stop().await.expect("stop"),
        SessionEnd::Returned(Ok(()))
    ));

    // The next session uses the pin from the keyring: no prompt, online.
    let mut again = start(&account, &dir);
    again.online().await.expect("online with the pinned phone");
    assert!(
        !again
            .log
            .iter()
            .any(|e| matches!(e, Event::PromptRaised(_)))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_phone_can_ask_to_pair_and_a_refusal_is_typed() {
    let carrier = Carrier::new();
    let rig = KdeRig::start(&carrier, NUMBERS[0], 8, true, 0).await;
    let dirs = tempfile::tempdir().expect("tmp");
    let mut s = start(&unpaired(&rig), &dirs.path().join("phone-asks"));
    let (first, _, _) = pair_prompt(&mut s).await;
    let mut asked = false;
    for _ in 0..40 {
        if rig.kde.request_pairing() {
            asked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(asked, "a desktop is connected");
    let (second, _, _) = s
        .wait_for("the phone's request", |e| match e {
            Event::PromptRaised(p) if p.id != first => match &p.kind {
                PromptKind::PairDevice { device, key } => {
                    Some((p.id.clone(), device.clone(), key.clone()))
                }
                _ => None,
            },
            _ => None,
        })
        .await
        .expect("second prompt");
    s.command(Command::AnswerPrompt {
        prompt: second,
        answer: PromptAnswer::Confirm,
    })
    .await
    .expect("answer");
    s.online().await.expect("online");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rig.kde.paired().len(), 1);

    // A phone whose user refuses: the session ends AuthFailed, never online.
    let refusing = KdeRig::start(&carrier, NUMBERS[1], 8, false, 0).await;
    let mut s = start(&unpaired(&refusing), &dirs.path().join("refused"));
    let (prompt, _, _) = pair_prompt(&mut s).await;
    s.command(Command::AnswerPrompt {
        prompt,
        answer: PromptAnswer::Confirm,
    })
    .await
    .expect("answer");
    match end(&mut s).await {
        SessionEnd::Returned(Err(SessionError::AuthFailed)) => {}
        other => panic!("expected AuthFailed, got {other:?}"),
    }
    assert!(s.log.iter().any(|e| matches!(e, Event::Notice(Notice::CertificateRejected { reason, .. }) if reason == "pairing-refused")));
    assert!(
        !s.log
            .iter()
            .any(|e| matches!(e, Event::ConnectionChanged(ConnectionState::Online { .. })))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_skew_is_refused_both_ways() {
    let carrier = Carrier::new();
    // The phone's clock is two hours ahead: it refuses our request...
    let rig = KdeRig::start(&carrier, NUMBERS[0], 8, true, 7200).await;
    let dirs = tempfile::tempdir().expect("tmp");
    let mut s = start(&unpaired(&rig), &dirs.path().join("skew"));
    let (prompt, _, _) = pair_prompt(&mut s).await;
    // The phone registers its side of the link a moment after the desktop
    // raised its prompt: retry until the phone can send.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !rig.kde.request_pairing() {
        assert!(
            std::time::Instant::now() < deadline,
            "the phone never got a link to send on"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // ...and we refuse its request, whose timestamp is two hours off.
    s.wait_for("clock-skew notice", |e| match e {
        Event::Notice(Notice::CertificateRejected { reason, .. }) if reason == "clock-skew" => {
            Some(())
        }
        _ => None,
    })
    .await
    .expect("notice");
    s.command(Command::AnswerPrompt {
        prompt,
        answer: PromptAnswer::Confirm,
    })
    .await
    .expect("answer");
    match end(&mut s).await {
        SessionEnd::Returned(Err(SessionError::AuthFailed)) => {}
        other => panic!("expected AuthFailed, got {other:?}"),
    }
    assert!(rig.kde.paired().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_phone_and_its_return() {
    let carrier = Carrier::new();
    let mut rig = KdeRig::start(&carrier, NUMBERS[0], 8, true, 0).await;
    let account = rig.paired_account(NUMBERS[0]);
    let dirs = tempfile::tempdir().expect("tmp");
    let dir = dirs.path().join("lost");
    let mut s = start(&account, &dir);
    s.online().await.expect("online");
    s.command(send("+33698765432", "before the loss", "keep-1"))
        .await
        .expect("cmd");
    let first_remote = acked(&mut s, "keep-1").await;

    rig.stop();
    match end(&mut s).await {
        SessionEnd::Returned(Err(e @ SessionError::Network(_))) => assert!(e.is_retryable()),
        other => panic!("expected a network error, got {other:?}"),
    }
    assert!(s.log.iter().any(
        |e| matches!(e, Event::Notice(Notice::DeviceUnreachable { device }) if device == PHONE_NAME)
    ));
    assert!(
        s.log
            .iter()
            .any(|e| matches!(e, Event::ConnectionChanged(ConnectionState::Offline { .. })))
    );

    // While it is away, a new session fails fast with a retryable error.
    let mut away = start(&account, &dir);
    match end(&mut away).await {
        SessionEnd::Returned(Err(SessionError::Network(_))) => {}
        other => panic!("expected a network error, got {other:?}"),
    }

    rig.restart().await;
    let mut back = start(&account, &dir);
    back.online().await.expect("online again");
    // The outbox replays the message it already sent: acknowledged with the
    // same id, not sent again.
    back.command(send("+33698765432", "before the loss", "keep-1"))
        .await
        .expect("cmd");
    assert_eq!(acked(&mut back, "keep-1").await, first_remote);
    back.command(send("+33698765432", "after the return", "keep-2"))
        .await
        .expect("cmd");
    acked(&mut back, "keep-2").await;
    let bodies: Vec<String> = rig
        .phone
        .with_store(|st| st.messages().iter().map(|m| m.body.clone()).collect())
        .expect("store");
    assert_eq!(bodies.iter().filter(|b| *b == "before the loss").count(), 1);
    assert_eq!(
        bodies.iter().filter(|b| *b == "after the return").count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpaired_phone_gets_no_sms() {
    let carrier = Carrier::new();
    let rig = KdeRig::start(&carrier, NUMBERS[0], 8, true, 0).await;
    let account = rig.paired_account(NUMBERS[0]);
    let dirs = tempfile::tempdir().expect("tmp");
    let dir = dirs.path().join("forgotten");
    let mut s = start(&account, &dir);
    s.online().await.expect("online");
    assert!(matches!(
        s.stop().await.expect("stop"),
        SessionEnd::Returned(Ok(()))
    ));

    // The user unpairs the computer on the phone.
    let desktop = rig.kde.paired().keys().next().cloned().expect("paired");
    rig.kde.unpair(&desktop);
    let mut s = start(&account, &dir);
    s.command(send("+33698765432", "must not leave", "never"))
        .await
        .expect("cmd");
    match end(&mut s).await {
        SessionEnd::Returned(Err(SessionError::AuthFailed)) => {}
        other => panic!("expected AuthFailed, got {other:?}"),
    }
    assert!(
        !s.log
            .iter()
            .any(|e| matches!(e, Event::ConnectionChanged(ConnectionState::Online { .. })))
    );
    assert!(s.log.iter().any(|e| matches!(e, Event::Notice(Notice::CertificateRejected { reason, .. }) if reason == "not-paired")));
    assert_eq!(sms_requests(&rig), 0, "no SMS request reached the phone");
    assert!(
        rig.phone
            .with_store(|st| st.messages().is_empty())
            .expect("store")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downgrades_are_refused_and_protocol_7_works() {
    let carrier = Carrier::new();
    // A phone that speaks only protocol 7 pairs and sends.
    let old = KdeRig::start(&carrier, NUMBERS[0], 7, true, 0).await;
    let dirs = tempfile::tempdir().expect("tmp");
    let dir = dirs.path().join("v7");
    let mut s = start(&unpaired(&old), &dir);
    let (prompt, _, _) = pair_prompt(&mut s).await;
    s.command(Command::AnswerPrompt {
        prompt,
        answer: PromptAnswer::Confirm,
    })
    .await
    .expect("answer");
    s.online().await.expect("online with protocol 7");
    s.command(send("+33698765432", "from a v7 phone", "v7"))
        .await
        .expect("cmd");
    acked(&mut s, "v7").await;

    // A phone paired at protocol 8 that now offers 7 (same identity, from
    // its state file) is refused as a downgrade.
    let state = dirs.path().join("phone-state.json");
    let make = |version: u32| {
        koine_sms::sim::kdeconnect::KdePhone::new(
            common::phone(&carrier, NUMBERS[1], 0),
            koine_sms::sim::kdeconnect::KdeConfig {
                device_id: "sim_downgraded".into(),
                protocol_version: version,
                accept_pairing: true,
            },
            Some(state.clone()),
        )
        .expect("phone")
    };
    let v8 = make(8);
    let desk = LocalIdentity::generate("desk_dg").expect("id");
    v8.trust(&desk.device_id, &desk.fingerprint().expect("fp"), 8);
    let v7 = make(7);
    assert_eq!(
        v7.fingerprint(),
        v8.fingerprint(),
        "same phone, same certificate"
    );
    let server = v7
        .listen("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("listen");
    let mut settings = koine_api::Settings::default();
    settings.set("backend", "kdeconnect");
    settings.set("phone_address", server.addr().to_string());
    settings.set("phone_device_id", "sim_downgraded");
    settings.set("phone_fingerprint", v8.fingerprint());
    settings.set("phone_protocol_version", "8");
    let account = TestAccount {
        settings,
        secret: Some(koine_api::Secret::new(
            serde_json::to_string(&desk).expect("json"),
        )),
        address: koine_api::Address::Phone(koine_api::PhoneNumber::parse(NUMBERS[1]).expect("n")),
    };
    let mut s = start(&account, &dirs.path().join("dg"));
    match end(&mut s).await {
        SessionEnd::Returned(Err(SessionError::Protocol(ProtocolError::Version(_)))) => {}
        other => panic!("expected a version refusal, got {other:?}"),
    }
    assert!(
        !s.log
            .iter()
            .any(|e| matches!(e, Event::ConnectionChanged(ConnectionState::Online { .. })))
    );
    let rig = KdeRig::start(&carrier, "+33612345603", 8, true, 0).await;

    // The phone side refuses a desktop that paired at 8 and now claims 7.
    let me = LocalIdentity::generate("old_desktop").expect("id");
    rig.kde
        .trust("old_desktop", &me.fingerprint().expect("fp"), 8);
    let claim = Identity {
        device_id: "old_desktop".into(),
        device_name: "old".into(),
        device_type: "desktop".into(),
        protocol_version: 7,
        incoming_capabilities: vec![],
        outgoing_capabilities: vec![],
        tcp_port: None,
    };
    let r = link::connect(rig.addr, &me, &claim, Some(rig.kde.fingerprint()), None).await;
    assert!(r.is_err(), "the phone must drop a downgraded desktop");
    // And a desktop below protocol 7 is refused outright.
    let ancient = Identity {
        protocol_version: 6,
        device_id: "ancient".into(),
        ..claim
    };
    assert!(
        link::connect(rig.addr, &me, &ancient, None, None)
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mms_history_dual_sim_and_national_numbers() {
    let carrier = Carrier::new();
    let rig = KdeRig::start(&carrier, NUMBERS[0], 8, true, 0).await;
    let mut account = rig.paired_account(NUMBERS[0]);
    account.settings.set("sub_id", "2");
    let dirs = tempfile::tempdir().expect("tmp");
    let dir = dirs.path().join("mms");
    let mut s = start(&account, &dir);
    s.online().await.expect("online");

    // An incoming MMS from a national number: normalised, file fetched
    // through the payload transfer.
    let png = b"\x89PNG\r\n\x1a\nnot really an image".to_vec();
    rig.phone.inject_mms(
        "06 11 22 33 44",
        "look",
        Part {
            name: "cat.png".into(),
            mime: "image/png".into(),
            bytes: png.clone(),
        },
    );
    let m = s
        .wait_for("the MMS", |e| match e {
            Event::MessageReceived(m) if m.content.text == "look" => Some(m.clone()),
            _ => None,
        })
        .await
        .expect("mms");
    assert_eq!(m.conversation.as_str(), "+33611223344");
    assert_eq!(m.direction, Direction::Incoming);
    let a = &m.content.attachments[0];
    assert_eq!(a.mime, "image/png");
    assert_eq!(opened(a, &dir), png);
    assert_eq!(a.size, png.len() as u64);

    // Sending an MMS and a dual-SIM subscription.
    let file = dir.join("out.txt");
    std::fs::write(&file, b"attached").expect("write");
    s.command(Command::SendMessage {
        local_id: LocalId::new("mms-out"),
        conversation: ConversationKey::new("+33611223344"),
        content: Content {
            text: "here".into(),
            attachments: vec![Attachment {
                name: "out.txt".into(),
                mime: "text/plain".into(),
                size: 8,
                source: AttachmentSource::LocalPath(file.to_string_lossy().into_owned()),
                sha256: None,
            }],
        },
        reply_to: None,
    })
    .await
    .expect("cmd");
    acked(&mut s, "mms-out").await;
    s.wait_for("sent state", |e| match e {
        Event::DeliveryUpdated {
            state: DeliveryState::Sent,
            ..
        } => Some(()),
        _ => None,
    })
    .await
    .expect("sent");
    let out = rig
        .phone
        .with_store(|st| st.messages().iter().find(|m| m.body == "here").cloned())
        .flatten()
        .expect("stored");
    assert_eq!(out.sub_id, 2, "the SIM chosen in the settings");
    assert_eq!(out.attachments.len(), 1);
    let part = rig
        .phone
        .with_store(|st| st.part(&out.attachments[0].unique_identifier).cloned())
        .flatten()
        .expect("part");
    assert_eq!(part.bytes, b"attached");

    // History: five more messages, then a page of two.
    for i in 0..5 {
        rig.phone.inject_sms("+33611223344", &format!("old {i}"));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    s.drain_for(Duration::from_millis(500)).await;
    s.command(Command::FetchHistory {
        conversation: ConversationKey::new("+33611223344"),
        before: None,
        limit: 2,
    })
    .await
    .expect("cmd");
    let (messages, more) = s
        .wait_for("a history page", |e| match e {
            Event::HistoryPage { messages, more, .. } => Some((messages.clone(), *more)),
            _ => None,
        })
        .await
        .expect("page");
    assert_eq!(messages.len(), 2);
    assert!(more);
    assert!(
        messages[0].timestamp <= messages[1].timestamp,
        "oldest first"
    );
    assert_eq!(messages[1].content.text, "old 4");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_packets_from_the_phone_are_typed_notices() {
    // A phone that pairs properly, then misbehaves.
    let phone = LocalIdentity::generate("evil_phone").expect("id");
    let desktop = LocalIdentity::generate("desk_evil").expect("id");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let phone_fp = phone.fingerprint().expect("fp");
    let desk_fp = desktop.fingerprint().expect("fp");
    let evil = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let me = Identity {
            device_id: "evil_phone".into(),
            device_name: PHONE_NAME.into(),
            device_type: "phone".into(),
            protocol_version: 8,
            incoming_capabilities: vec![],
            outgoing_capabilities: vec![],
            tcp_port: None,
        };
        let mut l = link::accept(tcp, &phone, &me, 8, false, |_| {
            Some(link::KnownPeer {
                pin: desk_fp.clone(),
                version: 8,
            })
        })
        .await
        .expect("link");
        let _ = l.reader.next().await; // request_conversations
        let lines: Vec<Vec<u8>> = vec![
            b"{\"id\":1,\"type\":\"kdeconnect.sms.messages\",\"body\":".to_vec(),
            b"{\"id\":2,\"type\":\"kdeconnect.sms.messages\",\"body\":{\"messages\":\"lots\"}}".to_vec(),
            b"[\"not\",\"an\",\"object\"]".to_vec(),
            {
                let mut v = b"{\"id\":3,\"type\":\"kdeconnect.sms.messages\",\"body\":{\"pad\":\"".to_vec();
                v.extend(std::iter::repeat_n(b'x', 5 * 1024 * 1024));
                v.extend_from_slice(b"\"}}");
                v
            },
            b"{\"id\":4,\"type\":\"kdeconnect.sms.messages\",\"body\":{\"version\":2,\"messages\":[{\"body\":\"still alive\",\"addresses\":[{\"address\":\"+33698765432\"}],\"date\":5,\"type\":1,\"thread_id\":1,\"_id\":1}]}}".to_vec(),
        ];
        for mut line in lines {
            line.push(b'\n');
            l.writer.send_raw(&line).await.expect("write");
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    let mut settings = koine_api::Settings::default();
    settings.set("backend", "kdeconnect");
    settings.set("phone_address", addr.to_string());
    settings.set("phone_device_id", "evil_phone");
    settings.set("phone_fingerprint", &phone_fp);
    settings.set("phone_name", PHONE_NAME);
    let account = TestAccount {
        settings,
        secret: Some(koine_api::Secret::new(
            serde_json::to_string(&desktop).expect("json"),
        )),
        address: koine_api::Address::Phone(koine_api::PhoneNumber::parse(NUMBERS[0]).expect("n")),
    };
    let dirs = tempfile::tempdir().expect("tmp");
    let mut s = start(&account, &dirs.path().join("evil"));
    s.online().await.expect("online");
    s.wait_for("the good message after the bad ones", |e| match e {
        Event::MessageReceived(m) if m.content.text == "still alive" => Some(()),
        _ => None,
    })
    .await
    .expect("session survived");
    let notices: Vec<String> = s
        .log
        .iter()
        .filter_map(|e| match e {
            Event::Notice(Notice::MalformedInput { detail, .. }) => Some(detail.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        notices.len(),
        4,
        "one typed notice per bad packet: {notices:?}"
    );
    assert!(notices.iter().any(|d| d.contains("exceeds the limit")));
    assert!(notices.iter().any(|d| d.contains("not JSON")));
    assert!(notices.iter().any(|d| d.contains("not a JSON object")));
    assert!(
        notices
            .iter()
            .any(|d| d.contains("kdeconnect.sms.messages"))
    );
    evil.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls12_only_phone_pairs_and_the_route_says_tls_1_2() {
    let carrier = Carrier::new();
    let rig = KdeRig::start_with(
        &carrier,
        NUMBERS[0],
        0,
        koine_sms::sim::kdeconnect::KdeConfig {
            device_id: "sim_android".into(),
            protocol_version: 8,
            accept_pairing: true,
        },
        true,
        false,
    )
    .await;
    let dirs = tempfile::tempdir().expect("tmp");
    let mut s = start(&unpaired(&rig), &dirs.path().join("tls12"));
    let (prompt, _, _) = pair_prompt(&mut s).await;
    s.command(Command::AnswerPrompt {
        prompt,
        answer: PromptAnswer::Confirm,
    })
    .await
    .expect("answer");
    let tls12 = koine_api::TransportSecurity::Tls {
        version: koine_api::TlsVersion::Tls12,
        pinned: true,
    };
    let link = s.online().await.expect("online with a TLS 1.2 phone");
    assert_eq!(link.transport, tls12);
    s.command(send("+33698765432", "over TLS 1.2", "t12"))
        .await
        .expect("cmd");
    let route = s
        .wait_for("ack", |e| match e {
            Event::SendAcked {
                local_id, route, ..
            } if local_id.as_str() == "t12" => Some(route.clone()),
            _ => None,
        })
        .await
        .expect("ack");
    assert_eq!(route.hops[0].transport, tls12);
}

/// A protocol-7 phone whose user tapped "pair" before the desktop connected:
/// its request (no timestamp, as protocol 7 has none) arrives right after TLS
/// and must reach the user as a prompt, not be dropped or refused as skew.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_protocol_7_phone_asking_right_after_tls_is_prompted_and_pairs() {
    let carrier = Carrier::new();
    let rig = KdeRig::start_with(
        &carrier,
        NUMBERS[0],
        0,
        koine_sms::sim::kdeconnect::KdeConfig {
            device_id: "sim_v7_asks".into(),
            protocol_version: 7,
            accept_pairing: true,
        },
        true,
        true,
    )
    .await;
    let dirs = tempfile::tempdir().expect("tmp");
    let mut s = start(&unpaired(&rig), &dirs.path().join("v7-asks"));
    let (prompt, _, key) = pair_prompt(&mut s).await;
    assert_eq!(key.len(), 8);
    assert!(
        !s.log.iter().any(
            |e| matches!(e, Event::Notice(Notice::CertificateRejected { reason, .. }) if reason == "clock-skew")
        ),
        "a protocol-7 request has no timestamp to be skewed"
    );
    s.command(Command::AnswerPrompt {
        prompt,
        answer: PromptAnswer::Confirm,
    })
    .await
    .expect("answer");
    s.online().await.expect("online with protocol 7");
    s.command(send("+33698765432", "paired the protocol-7 way", "p7"))
        .await
        .expect("cmd");
    acked(&mut s, "p7").await;
    assert_eq!(rig.kde.paired().len(), 1);
}

/// A phone paired while it spoke protocol 7 (the desktop then never sees its
/// identity) that later speaks protocol 8 with the same certificate keeps
/// working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_paired_at_protocol_7_then_upgraded_to_8_stays_paired() {
    let carrier = Carrier::new();
    let dirs = tempfile::tempdir().expect("tmp");
    let state = dirs.path().join("phone-state.json");
    let make = |version: u32| {
        koine_sms::sim::kdeconnect::KdePhone::new(
            common::phone(&carrier, NUMBERS[0], 0),
            koine_sms::sim::kdeconnect::KdeConfig {
                device_id: "sim_upgraded".into(),
                protocol_version: version,
                accept_pairing: true,
            },
            Some(state.clone()),
        )
        .expect("phone")
    };
    let v7 = make(7);
    let server = v7
        .listen("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("listen");
    let addr = server.addr();
    let mut settings = koine_api::Settings::default();
    settings.set("backend", "kdeconnect");
    settings.set("phone_address", addr.to_string());
    settings.set("region", "FR");
    let account = TestAccount {
        settings,
        secret: None,
        address: koine_api::Address::Phone(koine_api::PhoneNumber::parse(NUMBERS[0]).expect("n")),
    };
    let dir = dirs.path().join("desk");
    let mut s = start(&account, &dir);
    let (prompt, _, _) = pair_prompt(&mut s).await;
    s.command(Command::AnswerPrompt {
        prompt,
        answer: PromptAnswer::Confirm,
    })
    .await
    .expect("answer");
    s.online().await.expect("online at protocol 7");
    assert!(matches!(
        s.stop().await.expect("stop"),
        SessionEnd::Returned(Ok(()))
    ));
    drop(server);

    // The phone's app is updated: same certificate, protocol 8.
    let v8 = make(8);
    assert_eq!(v8.fingerprint(), v7.fingerprint());
    let _server = v8.listen(addr).await.expect("listen again");
    let mut again = start(&account, &dir);
    again
        .online()
        .await
        .expect("the same phone at protocol 8 is still the paired phone");
    again
        .command(send("+33698765432", "after the update", "up8"))
        .await
        .expect("cmd");
    acked(&mut again, "up8").await;
}

/// A phone names an MMS part `..`: the file is stored under a safe name
/// inside the attachments folder and the session goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mms_part_named_dot_dot_is_stored_safely() {
    let phone = LocalIdentity::generate("evil_phone").expect("id");
    let desktop = LocalIdentity::generate("desk_evil_part").expect("id");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let phone_fp = phone.fingerprint().expect("fp");
    let desk_fp = desktop.fingerprint().expect("fp");
    let evil = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let me = Identity {
            device_id: "evil_phone".into(),
            device_name: PHONE_NAME.into(),
            device_type: "phone".into(),
            protocol_version: 8,
            incoming_capabilities: vec![],
            outgoing_capabilities: vec![],
            tcp_port: None,
        };
        let mut l = link::accept(tcp, &phone, &me, 8, false, |_| {
            Some(link::KnownPeer {
                pin: desk_fp.clone(),
                version: 8,
            })
        })
        .await
        .expect("link");
        let _ = l.reader.next().await; // request_conversations
        l.writer.send_raw(b"{\"id\":1,\"type\":\"kdeconnect.sms.messages\",\"body\":{\"version\":2,\"messages\":[{\"body\":\"mms\",\"addresses\":[{\"address\":\"+33698765432\"}],\"date\":5,\"type\":1,\"thread_id\":1,\"_id\":1,\"attachments\":[{\"part_id\":1,\"mime_type\":\"image/png\",\"encoded_thumbnail\":\"\",\"unique_identifier\":\"..\"}]}]}}\n").await.expect("write");
        let request = l.reader.next().await.expect("request_attachment");
        assert_eq!(request.kind, kind::SMS_REQUEST_ATTACHMENT);
        let port = koine_sms::kdeconnect::payload::offer(
            std::net::Ipv4Addr::LOCALHOST.into(),
            &phone,
            desk_fp.clone(),
            b"payload".to_vec(),
        )
        .await
        .expect("offer");
        let file = koine_sms::kdeconnect::packet::Packet::new(
            kind::SMS_ATTACHMENT_FILE,
            &koine_sms::kdeconnect::sms::AttachmentFile {
                filename: "..".into(),
            },
        )
        .with_payload(koine_sms::kdeconnect::packet::PayloadInfo { size: 7, port });
        l.writer.send(&file).await.expect("write");
        l.writer.send_raw(b"{\"id\":2,\"type\":\"kdeconnect.sms.messages\",\"body\":{\"version\":2,\"messages\":[{\"body\":\"still alive\",\"addresses\":[{\"address\":\"+33698765432\"}],\"date\":6,\"type\":1,\"thread_id\":1,\"_id\":2}]}}\n").await.expect("write");
        // Keep the link open until the test ends.
        let _ = l.reader.next().await;
    });
    let mut settings = koine_api::Settings::default();
    settings.set("backend", "kdeconnect");
    settings.set("phone_address", addr.to_string());
    settings.set("phone_device_id", "evil_phone");
    settings.set("phone_fingerprint", &phone_fp);
    settings.set("phone_name", PHONE_NAME);
    let account = TestAccount {
        settings,
        secret: Some(koine_api::Secret::new(
            serde_json::to_string(&desktop).expect("json"),
        )),
        address: koine_api::Address::Phone(koine_api::PhoneNumber::parse(NUMBERS[0]).expect("n")),
    };
    let dirs = tempfile::tempdir().expect("tmp");
    let dir = dirs.path().join("evil-part");
    let mut s = start(&account, &dir);
    s.online().await.expect("online");
    let mms = s
        .wait_for("the MMS", |e| match e {
            Event::MessageReceived(m) if m.content.text == "mms" => Some(m.clone()),
            _ => None,
        })
        .await
        .expect("the session survived the part name");
    assert_eq!(opened(&mms.content.attachments[0], &dir), b"payload");
    // The part is fetched off the session loop: the next message may come
    // before the MMS.
    s.wait_for_seen("the next message", |e| match e {
        Event::MessageReceived(m) if m.content.text == "still alive" => Some(()),
        _ => None,
    })
    .await
    .expect("session survived");
    evil.abort();
}

/// Login codes come from alphanumeric senders and short codes: they are
/// stored with the sender as the phone gives it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alphanumeric_senders_and_short_codes_are_stored() {
    let carrier = Carrier::new();
    let rig = KdeRig::start(&carrier, NUMBERS[0], 8, true, 0).await;
    let dirs = tempfile::tempdir().expect("tmp");
    let mut s = start(
        &rig.paired_account(NUMBERS[0]),
        &dirs.path().join("senders"),
    );
    s.online().await.expect("online");
    for (from, text) in [
        ("Google", "G-123456 is your Google verification code"),
        ("72975", "Your bank code is 9911"),
    ] {
        rig.phone.inject_sms(from, text);
        let m = s
            .wait_for("the message", |e| match e {
                Event::MessageReceived(m) if m.content.text == text => Some(m.clone()),
                _ => None,
            })
            .await
            .expect("stored, not discarded");
        assert_eq!(m.sender.to_string(), from);
        assert_eq!(m.conversation.as_str(), from);
        assert_eq!(m.direction, Direction::Incoming);
    }
    // A real number next to them still becomes E.164.
    rig.phone.inject_sms("06 11 22 33 44", "a person");
    let m = s
        .wait_for("the message", |e| match e {
            Event::MessageReceived(m) if m.content.text == "a person" => Some(m.clone()),
            _ => None,
        })
        .await
        .expect("stored");
    assert_eq!(m.sender.to_string(), "+33611223344");
}

/// Waits for the phone's verdict on a send: Ok(remote id) when acknowledged,
/// Err(error) when it failed.
async fn verdict(s: &mut RunningSession, id: &str) -> Result<RemoteId, SendError> {
    s.wait_for("a verdict", |e| match e {
        Event::SendAcked {
            local_id,
            remote_id,
            ..
        } if local_id.as_str() == id => Some(Ok(remote_id.clone())),
        Event::SendFailed { local_id, error } if local_id.as_str() == id => {
            Some(Err(error.clone()))
        }
        _ => None,
    })
    .await
    .expect("verdict")
}

/// A send the phone puts in its outbox and then in its failed box is
/// reported failed, never acknowledged as sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_the_phone_fails_is_reported_failed_not_sent() {
    let carrier = Carrier::new();
    let rig = KdeRig::start(&carrier, NUMBERS[0], 8, true, 0).await;
    let dirs = tempfile::tempdir().expect("tmp");
    let mut s = start(&rig.paired_account(NUMBERS[0]), &dirs.path().join("fails"));
    s.online().await.expect("online");
    // The simulated carrier refuses what is not an E.164 number: the phone
    // moves the message from its outbox to its failed box.
    s.command(send("72975", "STOP", "fail-1"))
        .await
        .expect("cmd");
    assert!(
        matches!(verdict(&mut s, "fail-1").await, Err(SendError::Rejected(_))),
        "{:?}",
        s.log
    );
    // A send that goes through is still acknowledged.
    s.command(send("+33698765432", "fine", "ok-1"))
        .await
        .expect("cmd");
    assert!(verdict(&mut s, "ok-1").await.is_ok());
}

/// A send the phone never echoes is not reported as sent: after a restart
/// the engine's retry is neither acknowledged nor sent twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_the_phone_never_confirms_is_not_reported_sent() {
    let carrier = Carrier::new();
    let rig = KdeRig::start(&carrier, NUMBERS[0], 8, true, 0).await;
    rig.kde.drop_sends(true);
    let dirs = tempfile::tempdir().expect("tmp");
    let dir = dirs.path().join("unconfirmed");
    let account = rig.paired_account(NUMBERS[0]);
    let mut s = start(&account, &dir);
    s.online().await.expect("online");
    s.command(send("+33698765432", "into the void", "void-1"))
        .await
        .expect("cmd");
    // Commands are handled in order: once the marker's answer is out, the
    // send was written to the phone.
    s.command(Command::OpenConversation {
        with: koine_api::Address::Phone(koine_api::PhoneNumber::parse("+33611111110").expect("n")),
    })
    .await
    .expect("cmd");
    s.wait_for("the first marker", |e| match e {
        Event::ConversationUpserted(c) if c.key.as_str() == "+33611111110" => Some(()),
        _ => None,
    })
    .await
    .expect("marker");
    // Written to the phone, never confirmed: handed over, not sent.
    assert!(
        s.log
            .iter()
            .any(|e| matches!(e, Event::SendHanded { local_id } if local_id.as_str() == "void-1")),
        "the send written to the phone is reported handed over: {:?}",
        s.log
    );
    assert!(matches!(
        s.stop().await.expect("stop"),
        SessionEnd::Returned(Ok(()))
    ));
    let mut again = start(&account, &dir);
    again.online().await.expect("online");
    // The engine retries the unanswered command; then a command whose answer
    // marks that the retry was handled.
    again
        .command(send("+33698765432", "into the void", "void-1"))
        .await
        .expect("cmd");
    again
        .command(Command::OpenConversation {
            with: koine_api::Address::Phone(
                koine_api::PhoneNumber::parse("+33611111111").expect("n"),
            ),
        })
        .await
        .expect("cmd");
    again
        .wait_for("the marker", |e| match e {
            Event::ConversationUpserted(c) if c.key.as_str() == "+33611111111" => Some(()),
            _ => None,
        })
        .await
        .expect("marker");
    assert!(
        !again.log.iter().any(
            |e| matches!(e, Event::SendAcked { local_id, .. } if local_id.as_str() == "void-1")
        ),
        "an unconfirmed send was reported sent: {:?}",
        again.log
    );
    assert!(
        again
            .log
            .iter()
            .any(|e| matches!(e, Event::SendHanded { local_id } if local_id.as_str() == "void-1")),
        "the retry of an unconfirmed send is still handed over: {:?}",
        again.log
    );
    // The phone may not have logged the first connection's request yet;
    // what matters is that there is no second one.
    assert!(sms_requests(&rig) <= 1, "never sent twice");
}

/// The phone's drafts, outbox and queue hold nothing sent yet: they are not
/// reported as sent messages; its failed box is reported failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_outbox_and_queue_are_not_reported_sent() {
    use koine_sms::kdeconnect::sms::message_type;
    let carrier = Carrier::new();
    let rig = KdeRig::start(&carrier, NUMBERS[0], 8, true, 0).await;
    let now = rig.phone.now_ms();
    for (to, body, kind) in [
        ("+33611111101", "a draft", message_type::DRAFT),
        ("+33611111102", "in the outbox", message_type::OUTBOX),
        ("+33611111103", "queued", message_type::QUEUED),
        ("+33611111104", "it failed", message_type::FAILED),
    ] {
        rig.phone
            .with_store(|s| s.add(&[to.to_owned()], body, kind, now, -1, &[]))
            .expect("store");
    }
    rig.phone.inject_sms("+33611111105", "marker");
    let dirs = tempfile::tempdir().expect("tmp");
    let mut s = start(&rig.paired_account(NUMBERS[0]), &dirs.path().join("boxes"));
    s.online().await.expect("online");
    s.wait_for("the marker", |e| match e {
        Event::MessageReceived(m) if m.content.text == "marker" => Some(()),
        _ => None,
    })
    .await
    .expect("marker");
    // The whole list was handled before the next command is.
    s.command(Command::OpenConversation {
        with: koine_api::Address::Phone(koine_api::PhoneNumber::parse("+33611111199").expect("n")),
    })
    .await
    .expect("cmd");
    s.wait_for("the sync point", |e| match e {
        Event::ConversationUpserted(c) if c.key.as_str() == "+33611111199" => Some(()),
        _ => None,
    })
    .await
    .expect("sync");
    let reported: Vec<&str> = s
        .log
        .iter()
        .filter_map(|e| match e {
            Event::MessageReceived(m) if m.direction == Direction::Outgoing => {
                Some(m.content.text.as_str())
            }
            _ => None,
        })
        .collect();
    assert_eq!(reported, ["it failed"], "{:?}", s.log);
    assert!(s.log.iter().any(|e| matches!(
        e,
        Event::DeliveryUpdated {
            state: DeliveryState::Failed,
            ..
        }
    )));
}

/// The key Koine shows equals the key the simulated phone computes on its
/// own, for protocol 8 and 7, whoever asks, over TLS 1.3 and 1.2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_screens_show_the_same_verification_key() {
    let carrier = Carrier::new();
    for (n, (version, tls12_only, phone_asks)) in [
        (8, false, false),
        (7, false, false),
        (8, true, false),
        (7, true, true),
    ]
    .into_iter()
    .enumerate()
    {
        let rig = KdeRig::start_with(
            &carrier,
            NUMBERS[0],
            0,
            koine_sms::sim::kdeconnect::KdeConfig {
                device_id: format!("sim_key_{n}"),
                protocol_version: version,
                accept_pairing: true,
            },
            tls12_only,
            phone_asks,
        )
        .await;
        let dirs = tempfile::tempdir().expect("tmp");
        let mut s = start(&unpaired(&rig), &dirs.path().join("key"));
        let (prompt, _, key) = pair_prompt(&mut s).await;
        s.command(Command::AnswerPrompt {
            prompt,
            answer: PromptAnswer::Confirm,
        })
        .await
        .expect("answer");
        s.online().await.expect("online");
        assert_eq!(
            rig.kde.verification_key().as_deref(),
            Some(key.as_str()),
            "protocol {version}, TLS 1.2 only {tls12_only}, phone asks {phone_asks}"
        );
    }
}

/// Every SMS the phone received while the computer was away arrives when
/// it is back, not only the newest of each thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sms_received_while_away_arrives_on_return() {
    let carrier = Carrier::new();
    let rig = KdeRig::start(&carrier, NUMBERS[0], 8, true, 0).await;
    let account = rig.paired_account(NUMBERS[0]);
    let dirs = tempfile::tempdir().expect("tmp");
    let dir = dirs.path().join("away");
    let mut s = start(&account, &dir);
    s.online().await.expect("online");
    rig.phone
        .inject_sms("+33698765432", "before leaving")
        .expect("sms");
    s.wait_for("the first SMS", |e| {
        matches!(e, Event::MessageReceived(m) if m.content.text == "before leaving").then_some(())
    })
    .await
    .expect("first");
    s.stop().await.expect("stop");

    for text in ["away 1", "away 2", "away 3"] {
        rig.phone.inject_sms("+33698765432", text).expect("sms");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut back = start(&account, &dir);
    back.online().await.expect("online again");
    for text in ["away 3", "away 2", "away 1"] {
        back.wait_for_seen(&format!("{text:?}"), |e| {
            matches!(e, Event::MessageReceived(m) if m.content.text == text).then_some(())
        })
        .await
        .expect("arrives");
    }
}

/// More than a page of them: the thread is asked for page after page, down
/// to the newest message stored before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_a_page_received_while_away_all_arrive() {
    let carrier = Carrier::new();
    let rig = KdeRig::start(&carrier, NUMBERS[0], 8, true, 0).await;
    let account = rig.paired_account(NUMBERS[0]);
    let dirs = tempfile::tempdir().expect("tmp");
    let dir = dirs.path().join("away");
    let mut s = start(&account, &dir);
    s.online().await.expect("online");
    rig.phone.inject_sms("+33698765432", "first").expect("sms");
    s.wait_for("the first SMS", |e| {
        matches!(e, Event::MessageReceived(m) if m.content.text == "first").then_some(())
    })
    .await
    .expect("first");
    s.stop().await.expect("stop");

    for i in 0..250 {
        rig.phone
            .inject_sms("+33698765432", &format!("away {i}"))
            .expect("sms");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let mut back = start(&account, &dir);
    back.online().await.expect("online again");
    back.wait_for_seen("the oldest one missed", |e| {
        matches!(e, Event::MessageReceived(m) if m.content.text == "away 0").then_some(())
    })
    .await
    .expect("arrives");
    let seen: std::collections::BTreeSet<String> = back
        .log
        .iter()
        .filter_map(|e| match e {
            Event::MessageReceived(m) if m.content.text.starts_with("away ") => {
                Some(m.content.text.clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(seen.len(), 250, "{seen:?}");
}

/// A message the engine never stored (it aborted the session, as when its
/// store refuses a write) comes again with the next session, even when
/// another one followed it in the same thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_the_engine_never_stored_comes_again_though_not_the_newest() {
    use koine_api::{AccountId, EventSink, SessionContext};
    let carrier = Carrier::new();
    let rig = KdeRig::start(&carrier, NUMBERS[0], 8, true, 0).await;
    let account = rig.paired_account(NUMBERS[0]);
    let dirs = tempfile::tempdir().expect("tmp");
    let dir = dirs.path().join("refused");
    let mut s = start(&account, &dir);
    s.online().await.expect("online");
    rig.phone.inject_sms("+33698765432", "stored").expect("sms");
    s.wait_for("the stored SMS", |e| {
        matches!(e, Event::MessageReceived(m) if m.content.text == "stored").then_some(())
    })
    .await
    .expect("stored");
    s.stop().await.expect("stop");

    // An engine of our own that takes the next message and never asks for
    // more (nothing counts as handled), then aborts the session.
    let (_commands, commands_rx) = tokio::sync::mpsc::channel(8);
    let (sink, mut events) = EventSink::channel(64);
    let context = SessionContext {
        account: AccountId::new("a"),
        settings: account.settings.clone(),
        secret: account.secret.clone(),
        secrets: Arc::new(koine_keyring::KeyringSecrets::scoped(
            koine_conformance::keyring_scope(&dir),
        )),
        data_dir: dir.clone(),
        commands: commands_rx,
        events: sink,
    };
    let task = tokio::spawn(SmsRelay::new("FR").run(context));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("in time")
            .expect("session alive");
        match event {
            Event::ConnectionChanged(ConnectionState::Online { .. }) => {
                rig.phone
                    .inject_sms("+33698765432", "never stored")
                    .expect("sms");
            }
            Event::MessageReceived(m) if m.content.text == "never stored" => break,
            _ => {}
        }
    }
    task.abort();
    let _ = task.await;
    drop(events);
    rig.phone
        .inject_sms("+33698765432", "after it")
        .expect("sms");

    let mut back = start(&account, &dir);
    back.online().await.expect("online again");
    for text in ["after it", "never stored"] {
        back.wait_for_seen(&format!("{text:?}"), |e| {
            matches!(e, Event::MessageReceived(m) if m.content.text == text).then_some(())
        })
        .await
        .expect("arrives");
    }
}
