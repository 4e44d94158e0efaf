//! A message queued with a provisional route says so; the route the network
//! reports replaces it through the engine's events, with no reload.

mod common;

use common::*;
use koine_api::{AccountId, DeliveryState, Direction, RemoteId};
use koine_core::{EngineEvent, MessageId, RouteSubject};
use koine_ui::app::Message;

#[test]
fn a_provisional_route_is_shown_as_such_until_the_network_reports_the_real_one() {
    let mut app = app();
    let messages = click(&app, "Alice");
    let _ = apply(&mut app, messages);
    let mut mine = message(
        30,
        ALICE,
        Direction::Outgoing,
        0,
        "On my way",
        DeliveryState::Queued,
    );
    // Queued in a chat whose route is known to be plaintext, so far.
    mine.route = Some(sms_route());
    mine.route_provisional = true;
    let _ = app.update(Message::MessagesLoaded(ALICE, vec![mine.clone()]));
    assert!(shows(&app, "provisional route"), "{:?}", texts(&app));

    // The network sent it end-to-end encrypted, as the chat header says.
    let mut sent = mine.clone();
    sent.remote_id = Some(RemoteId::new("$sent"));
    sent.state = DeliveryState::Sent;
    sent.route = Some(matrix_verified());
    sent.route_provisional = false;
    let account = AccountId::new("acct-m");
    let _ = app.update(Message::Engine(Box::new(EngineEvent::RouteSettled {
        account: account.clone(),
        local_id: mine.local_id.clone().expect("local id"),
        message: Some(MessageId(30)),
        subject: RouteSubject::Message,
        provisional: mine.route.clone(),
        route: matrix_verified(),
    })));
    let _ = app.update(Message::Engine(Box::new(EngineEvent::MessageUpdated {
        account,
        message: sent,
    })));
    assert!(!shows(&app, "provisional"), "{:?}", texts(&app));
    assert!(!shows(&app, "can read your messages"), "{:?}", texts(&app));
}

#[test]
fn a_message_that_went_another_way_than_the_chat_says_shows_its_own_route() {
    let mut app = app();
    let messages = click(&app, "Alice");
    let _ = apply(&mut app, messages);
    let mut mine = message(
        31,
        ALICE,
        Direction::Outgoing,
        0,
        "Sent in the clear",
        DeliveryState::Sent,
    );
    mine.route = Some(sms_route());
    let _ = app.update(Message::MessagesLoaded(ALICE, vec![mine]));
    assert!(shows(&app, "not end-to-end encrypted"), "{:?}", texts(&app));
}

#[test]
fn a_message_that_went_less_protected_than_promised_is_said_at_once() {
    let mut app = app();
    let messages = click(&app, "Alice");
    let _ = apply(&mut app, messages);
    let mine = message(
        32,
        ALICE,
        Direction::Outgoing,
        0,
        "Promised encrypted",
        DeliveryState::Queued,
    );
    let _ = app.update(Message::Engine(Box::new(EngineEvent::RouteSettled {
        account: AccountId::new("acct-m"),
        local_id: mine.local_id.clone().expect("local id"),
        message: Some(MessageId(32)),
        subject: RouteSubject::Message,
        provisional: Some(matrix_verified()),
        route: sms_route(),
    })));
    assert!(
        shows(&app, "less protected than this chat promised"),
        "{:?}",
        texts(&app)
    );
}
