//! The first start: with no account, the window explains Koine and the
//! route in one screen, lists each network in its plugin's own words, and
//! offers the demo and the account setup.

mod common;

use common::*;
use koine_api::{Capabilities, Face, Label, ProtocolId, ProtocolInfo, Translation};
use koine_ui::app::{App, Effect, Message, Screen};
use std::collections::HashMap;

fn network() -> ProtocolInfo {
    ProtocolInfo {
        id: ProtocolId::new("relay2"),
        name: "Relay".into(),
        capabilities: Capabilities::text_only(),
        account_fields: Vec::new(),
        account_label: Label::new("relay2-account", "User"),
        face: Face {
            badge: None,
            translations: vec![Translation::embedded(
                "en",
                "relay2-about = A relay account and a good reason.\n",
            )],
            about: Some(Label::new("relay2-about", "untranslated about")),
        },
    }
}

fn first_start() -> App {
    koine_ui::i18n::set_language("en");
    let info = network();
    koine_ui::faces::register(&info);
    let mut app = App::new(HashMap::new());
    app.protocols = vec![info];
    let _ = app.update(Message::ListsLoaded {
        accounts: Vec::new(),
        conversations: Vec::new(),
    });
    app
}

#[test]
fn a_first_start_explains_the_route_and_offers_two_ways_in() {
    let mut app = first_start();
    assert!(shows(&app, "Welcome to Koine"), "{:?}", texts(&app));
    assert!(shows(&app, "where end-to-end encryption ends"));
    assert!(
        shows(&app, "A relay account and a good reason."),
        "{:?}",
        texts(&app)
    );
    let messages = click(&app, "Try the demo");
    assert_eq!(apply(&mut app, messages), [Effect::LaunchDemo]);
    let messages = click_below(&app, "Networks you can add", "Add an account");
    let _ = apply(&mut app, messages);
    assert!(matches!(app.screen, Screen::Setup(_)));
}

#[test]
fn with_an_account_there_is_no_welcome() {
    let app = app();
    assert!(!shows(&app, "Welcome to Koine"));
}
