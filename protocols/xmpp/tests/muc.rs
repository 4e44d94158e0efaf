//! Group chats (XEP-0045) on a real Prosody MUC component: join, send,
//! receive with the sender's nickname, leave.

mod support;

use koine_api::{Command, Content, ConversationKey, ConversationKind, Direction, Event, LocalId};
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
