//! Simulator tests per screen (run with `ICED_TEST_BACKEND=tiny-skia`): the
//! list, the chat and composer, the route line, the route inspector and the
//! requests section.

mod common;

use common::*;
use iced::keyboard::{self, Key, key::Named};
use iced_test::core::Event;
use koine_api::{DeliveryState, Direction};
use koine_ui::app::{Effect, Message};

#[test]
fn list_shows_accounts_with_state_and_the_unified_inbox_pinned_first() {
    let app = app();
    assert!(shows(&app, "@me:matrix.example"));
    assert!(shows(&app, "Connecting…"));
    assert!(
        shows(&app, "Offline: cannot reach the server (retrying in 5 s)"),
        "{:?}",
        texts(&app)
    );
    assert!(shows(&app, "Retry"));
    assert!(shows(&app, "3 unread"));
    assert!(shows(&app, "Pinned"));
    let inbox: Vec<&str> = app.inbox().iter().map(|c| c.title.as_str()).collect();
    assert_eq!(inbox, ["Mum", "Alice", "Bob on WhatsApp"]);
}

#[test]
fn retry_on_an_offline_account_asks_the_engine_to_reconnect() {
    let mut app = app();
    let messages = click(&app, "Retry");
    let effects = apply(&mut app, messages);
    assert_eq!(
        effects,
        [Effect::Retry(koine_api::AccountId::new("acct-x"))]
    );
}

#[test]
fn requests_are_kept_apart_from_the_inbox() {
    let app = app();
    assert!(shows(&app, "Requests (1)"));
    assert!(shows(&app, "eve@evil.example"));
    assert!(app.inbox().iter().all(|c| c.title != "eve@evil.example"));
    assert_eq!(app.requests().len(), 1);
    // Marking the request accepted moves it into the inbox.
    let mut app = app;
    let mut conversations = app.conversations.clone();
    conversations.iter_mut().for_each(|c| c.is_request = false);
    let accounts = app.accounts.iter().map(|a| a.record.clone()).collect();
    let _ = app.update(Message::ListsLoaded {
        accounts,
        conversations,
    });
    assert!(shows(&app, "Requests (0)"));
    assert!(shows(&app, "No pending requests."));
}

#[test]
fn clicking_a_conversation_opens_it_and_shows_its_messages() {
    let mut app = app();
    assert!(shows(&app, "Select a conversation on the left."));
    let messages = click(&app, "Alice");
    let effects = apply(&mut app, messages);
    assert!(
        effects.contains(&Effect::LoadMessages(ALICE)),
        "{effects:?}"
    );
    let _ = app.update(Message::MessagesLoaded(
        ALICE,
        vec![
            message(
                10,
                ALICE,
                Direction::Incoming,
                26,
                "See you tomorrow",
                DeliveryState::Delivered,
            ),
            message(
                11,
                ALICE,
                Direction::Incoming,
                2,
                "Good morning!",
                DeliveryState::Delivered,
            ),
            message(
                12,
                ALICE,
                Direction::Outgoing,
                1,
                "Hi Alice",
                DeliveryState::Read,
            ),
        ],
    ));
    assert!(shows(&app, "See you tomorrow"));
    assert!(shows(&app, "Good morning!"));
    assert!(shows(&app, "Yesterday"));
    assert!(shows(&app, "Today"));
    assert!(shows(&app, "✓✓ Read"));
    assert!(!shows(&app, "Select a conversation on the left."));
}

#[test]
fn opening_an_unread_chat_marks_it_read() {
    let mut app = app();
    let messages = click(&app, "Mum");
    let effects = apply(&mut app, messages);
    assert!(effects.contains(&Effect::MarkRead(MUM_SMS)), "{effects:?}");
    assert!(!shows(&app, "3 unread"));
}

fn press(key: Key, shift: bool) -> Vec<Event> {
    let modifiers = if shift {
        keyboard::Modifiers::SHIFT
    } else {
        keyboard::Modifiers::default()
    };
    vec![
        Event::Keyboard(keyboard::Event::KeyPressed {
            key: key.clone(),
            modified_key: key.clone(),
            physical_key: keyboard::key::Physical::Unidentified(
                keyboard::key::NativeCode::Unidentified,
            ),
            location: keyboard::Location::Standard,
            modifiers,
            repeat: false,
            text: None,
        }),
        Event::Keyboard(keyboard::Event::KeyReleased {
            key: key.clone(),
            modified_key: key,
            physical_key: keyboard::key::Physical::Unidentified(
                keyboard::key::NativeCode::Unidentified,
            ),
            location: keyboard::Location::Standard,
            modifiers,
        }),
    ]
}

/// Focuses the composer, types, and returns the app's effects.
fn type_in_composer(app: &mut koine_ui::app::App, events: Vec<Event>) -> Vec<Effect> {
    let messages = {
        let mut sim = simulator(app);
        sim.click(iced_test::selector::id(koine_ui::view::COMPOSER_ID))
            .expect("the composer is on screen");
        let _ = sim.simulate(events);
        sim.into_messages().collect::<Vec<_>>()
    };
    apply(app, messages)
}

#[test]
fn typing_and_enter_sends_and_shift_enter_adds_a_line() {
    let mut app = app();
    let messages = click(&app, "Alice");
    let _ = apply(&mut app, messages);

    let mut events: Vec<Event> = iced_test::simulator::typewrite("hello").collect();
    events.extend(press(Key::Named(Named::Enter), true));
    events.extend(iced_test::simulator::typewrite("world"));
    let effects = type_in_composer(&mut app, events);
    assert_eq!(
        effects,
        vec![Effect::Typing(ALICE, true)],
        "no send before Enter, and Alice sees the user typing"
    );
    assert_eq!(koine_ui::app::composer_text(&app.composer), "hello\nworld");

    let effects = type_in_composer(&mut app, press(Key::Named(Named::Enter), false));
    let send = effects
        .iter()
        .find(|e| matches!(e, Effect::Send { .. }))
        .unwrap_or_else(|| panic!("Enter must send: {effects:?}"));
    assert_eq!(
        send,
        &Effect::Send {
            account: koine_api::AccountId::new("acct-m"),
            conversation: ALICE,
            key: koine_api::ConversationKey::new("!alice"),
            text: "hello\nworld".into(),
            reply_to: None,
            attachments: Vec::new(),
        }
    );
    assert_eq!(
        koine_ui::app::composer_text(&app.composer),
        "",
        "composer cleared"
    );
}

#[test]
fn drafts_are_kept_per_chat() {
    let mut app = app();
    let messages = click(&app, "Alice");
    let _ = apply(&mut app, messages);
    let effects = type_in_composer(
        &mut app,
        iced_test::simulator::typewrite("half a thought").collect(),
    );
    assert_eq!(effects, vec![Effect::Typing(ALICE, true)]);

    let messages = click(&app, "Bob on WhatsApp");
    let effects = apply(&mut app, messages);
    assert!(
        effects.contains(&Effect::SaveDraft(ALICE, Some("half a thought".into()))),
        "{effects:?}"
    );
    assert_eq!(koine_ui::app::composer_text(&app.composer), "");

    let messages = click(&app, "Alice");
    let _ = apply(&mut app, messages);
    assert_eq!(
        koine_ui::app::composer_text(&app.composer),
        "half a thought"
    );
}

#[test]
fn route_line_of_a_verified_matrix_chat() {
    let mut app = app();
    let _ = app.update(Message::Select(ALICE));
    assert!(shows(
        &app,
        "Matrix · matrix.example → federation → their.server · end-to-end encrypted, verified"
    ));
}

#[test]
fn route_line_of_sms_and_bridged_chats_says_not_end_to_end() {
    let mut app = app();
    let _ = app.update(Message::Select(MUM_SMS));
    assert!(shows(
        &app,
        "SMS · Pixel 7 → carrier · not end-to-end encrypted"
    ));
    assert!(shows(&app, "Pixel 7, carrier can read your messages"));

    let _ = app.update(Message::Select(BRIDGED));
    assert!(shows(
        &app,
        "not end-to-end encrypted: wa.bridge.example can read your messages"
    ));
}

#[test]
fn route_inspector_lists_every_hop_and_closes() {
    let mut app = app();
    let _ = app.update(Message::Select(BRIDGED));
    assert!(!shows(&app, "How this conversation travels"));
    let messages = click(&app, "Route details");
    let _ = apply(&mut app, messages);
    assert!(app.inspector_open);
    assert!(shows(&app, "How this conversation travels"));
    assert!(shows(&app, "2. wa.bridge.example (bridge to WhatsApp)"));
    assert!(shows(&app, "operated by bridge.example"));
    assert!(shows(&app, "reads your messages"));
    assert!(shows(&app, "TLS 1.3, certificate verified"));
    assert!(shows(&app, "sees your IP address"));
    assert!(shows(
        &app,
        "End-to-end encryption ends at wa.bridge.example."
    ));

    let messages = click(&app, "Close");
    let _ = apply(&mut app, messages);
    assert!(!shows(&app, "How this conversation travels"));
}

#[test]
fn route_inspector_shows_the_safety_number_of_a_verified_chat() {
    let mut app = app();
    let _ = app.update(Message::Select(ALICE));
    let _ = app.update(Message::ToggleInspector);
    assert!(shows(&app, "End-to-end encryption: Megolm"));
    assert!(shows(&app, "Keys verified."));
    assert!(shows(&app, "ABCD 1234 EF56"));
    assert!(!shows(&app, "reads your messages"));
    // The diagram is drawn (a snapshot renders without error).
    let mut sim = simulator(&app);
    sim.snapshot(&theme()).expect("the inspector renders");
}

#[test]
fn route_inspector_says_the_history_is_stored_encrypted_only_when_it_is() {
    const SAID: &str =
        "History: stored encrypted on this computer (its key is in the system keyring).";
    let mut app = app();
    let _ = app.update(Message::Select(ALICE));
    let _ = app.update(Message::ToggleInspector);
    assert!(!shows(&app, SAID), "not claimed for a store that is not");
    app.history_encrypted = true;
    assert!(shows(&app, SAID), "{:?}", texts(&app));
}

#[test]
fn incoming_message_in_the_open_chat_appears_and_is_read_without_reloading_the_list() {
    let mut app = app();
    let _ = app.update(Message::Select(ALICE));
    let effects = app.update(Message::Engine(Box::new(
        koine_core::EngineEvent::MessageStored {
            account: koine_api::AccountId::new("acct-m"),
            message: message(
                20,
                ALICE,
                Direction::Incoming,
                0,
                "fresh news",
                DeliveryState::Delivered,
            ),
        },
    )));
    assert!(!effects.contains(&Effect::LoadLists), "{effects:?}");
    assert!(effects.contains(&Effect::MarkRead(ALICE)), "{effects:?}");
    assert!(shows(&app, "fresh news"));
}

#[test]
fn without_a_conversation_route_the_latest_messages_route_is_shown() {
    let mut app = app();
    let mut conversations = app.conversations.clone();
    conversations.iter_mut().for_each(|c| c.route = None);
    let accounts = app.accounts.iter().map(|a| a.record.clone()).collect();
    let _ = app.update(Message::ListsLoaded {
        accounts,
        conversations,
    });
    let messages = click(&app, "Mum");
    let _ = apply(&mut app, messages);
    assert!(shows(&app, "route not known yet"));
    let mut m = message(
        20,
        MUM_SMS,
        Direction::Incoming,
        1,
        "Sunday?",
        DeliveryState::Delivered,
    );
    m.route = Some(sms_route());
    let _ = app.update(Message::MessagesLoaded(MUM_SMS, vec![m]));
    assert!(!shows(&app, "route not known yet"), "{:?}", texts(&app));
    assert!(shows(&app, "not end-to-end encrypted"));
}

#[test]
fn ones_own_message_appears_once_stored_and_when_the_network_takes_it() {
    let mut app = app();
    let messages = click(&app, "Alice");
    let _ = apply(&mut app, messages);
    let _ = app.update(Message::MessagesLoaded(ALICE, Vec::new()));
    // The engine stored it and said so with the row: nothing to read again.
    assert_eq!(app.update(Message::Sent(ALICE)), []);
    // The network took it before the page came back: it shows at once.
    let sent = message(
        30,
        ALICE,
        Direction::Outgoing,
        0,
        "On my way",
        DeliveryState::Sent,
    );
    let _ = app.update(Message::Engine(Box::new(
        koine_core::EngineEvent::MessageUpdated {
            account: koine_api::AccountId::new("acct-m"),
            message: sent,
        },
    )));
    assert!(shows(&app, "On my way"));
    assert!(shows(&app, "✓ Sent"));
}

#[test]
fn an_sms_handed_to_the_phone_says_it_is_not_confirmed_then_sent() {
    let mut app = app();
    let messages = click(&app, "Mum");
    let _ = apply(&mut app, messages);
    let _ = app.update(Message::MessagesLoaded(MUM_SMS, Vec::new()));
    let mut m = message(
        31,
        MUM_SMS,
        Direction::Outgoing,
        0,
        "Coming Sunday",
        DeliveryState::Handed,
    );
    let update = |app: &mut koine_ui::app::App, m: &koine_core::StoredMessage| {
        let _ = app.update(Message::Engine(Box::new(
            koine_core::EngineEvent::MessageUpdated {
                account: koine_api::AccountId::new("acct-s"),
                message: m.clone(),
            },
        )));
    };
    update(&mut app, &m);
    assert!(
        shows(&app, "→ Handed to the phone, not confirmed sent"),
        "{:?}",
        texts(&app)
    );
    assert!(!shows(&app, "✓ Sent"));
    // The phone's sent box confirms it later.
    m.state = DeliveryState::Sent;
    update(&mut app, &m);
    assert!(shows(&app, "✓ Sent"), "{:?}", texts(&app));
}

#[test]
fn a_direct_chat_with_a_known_person_shows_their_name_everywhere() {
    use koine_core::people::{AddressSource, PersonAddress};
    let mut app = app();
    let number =
        koine_api::Address::Phone(koine_api::PhoneNumber::parse("+33611111111").expect("number"));
    let mut conversations = app.conversations.clone();
    for c in &mut conversations {
        if c.id == MUM_SMS {
            c.peer = Some(number.clone());
        }
    }
    let accounts = app.accounts.iter().map(|a| a.record.clone()).collect();
    let _ = app.update(Message::ListsLoaded {
        accounts,
        conversations,
    });
    let _ = app.update(Message::PeopleLoaded(vec![koine_core::Person {
        id: koine_core::PersonId(7),
        name: "Maman Dupont".into(),
        addresses: vec![PersonAddress {
            account: Some(koine_api::AccountId::new("acct-s")),
            address: number,
            source: AddressSource::Seen,
        }],
        hints: Vec::new(),
    }]));
    assert!(shows(&app, "Maman Dupont"), "{:?}", texts(&app));
    assert!(!shows(&app, "Mum"));
    let messages = click(&app, "Maman Dupont");
    let _ = apply(&mut app, messages);
    let mut m = message(
        40,
        MUM_SMS,
        Direction::Incoming,
        1,
        "Sunday?",
        DeliveryState::Delivered,
    );
    m.sender = number_again();
    m.sender_name = None;
    let _ = app.update(Message::MessagesLoaded(MUM_SMS, vec![m]));
    let named = texts(&app).iter().filter(|t| *t == "Maman Dupont").count();
    assert_eq!(named, 3, "list, header and the message: {:?}", texts(&app));
    let _ = app.update(Message::Overlay(koine_ui::overlay::Action::OpenSwitcher));
    let _ = app.update(Message::Overlay(koine_ui::overlay::Action::Query(
        "dupont".into(),
    )));
    assert_eq!(
        app.switcher_matches().len(),
        1,
        "the switcher finds the name"
    );
}

fn number_again() -> koine_api::Address {
    koine_api::Address::Phone(koine_api::PhoneNumber::parse("+33611111111").expect("number"))
}

fn type_key(c: char) -> Message {
    Message::Compose(iced::widget::text_editor::Action::Edit(
        iced::widget::text_editor::Edit::Insert(c),
    ))
}

fn backspace() -> Message {
    Message::Compose(iced::widget::text_editor::Action::Edit(
        iced::widget::text_editor::Edit::Backspace,
    ))
}

fn typing(effects: &[Effect]) -> Vec<Effect> {
    effects
        .iter()
        .filter(|e| matches!(e, Effect::Typing(..)))
        .cloned()
        .collect()
}

#[test]
fn typing_tells_the_contact_once_and_stopping_tells_them_too() {
    let mut app = app();
    let open = click(&app, "Mum");
    apply(&mut app, open);
    let first = apply(&mut app, vec![type_key('h')]);
    assert_eq!(typing(&first), vec![Effect::Typing(MUM_SMS, true)]);
    let more = apply(&mut app, vec![type_key('i'), type_key('!')]);
    assert!(typing(&more).is_empty(), "once per burst: {more:?}");
    let erased = apply(&mut app, vec![backspace(), backspace(), backspace()]);
    assert_eq!(typing(&erased), vec![Effect::Typing(MUM_SMS, false)]);
    // Typing again, then leaving for another chat, stops it.
    apply(&mut app, vec![type_key('o')]);
    let away = click(&app, "Alice");
    let left = apply(&mut app, away);
    assert_eq!(typing(&left), vec![Effect::Typing(MUM_SMS, false)]);
}

#[test]
fn a_stranger_does_not_see_the_user_typing() {
    let mut app = app();
    apply(&mut app, vec![Message::Select(STRANGER)]);
    let effects = apply(&mut app, vec![type_key('n'), type_key('o')]);
    assert!(typing(&effects).is_empty(), "{effects:?}");
}
