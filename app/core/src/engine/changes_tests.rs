//! The user's own corrections, reactions and deletions: applied at once,
//! durable through the outbox, refused where they make no sense.

use super::lock;
use super::test_net::{Nets, Push, message, wait};
use super::*;
use koine_api::{Command, HopKind};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Sends a text and waits until the network took it (it has a remote id).
async fn sent(n: &Nets, account: &AccountId, to: &str, text: &str) -> StoredMessage {
    let mut rx = n.engine.subscribe();
    let key = ConversationKey::new(to);
    let (_, id) = n
        .engine
        .send(account, &key, Content::text(text), None)
        .await
        .expect("send");
    let EngineEvent::MessageUpdated { message, .. } = wait(&mut rx, "acked", |e| {
        matches!(e, EngineEvent::MessageUpdated { message, .. } if message.id == id && message.remote_id.is_some())
    })
    .await
    else {
        unreachable!()
    };
    message
}

async fn outbox_empties(n: &Nets) {
    let mut rx = n.engine.subscribe();
    while n.engine.outbox_len().expect("outbox") > 0 {
        let _ = tokio::time::timeout(std::time::Duration::from_millis(200), rx.recv()).await;
    }
}

#[test]
fn edits_and_reactions_show_at_once_and_reach_the_network_once() {
    rt().block_on(async {
        let n = Nets::new();
        let chat = n.account("chat", "me@chat.example").await;
        n.start(&chat).await;
        let mine = sent(&n, &chat, "bob@chat.example", "helo").await;
        let e = &n.engine;

        let mut rx = e.subscribe();
        e.change_message(mine.id, OwnChange::Edit("hello".into()))
            .await
            .expect("edit");
        // The window learns of it before the network answers.
        wait(&mut rx, "edited", |ev| {
            matches!(ev, EngineEvent::MessageUpdated { message, .. } if message.id == mine.id && message.content.text == "hello")
        })
        .await;
        let stored = e.with_store(|s| s.message(mine.id)).expect("message");
        assert_eq!(stored.content.text, "hello");
        assert!(stored.edited_at.is_some());

        e.change_message(mine.id, OwnChange::React("👍".into()))
            .await
            .expect("react");
        let stored = e.with_store(|s| s.message(mine.id)).expect("message");
        assert_eq!(
            stored.reactions,
            vec![("me@chat.example".to_owned(), "👍".to_owned())]
        );
        e.change_message(mine.id, OwnChange::Unreact("👍".into()))
            .await
            .expect("unreact");
        assert!(e.with_store(|s| s.message(mine.id)).expect("message").reactions.is_empty());
        outbox_empties(&n).await;

        let target = mine.remote_id.clone().expect("remote id");
        let changes = lock(&n.log.changes).clone();
        assert_eq!(changes.len(), 3, "{changes:?}");
        assert!(matches!(&changes[0], Command::EditMessage { target: t, text, .. } if *t == target && text == "hello"));
        assert!(matches!(&changes[1], Command::React { target: t, key, remove: false, .. } if *t == target && key == "👍"));
        assert!(matches!(&changes[2], Command::React { remove: true, .. }));
    });
}

#[test]
fn only_ones_own_sent_messages_can_be_corrected_or_deleted() {
    rt().block_on(async {
        let n = Nets::new();
        let chat = n.account("chat", "me@chat.example").await;
        n.start(&chat).await;
        let mut rx = n.engine.subscribe();
        n.push
            .send((
                chat.clone(),
                Push::Message(message(
                    "bob@chat.example",
                    "b1",
                    "hi",
                    HopKind::ClientLink,
                    false,
                )),
            ))
            .expect("push");
        let EngineEvent::MessageStored {
            message: theirs, ..
        } = wait(&mut rx, "stored", |e| {
            matches!(e, EngineEvent::MessageStored { .. })
        })
        .await
        else {
            unreachable!()
        };
        let e = &n.engine;
        for change in [OwnChange::Edit("mine now".into()), OwnChange::Delete] {
            let refused = e.change_message(theirs.id, change).await;
            assert!(
                matches!(refused, Err(EngineError::CannotChange(_))),
                "{refused:?}"
            );
        }
        assert_eq!(
            e.with_store(|s| s.message(theirs.id))
                .expect("message")
                .content
                .text,
            "hi"
        );
        // Reacting to someone else's message is fine.
        e.change_message(theirs.id, OwnChange::React("❤".into()))
            .await
            .expect("react");

        // A message the network has not taken yet has nothing to point at.
        e.stop(&chat).await;
        let (_, queued) = e
            .send(
                &chat,
                &ConversationKey::new("bob@chat.example"),
                Content::text("later"),
                None,
            )
            .await
            .expect("queue");
        let refused = e
            .change_message(queued, OwnChange::Edit("sooner".into()))
            .await;
        assert!(
            matches!(refused, Err(EngineError::CannotChange(_))),
            "{refused:?}"
        );
    });
}

#[test]
fn a_change_made_offline_is_sent_after_reconnecting_exactly_once() {
    rt().block_on(async {
        let n = Nets::new();
        let chat = n.account("chat", "me@chat.example").await;
        n.start(&chat).await;
        let mine = sent(&n, &chat, "bob@chat.example", "to delete").await;
        let e = &n.engine;
        e.stop(&chat).await;
        e.change_message(mine.id, OwnChange::Delete)
            .await
            .expect("delete");
        let stored = e.with_store(|s| s.message(mine.id)).expect("message");
        assert!(stored.deleted && stored.content.text.is_empty());
        assert_eq!(
            e.outbox_len().expect("outbox"),
            1,
            "kept until the network takes it"
        );
        assert!(lock(&n.log.changes).is_empty());

        n.start(&chat).await;
        outbox_empties(&n).await;
        e.stop(&chat).await;
        n.start(&chat).await;
        let changes = lock(&n.log.changes).clone();
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert!(matches!(&changes[0], Command::DeleteMessage { .. }));
    });
}
