//! Events carry the change: a listener patches its state from them and
//! never has to read every list again; reading never writes.

use super::test_net::{Nets, Push, message, wait};
use super::*;
use koine_api::{Contact, HopKind};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A burst of incoming messages announces the conversation with its record
/// (unread count, last activity) once per stored batch, before the messages
/// of that batch, so a window can patch its list without reading it.
#[test]
fn a_burst_announces_its_conversation_record_before_its_messages() {
    rt().block_on(async {
        let n = Nets::new();
        let chat = n.account("chat", "me@chat.example").await;
        n.start(&chat).await;
        n.contact(&chat, "bob@chat.example", "Bob");
        let mut rx = n.engine.subscribe();
        let burst: Vec<_> = (0..300)
            .map(|i| {
                message(
                    "bob@chat.example",
                    &format!("b{i}"),
                    &format!("burst {i}"),
                    HopKind::ClientLink,
                    false,
                )
            })
            .collect();
        n.push
            .send((chat.clone(), Push::Burst(burst)))
            .expect("push");
        let mut records = Vec::new();
        let mut stored = 0;
        while stored < 300 {
            match wait(&mut rx, "stored", |e| {
                matches!(
                    e,
                    EngineEvent::MessageStored { .. } | EngineEvent::ConversationChanged { .. }
                )
            })
            .await
            {
                EngineEvent::ConversationChanged { conversation, .. } => {
                    records.push(conversation);
                }
                EngineEvent::MessageStored { message, .. } => {
                    stored += 1;
                    let record = records.last().expect("the record came first");
                    assert_eq!(record.id, message.conversation);
                    assert!(
                        record.unread >= stored,
                        "the record counts the message it precedes"
                    );
                }
                _ => unreachable!(),
            }
        }
        let last = records.last().expect("announced");
        assert_eq!(last.key.as_str(), "bob@chat.example");
        assert_eq!(last.unread, 300);
        assert!(
            records.len() < 300,
            "once per batch, not per message: {}",
            records.len()
        );
    });
}

/// The people a roster entry or a new chat brings are created when the
/// network reports them, and announced; listing people only reads.
#[test]
fn people_are_adopted_when_they_arrive_not_when_listed() {
    rt().block_on(async {
        let n = Nets::new();
        let chat = n.account("chat", "me@chat.example").await;
        n.start(&chat).await;
        let mut rx = n.engine.subscribe();
        let carol = Address::parse_any("carol@chat.example").expect("address");
        n.push
            .send((
                chat.clone(),
                Push::Contact(Contact {
                    address: carol.clone(),
                    name: Some("Carol".into()),
                    groups: Vec::new(),
                    mutual: true,
                }),
            ))
            .expect("push");
        wait(&mut rx, "people changed", |e| {
            matches!(e, EngineEvent::PeopleChanged)
        })
        .await;
        let person = n
            .engine
            .with_store(|s| s.person_of(&chat, &carol))
            .expect("read");
        assert!(person.is_some(), "Carol became a person on arrival");
    });
}

/// Marking a chat read announces the record with no unread message left.
#[test]
fn marking_read_announces_the_record() {
    rt().block_on(async {
        let n = Nets::new();
        let chat = n.account("chat", "me@chat.example").await;
        n.start(&chat).await;
        n.contact(&chat, "bob@chat.example", "Bob");
        let mut rx = n.engine.subscribe();
        n.push
            .send((
                chat.clone(),
                Push::Message(message(
                    "bob@chat.example",
                    "m1",
                    "hello",
                    HopKind::ClientLink,
                    false,
                )),
            ))
            .expect("push");
        let EngineEvent::MessageStored { message, .. } = wait(&mut rx, "stored", |e| {
            matches!(e, EngineEvent::MessageStored { .. })
        })
        .await
        else {
            unreachable!()
        };
        n.engine
            .mark_read(message.conversation)
            .await
            .expect("read");
        let EngineEvent::ConversationChanged { conversation, .. } =
            wait(&mut rx, "the read record", |e| {
                matches!(e, EngineEvent::ConversationChanged { conversation, .. } if conversation.unread == 0)
            })
            .await
        else {
            unreachable!()
        };
        assert_eq!(conversation.id, message.conversation);
    });
}

/// Sending in an existing chat announces its record, with the sent text as
/// its last message, so the list moves the chat up and shows "You: …".
#[test]
fn sending_announces_the_record_with_its_preview() {
    rt().block_on(async {
        let n = Nets::new();
        let chat = n.account("chat", "me@chat.example").await;
        n.start(&chat).await;
        n.contact(&chat, "bob@chat.example", "Bob");
        let to = koine_api::ConversationKey::new("bob@chat.example");
        n.engine
            .send(&chat, &to, koine_api::Content::text("first"), None)
            .await
            .expect("send");
        let mut rx = n.engine.subscribe();
        n.engine
            .send(&chat, &to, koine_api::Content::text("second"), None)
            .await
            .expect("send");
        let EngineEvent::ConversationChanged { conversation, .. } =
            wait(&mut rx, "the record", |e| {
                matches!(e, EngineEvent::ConversationChanged { .. })
            })
            .await
        else {
            unreachable!()
        };
        let preview = conversation.preview.expect("a preview");
        assert_eq!(preview.text, "second");
        assert_eq!(preview.direction, koine_api::Direction::Outgoing);
    });
}
