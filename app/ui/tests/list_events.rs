//! The conversation list follows the engine's events in place: a burst of
//! messages, a new chat, a read chat or a removed request never makes the
//! window read every list again.

mod common;

use common::*;
use koine_api::{AccountId, DeliveryState, Direction};
use koine_core::{ConversationId, ConversationRecord, EngineEvent};
use koine_ui::app::{App, Effect, Message};

fn event(app: &mut App, event: EngineEvent) -> Vec<Effect> {
    app.update(Message::Engine(Box::new(event)))
}

fn reloads(effects: &[Effect]) -> bool {
    effects.iter().any(|e| matches!(e, Effect::LoadLists))
}

#[test]
fn a_new_chat_and_its_messages_patch_the_list_without_reloading_it() {
    let mut app = app();
    const LENA: ConversationId = ConversationId(9);
    let record = ConversationRecord {
        unread: 2,
        ..conversation(
            LENA,
            "acct-x",
            "lena@jabber.example",
            "Lena",
            sms_route(),
            0,
        )
    };
    let mut effects = event(
        &mut app,
        EngineEvent::ConversationChanged {
            account: AccountId::new("acct-x"),
            conversation: record.clone(),
        },
    );
    for (id, text) in [(90, "Are you there?"), (91, "Call me")] {
        effects.extend(event(
            &mut app,
            EngineEvent::MessageStored {
                account: AccountId::new("acct-x"),
                message: message(
                    id,
                    LENA,
                    Direction::Incoming,
                    0,
                    text,
                    DeliveryState::Delivered,
                ),
            },
        ));
    }
    assert!(!reloads(&effects), "{effects:?}");
    assert!(shows(&app, "Lena"));
    assert!(shows(&app, "2 unread"));
    // The newest chat comes first after the pinned one.
    let inbox: Vec<_> = app.inbox().iter().map(|c| c.id).collect();
    assert_eq!(inbox.first(), Some(&MUM_SMS), "{inbox:?}");
    assert_eq!(inbox.get(1), Some(&LENA), "{inbox:?}");

    // Read elsewhere: the record says so, and the badge goes.
    let effects = event(
        &mut app,
        EngineEvent::ConversationChanged {
            account: AccountId::new("acct-x"),
            conversation: ConversationRecord {
                unread: 0,
                ..record
            },
        },
    );
    assert!(!reloads(&effects), "{effects:?}");
    assert!(!shows(&app, "2 unread"));
}

#[test]
fn a_removed_request_leaves_the_list_without_reloading_it() {
    let mut app = app();
    assert_eq!(app.requests().len(), 1);
    let effects = event(
        &mut app,
        EngineEvent::ConversationRemoved {
            account: AccountId::new("acct-x"),
            conversation: STRANGER,
        },
    );
    assert!(!reloads(&effects), "{effects:?}");
    assert!(app.requests().is_empty());
}

#[test]
fn people_changing_reloads_the_people_not_the_lists() {
    let mut app = app();
    let effects = event(&mut app, EngineEvent::PeopleChanged);
    assert!(!reloads(&effects), "{effects:?}");
    assert!(effects.contains(&Effect::LoadPeople), "{effects:?}");
}
