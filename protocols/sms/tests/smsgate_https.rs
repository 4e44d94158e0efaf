//! SMSGate in the app's HTTPS mode: its self-signed certificate is shown
//! to the user once and pinned; a different certificate ends the session
//! before any credential is sent. With plain HTTP, the route and the account
//! form say that the password and the webhook key cross the LAN unencrypted.

mod common;

use common::{NUMBERS, PASSWORD, PHONE_NAME};
use koine_api::{
    Command, Content, ConversationKey, Event, LocalId, Notice, PromptAnswer, PromptKind, Protocol,
    SessionError, Settings, TransportSecurity,
};
use koine_conformance::{RunningSession, SessionEnd, TestAccount};
use koine_sms::SmsRelay;
use koine_sms::kdeconnect::tls::{LocalIdentity, fingerprint_for_display};
use koine_sms::sim::Carrier;
use koine_sms::sim::smsgate::{GateConfig, GatePhone, GateServer};
use std::sync::Arc;
use std::time::Duration;

fn plugin() -> Arc<dyn Protocol> {
    Arc::new(SmsRelay::new("FR"))
}

fn start(account: &TestAccount, dir: &std::path::Path) -> RunningSession {
    RunningSession::start(&plugin(), account, dir, Duration::from_secs(20)).expect("session")
}

struct HttpsGate {
    phone: Arc<koine_sms::sim::Phone>,
    gate: Arc<GatePhone>,
    server: GateServer,
    certificate: LocalIdentity,
    webhook_port: u16,
}

async fn https_gate(carrier: &Arc<Carrier>) -> HttpsGate {
    let phone = common::phone(carrier, NUMBERS[0], 0);
    let gate = GatePhone::new(
        phone.clone(),
        GateConfig {
            username: "sms".into(),
            password: PASSWORD.into(),
        },
    );
    let certificate = LocalIdentity::generate("smsgate_app").expect("certificate");
    let server = gate
        .listen_tls("127.0.0.1:0".parse().expect("addr"), &certificate)
        .await
        .expect("listen");
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("probe");
    let webhook_port = probe.local_addr().expect("addr").port();
    drop(probe);
    HttpsGate {
        phone,
        gate,
        server,
        certificate,
        webhook_port,
    }
}

fn account(gate: &HttpsGate, pin: Option<&str>) -> TestAccount {
    let mut s = Settings::default();
    s.set("backend", "smsgate");
    s.set("url", format!("https://{}", gate.server.addr()));
    s.set("username", "sms");
    s.set("region", "FR");
    s.set("phone_name", PHONE_NAME);
    s.set("own_number", NUMBERS[0]);
    s.set("webhook_listen", format!("127.0.0.1:{}", gate.webhook_port));
    if let Some(pin) = pin {
        s.set("certificate_fingerprint", pin);
    }
    TestAccount {
        settings: s,
        secret: Some(koine_api::Secret::new(PASSWORD)),
        address: koine_api::Address::Phone(
            koine_api::PhoneNumber::parse(NUMBERS[0]).expect("number"),
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_certificate_is_shown_once_then_pinned() {
    let carrier = Carrier::new();
    let gate = https_gate(&carrier).await;
    let dirs = tempfile::tempdir().expect("tmp");
    let dir = dirs.path().join("https");
    let mut s = start(&account(&gate, None), &dir);
    let (prompt, shown) = s
        .wait_for("the certificate to compare", |e| match e {
            Event::PromptRaised(p) => match &p.kind {
                PromptKind::PinCertificate { fingerprint, .. } => {
                    Some((p.id.clone(), fingerprint.clone()))
                }
                _ => None,
            },
            _ => None,
        })
        .await
        .expect("prompt");
    assert_eq!(
        shown,
        fingerprint_for_display(&gate.certificate.fingerprint().expect("fp")),
        "the fingerprint shown is the app's certificate"
    );
    s.command(Command::AnswerPrompt {
        prompt,
        answer: PromptAnswer::Confirm,
    })
    .await
    .expect("answer");
    let hop = s.online().await.expect("online over HTTPS");
    assert!(
        matches!(hop.transport, TransportSecurity::Tls { pinned: true, .. }),
        "the route says TLS, pinned: {:?}",
        hop.transport
    );
    s.command(Command::SendMessage {
        local_id: LocalId::new("tls-1"),
        conversation: ConversationKey::new("+33612345602"),
        content: Content::text("over TLS"),
        reply_to: None,
    })
    .await
    .expect("cmd");
    s.wait_for("the acknowledgement", |e| match e {
        Event::SendAcked {
            local_id, route, ..
        } if local_id.as_str() == "tls-1" => Some(route.clone()),
        _ => None,
    })
    .await
    .expect("ack");
    // Incoming texts come by webhook, which the app sends over plain HTTP:
    // their route says so, whatever the API's scheme.
    gate.phone.inject_sms("+33698765432", "by webhook");
    let incoming = s
        .wait_for("the incoming SMS", |e| match e {
            Event::MessageReceived(m) if m.content.text == "by webhook" => Some(m.clone()),
            _ => None,
        })
        .await
        .expect("incoming");
    assert_eq!(
        incoming.route.hops.first().map(|h| &h.transport),
        Some(&TransportSecurity::Plaintext)
    );
    s.stop().await.expect("stop");

    // Pinned: the next session asks nothing.
    let mut again = start(&account(&gate, None), &dir);
    again.online().await.expect("online with the pin");
    assert!(
        !again
            .log
            .iter()
            .any(|e| matches!(e, Event::PromptRaised(_))),
        "no second prompt"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_https_certificate_is_refused_before_the_password_is_sent() {
    let carrier = Carrier::new();
    let gate = https_gate(&carrier).await;
    let other = LocalIdentity::generate("someone_else").expect("cert");
    let dirs = tempfile::tempdir().expect("tmp");
    let mut s = start(
        &account(&gate, Some(&other.fingerprint().expect("fp"))),
        &dirs.path().join("mismatch"),
    );
    let end = s.ended_without_online().await.expect("end");
    s.drain_for(Duration::from_millis(300)).await;
    assert!(
        matches!(end, SessionEnd::Returned(Err(SessionError::Untrusted(_)))),
        "{end:?}"
    );
    assert!(
        s.log.iter().any(|e| matches!(
            e,
            Event::Notice(Notice::CertificateRejected { reason, .. }) if reason == "pin-mismatch"
        )),
        "{:?}",
        s.log
    );
    assert!(
        gate.gate.requests().is_empty(),
        "no request (and so no password) reached the app"
    );
}

#[test]
fn plain_http_says_the_lan_sees_the_password_and_the_webhook_key() {
    let info = plugin().info();
    let url = info
        .account_fields
        .iter()
        .find(|f| f.key == "url")
        .expect("url field");
    assert!(
        url.label.fallback.contains("unencrypted") && url.label.fallback.contains("https://"),
        "the form says what plain HTTP exposes: {}",
        url.label.fallback
    );
    assert!(
        info.account_fields
            .iter()
            .any(|f| f.key == "certificate_fingerprint")
    );
    let hop = koine_sms::route::phone_hop_http(PHONE_NAME);
    assert_eq!(hop.transport, TransportSecurity::Plaintext);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_changed_during_a_session_ends_it_as_untrusted() {
    let carrier = Carrier::new();
    let mut gate = https_gate(&carrier).await;
    let pin = gate.certificate.fingerprint().expect("fp");
    let dirs = tempfile::tempdir().expect("tmp");
    let mut s = start(&account(&gate, Some(&pin)), &dirs.path().join("changed"));
    s.online()
        .await
        .expect("online with the pin from the settings");
    // Someone else answers on the app's address now.
    let addr = gate.server.addr();
    let impostor = LocalIdentity::generate("impostor").expect("cert");
    gate.server = gate
        .gate
        .listen_tls("127.0.0.1:0".parse().expect("addr"), &impostor)
        .await
        .expect("listen");
    // The old listener closes once its task is dropped: retry the bind.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    gate.server = loop {
        match gate.gate.listen_tls(addr, &impostor).await {
            Ok(server) => break server,
            Err(e) => {
                assert!(tokio::time::Instant::now() < deadline, "rebind: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    let before = gate.gate.requests().len();
    s.command(Command::SendMessage {
        local_id: LocalId::new("tls-2"),
        conversation: ConversationKey::new("+33612345602"),
        content: Content::text("to whom?"),
        reply_to: None,
    })
    .await
    .expect("cmd");
    let end = s.ended().await.expect("end");
    s.drain_for(Duration::from_millis(300)).await;
    assert!(
        matches!(end, SessionEnd::Returned(Err(SessionError::Untrusted(_)))),
        "{end:?}"
    );
    assert!(
        s.log
            .iter()
            .any(|e| matches!(e, Event::Notice(Notice::CertificateRejected { .. }))),
        "{:?}",
        s.log
    );
    assert_eq!(
        gate.gate.requests().len(),
        before,
        "the impostor got no request"
    );
}
