//! Simulator tests of the settings screen (`ICED_TEST_BACKEND=tiny-skia`):
//! each choice is applied at once and saved; a broken or unknown-keyed
//! file is reported on the screen.

mod common;

use common::*;
use koine_api::ProtocolId;
use koine_core::StrangerPolicy;
use koine_ui::app::{Effect, Message, Screen};
use koine_ui::settings::{Loaded, Settings, ThemeChoice};

fn open_settings() -> koine_ui::app::App {
    let mut app = app();
    let messages = click(&app, "Settings");
    let _ = apply(&mut app, messages);
    assert_eq!(
        app.screen,
        Screen::Settings,
        "the Settings button opens the screen"
    );
    app
}

fn saved(effects: &[Effect]) -> Settings {
    match effects {
        [Effect::SaveSettings(s)] => s.clone(),
        other => panic!("expected one save, got {other:?}"),
    }
}

#[test]
fn the_settings_screen_shows_every_choice() {
    let app = open_settings();
    for label in [
        "Theme",
        "System",
        "Light",
        "Dark",
        "High contrast",
        "Text size",
        "115 %",
        "Language",
        "Français",
        "Desktop notifications for new messages",
        "Who may write to you directly",
        "Only my contacts",
        "Contacts and people in my group chats",
        "Anyone",
    ] {
        assert!(shows(&app, label), "{label:?} missing: {:?}", texts(&app));
    }
    assert!(!shows(&app, "Select a conversation on the left."));
}

#[test]
fn a_theme_is_applied_at_once_and_saved() {
    let mut app = open_settings();
    let messages = click(&app, "High contrast");
    let effects = apply(&mut app, messages);
    assert_eq!(saved(&effects).theme, ThemeChoice::HighContrast);
    assert_eq!(app.theme(), ThemeChoice::HighContrast.theme());
    let messages = click(&app, "Dark");
    let effects = apply(&mut app, messages);
    assert_eq!(saved(&effects).theme, ThemeChoice::Dark);
    assert_eq!(app.theme(), iced::Theme::Dark);
}

#[test]
fn picking_a_theme_replaces_the_one_forced_from_outside() {
    let mut app = open_settings();
    app.theme_override = Some(ThemeChoice::Dark);
    assert_eq!(app.theme(), iced::Theme::Dark);
    let messages = click(&app, "Light");
    let _ = apply(&mut app, messages);
    assert_eq!(app.theme(), iced::Theme::Light);
}

#[test]
fn text_size_and_notifications_are_saved() {
    let mut app = open_settings();
    let messages = click(&app, "130 %");
    let effects = apply(&mut app, messages);
    assert_eq!(saved(&effects).font_scale, 1.3);
    assert_eq!(app.settings.font_scale, 1.3);
    let messages = click(&app, "Off");
    let effects = apply(&mut app, messages);
    assert!(!saved(&effects).notifications);
}

#[test]
fn who_may_write_directly_is_chosen_per_network_and_set_in_the_engine() {
    let mut app = open_settings();
    let _ = app.update(Message::PoliciesLoaded(vec![(
        ProtocolId::new("xmpp"),
        StrangerPolicy::SharedRoom,
    )]));
    let messages = click_on_line(&app, "SMS", "Anyone");
    let effects = apply(&mut app, messages);
    assert_eq!(
        effects,
        [Effect::SetStrangerPolicy(
            ProtocolId::new("sms"),
            StrangerPolicy::Anyone
        )]
    );
    let messages = click_on_line(&app, "Matrix", "Only my contacts");
    let effects = apply(&mut app, messages);
    assert_eq!(
        effects,
        [Effect::SetStrangerPolicy(
            ProtocolId::new("matrix"),
            StrangerPolicy::Contacts
        )]
    );
    let policy = |p: &str| app.stranger_policies.get(&ProtocolId::new(p)).copied();
    assert_eq!(policy("sms"), Some(StrangerPolicy::Anyone));
    assert_eq!(
        policy("xmpp"),
        Some(StrangerPolicy::SharedRoom),
        "loaded, unchanged"
    );
    // The engine refusing it is shown on the screen.
    let _ = app.update(Message::SettingsSaveFailed("unknown network: sms".into()));
    assert!(shows(
        &app,
        "Could not save the settings: unknown network: sms"
    ));
}

#[test]
fn a_broken_file_is_reported_and_the_defaults_are_used() {
    let mut app = open_settings();
    let _ = app.update(Message::SettingsLoaded(Box::new(Loaded {
        error: Some("expected a value, found `[`".into()),
        ..Loaded::default()
    })));
    assert!(
        shows(&app, "Your settings file could not be read"),
        "{:?}",
        texts(&app)
    );
    assert_eq!(app.settings, Settings::default());

    let (settings, unknown) =
        koine_ui::settings::parse("theme = \"dark\"\nwallpaper = \"cats\"\n").expect("parse");
    let _ = app.update(Message::SettingsLoaded(Box::new(Loaded {
        settings,
        unknown,
        error: None,
    })));
    assert!(shows(&app, "were ignored: wallpaper"), "{:?}", texts(&app));
    assert_eq!(app.theme(), iced::Theme::Dark);
}

#[test]
fn escape_closes_the_settings() {
    let mut app = open_settings();
    let _ = app.update(Message::CloseInspector);
    assert_eq!(app.screen, Screen::Chat);
    assert!(shows(&app, "Select a conversation on the left."));
}

#[test]
fn system_leaves_the_theme_to_the_desktop() {
    let mut app = open_settings();
    assert_eq!(app.window_theme(), None, "the default follows the desktop");
    let messages = click(&app, "Dark");
    let _ = apply(&mut app, messages);
    assert_eq!(app.window_theme(), Some(iced::Theme::Dark));
    let messages = click(&app, "System");
    let _ = apply(&mut app, messages);
    assert_eq!(app.window_theme(), None);
}
