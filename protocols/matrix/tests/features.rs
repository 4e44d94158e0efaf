//! Replies, edits, reactions, redactions, receipts, typing, and invites as
//! requests, between two Koine accounts.

mod support;

use koine_api::{
    ChatState, Command, Content, ConversationKey, Decision, DeliveryState, Event, LocalId,
    MessageChange, RemoteId, RequestKind,
};
use koine_conformance::RunningSession;
use support::{Synapse, koine_session, wait_text};

async fn acked(s: &mut RunningSession, id: &str) -> anyhow::Result<RemoteId> {
    s.wait_for(&format!("ack of {id}"), |e| match e {
        Event::SendAcked {
            local_id,
            remote_id,
            ..
        } if local_id.as_str() == id => Some(remote_id.clone()),
        _ => None,
    })
    .await
}

async fn changed(
    s: &mut RunningSession,
    target: &RemoteId,
    what: &str,
    f: impl Fn(&MessageChange) -> bool,
) -> anyhow::Result<()> {
    s.wait_for(what, |e| match e {
        Event::MessageChanged {
            remote_id, change, ..
        } if remote_id == target && f(change) => Some(()),
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_edits_reactions_redactions_receipts_typing_invites() -> anyhow::Result<()> {
    let server = Synapse::start().await?;
    let alice = server.register("alice").await?;
    let bob = server.register("bob").await?;
    let dirs = tempfile::tempdir()?;
    let mut a = koine_session(&server, &alice, &dirs.path().join("a"))?;
    let mut b = koine_session(&server, &bob, &dirs.path().join("b"))?;
    a.online().await?;
    b.online().await?;

    // Alice opens a direct chat: Bob gets an invite as a request, accepts.
    a.command(Command::OpenConversation {
        with: bob.address(),
    })
    .await?;
    let room = a
        .wait_for("the new room", |e| match e {
            Event::ConversationUpserted(c) if c.peer.as_ref() == Some(&bob.address()) => {
                Some(c.key.clone())
            }
            _ => None,
        })
        .await?;
    let request = b
        .wait_for("the invite request", |e| match e {
            Event::RequestReceived(r) if matches!(r.kind, RequestKind::RoomInvite { .. }) => {
                Some(r.clone())
            }
            _ => None,
        })
        .await?;
    assert_eq!(request.from, alice.address());
    assert_eq!(request.conversation.as_ref(), Some(&room));
    b.command(Command::AnswerRequest {
        request: request.id.clone(),
        decision: Decision::Accept,
    })
    .await?;
    b.wait_for("the invite resolved", |e| {
        matches!(e, Event::RequestResolved(id) if *id == request.id).then_some(())
    })
    .await?;

    let send = |id: &str, text: &str, reply_to: Option<RemoteId>| Command::SendMessage {
        local_id: LocalId::new(id),
        conversation: room.clone(),
        content: Content::text(text),
        reply_to,
    };
    a.command(send("m1", "first", None)).await?;
    let first = acked(&mut a, "m1").await?;
    wait_text(&mut b, "first").await?;
    b.command(Command::SendMessage {
        local_id: LocalId::new("r1"),
        conversation: ConversationKey::new(room.as_str()),
        content: Content::text("a reply"),
        reply_to: Some(first.clone()),
    })
    .await?;
    let reply = wait_text(&mut a, "a reply").await?;
    assert_eq!(reply.reply_to.as_ref(), Some(&first));

    a.command(Command::EditMessage {
        local_id: LocalId::new("e1"),
        conversation: room.clone(),
        target: first.clone(),
        text: "first, corrected".into(),
    })
    .await?;
    changed(
        &mut b,
        &first,
        "the edit",
        |c| matches!(c, MessageChange::Edited { text } if text == "first, corrected"),
    )
    .await?;

    b.command(Command::React {
        local_id: LocalId::new("x1"),
        conversation: room.clone(),
        target: first.clone(),
        key: "👍".into(),
        remove: false,
    })
    .await?;
    changed(
        &mut a,
        &first,
        "the reaction",
        |c| matches!(c, MessageChange::ReactionAdded { key, .. } if key == "👍"),
    )
    .await?;
    b.command(Command::React {
        local_id: LocalId::new("x2"),
        conversation: room.clone(),
        target: first.clone(),
        key: "👍".into(),
        remove: true,
    })
    .await?;
    changed(
        &mut a,
        &first,
        "the reaction removed",
        |c| matches!(c, MessageChange::ReactionRemoved { key, .. } if key == "👍"),
    )
    .await?;

    b.command(Command::MarkRead {
        conversation: room.clone(),
        up_to: first.clone(),
    })
    .await?;
    a.wait_for("bob's read receipt", |e| match e {
        Event::DeliveryUpdated {
            remote_id,
            state: DeliveryState::Read,
            ..
        } if *remote_id == first => Some(()),
        _ => None,
    })
    .await?;

    b.command(Command::SetChatState {
        conversation: room.clone(),
        state: ChatState::Composing,
    })
    .await?;
    a.wait_for("bob typing", |e| match e {
        Event::ChatStateChanged {
            from,
            state: ChatState::Composing,
            ..
        } if *from == bob.address() => Some(()),
        _ => None,
    })
    .await?;

    a.command(Command::DeleteMessage {
        local_id: LocalId::new("d1"),
        conversation: room.clone(),
        target: first.clone(),
    })
    .await?;
    changed(&mut b, &first, "the deletion", |c| {
        matches!(c, MessageChange::Deleted)
    })
    .await?;
    Ok(())
}
