//! Group chats (XEP-0045) on a real Prosody MUC component: join, send,
//! receive with the sender's nickname, leave.

mod support;

use koine_api::{
    Command, Content, ConversationKey, ConversationKind, Direction, Event, LocalId, MessageChange,
};
use support::raw::RawPeer;
use support::{DOMAIN, Prosody, client};

#[tokio::test(flavor = "multi_thread")]
async fn join_send_receive_leave() {
    let server = Prosody::start();
    let (sa, pa, _) = server.account("alice");
    let (sb, pb, _) = server.account("bob");
    let dir = tempfile::tempdir().expect("tmp");
    let mut a = client::start(sa, pa, dir.path().join("a"));
    let mut b = client::start(sb, pb, dir.path().join("b"));
    a.online().await;
    b.online().await;
    let room = format!("lounge@conference.{DOMAIN}");
    a.send(Command::JoinRoom {
        room: format!("{room}/Ann"),
    })
    .await;
    a.wait_for("joined", |e| {
        matches!(e, Event::ConversationUpserted(c) if c.key.as_str() == room && c.kind == ConversationKind::Group && !c.read_only)
    })
    .await;
    b.send(Command::JoinRoom { room: room.clone() }).await;
    let joined = b
        .wait_for(
            "joined",
            |e| matches!(e, Event::ConversationUpserted(c) if c.key.as_str() == room),
        )
        .await;
    let Event::ConversationUpserted(c) = joined else {
        unreachable!()
    };
    assert_eq!(
        c.route.hops.len(),
        1,
        "the MUC service is on the user's own server"
    );
    assert_eq!(c.route.validate(), Ok(()));

    a.send(Command::SendMessage {
        local_id: LocalId::new("g-1"),
        conversation: ConversationKey::new(room.as_str()),
        content: Content::text("hello room"),
        reply_to: None,
    })
    .await;
    a.wait_for(
        "ack",
        |e| matches!(e, Event::SendAcked { local_id, .. } if local_id.as_str() == "g-1"),
    )
    .await;
    let got = b
        .wait_for(
            "room message",
            |e| matches!(e, Event::MessageReceived(m) if m.content.text == "hello room"),
        )
        .await;
    let Event::MessageReceived(m) = got else {
        unreachable!()
    };
    assert_eq!(m.conversation.as_str(), room);
    assert_eq!(m.sender_name.as_deref(), Some("Ann"));
    assert_eq!(m.direction, Direction::Incoming);
    assert_eq!(m.remote_id.as_str(), "g-1");
    // Alice sees her own message reflected as outgoing, with its local id.
    let echo = a
        .wait_for(
            "reflection",
            |e| matches!(e, Event::MessageReceived(m) if m.content.text == "hello room"),
        )
        .await;
    let Event::MessageReceived(m) = echo else {
        unreachable!()
    };
    assert_eq!(m.direction, Direction::Outgoing);
    assert_eq!(m.local_id, Some(LocalId::new("g-1")));

    b.send(Command::LeaveRoom {
        conversation: ConversationKey::new(room.as_str()),
    })
    .await;
    b.wait_for(
        "left",
        |e| matches!(e, Event::ConversationUpserted(c) if c.key.as_str() == room && c.read_only),
    )
    .await;
    a.send(Command::SendMessage {
        local_id: LocalId::new("g-2"),
        conversation: ConversationKey::new(room.as_str()),
        content: Content::text("after bob left"),
        reply_to: None,
    })
    .await;
    a.wait_for(
        "reflection 2",
        |e| matches!(e, Event::MessageReceived(m) if m.content.text == "after bob left"),
    )
    .await;
    b.drain(800).await;
    assert!(
        !b.seen
            .iter()
            .any(|e| matches!(e, Event::MessageReceived(m) if m.content.text == "after bob left"))
    );
    a.stop().await.expect("stop");
    b.stop().await.expect("stop");
}

/// In a room, only the occupant who sent a message may correct it; the
/// room's occupant ids (XEP-0421) say who that is, so taking the author's
/// nickname after they left does not make one the author.
#[tokio::test(flavor = "multi_thread")]
async fn only_the_author_corrects_a_room_message_even_under_their_nickname() {
    let server = Prosody::start();
    let (sa, pa, _) = server.account("alice");
    let (sb, pb, _) = server.account("bob");
    let (sm, pm, _) = server.account("mallory");
    let dir = tempfile::tempdir().expect("tmp");
    let mut a = client::start(sa, pa, dir.path().join("a"));
    a.online().await;
    let room = format!("lounge@conference.{DOMAIN}");
    a.send(Command::JoinRoom {
        room: format!("{room}/Ann"),
    })
    .await;
    a.wait_for(
        "joined",
        |e| matches!(e, Event::ConversationUpserted(c) if c.key.as_str() == room && !c.read_only),
    )
    .await;
    let groupchat = |id: &str, body: &str, extra: &str| {
        format!(
            "<message xmlns='jabber:client' to='{room}' type='groupchat' id='{id}'>\
             <body>{body}</body>{extra}</message>"
        )
    };
    let replace = |id: &str| format!("<replace xmlns='urn:xmpp:message-correct:0' id='{id}'/>");
    let join = |nick: &str| {
        format!(
            "<presence xmlns='jabber:client' to='{room}/{nick}'>\
             <x xmlns='http://jabber.org/protocol/muc'/></presence>"
        )
    };
    let disco = "<query xmlns='http://jabber.org/protocol/disco#info'/>";

    let mut bob = RawPeer::login(&sb, &pb).await;
    bob.send_xml(&join("Bob")).await;
    bob.send_xml(&groupchat("b1", "bob's words", "")).await;
    let wait = |text: &'static str| move |e: &Event| matches!(e, Event::MessageReceived(m) if m.content.text == text);
    a.wait_for("bob's message", wait("bob's words")).await;

    let mut mallory = RawPeer::login(&sm, &pm).await;
    mallory.send_xml(&join("Mal")).await;
    mallory
        .send_xml(&groupchat("m1", "SPOOF", &replace("b1")))
        .await;
    mallory.send_xml(&groupchat("m2", "typo", "")).await;
    mallory
        .send_xml(&groupchat("m3", "fixed", &replace("m2")))
        .await;
    // Bob leaves (the room has taken it once it answers him), and Mallory
    // takes his nickname.
    bob.send_xml(&format!(
        "<presence xmlns='jabber:client' to='{room}/Bob' type='unavailable'/>"
    ))
    .await;
    bob.iq("get", Some(&room), disco).await;
    mallory.send_xml(&join("Bob")).await;
    mallory
        .send_xml(&groupchat("m4", "SPOOF as Bob", &replace("b1")))
        .await;
    mallory.send_xml(&groupchat("m5", "sentinel", "")).await;
    a.wait_for("sentinel", wait("sentinel")).await;

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
    assert_eq!(edits, [("m2".to_owned(), "fixed".to_owned())]);
    for spoof in ["SPOOF", "SPOOF as Bob"] {
        assert!(
            !a.seen
                .iter()
                .any(|e| matches!(e, Event::MessageReceived(m) if m.content.text == spoof)),
            "{spoof} shown"
        );
    }
    a.stop().await.expect("stop");
}
