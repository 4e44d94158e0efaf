//! OMEMO (legacy `eu.siacs.conversations.axolotl`) interop with an
//! independent implementation: slixmpp + slixmpp-omemo (python-omemo with
//! its oldmemo backend) through a real Prosody on loopback.
//!
//! Koine → peer and peer → Koine, plaintext asserted on both sides, both the
//! session-starting (prekey) message and the ones after; the routes say
//! OMEMO with the peer's fingerprint; after Koine restarts, its stored
//! sessions still open the peer's next message.
//!
//! The peer's venv comes from `scripts/deps.d/xmpp.sh` (pinned versions) under
//! `$KOINE_CACHE/venvs/xmpp-omemo`, or `KOINE_XMPP_OMEMO_VENV_BIN`.

mod support;

use koine_api::{
    Address, Command, Content, ConversationKey, E2eScheme, Event, LocalId, Message, Verification,
};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use support::{Prosody, client};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin};
use tokio::sync::mpsc;

fn python() -> PathBuf {
    if let Ok(bin) = std::env::var("KOINE_XMPP_OMEMO_VENV_BIN") {
        return PathBuf::from(bin).join("python");
    }
    let cache = std::env::var("KOINE_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into()))
                .join(".cache/koine")
        });
    cache.join("venvs/xmpp-omemo/bin/python")
}

/// The slixmpp-omemo peer, speaking JSON lines.
struct Peer {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::UnboundedReceiver<serde_json::Value>,
    seen: Vec<serde_json::Value>,
}

impl Peer {
    fn start(server: &Prosody, jid: &str, password: &str, state: PathBuf) -> Self {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/omemo_peer.py");
        let mut child = tokio::process::Command::new(python())
            .arg(script)
            .args([jid, password, "127.0.0.1", &server.c2s_port.to_string()])
            .arg(&server.ca_file)
            .arg(state)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "start the slixmpp-omemo peer with {} ({e}); run scripts/deps.d/xmpp.sh",
                    python().display()
                )
            });
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut r = BufReader::new(stdout).lines();
            while let Ok(Some(l)) = r.next_line().await {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&l)
                    && tx.send(v).is_err()
                {
                    break;
                }
            }
        });
        Self {
            child,
            stdin,
            lines,
            seen: Vec::new(),
        }
    }

    async fn wait_for(
        &mut self,
        what: &str,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        if let Some(v) = self.seen.iter().find(|v| pred(v)) {
            return v.clone();
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(v)) => {
                    assert!(v.get("error").is_none(), "peer error: {v}");
                    self.seen.push(v.clone());
                    if pred(&v) {
                        return v;
                    }
                }
                Ok(None) => panic!("peer exited while waiting for {what}: {:?}", self.seen),
                Err(_) => panic!("timed out waiting for the peer's {what}: {:?}", self.seen),
            }
        }
    }

    async fn send(&mut self, to: &str, text: &str) {
        let line = serde_json::json!({ "send": text, "to": to }).to_string() + "\n";
        self.stdin
            .write_all(line.as_bytes())
            .await
            .expect("peer stdin");
        self.stdin.flush().await.expect("flush");
    }

    async fn received(&mut self, text: &str) -> serde_json::Value {
        self.wait_for(text, |v| v["received"] == text).await
    }
}

fn send(to: &str, id: &str, text: &str) -> Command {
    Command::SendMessage {
        local_id: LocalId::new(id),
        conversation: ConversationKey::new(to),
        content: Content::text(text),
        reply_to: None,
    }
}

async fn received(c: &mut client::Client, text: &str) -> Message {
    let t = text.to_owned();
    match c
        .wait_for(
            text,
            move |e| matches!(e, Event::MessageReceived(m) if m.content.text == t),
        )
        .await
    {
        Event::MessageReceived(m) => m,
        _ => unreachable!(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn omemo_both_ways_with_slixmpp_omemo() {
    let server = Prosody::start();
    let (sa, pa, ja) = server.account("alice");
    let password_b = format!("pw-{}", uuid::Uuid::new_v4());
    let jb = server.register("bob", support::DOMAIN, &password_b);
    let dir = tempfile::tempdir().expect("tmp");

    let mut bob = Peer::start(
        &server,
        jb.as_str(),
        &password_b,
        dir.path().join("bob.json"),
    );
    let bob_ready = bob.wait_for("ready", |v| v.get("ready").is_some()).await;
    let bob_device = bob_ready["ready"].as_u64().expect("device id");

    let account = format!("xmpp-{}", uuid::Uuid::new_v4());
    let mut alice = client::start_as(&account, sa.clone(), pa.clone(), dir.path().join("a"));
    alice.online().await;

    // Koine → slixmpp-omemo: the first message starts the session.
    alice
        .send(send(jb.as_str(), "k1", "hello from koine"))
        .await;
    let acked = alice
        .wait_for(
            "ack",
            |e| matches!(e, Event::SendAcked { local_id, .. } if local_id.as_str() == "k1"),
        )
        .await;
    let Event::SendAcked { route, .. } = acked else {
        unreachable!()
    };
    assert_eq!(route.end_to_end.scheme, E2eScheme::Omemo, "{route:?}");
    assert_eq!(route.end_to_end.verification, Verification::Unverified);
    assert_eq!(route.validate(), Ok(()));
    assert!(route.is_end_to_end(), "{route:?}");
    let fingerprint = route
        .end_to_end
        .fingerprint
        .clone()
        .expect("the peer's fingerprint");
    assert!(
        fingerprint.starts_with(&format!("{bob_device}: ")),
        "{fingerprint}"
    );
    let got = bob.received("hello from koine").await;
    assert_eq!(got["encrypted"], true, "{got}");
    assert_eq!(got["from"], ja.as_str());

    // slixmpp-omemo → Koine.
    bob.send(ja.as_str(), "hello from slixmpp").await;
    let m = received(&mut alice, "hello from slixmpp").await;
    assert_eq!(m.route.end_to_end.scheme, E2eScheme::Omemo);
    assert_eq!(
        m.route.end_to_end.fingerprint.as_deref(),
        Some(fingerprint.as_str())
    );
    assert_eq!(m.route.validate(), Ok(()));

    // The established sessions, both ways.
    alice
        .send(send(jb.as_str(), "k2", "second from koine"))
        .await;
    assert_eq!(bob.received("second from koine").await["encrypted"], true);
    bob.send(ja.as_str(), "second from slixmpp").await;
    received(&mut alice, "second from slixmpp").await;

    // The conversation's route shows OMEMO with the fingerprint.
    let conv = alice
        .wait_for("conversation", |e| {
            matches!(e, Event::ConversationUpserted(c)
                if c.key.as_str() == jb.as_str()
                    && c.route.end_to_end.scheme == E2eScheme::Omemo
                    && c.route.end_to_end.fingerprint.is_some())
        })
        .await;
    let Event::ConversationUpserted(conv) = conv else {
        unreachable!()
    };
    assert_eq!(
        conv.route.end_to_end.fingerprint.as_deref(),
        Some(fingerprint.as_str())
    );
    assert_eq!(conv.route.validate(), Ok(()));

    // Opening the conversation asks to compare the fingerprints; the user
    // says they match: the conversation is verified.
    alice
        .send(Command::OpenConversation {
            with: Address::Jid(jb.clone()),
        })
        .await;
    let prompt = alice
        .wait_for("the comparison", |e| {
            matches!(e, Event::PromptRaised(p)
                if matches!(&p.kind, koine_api::PromptKind::CompareSafetyNumber { .. }))
        })
        .await;
    let Event::PromptRaised(prompt) = prompt else {
        unreachable!()
    };
    assert_eq!(
        prompt.kind,
        koine_api::PromptKind::CompareSafetyNumber {
            with: Address::Jid(jb.clone()),
            number: fingerprint.clone(),
        }
    );
    alice
        .send(Command::AnswerPrompt {
            prompt: prompt.id,
            answer: koine_api::PromptAnswer::Confirm,
        })
        .await;
    alice
        .wait_for("verified", |e| {
            matches!(e, Event::ConversationUpserted(c)
                if c.key.as_str() == jb.as_str()
                    && c.route.end_to_end.verification == Verification::Verified)
        })
        .await;
    // Verification can be taken back, and given again.
    alice
        .send(Command::SetVerified {
            with: Address::Jid(jb.clone()),
            verified: false,
        })
        .await;
    alice
        .send(Command::SetVerified {
            with: Address::Jid(jb.clone()),
            verified: true,
        })
        .await;

    // A file: sealed with AES-256-GCM, uploaded, the `aesgcm://` link in
    // the encrypted body; the peer downloads it and opens it.
    let file = dir.path().join("notes.txt");
    let bytes: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&file, &bytes).expect("file");
    alice
        .send(Command::SendMessage {
            local_id: LocalId::new("k-file"),
            conversation: ConversationKey::new(jb.as_str()),
            content: Content {
                text: String::new(),
                attachments: vec![koine_api::Attachment {
                    name: "notes.txt".into(),
                    mime: String::new(),
                    size: 0,
                    source: koine_api::AttachmentSource::LocalPath(file.display().to_string()),
                    sha256: None,
                }],
            },
            reply_to: None,
        })
        .await;
    let acked = alice
        .wait_for(
            "the file's ack",
            |e| matches!(e, Event::SendAcked { local_id, .. } if local_id.as_str() == "k-file"),
        )
        .await;
    let Event::SendAcked { route, .. } = acked else {
        unreachable!()
    };
    assert_eq!(route.validate(), Ok(()));
    assert!(
        route.is_end_to_end(),
        "the upload host stores ciphertext only: {route:?}"
    );
    let got = bob.wait_for("the file", |v| v.get("file").is_some()).await;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(got["file"], hex.as_str(), "the peer opened the same bytes");
    assert!(
        got["link"]
            .as_str()
            .is_some_and(|l| l.starts_with("aesgcm://") && l.contains("/notes.txt#")),
        "{got}"
    );

    // Koine restarts: its sessions and identity come back from the sealed
    // store (key in the keyring).
    alice.stop().await.expect("stops");
    let mut alice = client::start_as(&account, sa, pa, dir.path().join("a"));
    alice.online().await;
    bob.send(ja.as_str(), "after the restart").await;
    let m = received(&mut alice, "after the restart").await;
    assert_eq!(m.route.end_to_end.scheme, E2eScheme::Omemo);
    assert_eq!(
        m.route.end_to_end.verification,
        Verification::Verified,
        "the trust decision is kept"
    );
    alice
        .send(send(jb.as_str(), "k3", "koine after the restart"))
        .await;
    assert_eq!(
        bob.received("koine after the restart").await["encrypted"],
        true
    );

    drop(bob.stdin);
    let _ = tokio::time::timeout(Duration::from_secs(10), bob.child.wait()).await;
    alice.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_identity_change_is_told_and_asked_about() {
    let server = Prosody::start();
    let (sa, pa, ja) = server.account("alice");
    let (sb, pb, jb) = server.account("bob");
    let dir = tempfile::tempdir().expect("tmp");
    let mut a = client::start(sa, pa, dir.path().join("a"));
    let mut b = client::start(sb.clone(), pb.clone(), dir.path().join("b"));
    a.online().await;
    b.online().await;
    b.send(send(ja.as_str(), "b1", "first identity")).await;
    let m = received(&mut a, "first identity").await;
    assert_eq!(m.route.end_to_end.scheme, E2eScheme::Omemo);
    assert_eq!(m.route.end_to_end.verification, Verification::Unverified);
    let before = m.route.end_to_end.fingerprint.expect("fingerprint");

    // Bob's keys are lost (same device id, new identity key).
    b.stop().await.expect("stops");
    std::fs::remove_file(dir.path().join("b/omemo.sqlite")).expect("remove the key store");
    let mut b = client::start(sb, pb, dir.path().join("b"));
    b.online().await;
    b.send(send(ja.as_str(), "b2", "second identity")).await;
    let m = received(&mut a, "second identity").await;
    assert_eq!(
        m.route.end_to_end.verification,
        Verification::IdentityChanged,
        "{:?}",
        m.route
    );
    let after = m.route.end_to_end.fingerprint.clone().expect("fingerprint");
    assert_ne!(before, after);
    a.wait_for("the notice", |e| {
        matches!(e, Event::Notice(koine_api::Notice::IdentityKeyChanged { contact })
            if contact.to_string() == jb.as_str())
    })
    .await;
    let prompt = a
        .wait_for("the prompt", |e| {
            matches!(e, Event::PromptRaised(p)
                if matches!(&p.kind, koine_api::PromptKind::IdentityChanged { .. }))
        })
        .await;
    let Event::PromptRaised(prompt) = prompt else {
        unreachable!()
    };
    let koine_api::PromptKind::IdentityChanged {
        new_fingerprint, ..
    } = &prompt.kind
    else {
        unreachable!()
    };
    assert_eq!(
        *new_fingerprint, after,
        "the prompt shows the new fingerprint"
    );

    // Nothing goes to the changed key before the user accepts it.
    a.send(send(jb.as_str(), "a0", "too early")).await;
    a.wait_for("refused", |e| {
        matches!(e, Event::SendFailed { local_id, error: koine_api::SendError::IdentityChanged { .. } }
            if local_id.as_str() == "a0")
    })
    .await;

    // The user accepts the new key: trusted (unverified) again.
    a.send(Command::AnswerPrompt {
        prompt: prompt.id.clone(),
        answer: koine_api::PromptAnswer::Confirm,
    })
    .await;
    a.wait_for("trusted again", |e| {
        matches!(e, Event::ConversationUpserted(c)
            if c.key.as_str() == jb.as_str()
                && c.route.end_to_end.verification == Verification::Unverified
                && c.route.end_to_end.fingerprint.as_deref() == Some(after.as_str()))
    })
    .await;
    // And the conversation goes on both ways with the new session.
    a.send(send(jb.as_str(), "a1", "welcome back")).await;
    received(&mut b, "welcome back").await;
    a.stop().await.expect("stops");
    b.stop().await.expect("stops");
}

/// A contact Koine encrypted to loses their device list (the PEP node is
/// deleted; a query gets an error): after a restart, when the list is
/// known only to be missing, the next message fails with a reason instead
/// of leaving in plaintext.
#[tokio::test(flavor = "multi_thread")]
async fn a_contact_who_used_omemo_never_gets_plaintext_when_the_list_is_gone() {
    let server = Prosody::start();
    let (sa, pa, _) = server.account("alice");
    let (sb, pb, jb) = server.account("bob");
    let dir = tempfile::tempdir().expect("tmp");
    let account = format!("xmpp-{}", uuid::Uuid::new_v4());
    let mut bob = client::start(sb.clone(), pb.clone(), dir.path().join("b"));
    bob.online().await;
    let mut alice = client::start_as(&account, sa.clone(), pa.clone(), dir.path().join("a"));
    alice.online().await;

    alice.send(send(jb.as_str(), "k1", "encrypted first")).await;
    let acked = alice
        .wait_for(
            "ack",
            |e| matches!(e, Event::SendAcked { local_id, .. } if local_id.as_str() == "k1"),
        )
        .await;
    let Event::SendAcked { route, .. } = acked else {
        unreachable!()
    };
    assert!(route.is_end_to_end(), "{route:?}");
    bob.stop().await.expect("stop");
    alice.stop().await.expect("stop");

    let mut raw_bob = support::raw::RawPeer::login(&sb, &pb).await;
    raw_bob
        .iq(
            "set",
            None,
            "<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'>\
             <delete node='eu.siacs.conversations.axolotl.devicelist'/></pubsub>",
        )
        .await;

    let mut alice = client::start_as(&account, sa, pa, dir.path().join("a"));
    alice.online().await;
    alice
        .send(send(jb.as_str(), "k2", "must stay secret"))
        .await;
    let outcome = alice
        .wait_for("k2 settled", |e| {
            matches!(e, Event::SendAcked { local_id, .. } | Event::SendFailed { local_id, .. }
                if local_id.as_str() == "k2")
        })
        .await;
    assert!(
        matches!(outcome, Event::SendFailed { .. }),
        "sent without encryption: {outcome:?}"
    );
    // The user is asked; only their explicit answer sends this one message
    // in plaintext, and its route then says so.
    let asked = alice
        .wait_for("the plaintext question", |e| {
            matches!(e, Event::PromptRaised(p)
                if matches!(&p.kind, koine_api::PromptKind::SendUnencrypted { to, .. }
                    if to == &Address::Jid(jb.clone())))
        })
        .await;
    let Event::PromptRaised(prompt) = asked else {
        unreachable!()
    };
    alice
        .send(Command::AnswerPrompt {
            prompt: prompt.id,
            answer: koine_api::PromptAnswer::Confirm,
        })
        .await;
    let sent = alice
        .wait_for(
            "k2 sent after the answer",
            |e| matches!(e, Event::SendAcked { local_id, .. } if local_id.as_str() == "k2"),
        )
        .await;
    let Event::SendAcked { route, .. } = sent else {
        unreachable!()
    };
    assert!(
        !route.is_end_to_end(),
        "the route says plaintext: {route:?}"
    );
    alice.stop().await.expect("stop");
}

/// A message sealed with OMEMO, then replayed by the engine after a
/// restart (the app stopped before it stored the acknowledgement), is
/// acknowledged again on the OMEMO route it took, not on a plaintext one.
#[tokio::test(flavor = "multi_thread")]
async fn a_replay_after_a_restart_is_acknowledged_on_the_route_it_took() {
    let server = Prosody::start();
    let (sa, pa, _ja) = server.account("alice");
    let password_b = format!("pw-{}", uuid::Uuid::new_v4());
    let jb = server.register("bob", support::DOMAIN, &password_b);
    let dir = tempfile::tempdir().expect("tmp");
    let mut bob = Peer::start(
        &server,
        jb.as_str(),
        &password_b,
        dir.path().join("bob.json"),
    );
    bob.wait_for("ready", |v| v.get("ready").is_some()).await;
    let account = format!("xmpp-{}", uuid::Uuid::new_v4());
    let adir = dir.path().join("a");
    let mut alice = client::start_as(&account, sa.clone(), pa.clone(), adir.clone());
    alice.online().await;
    alice
        .send(send(jb.as_str(), "r1", "sealed before the restart"))
        .await;
    let acked =
        |e: &Event| matches!(e, Event::SendAcked { local_id, .. } if local_id.as_str() == "r1");
    let Event::SendAcked { route, .. } = alice.wait_for("ack", acked).await else {
        unreachable!()
    };
    assert_eq!(route.end_to_end.scheme, E2eScheme::Omemo, "{route:?}");
    let got = bob.received("sealed before the restart").await;
    assert_eq!(got["encrypted"], true, "{got}");
    alice.stop().await.expect("stop");

    let mut alice = client::start_as(&account, sa, pa, adir);
    alice.online().await;
    alice
        .send(send(jb.as_str(), "r1", "sealed before the restart"))
        .await;
    let Event::SendAcked { route, .. } = alice.wait_for("the replay's ack", acked).await else {
        unreachable!()
    };
    assert_eq!(
        route.end_to_end.scheme,
        E2eScheme::Omemo,
        "the replay is acknowledged on the route the message took: {route:?}"
    );
    assert!(route.is_end_to_end(), "{route:?}");
    alice.stop().await.expect("stop");
}
