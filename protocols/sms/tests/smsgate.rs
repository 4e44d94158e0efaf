//! SMSGate backend against the simulated phone's local API: delivery
//! states, signed webhooks (forged and skewed ones refused), and the app's
//! refusal of plain-HTTP webhooks to another host.

mod common;

use common::{GateRig, NUMBERS, PASSWORD};
use koine_api::{
    Command, Content, ConversationKey, DeliveryState, Event, InputSource, LocalId, Notice,
    Protocol, SessionError,
};
use koine_conformance::{RunningSession, SessionEnd, TestAccount};
use koine_sms::SmsRelay;
use koine_sms::sim::Carrier;
use koine_sms::smsgate::http;
use std::sync::Arc;
use std::time::Duration;

fn start(account: &TestAccount, dir: &std::path::Path) -> RunningSession {
    let plugin: Arc<dyn Protocol> = Arc::new(SmsRelay::new("FR"));
    RunningSession::start(&plugin, account, dir, Duration::from_secs(20)).expect("session")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_states_advance_to_delivered() {
    let carrier = Carrier::new();
    let a = GateRig::start(&carrier, NUMBERS[0], 0).await;
    let _b = GateRig::start(&carrier, NUMBERS[1], 0).await;
    let dirs = tempfile::tempdir().expect("tmp");
    let mut s = start(&a.account(NUMBERS[0], PASSWORD), &dirs.path().join("a"));
    s.online().await.expect("online");
    s.command(Command::SendMessage {
        local_id: LocalId::new("gate-1"),
        conversation: ConversationKey::new("06 12 34 56 02"),
        content: Content::text("deliver me"),
        reply_to: None,
    })
    .await
    .expect("cmd");
    let mut states = Vec::new();
    while !states.contains(&DeliveryState::Delivered) {
        let st = s
            .wait_for("delivery", |e| match e {
                Event::DeliveryUpdated {
                    remote_id, state, ..
                } if remote_id.as_str() == "gate-1" => Some(*state),
                _ => None,
            })
            .await
            .expect("state");
        states.push(st);
    }
    assert!(
        states.windows(2).all(|w| w[0] < w[1]),
        "states only advance: {states:?}"
    );
    let m = a.gate.message("gate-1").expect("on the phone");
    assert_eq!(m.recipients[0].phone_number, "+33612345602");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_skewed_webhooks_are_refused() {
    let carrier = Carrier::new();
    // The phone's clock is an hour ahead: its signed calls fall outside the
    // replay window.
    let skewed = GateRig::start(&carrier, NUMBERS[0], 3600).await;
    let dirs = tempfile::tempdir().expect("tmp");
    let mut s = start(
        &skewed.account(NUMBERS[0], PASSWORD),
        &dirs.path().join("skew"),
    );
    s.online().await.expect("online");
    skewed.phone.inject_sms("+33698765432", "from the future");
    let detail = s
        .wait_for("a refused webhook", |e| match e {
            Event::Notice(Notice::MalformedInput {
                source: InputSource::Device,
                detail,
            }) => Some(detail.clone()),
            _ => None,
        })
        .await
        .expect("notice");
    assert!(detail.contains("clock-skew"), "{detail}");

    // A forged call straight to the webhook port.
    let url = http::Url::parse(&format!(
        "http://127.0.0.1:{}/koine-webhook",
        skewed.webhook_port
    ))
    .expect("url");
    let body = br#"{"deviceId":"x","event":"sms:received","id":"forged","payload":{"message":"send money","phoneNumber":"+33698765432"},"webhookId":"w"}"#;
    let ts = (koine_api::Timestamp::now().0 / 1000).to_string();
    let r = http::send(
        &url,
        "POST",
        "",
        &[("X-Signature", "00".repeat(32)), ("X-Timestamp", ts)],
        body,
    )
    .await
    .expect("http");
    assert_eq!(r.status, 401);
    let events = s.drain_for(Duration::from_millis(500)).await;
    assert!(events.iter().any(|e| matches!(e, Event::Notice(Notice::MalformedInput { detail, .. }) if detail.contains("bad-signature"))));
    assert!(
        !s.log.iter().any(|e| matches!(e, Event::MessageReceived(_))),
        "nothing unsigned or stale gets in"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_webhooks_to_another_host_are_refused_like_the_app_does() {
    let carrier = Carrier::new();
    let rig = GateRig::start(&carrier, NUMBERS[0], 0).await;
    let mut account = rig.account(NUMBERS[0], PASSWORD);
    account
        .settings
        .set("webhook_url", "http://192.0.2.10:8080/hook");
    let dirs = tempfile::tempdir().expect("tmp");
    let mut s = start(&account, &dirs.path().join("http"));
    let end = s.ended().await.expect("end");
    assert!(
        matches!(end, SessionEnd::Returned(Err(SessionError::Protocol(_)))),
        "{end:?}"
    );
    assert!(rig.gate.webhooks().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_password_is_auth_failed_and_sends_nothing() {
    let carrier = Carrier::new();
    let rig = GateRig::start(&carrier, NUMBERS[0], 0).await;
    let dirs = tempfile::tempdir().expect("tmp");
    let mut s = start(&rig.account(NUMBERS[0], "nope"), &dirs.path().join("bad"));
    assert!(matches!(
        s.ended().await.expect("end"),
        SessionEnd::Returned(Err(SessionError::AuthFailed))
    ));
    assert!(rig.gate.requests().iter().all(|(m, _)| m == "GET"));
}

/// The engine receives a text but stops before storing it: the webhook is
/// not answered with success, the app calls again, and the next session
/// delivers the text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_the_engine_never_stored_is_delivered_again() {
    never_stored_then_again(Gone::EngineDropped).await;
}

/// The same when the engine aborts the session's task, as it does when its
/// store refuses a write: the next session can listen for webhooks on the
/// same address (the aborted one's listener went with it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_is_delivered_again_after_the_engine_aborts_the_session() {
    never_stored_then_again(Gone::SessionAborted).await;
}

/// How the first session ends.
#[derive(PartialEq)]
enum Gone {
    /// The engine drops its end of the event channel.
    EngineDropped,
    /// The engine aborts the session's task.
    SessionAborted,
}

async fn never_stored_then_again(gone: Gone) {
    use koine_api::{AccountId, ConnectionState, EventSink, SessionContext};
    let carrier = Carrier::new();
    let a = GateRig::start(&carrier, NUMBERS[0], 0).await;
    let b = GateRig::start(&carrier, NUMBERS[1], 0).await;
    let dirs = tempfile::tempdir().expect("tmp");
    let dir = dirs.path().join("a");
    std::fs::create_dir_all(&dir).expect("dir");
    let account = a.account(NUMBERS[0], PASSWORD);
    // An engine of our own, so the test decides when an event is handled.
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
                b.phone
                    .send(&[NUMBERS[0].to_owned()], "never stored", 0, &[])
                    .expect("sent");
            }
            Event::MessageReceived(m) if m.content.text == "never stored" => break,
            _ => {}
        }
    }
    // Received, never handled: the engine goes away.
    if gone == Gone::SessionAborted {
        task.abort();
        let _ = task.await;
        drop(events);
    } else {
        drop(events);
        let end = tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .expect("ends")
            .expect("no panic");
        assert!(end.is_err(), "the session ends when the engine is gone");
    }

    let mut s = start(&account, &dir);
    s.online().await.expect("online");
    let again =
        |e: &Event| matches!(e, Event::MessageReceived(m) if m.content.text == "never stored");
    if !s.log.iter().any(again) {
        s.wait_for("the text again", |e| again(e).then_some(()))
            .await
            .expect("delivered again");
    }
}

/// Login codes come from alphanumeric senders and short codes: the webhook's
/// message is stored with the sender as the phone gives it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alphanumeric_senders_and_short_codes_are_stored() {
    let carrier = Carrier::new();
    let a = GateRig::start(&carrier, NUMBERS[0], 0).await;
    let dirs = tempfile::tempdir().expect("tmp");
    let mut s = start(
        &a.account(NUMBERS[0], PASSWORD),
        &dirs.path().join("senders"),
    );
    s.online().await.expect("online");
    for (from, text) in [("Google", "G-654321 is your code"), ("72975", "code 4242")] {
        a.phone.inject_sms(from, text);
        let m = s
            .wait_for("the message", |e| match e {
                Event::MessageReceived(m) if m.content.text == text => Some(m.clone()),
                _ => None,
            })
            .await
            .expect("stored, not discarded");
        assert_eq!(m.sender.to_string(), from);
        assert_eq!(m.conversation.as_str(), from);
    }
}
