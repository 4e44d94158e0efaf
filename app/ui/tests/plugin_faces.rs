//! A plugin describes its own face: the window shows the badge and the
//! translated field labels of a network it has never heard of, from the
//! plugin's `ProtocolInfo` alone.

mod common;

use common::*;
use koine_api::{
    AccountField, Capabilities, Face, FieldKind, Label, ProtocolId, ProtocolInfo, Translation,
};

const BADGE: &[u8] = br##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#2a7"/></svg>"##;
const EN: &str = "relay-field-host = Relay host\nrelay-account = Relay user\n";
const FR: &str = "relay-field-host = Hôte du relais\nrelay-account = Utilisateur du relais\n";

fn relay() -> ProtocolInfo {
    ProtocolInfo {
        id: ProtocolId::new("relay"),
        name: "Relay".into(),
        capabilities: Capabilities::text_only(),
        account_fields: vec![AccountField {
            key: "host".into(),
            label: Label::new("relay-field-host", "Host (untranslated)"),
            kind: FieldKind::Text,
            required: true,
            default: None,
        }],
        account_label: Label::new("relay-account", "User (untranslated)"),
        face: Face {
            badge: Some(BADGE.into()),
            translations: vec![
                Translation::embedded("en", EN),
                Translation::embedded("fr", FR),
            ],
            about: None,
        },
    }
}

#[test]
fn an_unknown_plugins_badge_and_labels_appear_in_the_language() {
    let info = relay();
    koine_ui::faces::register(&info);
    assert!(koine_ui::faces::badge(&info.id).is_some());

    let mut app = app();
    app.protocols = vec![info.clone()];
    koine_ui::i18n::set_language("fr");
    let messages = click(&app, "Ajouter un compte");
    let _ = apply(&mut app, messages);
    let messages = click_right(&app, "Relay");
    let _ = apply(&mut app, messages);
    let shown = texts(&app);
    let french_host = shown.iter().any(|t| t.contains("Hôte du relais"));
    let untranslated = shown.iter().any(|t| t.contains("untranslated"));
    // No two-letter stand-in: the badge is the plugin's picture.
    let initials = shown.iter().any(|t| t == "re");
    koine_ui::i18n::set_language("en");
    assert!(french_host, "{shown:?}");
    assert!(!untranslated, "{shown:?}");
    assert!(!initials, "{shown:?}");
    assert_eq!(
        koine_ui::account_setup::label_text(&info.account_label),
        "Relay user"
    );
}
