//! Simulator tests of the keyboard panels (`ICED_TEST_BACKEND=tiny-skia`):
//! the shortcuts, the quick switcher (Ctrl+K, fuzzy), the search across all
//! history (Ctrl+F, opening the chat at the message), Alt+Up/Down and Esc.

mod common;

use common::*;
use iced::keyboard::{Key, Modifiers, key::Named};
use koine_api::{AccountId, DeliveryState, Direction};
use koine_core::{MessageId, SearchHit};
use koine_ui::app::{Effect, Message};
use koine_ui::keys::shortcut;
use koine_ui::overlay::{Action, INPUT_ID, fuzzy_score};

#[test]
fn the_shortcuts_map_to_their_actions() {
    let k = |c: &str| Key::Character(c.into());
    assert!(matches!(
        shortcut(&k("k"), Modifiers::CTRL),
        Some(Message::Overlay(Action::OpenSwitcher))
    ));
    assert!(matches!(
        shortcut(&k("f"), Modifiers::CTRL),
        Some(Message::Overlay(Action::OpenSearch))
    ));
    assert!(matches!(
        shortcut(&Key::Named(Named::ArrowUp), Modifiers::ALT),
        Some(Message::NextChat(-1))
    ));
    assert!(matches!(
        shortcut(&Key::Named(Named::ArrowDown), Modifiers::ALT),
        Some(Message::NextChat(1))
    ));
    assert!(matches!(
        shortcut(&Key::Named(Named::ArrowDown), Modifiers::empty()),
        Some(Message::Arrow(1))
    ));
    assert!(matches!(
        shortcut(&Key::Named(Named::Escape), Modifiers::empty()),
        Some(Message::CloseInspector)
    ));
    assert!(
        shortcut(&k("k"), Modifiers::empty()).is_none(),
        "plain k is typing"
    );
}

#[test]
fn fuzzy_matching_ignores_case_accents_and_gaps() {
    assert!(fuzzy_score("bwa", "Bob on WhatsApp").is_some());
    assert!(fuzzy_score("eve", "Ève Martin").is_some());
    assert!(fuzzy_score("xyz", "Alice").is_none());
    assert!(
        fuzzy_score("mu", "Mum") > fuzzy_score("mu", "Samuel"),
        "word start wins"
    );
    assert!(fuzzy_score("ali", "Alice") > fuzzy_score("ali", "a long list"));
}

fn open(app: &mut koine_ui::app::App, action: Action) {
    let effects = app.update(Message::Overlay(action));
    assert_eq!(
        effects,
        [Effect::Focus(INPUT_ID)],
        "the field gets the focus"
    );
}

/// Clicks the panel's field, types, and returns the app's effects.
fn type_in_panel(app: &mut koine_ui::app::App, events: Vec<iced_test::core::Event>) -> Vec<Effect> {
    let messages = {
        let mut sim = simulator(app);
        sim.click(iced_test::selector::id(INPUT_ID))
            .expect("the panel's field is on screen");
        let _ = sim.simulate(events);
        sim.into_messages().collect::<Vec<_>>()
    };
    apply(app, messages)
}

#[test]
fn ctrl_k_typing_filters_and_enter_opens_the_conversation() {
    let mut app = app();
    open(&mut app, Action::OpenSwitcher);
    let titles = |app: &koine_ui::app::App| -> Vec<String> {
        app.switcher_matches()
            .iter()
            .map(|c| c.title.clone())
            .collect()
    };
    assert_eq!(titles(&app).len(), 4, "empty query: every conversation");
    let _ = type_in_panel(&mut app, iced_test::simulator::typewrite("bwa").collect());
    assert_eq!(titles(&app), ["Bob on WhatsApp"]);
    let enter = iced_test::simulator::tap_key(Key::Named(Named::Enter), None).collect();
    let effects = type_in_panel(&mut app, enter);
    assert_eq!(app.selected, Some(BRIDGED));
    assert!(
        effects.contains(&Effect::LoadMessages(BRIDGED)),
        "{effects:?}"
    );
    assert!(app.overlay.is_none(), "the panel closes");
}

#[test]
fn arrows_choose_among_the_matches_and_a_click_opens_one() {
    let mut app = app();
    open(&mut app, Action::OpenSwitcher);
    let _ = app.update(Message::Overlay(Action::Query("a".into())));
    let second = app.switcher_matches()[1].id;
    let _ = app.update(Message::Arrow(1));
    let _ = app.update(Message::Arrow(1));
    let _ = app.update(Message::Arrow(-1));
    let _ = app.update(Message::Overlay(Action::Confirm));
    assert_eq!(app.selected, Some(second));

    open(&mut app, Action::OpenSwitcher);
    let _ = app.update(Message::Overlay(Action::Query("mum".into())));
    // The panel's row is the one right of the sidebar.
    let row = text_bounds(&app)
        .into_iter()
        .find(|(t, b)| t == "Mum" && b.x > 330.0)
        .expect("Mum in the panel")
        .1;
    let messages = click_at(&app, row.center());
    let effects = apply(&mut app, messages);
    assert_eq!(app.selected, Some(MUM_SMS));
    assert!(effects.contains(&Effect::LoadMessages(MUM_SMS)));
}

fn hit(id: i64, text: &str) -> SearchHit {
    SearchHit {
        account: AccountId::new("acct-m"),
        conversation_title: "Alice".into(),
        message: message(
            id,
            ALICE,
            Direction::Incoming,
            26,
            text,
            DeliveryState::Delivered,
        ),
    }
}

#[test]
fn ctrl_f_searches_all_history_and_opens_the_chat_at_the_message() {
    let mut app = app();
    open(&mut app, Action::OpenSearch);
    let effects = type_in_panel(
        &mut app,
        iced_test::simulator::typewrite("tomorrow").collect(),
    );
    assert_eq!(effects.last(), Some(&Effect::Search("tomorrow".into())));
    // An answer to an older query is dropped.
    let _ = app.update(Message::SearchResults("tomo".into(), vec![hit(9, "stale")]));
    assert!(!shows(&app, "stale"));
    let _ = app.update(Message::SearchResults(
        "tomorrow".into(),
        vec![hit(10, "See you tomorrow at the station")],
    ));
    assert!(
        shows(&app, "See you tomorrow at the station"),
        "{:?}",
        texts(&app)
    );

    let messages = click(&app, "See you tomorrow at the station");
    let effects = apply(&mut app, messages);
    assert_eq!(app.selected, Some(ALICE));
    assert!(
        effects.contains(&Effect::LoadMessagesUpTo(ALICE, MessageId(10))),
        "{effects:?}"
    );
    assert!(!effects.contains(&Effect::LoadMessages(ALICE)));
    assert_eq!(app.jump_to, Some(MessageId(10)));
    let _ = app.update(Message::MessagesLoaded(
        ALICE,
        vec![message(
            10,
            ALICE,
            Direction::Incoming,
            26,
            "See you tomorrow at the station",
            DeliveryState::Delivered,
        )],
    ));
    let messages = click(&app, "Show the latest messages");
    let effects = apply(&mut app, messages);
    assert_eq!(effects, [Effect::LoadMessages(ALICE)]);
    assert_eq!(app.jump_to, None);
    assert!(!shows(&app, "Show the latest messages"));
}

#[test]
fn alt_up_and_down_walk_the_list_in_its_order() {
    let mut app = app();
    let effects = app.update(Message::NextChat(1));
    assert_eq!(app.selected, Some(MUM_SMS), "pinned first");
    assert!(effects.contains(&Effect::LoadMessages(MUM_SMS)));
    let _ = app.update(Message::NextChat(1));
    assert_eq!(app.selected, Some(ALICE));
    let _ = app.update(Message::NextChat(1));
    assert_eq!(app.selected, Some(BRIDGED));
    let _ = app.update(Message::NextChat(1));
    assert_eq!(app.selected, Some(STRANGER), "then the requests");
    let _ = app.update(Message::NextChat(1));
    assert_eq!(app.selected, Some(STRANGER), "stays at the end");
    let _ = app.update(Message::NextChat(-1));
    assert_eq!(app.selected, Some(BRIDGED));
}

#[test]
fn escape_closes_the_panel_first_then_the_inspector() {
    let mut app = app();
    let messages = click(&app, "Alice");
    let _ = apply(&mut app, messages);
    let _ = app.update(Message::ToggleInspector);
    open(&mut app, Action::OpenSearch);
    assert!(!app.inspector_open, "a panel replaces the inspector");
    let _ = app.update(Message::ToggleInspector);
    open(&mut app, Action::OpenSwitcher);
    let _ = app.update(Message::CloseInspector);
    assert!(app.overlay.is_none());
    let _ = app.update(Message::ToggleInspector);
    let _ = app.update(Message::CloseInspector);
    assert!(!app.inspector_open);
}

#[test]
fn clicking_outside_the_panel_closes_it() {
    let mut app = app();
    open(&mut app, Action::OpenSwitcher);
    let messages = click_at(&app, iced::Point::new(1300.0, 700.0));
    let _ = apply(&mut app, messages);
    assert!(app.overlay.is_none());
}

#[test]
fn search_results_name_the_chat_as_the_list_does() {
    let mut app = app();
    open(&mut app, Action::OpenSearch);
    let _ = type_in_panel(&mut app, iced_test::simulator::typewrite("lunch").collect());
    // The store's title of an SMS chat is the number.
    let hit = SearchHit {
        account: AccountId::new("acct-s"),
        conversation_title: "+33611111111".into(),
        message: message(
            11,
            MUM_SMS,
            Direction::Incoming,
            26,
            "Lunch on Sunday?",
            DeliveryState::Delivered,
        ),
    };
    let _ = app.update(Message::SearchResults("lunch".into(), vec![hit]));
    let shown = texts(&app);
    assert!(shown.iter().any(|t| t.starts_with("Mum · ")), "{shown:?}");
    assert!(
        !shown.iter().any(|t| t.contains("+33611111111 ·")),
        "{shown:?}"
    );
}

#[test]
fn a_chat_opened_from_the_quick_switcher_takes_the_typing() {
    let mut app = app();
    open(&mut app, Action::OpenSwitcher);
    let _ = app.update(Message::Overlay(Action::Query("mum".into())));
    let effects = app.update(Message::Overlay(Action::Confirm));
    assert_eq!(app.selected, Some(MUM_SMS));
    assert!(
        effects.contains(&Effect::Focus(koine_ui::view::COMPOSER_ID)),
        "{effects:?}"
    );
}
