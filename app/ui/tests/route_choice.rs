//! Simulator tests of route choice in the composer
//! (`ICED_TEST_BACKEND=tiny-skia`): the chosen route and its protection,
//! the other routes as a picker, a reply by the route the message came by,
//! and the question before a downgrade (once, always, cancel).

mod common;

use common::*;
use iced::widget::text_editor;
use koine_api::{
    AccountId, Address, ConversationKey, DeliveryState, Direction, Protection, ProtocolId,
};
use koine_core::{DowngradeConsent, MessageId, PersonId, RouteChoice, RouteOption, RouteSelection};
use koine_ui::app::{App, Effect, Message};
use koine_ui::composer_route::Action;

const MUM: PersonId = PersonId(3);

fn option(account: &str, protocol: &str, address: &str, protection: Protection) -> RouteOption {
    RouteOption {
        account: AccountId::new(account),
        protocol: ProtocolId::new(protocol),
        address: Address::parse_any(address).expect("address"),
        key: ConversationKey::new(address),
        conversation: None,
        route: None,
        protection,
        estimated: false,
        bridged: false,
        allowed: false,
    }
}

fn sms() -> RouteOption {
    option("acct-s", "sms", "+33611111111", Protection::Exposed)
}

fn matrix() -> RouteOption {
    option(
        "acct-m",
        "matrix",
        "@mum:matrix.example",
        Protection::EndToEndVerified,
    )
}

/// Mum's SMS chat open, with one message from her; Mum is also on Matrix.
fn mum_chat() -> App {
    let mut app = app();
    for c in &mut app.conversations {
        if c.id == MUM_SMS {
            c.peer = Some(Address::parse_any("+33611111111").expect("phone"));
        }
    }
    let _ = app.update(Message::PeopleLoaded(vec![person(
        3,
        "Mum",
        &[
            ("acct-s", "+33611111111"),
            ("acct-m", "@mum:matrix.example"),
        ],
    )]));
    let _ = app.update(Message::Select(MUM_SMS));
    let effects = app.update(Message::MessagesLoaded(
        MUM_SMS,
        vec![message(
            7,
            MUM_SMS,
            Direction::Incoming,
            2,
            "Call me",
            DeliveryState::Delivered,
        )],
    ));
    // A reply goes back by the route the message came by.
    assert_eq!(
        effects,
        [Effect::ChooseRoute(
            MUM,
            RouteSelection::CameBy(MessageId(7))
        )]
    );
    let _ = app.update(Message::Route(Action::Chosen(
        MUM,
        Some(Box::new(RouteChoice {
            chosen: sms(),
            alternatives: vec![matrix()],
            needs_consent_for_downgrade: true,
        })),
    )));
    app.composer = text_editor::Content::with_text("On my way");
    app
}

#[test]
fn the_composer_shows_the_route_and_its_protection_and_the_others() {
    let app = mum_chat();
    assert!(
        shows(
            &app,
            "Sends by SMS · not encrypted; your carrier can read it"
        ),
        "{:?}",
        texts(&app)
    );
    assert!(shows(&app, "Other routes:"));
    assert!(shows(&app, "Matrix · end-to-end encrypted, verified"));
}

#[test]
fn picking_another_route_asks_the_engine_for_it_and_sends_by_it() {
    let mut app = mum_chat();
    let messages = click(&app, "Matrix · end-to-end encrypted, verified");
    let effects = apply(&mut app, messages);
    assert_eq!(
        effects,
        [Effect::ChooseRoute(
            MUM,
            RouteSelection::Via(AccountId::new("acct-m"))
        )]
    );
    let _ = app.update(Message::Route(Action::Chosen(
        MUM,
        Some(Box::new(RouteChoice {
            chosen: matrix(),
            alternatives: vec![sms()],
            needs_consent_for_downgrade: false,
        })),
    )));
    assert!(shows(
        &app,
        "Sends by Matrix · end-to-end encrypted, verified"
    ));
    // A new page of messages keeps the user's pick.
    let effects = app.update(Message::MessagesLoaded(MUM_SMS, app.messages.clone()));
    assert_eq!(
        effects,
        [Effect::ChooseRoute(
            MUM,
            RouteSelection::Via(AccountId::new("acct-m"))
        )]
    );
    let effects = app.update(Message::Send);
    assert_eq!(
        effects,
        [
            Effect::SendToPerson {
                person: MUM,
                selection: RouteSelection::Via(AccountId::new("acct-m")),
                text: "On my way".into(),
                consent: DowngradeConsent::NotGiven,
            },
            Effect::SaveDraft(MUM_SMS, None)
        ]
    );
    assert!(!shows(&app, "Send by"), "no question for the best route");
    // It went to Mum's Matrix chat: the SMS chat says so.
    let effects = app.update(Message::SentToPerson(AccountId::new("acct-m"), Some(ALICE)));
    assert!(effects.contains(&Effect::LoadLists));
    assert!(
        shows(&app, "Sent by Matrix: it is in that chat."),
        "{:?}",
        texts(&app)
    );
    let messages = click(&app, "Open that chat");
    let effects = apply(&mut app, messages);
    assert!(
        effects.contains(&Effect::LoadMessages(ALICE)),
        "{effects:?}"
    );
    assert!(!shows(&app, "Sent by Matrix"));
}

#[test]
fn a_downgrade_asks_first_and_always_is_remembered_for_the_person() {
    let mut app = mum_chat();
    let effects = app.update(Message::Send);
    assert_eq!(
        effects,
        [Effect::SaveDraft(MUM_SMS, None)],
        "nothing sent yet"
    );
    assert!(shows(&app, "Send by SMS?"), "{:?}", texts(&app));
    assert!(shows(&app, "Your carrier can read it."));
    let messages = click(&app, "Always for Mum");
    let effects = apply(&mut app, messages);
    assert_eq!(
        effects,
        [Effect::SendToPerson {
            person: MUM,
            selection: RouteSelection::CameBy(MessageId(7)),
            text: "On my way".into(),
            consent: DowngradeConsent::Always,
        }]
    );
    assert!(!shows(&app, "Send by SMS?"));
}

#[test]
fn once_sends_this_message_and_cancel_gives_the_text_back() {
    let mut app = mum_chat();
    let _ = app.update(Message::Send);
    let messages = click(&app, "Send this once");
    let effects = apply(&mut app, messages);
    assert!(matches!(
        &effects[..],
        [Effect::SendToPerson {
            consent: DowngradeConsent::Once,
            ..
        }]
    ));
    // Sent by the open chat's own route: nothing more to say.
    let _ = app.update(Message::SentToPerson(
        AccountId::new("acct-s"),
        Some(MUM_SMS),
    ));
    assert!(!shows(&app, "Sent by"), "{:?}", texts(&app));

    let mut app = mum_chat();
    let _ = app.update(Message::Send);
    let messages = click(&app, "Cancel");
    let effects = apply(&mut app, messages);
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(koine_ui::app::composer_text(&app.composer), "On my way");
    assert!(!shows(&app, "Send by SMS?"));
}

#[test]
fn the_engine_refusing_a_downgrade_brings_the_question() {
    let mut app = mum_chat();
    let _ = app.update(Message::Route(Action::NeedsConsent("Later".into())));
    assert!(shows(&app, "Send by SMS?"));
    let messages = click(&app, "Send this once");
    let effects = apply(&mut app, messages);
    assert!(matches!(
        &effects[..],
        [Effect::SendToPerson { text, consent: DowngradeConsent::Once, .. }] if text == "Later"
    ));
}

#[test]
fn a_chat_with_no_known_person_sends_as_before() {
    let mut app = app();
    let _ = app.update(Message::Select(ALICE));
    let effects = app.update(Message::MessagesLoaded(ALICE, Vec::new()));
    assert!(effects.is_empty());
    assert!(!shows(&app, "Sends by"));
    app.composer = text_editor::Content::with_text("Hi");
    let effects = app.update(Message::Send);
    assert!(matches!(&effects[0], Effect::Send { text, .. } if text == "Hi"));
}
