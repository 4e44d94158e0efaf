//! Login against a real Prosody: SCRAM over STARTTLS and direct TLS with a
//! verified certificate, refused credentials, an untrusted certificate that
//! raises a pin prompt, and the pin accepted.

mod support;

use koine_api::{
    Command, ConnectionState, Event, HopKind, Notice, PromptAnswer, PromptKind, Secret,
    SessionError, TlsVersion, TransportSecurity,
};
use support::{DOMAIN, Prosody, client};

#[tokio::test(flavor = "multi_thread")]
async fn starttls_and_direct_tls_with_scram() {
    let server = Prosody::start();
    let (settings, secret, jid) = server.account("alice");
    let dir = tempfile::tempdir().expect("tmp");

    let mut c = client::start(settings, secret.clone(), dir.path().join("a"));
    let link = c.online().await;
    assert_eq!(link.host, DOMAIN);
    assert_eq!(link.kind, HopKind::ClientLink);
    assert_eq!(
        link.transport,
        TransportSecurity::Tls {
            version: TlsVersion::Tls13,
            pinned: false
        }
    );
    assert!(link.sees_your_ip);
    assert!(c.roster().await.is_empty());
    c.stop().await.expect("clean stop");

    let mut d = client::start(
        server.direct_tls_settings_for(&jid),
        secret,
        dir.path().join("b"),
    );
    let link = d.online().await;
    assert!(matches!(
        link.transport,
        TransportSecurity::Tls { pinned: false, .. }
    ));
    d.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_password_is_auth_failed() {
    let server = Prosody::start();
    let (settings, _, _) = server.account("bob");
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = client::start(settings, Secret::new("wrong"), dir.path().to_path_buf());
    c.wait_for("offline", |e| {
        matches!(e, Event::ConnectionChanged(ConnectionState::Offline { reason }) if reason == "auth")
    })
    .await;
    let result = c.task.await.expect("joins");
    assert_eq!(result, Err(SessionError::AuthFailed));
}

#[tokio::test(flavor = "multi_thread")]
async fn untrusted_certificate_prompts_and_a_pin_is_honoured() {
    let server = Prosody::start();
    let (mut settings, secret, _) = server.account("carol");
    // Without the test CA the certificate is unknown: no silent acceptance.
    settings.0.remove("extra_ca_file");
    let dir = tempfile::tempdir().expect("tmp");

    let mut c = client::start(settings.clone(), secret.clone(), dir.path().to_path_buf());
    c.wait_for(
        "rejection notice",
        |e| matches!(e, Event::Notice(Notice::CertificateRejected { host, .. }) if host == DOMAIN),
    )
    .await;
    let prompt = match c
        .wait_for("pin prompt", |e| matches!(e, Event::PromptRaised(_)))
        .await
    {
        Event::PromptRaised(p) => p,
        _ => unreachable!(),
    };
    let PromptKind::PinCertificate {
        host, fingerprint, ..
    } = &prompt.kind
    else {
        panic!("{prompt:?}")
    };
    assert_eq!(host, DOMAIN);
    assert_eq!(fingerprint.len(), 95, "SHA-256 as colon hex");
    c.send(Command::AnswerPrompt {
        prompt: prompt.id.clone(),
        answer: PromptAnswer::Reject,
    })
    .await;
    assert!(matches!(
        c.task.await.expect("joins"),
        Err(SessionError::Untrusted(_))
    ));

    // Confirming pins this exact certificate; the route says it is pinned.
    let mut c = client::start(settings.clone(), secret.clone(), dir.path().to_path_buf());
    let prompt = match c
        .wait_for("pin prompt", |e| matches!(e, Event::PromptRaised(_)))
        .await
    {
        Event::PromptRaised(p) => p,
        _ => unreachable!(),
    };
    c.send(Command::AnswerPrompt {
        prompt: prompt.id,
        answer: PromptAnswer::Confirm,
    })
    .await;
    let link = c.online().await;
    assert!(matches!(
        link.transport,
        TransportSecurity::Tls { pinned: true, .. }
    ));
    c.stop().await.expect("stop");

    // The next session uses the pin without asking again.
    let mut c = client::start(settings, secret, dir.path().to_path_buf());
    let link = c.online().await;
    assert!(matches!(
        link.transport,
        TransportSecurity::Tls { pinned: true, .. }
    ));
    assert!(!c.seen.iter().any(|e| matches!(e, Event::PromptRaised(_))));
    c.stop().await.expect("stop");
}
