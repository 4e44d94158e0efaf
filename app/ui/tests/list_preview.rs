//! The conversation list says what was said last and who is typing, as
//! Signal Desktop and Element do: "You: …" for one's own, the sender's name
//! in groups, a word for a file or a deletion, "typing…" while the other
//! side types; the open chat says who is typing.

mod common;

use common::*;
use koine_api::{AccountId, Address, ChatState, ConversationKind, DeliveryState, Direction};
use koine_core::{ConversationRecord, EngineEvent, Preview};
use koine_ui::app::{App, Message};

fn preview(direction: Direction, name: Option<&str>, text: &str) -> Preview {
    Preview {
        direction,
        sender_name: name.map(str::to_owned),
        text: text.into(),
        attachments: false,
        deleted: false,
    }
}

fn changed(app: &mut App, record: ConversationRecord) {
    let _ = app.update(Message::Engine(Box::new(
        EngineEvent::ConversationChanged {
            account: record.account.clone(),
            conversation: record,
        },
    )));
}

fn record(app: &App, id: koine_core::ConversationId) -> ConversationRecord {
    app.conversations
        .iter()
        .find(|c| c.id == id)
        .cloned()
        .expect("listed")
}

#[test]
fn each_row_says_what_was_said_last() {
    koine_ui::i18n::set_language("en");
    let mut app = app();
    let alice = record(&app, ALICE);
    changed(
        &mut app,
        ConversationRecord {
            preview: Some(preview(Direction::Outgoing, None, "on my way\nsee you")),
            ..alice
        },
    );
    let mum = record(&app, MUM_SMS);
    changed(
        &mut app,
        ConversationRecord {
            preview: Some(preview(
                Direction::Incoming,
                Some("Mum"),
                "Lunch on Sunday?",
            )),
            ..mum
        },
    );
    let bridged = record(&app, BRIDGED);
    changed(
        &mut app,
        ConversationRecord {
            kind: ConversationKind::Group,
            preview: Some(Preview {
                attachments: true,
                ..preview(Direction::Incoming, Some("Bob"), "")
            }),
            ..bridged
        },
    );
    assert!(shows(&app, "You: on my way"), "{:?}", texts(&app));
    assert!(!shows(&app, "see you"), "one line only: {:?}", texts(&app));
    // A direct chat: the text alone; a group: who said it.
    assert!(shows(&app, "Lunch on Sunday?"));
    assert!(!shows(&app, "Mum: Lunch"));
    assert!(shows(&app, "Bob: Attachment"), "{:?}", texts(&app));
}

#[test]
fn typing_shows_in_the_list_and_the_chat_until_the_message_comes() {
    koine_ui::i18n::set_language("en");
    let mut app = app();
    let _ = app.update(Message::Select(ALICE));
    let alice = Address::Room("@alice:their.server".into());
    let _ = app.update(Message::Engine(Box::new(EngineEvent::ChatState {
        account: AccountId::new("acct-m"),
        conversation: ALICE,
        from: alice.clone(),
        state: ChatState::Composing,
    })));
    assert!(shows(&app, "typing…"), "{:?}", texts(&app));
    assert!(shows(&app, "Alice is typing…"), "{:?}", texts(&app));
    let mut m = message(
        30,
        ALICE,
        Direction::Incoming,
        0,
        "here I am",
        DeliveryState::Delivered,
    );
    m.sender = alice;
    let _ = app.update(Message::Engine(Box::new(EngineEvent::MessageStored {
        account: AccountId::new("acct-m"),
        message: m,
    })));
    assert!(!shows(&app, "typing…"), "{:?}", texts(&app));
}
