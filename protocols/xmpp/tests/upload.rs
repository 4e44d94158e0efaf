//! Attachments through HTTP upload (XEP-0363) on a real Prosody
//! (mod_http_file_share over HTTPS with the test CA): the slot, the verified
//! PUT, the link with out-of-band data (XEP-0066), the upload host on the
//! route of both sides, and the service's size limit as a typed failure.

mod support;

use koine_api::{
    Attachment, AttachmentSource, Command, Content, ConversationKey, Event, HopKind, LocalId,
    Notice, SendError, TlsVersion, TransportSecurity, Visibility,
};
use std::path::Path;
use std::process::Command as Process;
use support::{Prosody, UPLOAD_LIMIT, client};

fn with_file(to: &str, id: &str, text: &str, path: &Path, name: &str) -> Command {
    Command::SendMessage {
        local_id: LocalId::new(id),
        conversation: ConversationKey::new(to),
        content: Content {
            text: text.into(),
            attachments: vec![Attachment {
                name: name.into(),
                mime: String::new(),
                size: 0,
                source: AttachmentSource::LocalPath(path.display().to_string()),
                sha256: None,
            }],
        },
        reply_to: None,
    }
}

/// Bytes that differ at every position, so a truncated or shifted upload shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_goes_through_the_upload_service() {
    let server = Prosody::start();
    let (mut sa, pa, ja) = server.account("alice");
    // The plaintext upload path; sealed (`aesgcm://`) files under OMEMO are
    // checked in tests/omemo.rs.
    sa.set("omemo", "false");
    let (sb, pb, jb) = server.account("bob");
    let dir = tempfile::tempdir().expect("tmp");
    let mut a = client::start(sa, pa, dir.path().join("a"));
    let mut b = client::start(sb, pb, dir.path().join("b"));
    a.online().await;
    b.online().await;

    let photo = dir.path().join("photo.png");
    let bytes = pattern(300_000);
    std::fs::write(&photo, &bytes).expect("write file");
    a.send(with_file(
        jb.as_str(),
        "f-1",
        "look",
        &photo,
        "holiday photo.png",
    ))
    .await;
    let acked = a
        .wait_for(
            "ack",
            |e| matches!(e, Event::SendAcked { local_id, .. } if local_id.as_str() == "f-1"),
        )
        .await;
    let Event::SendAcked { route, .. } = acked else {
        unreachable!()
    };
    assert_eq!(route.validate(), Ok(()));
    assert_eq!(
        route.hosts().collect::<Vec<_>>(),
        [ja.domain(), "127.0.0.1"]
    );
    let media = &route.hops[1];
    assert_eq!(media.kind, HopKind::MediaHost);
    assert_eq!(
        media.reads,
        Visibility::Content,
        "no encryption: the host can read it"
    );
    assert_eq!(
        media.transport,
        TransportSecurity::Tls {
            version: TlsVersion::Tls13,
            pinned: false
        }
    );

    let got = b
        .wait_for(
            "the file",
            |e| matches!(e, Event::MessageReceived(m) if !m.content.attachments.is_empty()),
        )
        .await;
    let Event::MessageReceived(m) = got else {
        unreachable!()
    };
    assert_eq!(
        m.content.text, "look",
        "the link is not repeated in the text"
    );
    let att = &m.content.attachments[0];
    assert_eq!(att.name, "holiday photo.png");
    assert_eq!(att.mime, "image/png");
    let AttachmentSource::Remote(url) = &att.source else {
        panic!("a remote attachment: {att:?}")
    };
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    assert_eq!(m.route.validate(), Ok(()));
    assert_eq!(
        m.route.hops.last().map(|h| h.kind.clone()),
        Some(HopKind::MediaHost)
    );

    // What is behind the link is the file, byte for byte (fetched with the
    // test CA, verification on).
    let fetched = dir.path().join("fetched");
    let out = Process::new("curl")
        .args(["--silent", "--show-error", "--fail", "--cacert"])
        .arg(&server.ca_file)
        .arg("--output")
        .arg(&fetched)
        .arg(url)
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&fetched).expect("fetched"), bytes);

    // Over the service's limit: refused before any upload, with the limit.
    let big = dir.path().join("big.bin");
    std::fs::write(&big, pattern(UPLOAD_LIMIT as usize + 1)).expect("write");
    a.send(with_file(jb.as_str(), "f-2", "", &big, "big.bin"))
        .await;
    a.wait_for("too large", |e| {
        matches!(e, Event::SendFailed { local_id, error: SendError::TooLarge } if local_id.as_str() == "f-2")
    })
    .await;
    assert!(a.seen.iter().any(|e| matches!(
        e,
        Event::Notice(Notice::AttachmentTooLarge { max_bytes }) if *max_bytes == UPLOAD_LIMIT
    )));
    a.stop().await.expect("stop");
    b.stop().await.expect("stop");
}

/// The upload link is verified on its own: a certificate the user pinned for
/// the XMPP server does not make an unknown upload host trusted.
#[tokio::test(flavor = "multi_thread")]
async fn the_upload_host_certificate_is_verified() {
    let server = Prosody::start();
    let (mut sa, pa, _) = server.account("carol");
    let (_, _, jb) = server.account("bob");
    sa.0.remove("extra_ca_file");
    let dir = tempfile::tempdir().expect("tmp");
    let mut a = client::start(sa, pa, dir.path().join("a"));
    let prompt = match a
        .wait_for("pin prompt", |e| matches!(e, Event::PromptRaised(_)))
        .await
    {
        Event::PromptRaised(p) => p,
        _ => unreachable!(),
    };
    a.send(Command::AnswerPrompt {
        prompt: prompt.id,
        answer: koine_api::PromptAnswer::Confirm,
    })
    .await;
    a.online().await;
    let file = dir.path().join("note.txt");
    std::fs::write(&file, b"hello").expect("write");
    a.send(with_file(jb.as_str(), "f-3", "", &file, "note.txt"))
        .await;
    let failed = a
        .wait_for(
            "refused",
            |e| matches!(e, Event::SendFailed { local_id, .. } if local_id.as_str() == "f-3"),
        )
        .await;
    assert!(
        matches!(&failed, Event::SendFailed { error: SendError::Rejected(r), .. } if r == "upload certificate"),
        "{failed:?}"
    );
    assert!(
        !a.seen.iter().any(|e| matches!(e, Event::SendAcked { .. })),
        "nothing was sent"
    );
    a.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_shared_in_a_room() {
    let server = Prosody::start();
    let (sa, pa, _) = server.account("alice");
    let (sb, pb, _) = server.account("bob");
    let dir = tempfile::tempdir().expect("tmp");
    let mut a = client::start(sa, pa, dir.path().join("a"));
    let mut b = client::start(sb, pb, dir.path().join("b"));
    a.online().await;
    b.online().await;
    let room = format!("files@conference.{}", support::DOMAIN);
    for (c, nick) in [(&mut a, "Ann"), (&mut b, "Bob")] {
        c.send(Command::JoinRoom {
            room: format!("{room}/{nick}"),
        })
        .await;
        c.wait_for(
            "joined",
            |e| matches!(e, Event::ConversationUpserted(r) if r.key.as_str() == room && !r.read_only),
        )
        .await;
    }
    let file = dir.path().join("minutes.pdf");
    std::fs::write(&file, pattern(4096)).expect("write");
    a.send(with_file(&room, "r-1", "", &file, "minutes.pdf"))
        .await;
    let got = b
        .wait_for("the file in the room", |e| {
            matches!(e, Event::MessageReceived(m) if m.conversation.as_str() == room
                && !m.content.attachments.is_empty())
        })
        .await;
    let Event::MessageReceived(m) = got else {
        unreachable!()
    };
    assert_eq!(m.content.text, "", "a bare link is only the file");
    assert_eq!(m.sender_name.as_deref(), Some("Ann"));
    assert_eq!(m.content.attachments[0].name, "minutes.pdf");
    assert!(matches!(
        &m.content.attachments[0].source,
        AttachmentSource::Remote(u) if u.starts_with("https://")
    ));
    assert_eq!(m.route.validate(), Ok(()));
    assert_eq!(
        m.route.hops.last().map(|h| h.kind.clone()),
        Some(HopKind::MediaHost)
    );
    a.stop().await.expect("stop");
    b.stop().await.expect("stop");
}
