//! Media over verified TLS: the reference server serves its HTTP listeners
//! with a certificate from a test CA; clients that trust the CA exchange an
//! image through the provider's host and the gatekeeper's proxy, and the
//! route says TLS 1.3 on those hops. A client that does not trust the CA
//! refuses the upload with a typed error instead of sending in the clear.

mod common;

use common::{Live, Server, outcome, received};
use koine_api::{
    Attachment, AttachmentSource, Command, Content, ConversationKey, HopKind, LocalId, TlsVersion,
    TransportSecurity,
};
use koine_tls::test_ca::TestCa;

const ALICE: &str = "koine:alice";
const BOB: &str = "+4915112345678";
const CAROL: &str = "+4930123456789";

fn image_message(to: &str, id: &str, path: &std::path::Path) -> Command {
    Command::SendMessage {
        local_id: LocalId::new(id),
        conversation: ConversationKey::new(to),
        content: Content {
            text: format!("picture {id}"),
            attachments: vec![Attachment {
                name: "photo.png".into(),
                mime: "image/png".into(),
                size: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
                source: AttachmentSource::LocalPath(path.to_string_lossy().into_owned()),
                sha256: None,
            }],
        },
        reply_to: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_travels_over_verified_tls_and_an_untrusted_certificate_is_refused()
-> anyhow::Result<()> {
    let certs = tempfile::tempdir()?;
    let ca = TestCa::create(certs.path())?;
    let path = |p: &std::path::Path| p.to_string_lossy().into_owned();
    let server = Server::start_with(&[
        "--tls-cert",
        &path(&ca.cert_file),
        "--tls-key",
        &path(&ca.key_file),
        "--trust-ca",
        &path(&ca.ca_file),
    ])?;
    assert!(server.ready.gatekeeper_http.starts_with("https://"));
    assert!(server.ready.provider_http.starts_with("https://"));
    for (user, pw) in [(ALICE, "pw-a"), (BOB, "pw-b"), (CAROL, "pw-c")] {
        server.admin(&["add-user", user, pw])?;
    }
    server.admin(&["opt-in", BOB, "koine"])?;
    server.admin(&["opt-in", CAROL, "koine"])?;
    let trusting = |user: &str, pw: &str| {
        let mut account = server.account(user, pw);
        account.settings.set("extra_ca_file", path(&ca.ca_file));
        account
    };
    let dirs = tempfile::tempdir()?;
    let files = tempfile::tempdir()?;
    let image: Vec<u8> = (0..30_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let image_path = files.path().join("photo.png");
    std::fs::write(&image_path, &image)?;

    // Alice is a third-party user: her login itself goes to the provider
    // over TLS, so being online proves the handshake.
    let mut a = Live::start(&trusting(ALICE, "pw-a"), &dirs.path().join("a"))?;
    a.online().await?;
    let mut b = Live::start(&trusting(BOB, "pw-b"), &dirs.path().join("b"))?;
    b.online().await?;
    a.send(image_message(BOB, "tls-1", &image_path)).await?;
    let route = outcome(&mut a, "tls-1")
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    route.validate()?;
    let tls13 = TransportSecurity::Tls {
        version: TlsVersion::Tls13,
        pinned: false,
    };
    let http_hops: Vec<_> = route
        .hops
        .iter()
        .filter(|h| matches!(h.kind, HopKind::MediaHost | HopKind::Proxy))
        .collect();
    assert_eq!(http_hops.len(), 2, "{route:?}");
    assert!(http_hops.iter().all(|h| h.transport == tls13), "{route:?}");
    let m = received(&mut b, "picture tls-1").await?;
    assert_eq!(b.opened(&m.content.attachments[0])?, image);

    // Carol's client does not trust the CA: the upload is refused, typed,
    // and nothing goes out.
    let mut c = Live::start(&server.account(CAROL, "pw-c"), &dirs.path().join("c"))?;
    c.online().await?;
    c.send(image_message(ALICE, "tls-2", &image_path)).await?;
    let refused = outcome(&mut c, "tls-2").await?;
    let error = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        error.contains("certificate") || error.contains("tls"),
        "refused because of the certificate: {error:?}"
    );
    let drained = a.drain(std::time::Duration::from_secs(2)).await;
    assert!(
        !drained.iter().any(|e| matches!(e, koine_api::Event::MessageReceived(m) if m.content.text.contains("tls-2"))),
        "nothing was delivered"
    );
    Ok(())
}
