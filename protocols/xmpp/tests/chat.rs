//! One-to-one chat between two accounts on a real Prosody: origin-id equals
//! the local id, receipts (0184), displayed markers (0333), chat states
//! (0085), corrections (0308) both ways, and the route.

mod support;

use koine_api::{
    ChatState, Command, Content, ConversationKey, DeliveryState, Direction, Event, LocalId,
    MessageChange, RemoteId,
};
use support::{Prosody, client};

fn send(to: &str, id: &str, text: &str) -> Command {
    Command::SendMessage {
        local_id: LocalId::new(id),
        conversation: ConversationKey::new(to),
        content: Content::text(text),
        reply_to: None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_with_receipts_markers_states_and_corrections() {
    let server = Prosody::start();
    let (sa, pa, ja) = server.account("alice");
    let (sb, pb, jb) = server.account("bob");
    let dir = tempfile::tempdir().expect("tmp");
    let mut a = client::start(sa, pa, dir.path().join("a"));
    let mut b = client::start(sb, pb, dir.path().join("b"));
    // Online means presence is in place: messages reach the session live.
    a.online().await;
    b.online().await;

    a.send(send(jb.as_str(), "local-1", "hello bob")).await;
    let acked = a
        .wait_for(
            "ack",
            |e| matches!(e, Event::SendAcked { local_id, .. } if local_id.as_str() == "local-1"),
        )
        .await;
    let Event::SendAcked {
        remote_id, route, ..
    } = acked
    else {
        unreachable!()
    };
    assert_eq!(remote_id.as_str(), "local-1");
    assert_eq!(route.hops.len(), 1, "same server: no federation hop");
    let got = b
        .wait_for(
            "message",
            |e| matches!(e, Event::MessageReceived(m) if m.content.text == "hello bob"),
        )
        .await;
    let Event::MessageReceived(m) = got else {
        unreachable!()
    };
    assert_eq!(m.remote_id.as_str(), "local-1", "origin-id is the local id");
    assert_eq!(m.direction, Direction::Incoming);
    assert_eq!(m.conversation.as_str(), ja.as_str());
    assert_eq!(m.route.validate(), Ok(()));

    // Bob's client answered the receipt request automatically.
    a.wait_for("delivered", |e| {
        matches!(e, Event::DeliveryUpdated { remote_id, state: DeliveryState::Delivered, .. } if remote_id.as_str() == "local-1")
    })
    .await;

    // Bob reads it: a displayed marker.
    b.send(Command::MarkRead {
        conversation: ConversationKey::new(ja.as_str()),
        up_to: RemoteId::new("local-1"),
    })
    .await;
    a.wait_for("read", |e| {
        matches!(e, Event::DeliveryUpdated { remote_id, state: DeliveryState::Read, .. } if remote_id.as_str() == "local-1")
    })
    .await;

    // Bob types.
    b.send(Command::SetChatState {
        conversation: ConversationKey::new(ja.as_str()),
        state: ChatState::Composing,
    })
    .await;
    a.wait_for("composing", |e| {
        matches!(
            e,
            Event::ChatStateChanged {
                state: ChatState::Composing,
                ..
            }
        )
    })
    .await;

    // Alice corrects her message; Bob sees an edit of the same id.
    a.send(Command::EditMessage {
        local_id: LocalId::new("local-2"),
        conversation: ConversationKey::new(jb.as_str()),
        target: RemoteId::new("local-1"),
        text: "hello Bob".into(),
    })
    .await;
    b.wait_for("edit", |e| {
        matches!(e, Event::MessageChanged { remote_id, change: MessageChange::Edited { text }, .. }
            if remote_id.as_str() == "local-1" && text == "hello Bob")
    })
    .await;
    // And the other way round.
    b.send(send(ja.as_str(), "b-1", "hi alce")).await;
    a.wait_for(
        "b's message",
        |e| matches!(e, Event::MessageReceived(m) if m.content.text == "hi alce"),
    )
    .await;
    b.send(Command::EditMessage {
        local_id: LocalId::new("b-2"),
        conversation: ConversationKey::new(ja.as_str()),
        target: RemoteId::new("b-1"),
        text: "hi alice".into(),
    })
    .await;
    a.wait_for("b's edit", |e| {
        matches!(e, Event::MessageChanged { remote_id, change: MessageChange::Edited { text }, .. }
            if remote_id.as_str() == "b-1" && text == "hi alice")
    })
    .await;
    a.stop().await.expect("stop");
    b.stop().await.expect("stop");
}
