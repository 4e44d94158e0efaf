//! Desktop notifications: asked for a new message only while the window is
//! not focused and the setting is on, naming the network; never for a
//! stranger's request or one's own message. The tests check the intent;
//! nothing is shown on screen during tests.

mod common;

use common::*;
use koine_api::{AccountId, DeliveryState, Direction};
use koine_core::{ConversationId, EngineEvent};
use koine_ui::app::{App, Effect, Message};

fn arrives(
    app: &mut App,
    conversation: ConversationId,
    direction: Direction,
    text: &str,
) -> Vec<Effect> {
    let stored = message(
        99,
        conversation,
        direction,
        0,
        text,
        DeliveryState::Delivered,
    );
    app.update(Message::Engine(Box::new(EngineEvent::MessageStored {
        account: AccountId::new("acct-m"),
        message: stored,
    })))
}

fn notifications(effects: &[Effect]) -> Vec<(String, String)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Notify { summary, body } => Some((summary.clone(), body.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_message_while_unfocused_is_notified_with_its_network() {
    let mut app = app();
    let _ = app.update(Message::WindowFocus(false));
    let effects = arrives(&mut app, ALICE, Direction::Incoming, "Are you there?");
    assert_eq!(
        notifications(&effects),
        [("Alice · Matrix".to_owned(), "Are you there?".to_owned())]
    );
    let long = "x".repeat(400);
    let effects = arrives(&mut app, MUM_SMS, Direction::Incoming, &long);
    let n = notifications(&effects);
    assert_eq!(n[0].0, "Mum · SMS");
    assert_eq!(n[0].1.chars().count(), 161, "cut with an ellipsis");
}

#[test]
fn no_notification_when_focused_switched_off_outgoing_or_a_request() {
    let mut app = app();
    let effects = arrives(&mut app, ALICE, Direction::Incoming, "hi");
    assert!(notifications(&effects).is_empty(), "focused window");

    let _ = app.update(Message::WindowFocus(false));
    let effects = arrives(&mut app, ALICE, Direction::Outgoing, "from my phone");
    assert!(notifications(&effects).is_empty(), "own message");
    let effects = arrives(&mut app, STRANGER, Direction::Incoming, "buy now");
    assert!(notifications(&effects).is_empty(), "a stranger's request");

    let messages = click(&app, "Settings");
    let _ = apply(&mut app, messages);
    let messages = click(&app, "Off");
    let _ = apply(&mut app, messages);
    let effects = arrives(&mut app, ALICE, Direction::Incoming, "hi again");
    assert!(notifications(&effects).is_empty(), "switched off");

    let _ = app.update(Message::WindowFocus(true));
    let messages = click(&app, "On");
    let _ = apply(&mut app, messages);
    let effects = arrives(&mut app, ALICE, Direction::Incoming, "back");
    assert!(notifications(&effects).is_empty(), "focused again");
}
