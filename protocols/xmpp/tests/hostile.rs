//! A hostile peer on the same real Prosody: a raw client (Mallory) sends
//! well-formed stanzas that once broke the account. Each case ends with a
//! plain message, so "nothing else happened" is checked on the events that
//! came before it, in order, without waiting on a clock.

mod support;

use koine_api::{Command, Content, ConversationKey, Event, Jid, LocalId, MessageChange, Timestamp};
use support::raw::RawPeer;
use support::{Prosody, client};

const CORRECT: &str = "urn:xmpp:message-correct:0";

/// A chat message from Mallory to `to`, with `extra` children after the body.
fn chat(to: &Jid, id: &str, body: &str, extra: &str) -> String {
    let to = to.as_str();
    format!(
        "<message xmlns='jabber:client' to='{to}' type='chat' id='{id}'>\
         <body>{body}</body>{extra}</message>"
    )
}

fn received<'a>(e: &'a Event, text: &str) -> Option<&'a koine_api::Message> {
    match e {
        Event::MessageReceived(m) if m.content.text == text => Some(m),
        _ => None,
    }
}

async fn wait_text(c: &mut client::Client, text: &str) -> koine_api::Message {
    let e = c.wait_for(text, |e| received(e, text).is_some()).await;
    received(&e, text).cloned().expect("matched")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_non_ascii_link_neither_crashes_the_session_nor_loses_the_message() {
    let server = Prosody::start();
    let (sa, pa, ja) = server.account("alice");
    let (sm, pm, _) = server.account("mallory");
    let dir = tempfile::tempdir().expect("tmp");
    let mut a = client::start(sa, pa, dir.path().join("a"));
    a.online().await;
    let mut mallory = RawPeer::login(&sm, &pm).await;
    for (i, url) in ["https:/é", "https://é/é", "aesgcm://é#é"]
        .iter()
        .enumerate()
    {
        let oob = format!("<x xmlns='jabber:x:oob'><url>{url}</url></x>");
        mallory
            .send_xml(&chat(&ja, &format!("u{i}"), url, &oob))
            .await;
    }
    mallory
        .send_xml(&chat(&ja, "after", "after the links", ""))
        .await;
    for url in ["https:/é", "aesgcm://é#é"] {
        let m = wait_text(&mut a, url).await;
        assert!(m.content.attachments.is_empty(), "{url} is no file link");
    }
    wait_text(&mut a, "after the links").await;
    a.stop().await.expect("the session ends cleanly");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contact_cannot_correct_your_message() {
    let server = Prosody::start();
    let (sa, pa, ja) = server.account("alice");
    let (sm, pm, jm) = server.account("mallory");
    let dir = tempfile::tempdir().expect("tmp");
    let mut a = client::start(sa, pa, dir.path().join("a"));
    a.online().await;
    let mut mallory = RawPeer::login(&sm, &pm).await;

    a.send(Command::SendMessage {
        local_id: LocalId::new("a-1"),
        conversation: ConversationKey::new(jm.as_str()),
        content: Content::text("my original words"),
        reply_to: None,
    })
    .await;
    a.wait_for(
        "ack",
        |e| matches!(e, Event::SendAcked { local_id, .. } if local_id.as_str() == "a-1"),
    )
    .await;

    // Mallory "corrects" Alice's message, then corrects her own (allowed).
    let replace = |id: &str| format!("<replace xmlns='{CORRECT}' id='{id}'/>");
    mallory
        .send_xml(&chat(&ja, "m-1", "SPOOFED EDIT", &replace("a-1")))
        .await;
    mallory.send_xml(&chat(&ja, "m-2", "typo", "")).await;
    mallory
        .send_xml(&chat(&ja, "m-3", "fixed", &replace("m-2")))
        .await;
    mallory.send_xml(&chat(&ja, "m-4", "sentinel", "")).await;
    wait_text(&mut a, "sentinel").await;

    let edits: Vec<_> = a
        .seen
        .iter()
        .filter_map(|e| match e {
            Event::MessageChanged {
                remote_id,
                change: MessageChange::Edited { text },
                ..
            } => Some((remote_id.as_str().to_owned(), text.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        edits,
        [("m-2".to_owned(), "fixed".to_owned())],
        "only Mallory's correction of her own message"
    );
    assert!(
        a.seen.iter().all(|e| received(e, "SPOOFED EDIT").is_none()),
        "a refused correction is not shown as a message either"
    );
    a.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sender_neither_dates_live_messages_nor_hides_them_by_reusing_ids() {
    let server = Prosody::start();
    let (sa, pa, ja) = server.account("alice");
    let (sm, pm, _) = server.account("mallory");
    let dir = tempfile::tempdir().expect("tmp");
    let mut a = client::start(sa, pa, dir.path().join("a"));
    a.online().await;
    let mut mallory = RawPeer::login(&sm, &pm).await;

    let before = Timestamp::now();
    let delay = |stamp: &str| format!("<delay xmlns='urn:xmpp:delay' stamp='{stamp}'/>");
    mallory
        .send_xml(&chat(
            &ja,
            "1",
            "from the future",
            &delay("2999-01-01T00:00:00Z"),
        ))
        .await;
    mallory
        .send_xml(&chat(
            &ja,
            "1",
            "from the past",
            &delay("1971-01-01T00:00:00Z"),
        ))
        .await;
    mallory.send_xml(&chat(&ja, "1", "same id again", "")).await;
    let future = wait_text(&mut a, "from the future").await;
    let past = wait_text(&mut a, "from the past").await;
    let again = wait_text(&mut a, "same id again").await;
    let after = Timestamp::now();
    for m in [&future, &past, &again] {
        assert!(
            before <= m.timestamp && m.timestamp <= after,
            "{:?} dated {:?}, received between {before:?} and {after:?}",
            m.content.text,
            m.timestamp
        );
    }
    assert_ne!(future.remote_id, past.remote_id);
    assert_ne!(past.remote_id, again.remote_id);
    a.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread")]
async fn our_servers_offline_date_is_kept_and_a_forged_one_is_not() {
    let server = Prosody::start();
    let (sa, pa, ja) = server.account("alice");
    let (sm, pm, _) = server.account("mallory");
    let dir = tempfile::tempdir().expect("tmp");
    let mut mallory = RawPeer::login(&sm, &pm).await;

    // Alice is offline: the server keeps the message and dates it.
    mallory
        .send_xml(&chat(&ja, "o1", "while you were away", ""))
        .await;
    mallory
        .iq("get", None, "<ping xmlns='urn:xmpp:ping'/>")
        .await;
    let stored_by = Timestamp::now();
    let mut a = client::start(sa, pa, dir.path().join("a"));
    a.online().await;
    let away = wait_text(&mut a, "while you were away").await;
    assert!(
        away.timestamp <= stored_by,
        "{:?} after {stored_by:?}",
        away.timestamp
    );

    // Live, a delay that claims to be the server's is the sender's own.
    let before = Timestamp::now();
    let forged = format!(
        "<delay xmlns='urn:xmpp:delay' from='{}' stamp='1971-01-01T00:00:00Z'/>",
        support::DOMAIN
    );
    mallory
        .send_xml(&chat(&ja, "o2", "claims an old date", &forged))
        .await;
    let live = wait_text(&mut a, "claims an old date").await;
    assert!(
        before <= live.timestamp && live.timestamp <= Timestamp::now(),
        "{:?}",
        live.timestamp
    );
    a.stop().await.expect("stop");
}
