//! The interop model end to end against the real reference server process:
//! opt-in, requests, media, receipts, typing, block, identity changes,
//! pinning, crashes and restarts, and zero plaintext on the server.

mod common;

use common::{Live, Server, outcome, received, text};
use koine_api::{
    Attachment, AttachmentSource, ChatState, Command, Content, ConversationKey, Decision,
    DeliveryState, Event, HopKind, LocalId, Notice, PromptKind, RemoteId, RequestKind, SendError,
    SessionError, TransportSecurity, Verification,
};
use std::time::Duration;

const ALICE: &str = "koine:alice";
const BOB: &str = "+4915112345678";

fn setup() -> anyhow::Result<Server> {
    let s = Server::start()?;
    s.admin(&["add-user", ALICE, "pw-a"])?;
    s.admin(&["add-user", BOB, "pw-b"])?;
    s.admin(&["opt-in", BOB, "koine"])?;
    Ok(s)
}

fn noise_protocol(hop: &koine_api::Hop) -> String {
    match &hop.transport {
        TransportSecurity::Noise { protocol } => protocol.clone(),
        other => format!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_typed_not_opted_in_read_only_blocked() -> anyhow::Result<()> {
    let server = setup()?;
    server.admin(&["add-user", "+4930123456789", "pw-c"])?;
    let dirs = tempfile::tempdir()?;
    let mut b = Live::start(&server.account(BOB, "pw-b"), &dirs.path().join("b"))?;
    b.online().await?;
    let mut a = Live::start(&server.account(ALICE, "pw-a"), &dirs.path().join("a"))?;
    a.online().await?;
    // Carol never opted in to the provider.
    a.send(text("+4930123456789", "hello carol", "m1")).await?;
    assert_eq!(outcome(&mut a, "m1").await?, Err(SendError::NotOptedIn));
    // Nobody at all.
    a.send(text("+4930999999999", "anyone?", "m2")).await?;
    assert_eq!(
        outcome(&mut a, "m2").await?,
        Err(SendError::NoSuchRecipient)
    );
    // Third party to third party is not the gatekeeper's business.
    server.admin(&["add-user", "koine:dave", "pw-d"])?;
    a.send(text("koine:dave", "hi dave", "m3")).await?;
    assert!(matches!(
        outcome(&mut a, "m3").await?,
        Err(SendError::Rejected(_))
    ));
    // Bob opted in: fine. Then he opts out: the chat becomes read-only.
    a.send(text(BOB, "hi bob", "m4")).await?;
    assert!(outcome(&mut a, "m4").await?.is_ok());
    server.admin(&["opt-out", BOB, "koine"])?;
    a.send(text(BOB, "still there?", "m5")).await?;
    let mut read_only = false;
    let error = a
        .wait("m5 refused", |e| match e {
            Event::ConversationUpserted(c) if c.read_only => {
                read_only = true;
                None
            }
            Event::SendFailed { local_id, error } if local_id.as_str() == "m5" => {
                Some(error.clone())
            }
            _ => None,
        })
        .await?;
    assert_eq!(error, SendError::ReadOnly);
    assert!(read_only, "the chat is marked read-only");
    // Opted in again, Bob blocks Alice through a request answer.
    server.admin(&["opt-in", BOB, "koine"])?;
    let req = b
        .wait("request from alice", |e| match e {
            Event::RequestReceived(r) => Some(r.clone()),
            _ => None,
        })
        .await?;
    b.send(Command::AnswerRequest {
        request: req.id.clone(),
        decision: Decision::Block,
    })
    .await?;
    b.wait("resolved", |e| {
        matches!(e, Event::RequestResolved(_)).then_some(())
    })
    .await?;
    a.send(text(BOB, "let me in", "m6")).await?;
    assert_eq!(outcome(&mut a, "m6").await?, Err(SendError::Blocked));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_third_party_sender_is_a_request_a_known_one_is_not() -> anyhow::Result<()> {
    let server = setup()?;
    let dirs = tempfile::tempdir()?;
    let mut b = Live::start(&server.account(BOB, "pw-b"), &dirs.path().join("b"))?;
    b.online().await?;
    let mut a = Live::start(&server.account(ALICE, "pw-a"), &dirs.path().join("a"))?;
    a.online().await?;
    a.send(text(BOB, "hello from a stranger", "s1")).await?;
    assert!(outcome(&mut a, "s1").await?.is_ok());
    let req = b
        .wait("a request", |e| match e {
            Event::RequestReceived(r) => Some(r.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(
        req.kind,
        RequestKind::ThirdPartyOptIn {
            provider: "koine".into()
        }
    );
    assert_eq!(req.from.to_string(), ALICE);
    assert_eq!(req.preview.as_deref(), Some("hello from a stranger"));
    received(&mut b, "hello from a stranger").await?;
    b.send(Command::AnswerRequest {
        request: req.id.clone(),
        decision: Decision::Accept,
    })
    .await?;
    // The session reads commands and the network concurrently: only once
    // the answer is taken does "accepted" hold for what comes next.
    b.wait("the request resolved", |e| match e {
        Event::RequestResolved(id) if *id == req.id => Some(()),
        _ => None,
    })
    .await?;
    a.send(text(BOB, "second", "s2")).await?;
    let later = b.drain(Duration::from_secs(2)).await;
    assert!(
        later
            .iter()
            .any(|e| matches!(e, Event::MessageReceived(m) if m.content.text == "second"))
    );
    assert!(!later.iter().any(|e| matches!(e, Event::RequestReceived(_))));
    Ok(())
}

fn attachment(path: &std::path::Path, mime: &str) -> Attachment {
    Attachment {
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        mime: mime.into(),
        size: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        source: AttachmentSource::LocalPath(path.to_string_lossy().into_owned()),
        sha256: None,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[allow(clippy::too_many_arguments)]
async fn media_round(
    from: &mut Live,
    to: &mut Live,
    from_key: &str,
    to_key: &str,
    tag: &str,
    secret_text: &str,
    image: &Vec<u8>,
    file: &Vec<u8>,
    image_path: &std::path::Path,
    file_path: &std::path::Path,
) -> anyhow::Result<()> {
    let body = format!("{secret_text} {tag}");
    from.send(Command::SendMessage {
        local_id: LocalId::new(format!("media-{tag}")),
        conversation: ConversationKey::new(to_key),
        content: Content {
            text: body.clone(),
            attachments: vec![
                attachment(image_path, "image/png"),
                attachment(file_path, "application/pdf"),
            ],
        },
        reply_to: None,
    })
    .await?;
    let route = outcome(from, &format!("media-{tag}"))
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    route.validate()?;
    assert!(route.is_end_to_end());
    let kinds: Vec<_> = route.hops.iter().map(|h| h.kind.clone()).collect();
    assert_eq!(
        kinds,
        vec![
            HopKind::ClientLink,
            HopKind::MediaHost,
            HopKind::MediaHost,
            HopKind::Proxy
        ]
    );
    let m = received(to, &body).await?;
    m.route.validate()?;
    assert_eq!(
        m.route.hops.last().map(|h| h.sees_your_ip),
        Some(true),
        "the proxy sees the recipient"
    );
    assert_eq!(m.content.attachments.len(), 2);
    for (att, want) in m.content.attachments.iter().zip([image, file]) {
        assert_eq!(&to.opened(att)?, want);
        let AttachmentSource::Sealed(p) = &att.source else {
            anyhow::bail!("attachment not sealed: {att:?}");
        };
        let raw = std::fs::read(p)?;
        assert!(!contains(&raw, want), "the file is not sealed at rest");
    }
    assert_eq!(m.content.attachments[0].mime, "image/png");
    // Delivery receipt comes back by itself; typing and read on request.
    from.wait("delivered", |e| match e {
        Event::DeliveryUpdated {
            remote_id,
            state: DeliveryState::Delivered,
            ..
        } if remote_id.as_str() == format!("media-{tag}") => Some(()),
        _ => None,
    })
    .await?;
    to.send(Command::SetChatState {
        conversation: ConversationKey::new(from_key),
        state: ChatState::Composing,
    })
    .await?;
    from.wait("typing", |e| match e {
        Event::ChatStateChanged {
            state: ChatState::Composing,
            ..
        } => Some(()),
        _ => None,
    })
    .await?;
    to.send(Command::MarkRead {
        conversation: ConversationKey::new(from_key),
        up_to: RemoteId::new(format!("media-{tag}")),
    })
    .await?;
    from.wait("read", |e| match e {
        Event::DeliveryUpdated {
            state: DeliveryState::Read,
            ..
        } => Some(()),
        _ => None,
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_receipts_typing_both_ways_and_zero_plaintext_on_the_server() -> anyhow::Result<()> {
    let server = setup()?;
    let dirs = tempfile::tempdir()?;
    let files = tempfile::tempdir()?;
    let mut a = Live::start(&server.account(ALICE, "pw-a"), &dirs.path().join("a"))?;
    a.online().await?;
    let mut b = Live::start(&server.account(BOB, "pw-b"), &dirs.path().join("b"))?;
    b.online().await?;

    // Distinctive plaintexts to search for afterwards.
    let secret_text = "PLAINTEXT-CANARY-text-7f3a9c";
    let image: Vec<u8> = (0..50_000u32)
        .flat_map(|i| format!("IMG-CANARY-{i:08}").into_bytes())
        .collect();
    let file: Vec<u8> = b"FILE-CANARY-0123456789abcdef".repeat(3000);
    let image_path = files.path().join("photo.png");
    let file_path = files.path().join("report.pdf");
    std::fs::write(&image_path, &image)?;
    std::fs::write(&file_path, &file)?;

    media_round(
        &mut a,
        &mut b,
        ALICE,
        BOB,
        "ab",
        secret_text,
        &image,
        &file,
        &image_path,
        &file_path,
    )
    .await?;
    media_round(
        &mut b,
        &mut a,
        BOB,
        ALICE,
        "ba",
        secret_text,
        &image,
        &file,
        &image_path,
        &file_path,
    )
    .await?;

    // The server's database (with its WAL) and log hold no plaintext.
    let mut haystacks = Vec::new();
    for entry in std::fs::read_dir(server.dir.path())? {
        let p = entry?.path();
        haystacks.push((p.clone(), std::fs::read(&p)?));
    }
    assert!(haystacks.iter().any(|(p, _)| p.ends_with("server.log")));
    let needles: [&[u8]; 4] = [
        secret_text.as_bytes(),
        b"IMG-CANARY-",
        b"FILE-CANARY-",
        b"hello",
    ];
    let mut hits = 0;
    for (path, bytes) in &haystacks {
        for n in needles {
            if contains(bytes, n) {
                hits += 1;
                eprintln!(
                    "plaintext {:?} found in {}",
                    String::from_utf8_lossy(n),
                    path.display()
                );
            }
        }
    }
    assert_eq!(hits, 0, "zero plaintext on the server");
    // ...while the media ciphertext really is stored there.
    let stored: usize = haystacks.iter().map(|(_, b)| b.len()).sum();
    assert!(stored > 2 * image.len(), "media stored (as ciphertext)");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_change_raises_a_notice_and_marks_the_chat() -> anyhow::Result<()> {
    let server = setup()?;
    let dirs = tempfile::tempdir()?;
    let mut a = Live::start(&server.account(ALICE, "pw-a"), &dirs.path().join("a"))?;
    a.online().await?;
    let mut b = Live::start(&server.account(BOB, "pw-b"), &dirs.path().join("b"))?;
    b.online().await?;
    a.send(text(BOB, "before", "i1")).await?;
    outcome(&mut a, "i1")
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    received(&mut b, "before").await?;
    b.send(text(ALICE, "reply", "i2")).await?;
    let m = received(&mut a, "reply").await?;
    assert_eq!(m.route.end_to_end.verification, Verification::Unverified);
    let safety = m
        .route
        .end_to_end
        .fingerprint
        .clone()
        .expect("safety number in the route");
    assert_eq!(safety.split(' ').count(), 12);
    // Alice compares the safety number.
    a.send(Command::OpenConversation {
        with: koine_api::Address::parse_any(BOB)?,
    })
    .await?;
    let prompt = a
        .wait("safety number prompt", |e| match e {
            Event::PromptRaised(p) => Some(p.clone()),
            _ => None,
        })
        .await?;
    assert!(
        matches!(&prompt.kind, PromptKind::CompareSafetyNumber { number, .. } if *number == safety)
    );
    a.send(Command::AnswerPrompt {
        prompt: prompt.id,
        answer: koine_api::PromptAnswer::Confirm,
    })
    .await?;
    b.send(text(ALICE, "verified now", "i3")).await?;
    let m = received(&mut a, "verified now").await?;
    assert_eq!(m.route.end_to_end.verification, Verification::Verified);

    // Bob reinstalls: a fresh data dir and keyring scope, a new identity.
    drop(b);
    let mut b2 = Live::start(
        &server.account(BOB, "pw-b"),
        &dirs.path().join("b-reinstalled"),
    )?;
    b2.online().await?;
    // Alice still has the old session; Bob's new device writes first.
    b2.send(text(ALICE, "new phone", "i4")).await?;
    outcome(&mut b2, "i4")
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut notice = false;
    let mut prompt = false;
    let m = a
        .wait("message from the new identity", |e| match e {
            Event::Notice(Notice::IdentityKeyChanged { contact }) if contact.to_string() == BOB => {
                notice = true;
                None
            }
            Event::PromptRaised(p) if matches!(p.kind, PromptKind::IdentityChanged { .. }) => {
                prompt = true;
                None
            }
            Event::MessageReceived(m) if m.content.text == "new phone" => Some(m.clone()),
            _ => None,
        })
        .await?;
    assert!(notice && prompt, "notice {notice}, prompt {prompt}");
    assert_eq!(
        m.route.end_to_end.verification,
        Verification::IdentityChanged
    );
    assert_ne!(
        m.route.end_to_end.fingerprint.as_deref(),
        Some(safety.as_str())
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_contact_learns_the_key_the_user_confirms_it_then_ik_and_a_wrong_key_is_refused()
-> anyhow::Result<()> {
    let server = setup()?;
    let dirs = tempfile::tempdir()?;
    let mut acc = server.account(ALICE, "pw-a");
    acc.settings.set("server_key", "");
    let dir = dirs.path().join("a");
    let mut a = Live::start(&acc, &dir)?;
    // XX tells the key; the user confirms it; the password then goes over
    // IK to exactly that key.
    let prompt = a
        .wait("the server key prompt", |e| match e {
            Event::PromptRaised(p) if matches!(p.kind, PromptKind::PinCertificate { .. }) => {
                Some(p.id.clone())
            }
            _ => None,
        })
        .await?;
    a.send(Command::AnswerPrompt {
        prompt,
        answer: koine_api::PromptAnswer::Confirm,
    })
    .await?;
    assert_eq!(
        noise_protocol(&a.online().await?),
        "Noise_IK_25519_AESGCM_SHA256"
    );
    assert!(a.ended().await?.is_ok());
    let mut a = Live::start(&acc, &dir)?;
    assert_eq!(
        noise_protocol(&a.online().await?),
        "Noise_IK_25519_AESGCM_SHA256"
    );
    drop(a);
    // A configured key that the server does not hold.
    let mut wrong = server.account(ALICE, "pw-a");
    wrong.settings.set("server_key", "11".repeat(32));
    let w = Live::start(&wrong, &dirs.path().join("w"))?;
    assert!(matches!(w.ended().await?, Err(SessionError::Untrusted(_))));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_sender_retries_and_the_message_arrives_exactly_once() -> anyhow::Result<()> {
    let server = setup()?;
    let dirs = tempfile::tempdir()?;
    let mut b = Live::start(&server.account(BOB, "pw-b"), &dirs.path().join("b"))?;
    b.online().await?;
    b.send(text(ALICE, "hi alice", "k0")).await?;
    let dir = dirs.path().join("a");
    for round in 0..3 {
        let mut a = Live::start(&server.account(ALICE, "pw-a"), &dir)?;
        a.online().await?;
        // Send, then die at once: before, during or after the store.
        a.send(text(BOB, "exactly once", "k1")).await?;
        tokio::time::sleep(Duration::from_millis(round * 3)).await;
        a.kill();
    }
    // The engine replays its outbox after the restart: same local id.
    let mut a = Live::start(&server.account(ALICE, "pw-a"), &dir)?;
    a.online().await?;
    a.send(text(BOB, "exactly once", "k1")).await?;
    outcome(&mut a, "k1")
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let events = b.drain(Duration::from_secs(3)).await;
    let copies = events
        .iter()
        .filter(|e| matches!(e, Event::MessageReceived(m) if m.content.text == "exactly once"))
        .count();
    assert_eq!(copies, 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restart_mid_conversation_loses_nothing() -> anyhow::Result<()> {
    let mut server = setup()?;
    let dirs = tempfile::tempdir()?;
    let (da, db) = (dirs.path().join("a"), dirs.path().join("b"));
    // The server comes back on the same ports with the same key, so these
    // settings stay valid across the restart.
    let (acc_a, acc_b) = (server.account(ALICE, "pw-a"), server.account(BOB, "pw-b"));
    let mut a = Live::start(&server.account(ALICE, "pw-a"), &da)?;
    a.online().await?;
    let mut b = Live::start(&server.account(BOB, "pw-b"), &db)?;
    b.online().await?;
    a.send(text(BOB, "one", "r1")).await?;
    outcome(&mut a, "r1")
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    received(&mut b, "one").await?;
    // Bob goes away; Alice's next message is stored, then the server dies.
    drop(b);
    a.send(text(BOB, "two", "r2")).await?;
    outcome(&mut a, "r2")
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    server.kill();
    // The session ends by itself with a network (retryable) error.
    let reason = a
        .wait("offline", |e| match e {
            Event::ConnectionChanged(koine_api::ConnectionState::Offline { reason }) => {
                Some(reason.clone())
            }
            _ => None,
        })
        .await?;
    assert_eq!(reason, "network");
    let end = tokio::time::timeout(Duration::from_secs(10), a.task).await??;
    assert!(
        matches!(&end, Err(e) if e.is_retryable()),
        "a retryable end: {end:?}"
    );
    // Reconnect with backoff until the server is back (as the engine does).
    let restart = tokio::task::spawn_blocking(move || {
        std::thread::sleep(Duration::from_millis(500));
        server.spawn(Some(())).map(|_| server)
    });
    let mut delay = Duration::from_millis(100);
    let mut a = loop {
        let mut s = Live::start(&acc_a, &da)?;
        match s.online().await {
            Ok(_) => break s,
            Err(_) => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        }
    };
    let _server = restart.await??;
    a.send(text(BOB, "three", "r3")).await?;
    outcome(&mut a, "r3")
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut b = Live::start(&acc_b, &db)?;
    b.online().await?;
    let events = b.drain(Duration::from_secs(3)).await;
    let texts: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::MessageReceived(m) => Some(m.content.text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, vec!["two".to_owned(), "three".to_owned()]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_rate_limits_senders() -> anyhow::Result<()> {
    let server = Server::start_with(&["--rate", "1", "--burst", "3"])?;
    server.admin(&["add-user", ALICE, "pw-a"])?;
    server.admin(&["add-user", BOB, "pw-b"])?;
    server.admin(&["opt-in", BOB, "koine"])?;
    let dirs = tempfile::tempdir()?;
    let mut b = Live::start(&server.account(BOB, "pw-b"), &dirs.path().join("b"))?;
    b.online().await?;
    let mut a = Live::start(&server.account(ALICE, "pw-a"), &dirs.path().join("a"))?;
    a.online().await?;
    for i in 0..6 {
        a.send(text(BOB, &format!("burst {i}"), &format!("b{i}")))
            .await?;
    }
    let mut limited = 0;
    for i in 0..6 {
        if outcome(&mut a, &format!("b{i}")).await? == Err(SendError::RateLimited) {
            limited += 1;
        }
    }
    assert!(limited >= 2, "{limited} of 6 were rate limited");
    Ok(())
}

/// The engine goes away after the plugin decrypted a message but before it
/// stored it: the message must come again on the next session, not be
/// acknowledged as a duplicate and lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_the_engine_never_stored_comes_again() -> anyhow::Result<()> {
    let server = setup()?;
    let dirs = tempfile::tempdir()?;
    let (da, db) = (dirs.path().join("a"), dirs.path().join("b"));
    let acc_b = server.account(BOB, "pw-b");
    let mut a = Live::start(&server.account(ALICE, "pw-a"), &da)?;
    a.online().await?;
    let mut b = Live::start(&acc_b, &db)?;
    b.online().await?;
    a.send(text(BOB, "one", "r1")).await?;
    received(&mut b, "one").await?;
    // Bob's engine stops reading while his session stays connected.
    let Live {
        commands,
        events,
        task,
        ..
    } = b;
    drop(events);
    a.send(text(BOB, "two", "r2")).await?;
    outcome(&mut a, "r2")
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // The session cannot hand "two" over, so it ends without acknowledging.
    let end = tokio::time::timeout(Duration::from_secs(20), task).await??;
    assert!(
        end.is_err(),
        "the session ends when the engine is gone: {end:?}"
    );
    drop(commands);
    let mut b = Live::start(&acc_b, &db)?;
    b.online().await?;
    let again = received(&mut b, "two").await?;
    assert_eq!(again.remote_id.as_str(), "r2");
    Ok(())
}
