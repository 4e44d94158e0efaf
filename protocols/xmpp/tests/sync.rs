//! Keeping several devices and restarts in sync on a real Prosody: carbons
//! (0280), archive paging with de-duplication (0313), and stream-management
//! resumption (0198) that survives a restart of the app.

mod support;

use koine_api::{Command, Content, ConversationKey, Direction, Event, LocalId, RemoteId};
use std::time::Duration;
use support::client::Client;
use support::{Prosody, client};

fn send(to: &str, id: &str, text: &str) -> Command {
    Command::SendMessage {
        local_id: LocalId::new(id),
        conversation: ConversationKey::new(to),
        content: Content::text(text),
        reply_to: None,
    }
}

fn count_text(events: &[Event], text: &str) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::MessageReceived(m) if m.content.text == text))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn carbons_reach_the_other_device() {
    let server = Prosody::start();
    let (mut s1, pa, ja) = server.account("alice");
    let mut s2 = s1.clone();
    s1.set("resource", "laptop");
    s2.set("resource", "phone");
    let (sb, pb, jb) = server.account("bob");
    let dir = tempfile::tempdir().expect("tmp");
    let mut a1 = client::start(s1, pa.clone(), dir.path().join("a1"));
    let mut a2 = client::start(s2, pa, dir.path().join("a2"));
    let mut b = client::start(sb, pb, dir.path().join("b"));
    a1.online().await;
    a2.online().await;
    b.online().await;

    a1.send(send(jb.as_str(), "from-laptop", "sent on the laptop"))
        .await;
    let seen = a2
        .wait_for(
            "sent carbon",
            |e| matches!(e, Event::MessageReceived(m) if m.content.text == "sent on the laptop"),
        )
        .await;
    let Event::MessageReceived(m) = seen else {
        unreachable!()
    };
    assert_eq!(m.direction, Direction::Outgoing);
    assert_eq!(m.conversation.as_str(), jb.as_str());
    assert_eq!(m.remote_id.as_str(), "from-laptop");

    b.send(send(ja.as_str(), "from-bob", "to both devices"))
        .await;
    for a in [&mut a1, &mut a2] {
        let got = a
            .wait_for(
                "incoming on each device",
                |e| matches!(e, Event::MessageReceived(m) if m.content.text == "to both devices"),
            )
            .await;
        let Event::MessageReceived(m) = got else {
            unreachable!()
        };
        assert_eq!(m.direction, Direction::Incoming);
        assert_eq!(m.remote_id.as_str(), "from-bob");
    }
    for c in [a1, a2, b] {
        c.stop().await.expect("stop");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn archive_pages_oldest_first_without_duplicates() {
    let server = Prosody::start();
    let (mut sa, pa, ja) = server.account("alice");
    // The archive in plaintext: OMEMO messages already opened cannot be
    // opened again from the archive (forward secrecy), see tests/omemo.rs.
    sa.set("omemo", "false");
    let (sb, pb, _) = server.account("bob");
    let dir = tempfile::tempdir().expect("tmp");
    let mut b = client::start(sb, pb, dir.path().join("b"));
    let jb = b.online().await;
    let _ = jb;
    let bob = server
        .settings_for(&koine_api::Jid::parse(&format!("bob@{}", support::DOMAIN)).expect("jid"));
    let bob_jid = bob.get("jid").expect("jid").to_owned();
    let mut a = client::start(sa, pa, dir.path().join("a"));
    a.online().await;
    for i in 0..25 {
        a.send(send(
            &bob_jid,
            &format!("h{i:02}"),
            &format!("history {i:02}"),
        ))
        .await;
    }
    a.wait_for(
        "last ack",
        |e| matches!(e, Event::SendAcked { local_id, .. } if local_id.as_str() == "h24"),
    )
    .await;
    b.wait_for(
        "last message live",
        |e| matches!(e, Event::MessageReceived(m) if m.content.text == "history 24"),
    )
    .await;

    let page = |events: &mut Vec<Event>| {
        let i = events
            .iter()
            .position(|e| matches!(e, Event::HistoryPage { .. }))
            .expect("page");
        match events.remove(i) {
            Event::HistoryPage { messages, more, .. } => (messages, more),
            _ => unreachable!(),
        }
    };
    let conv = ConversationKey::new(ja.as_str());
    let mut before: Option<RemoteId> = None;
    let mut all = Vec::new();
    let mut pages = 0;
    loop {
        b.send(Command::FetchHistory {
            conversation: conv.clone(),
            before: before.clone(),
            limit: 10,
        })
        .await;
        b.wait_for("page", |e| matches!(e, Event::HistoryPage { .. }))
            .await;
        let (messages, more) = page(&mut b.seen);
        pages += 1;
        let texts: Vec<_> = messages.iter().map(|m| m.content.text.clone()).collect();
        let mut sorted = texts.clone();
        sorted.sort();
        assert_eq!(texts, sorted, "a page is oldest first");
        assert!(messages.iter().all(|m| m.direction == Direction::Incoming));
        before = messages.first().map(|m| m.remote_id.clone());
        all.splice(0..0, messages);
        if !more {
            break;
        }
        assert!(pages < 12, "paging must end");
    }
    assert!(pages >= 2, "25 messages do not fit in one page of 10");
    let texts: Vec<_> = all.iter().map(|m| m.content.text.clone()).collect();
    let expected: Vec<_> = (0..25).map(|i| format!("history {i:02}")).collect();
    assert_eq!(texts, expected, "every message once, in order");
    // Ids match the live ones (origin-id = the sender's local id).
    assert_eq!(all[0].remote_id.as_str(), "h00");

    // Alice's own archive shows her messages as outgoing with their local ids.
    a.send(Command::FetchHistory {
        conversation: ConversationKey::new(bob_jid.as_str()),
        before: None,
        limit: 5,
    })
    .await;
    a.wait_for("alice's page", |e| matches!(e, Event::HistoryPage { .. }))
        .await;
    let (messages, more) = page(&mut a.seen);
    assert!(more);
    assert!(!messages.is_empty() && messages.len() <= 5);
    assert!(messages.iter().all(|m| m.direction == Direction::Outgoing
        && m.local_id.as_ref().map(|l| l.as_str()) == Some(m.remote_id.as_str())));
    a.stop().await.expect("stop");
    b.stop().await.expect("stop");
}

/// The file key of the session `client::start` runs on `dir`.
fn vault_of(dir: &std::path::Path) -> koine_vault::Vault {
    let secrets = koine_keyring::KeyringSecrets::scoped(format!("xmpp-{}", dir.display()));
    koine_vault::Vault::existing(&secrets)
        .expect("keyring")
        .expect("the account's file key")
}

/// The stream-management state, opened from its sealed file.
fn sm_state(dir: &std::path::Path) -> Option<serde_json::Value> {
    let bytes = vault_of(dir)
        .read(&dir.join("stream-management.json"))
        .ok()??;
    serde_json::from_slice(&bytes).ok()
}

fn sm_id(dir: &std::path::Path) -> Option<String> {
    sm_state(dir)?.get("id")?.as_str().map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_resumes_without_loss_or_duplicates() {
    let server = Prosody::start();
    let (sa, pa, ja) = server.account("alice");
    let (sb, pb, jb) = server.account("bob");
    let dir = tempfile::tempdir().expect("tmp");
    let adir = dir.path().join("a");
    let mut a = client::start(sa.clone(), pa.clone(), adir.clone());
    let mut b = client::start(sb, pb, dir.path().join("b"));
    a.online().await;
    b.online().await;
    let stream_id = sm_id(&adir).expect("stream management enabled and saved");

    // Alice sends and the app stops before the server's acknowledgement.
    a.send(send(jb.as_str(), "mid-1", "sent just before quitting"))
        .await;
    a.stop().await.expect("stop");

    // While Alice's app is closed, Bob writes.
    for i in 0..3 {
        b.send(send(
            ja.as_str(),
            &format!("away-{i}"),
            &format!("while away {i}"),
        ))
        .await;
    }
    b.wait_for(
        "acks",
        |e| matches!(e, Event::SendAcked { local_id, .. } if local_id.as_str() == "away-2"),
    )
    .await;

    // The app starts again: the engine replays its outbox (same local id).
    let mut a = client::start(sa, pa, adir.clone());
    a.online().await;
    a.send(send(jb.as_str(), "mid-1", "sent just before quitting"))
        .await;
    a.wait_for(
        "ack of the replayed send",
        |e| matches!(e, Event::SendAcked { local_id, .. } if local_id.as_str() == "mid-1"),
    )
    .await;
    for i in 0..3 {
        let text = format!("while away {i}");
        a.wait_for(
            "message from while away",
            |e| matches!(e, Event::MessageReceived(m) if m.content.text == text),
        )
        .await;
    }
    assert_eq!(
        sm_id(&adir),
        Some(stream_id),
        "the server's session was resumed"
    );
    a.drain(1500).await;
    b.drain(1500).await;
    for i in 0..3 {
        assert_eq!(
            count_text(&a.seen, &format!("while away {i}")),
            1,
            "exactly once"
        );
    }
    assert_eq!(
        count_text(&b.seen, "sent just before quitting"),
        1,
        "sent once"
    );
    let _ = Duration::ZERO;
    a.stop().await.expect("stop");
    b.stop().await.expect("stop");
}

fn received_text(e: &Event, text: &str) -> bool {
    matches!(e, Event::MessageReceived(m) if m.content.text == text)
}

/// The engine takes a message from the plugin and stops before storing it.
/// Nothing may tell the network it was handled: not the stream-management
/// count (a resumed session gets it again), not the archive position (a fresh
/// login replays it), not the delivery receipt to the sender.
#[tokio::test(flavor = "multi_thread")]
async fn a_message_the_engine_never_stored_comes_again() {
    let server = Prosody::start();
    let (sa, pa, ja) = server.account("alice");
    let (sb, pb, jb) = server.account("bob");
    let dir = tempfile::tempdir().expect("tmp");
    let bdir = dir.path().join("b");
    let mut a = client::start(sa, pa, dir.path().join("a"));
    let mut b = client::start(sb.clone(), pb.clone(), bdir.clone());
    a.online().await;
    b.online().await;
    let stream_id = sm_id(&bdir).expect("stream management enabled and saved");
    a.send(send(jb.as_str(), "n-1", "one")).await;
    b.wait_for("one", |e| received_text(e, "one")).await;

    for (id, text, resume) in [("n-2", "two", true), ("n-3", "three", false)] {
        b.crash_engine_on(move |e| received_text(e, text));
        a.send(send(jb.as_str(), id, text)).await;
        a.wait_for(
            "server ack",
            |e| matches!(e, Event::SendAcked { local_id, .. } if local_id.as_str() == id),
        )
        .await;
        b.engine_crashed().await;
        // The session notices the engine is gone and ends by itself.
        let Client { commands, task, .. } = b;
        let end = tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .expect("bob's session ends")
            .expect("joins");
        assert!(end.is_err(), "ended because the engine is gone: {end:?}");
        drop(commands);
        assert!(
            !b_seen_delivered(&a.seen, id),
            "no receipt for what Bob's engine never stored"
        );
        if resume {
            // Only the resumed stream may bring it back: the archive position
            // is made unusable (the server refuses an unknown id).
            std::fs::write(bdir.join("mam.json"), r#"{"last":"no-such-id"}"#)
                .expect("archive position");
        } else {
            // A fresh login: only the archive can bring it back.
            std::fs::remove_file(bdir.join("stream-management.json")).expect("forget the stream");
        }
        b = client::start(sb.clone(), pb.clone(), bdir.clone());
        b.online().await;
        let got = b
            .wait_for("the lost message again", |e| received_text(e, text))
            .await;
        let Event::MessageReceived(m) = got else {
            unreachable!()
        };
        assert_eq!(m.remote_id.as_str(), id);
        if resume {
            assert_eq!(sm_id(&bdir), Some(stream_id.clone()), "resumed");
            a.wait_for("the receipt once stored", |e| {
                b_seen_delivered(std::slice::from_ref(e), id)
            })
            .await;
        } else {
            // (Archived messages get no receipt: another device may have
            // answered long ago.)
            assert_ne!(sm_id(&bdir), Some(stream_id.clone()), "a fresh stream");
        }
    }
    let _ = ja;
    a.stop().await.expect("stop");
    b.stop().await.expect("stop");
}

fn b_seen_delivered(events: &[Event], id: &str) -> bool {
    events.iter().any(|e| {
        matches!(e, Event::DeliveryUpdated { remote_id, state: koine_api::DeliveryState::Delivered, .. } if remote_id.as_str() == id)
    })
}

/// A new device's first login brings the recent archive into the store,
/// across more than one archive page, each message once.
#[tokio::test(flavor = "multi_thread")]
async fn a_first_login_syncs_the_recent_archive() {
    let server = Prosody::start();
    let (mut sa, pa, _) = server.account("alice");
    // In plaintext: a new OMEMO device cannot open what was encrypted before
    // it existed.
    sa.set("omemo", "false");
    let (sb, pb, _) = server.account("bob");
    let dir = tempfile::tempdir().expect("tmp");
    let mut b1 = client::start(sb.clone(), pb.clone(), dir.path().join("b1"));
    b1.online().await;
    let bob_jid = sb.get("jid").expect("jid").to_owned();
    let mut a = client::start(sa, pa, dir.path().join("a"));
    a.online().await;
    const N: usize = 300;
    for i in 0..N {
        a.send(send(
            &bob_jid,
            &format!("f{i:03}"),
            &format!("archived {i:03}"),
        ))
        .await;
    }
    let last = format!("archived {:03}", N - 1);
    b1.wait_for("the last message live", |e| received_text(e, &last))
        .await;
    b1.stop().await.expect("stop");
    // Bob installs Koine on another computer.
    let mut b2 = client::start(sb, pb, dir.path().join("b2"));
    b2.online().await;
    b2.wait_for("the archive's last message", |e| received_text(e, &last))
        .await;
    for i in 0..N {
        assert_eq!(
            count_text(&b2.seen, &format!("archived {i:03}")),
            1,
            "archived {i:03} once"
        );
    }
    a.stop().await.expect("stop");
    b2.stop().await.expect("stop");
}

/// A server that no longer knows the saved stream (it restarted, or the
/// hibernation timed out) answers the resumption with `<failed/>`, which
/// Prosody sends without an `h` count. The session starts a fresh stream
/// then; it must never take that answer for a broken stream and try the same
/// dead resumption again and again.
#[tokio::test(flavor = "multi_thread")]
async fn a_stream_the_server_forgot_starts_afresh() {
    let server = Prosody::start();
    let (sa, pa, ja) = server.account("alice");
    let (sb, pb, _jb) = server.account("bob");
    let dir = tempfile::tempdir().expect("tmp");
    let adir = dir.path().join("a");
    let mut a = client::start(sa.clone(), pa.clone(), adir.clone());
    a.online().await;
    let old = sm_id(&adir).expect("stream management enabled and saved");
    a.stop().await.expect("stop");

    let path = adir.join("stream-management.json");
    let mut v = sm_state(&adir).expect("saved state");
    v["id"] = serde_json::Value::from("a-stream-the-server-never-had");
    vault_of(&adir)
        .write(&path, v.to_string().as_bytes())
        .expect("rewrite");

    let mut a = client::start(sa, pa, adir.clone());
    a.online().await;
    let new = sm_id(&adir).expect("a new stream was enabled");
    assert_ne!(new, old);
    assert_ne!(new, "a-stream-the-server-never-had");

    let mut b = client::start(sb, pb, dir.path().join("b"));
    b.online().await;
    b.send(send(ja.as_str(), "fresh-1", "on the fresh stream"))
        .await;
    a.wait_for("a message on the fresh stream", |e| {
        received_text(e, "on the fresh stream")
    })
    .await;
    a.stop().await.expect("stop");
    b.stop().await.expect("stop");
}
