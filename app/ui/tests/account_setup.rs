//! Simulator tests of the account setup form (`ICED_TEST_BACKEND=tiny-skia`):
//! built from the plugin's declared fields, checked in place, and handed to
//! the engine with the password apart from the settings.

mod common;

use common::*;
use koine_api::{
    AccountField, AccountId, Capabilities, FieldKind, Label, ProtocolId, ProtocolInfo, Secret,
};
use koine_core::AccountRecord;
use koine_ui::account_setup::{Action, input_id};
use koine_ui::app::{App, Effect, Message};

fn field(key: &str, id: &str, fallback: &str, kind: FieldKind, required: bool) -> AccountField {
    AccountField {
        key: key.into(),
        label: Label::new(id, fallback),
        kind,
        required,
        default: None,
    }
}

/// The fields an XMPP-like plugin declares, plus one from a plugin this
/// build does not translate.
fn xmpp_info() -> ProtocolInfo {
    let mut tls = field(
        "tls",
        "xmpp-field-tls",
        "TLS",
        FieldKind::Choice(vec!["starttls".into(), "direct".into()]),
        false,
    );
    tls.default = Some("starttls".into());
    ProtocolInfo {
        id: ProtocolId::new("xmpp"),
        name: "XMPP".into(),
        capabilities: Capabilities::text_only(),
        account_fields: vec![
            field(
                "jid",
                "xmpp-field-jid",
                "Address (user@server)",
                FieldKind::Text,
                true,
            ),
            field(
                "password",
                "xmpp-field-password",
                "Password",
                FieldKind::Secret,
                true,
            ),
            field(
                "server_port",
                "xmpp-field-server-port",
                "Server port (optional)",
                FieldKind::Number,
                false,
            ),
            tls,
            field(
                "nick",
                "thirdparty-field-nick",
                "Nickname",
                FieldKind::Text,
                false,
            ),
        ],
        account_label: Label::new("xmpp-field-jid", "Address (user@server)"),
        face: Default::default(),
    }
}

fn form() -> App {
    let mut app = app();
    app.protocols = vec![xmpp_info()];
    let messages = click(&app, "Add an account");
    let _ = apply(&mut app, messages);
    assert!(app.setup().is_some(), "the button opens the form");
    let messages = click_right(&app, "XMPP");
    let _ = apply(&mut app, messages);
    app
}

fn type_into(app: &mut App, key: &str, text: &str) -> Vec<Effect> {
    let messages = {
        let mut sim = simulator(app);
        sim.click(iced_test::selector::id(input_id(key)))
            .unwrap_or_else(|e| panic!("field {key}: {e}"));
        let _ = sim.typewrite(text);
        sim.into_messages().collect::<Vec<_>>()
    };
    apply(app, messages)
}

#[test]
fn the_form_shows_the_fields_the_plugin_declares() {
    let app = form();
    for label in [
        "Address (user@server) *",
        "Password *",
        "Server port (optional)",
        "TLS",
        "starttls",
        "direct",
        "Nickname",
        "The password is kept in your system's keyring, never in Koine's files.",
    ] {
        assert!(shows(&app, label), "{label:?} missing: {:?}", texts(&app));
    }
}

#[test]
fn missing_and_malformed_fields_are_shown_in_place() {
    let mut app = form();
    let _ = type_into(&mut app, "server_port", "52x2");
    let messages = click(&app, "Add the account");
    let effects = apply(&mut app, messages);
    assert!(
        effects.is_empty(),
        "nothing reaches the engine: {effects:?}"
    );
    assert!(shows(&app, "Required"));
    assert!(shows(&app, "Enter a number"));
    let setup = app.setup().expect("form");
    assert_eq!(
        setup.errors.keys().collect::<Vec<_>>(),
        ["jid", "password", "server_port"]
    );
    // Typing in a field clears its error.
    let _ = type_into(&mut app, "jid", "me@example.org");
    assert!(!app.setup().expect("form").errors.contains_key("jid"));
}

#[test]
fn a_complete_form_asks_the_engine_with_the_password_apart() {
    let mut app = form();
    let _ = type_into(&mut app, "jid", "me@example.org");
    let _ = type_into(&mut app, "password", "hunter2");
    let messages = click(&app, "direct");
    let _ = apply(&mut app, messages);
    assert!(!shows(&app, "hunter2"), "the password is never drawn");
    let messages = click(&app, "Add the account");
    let effects = apply(&mut app, messages);
    let [
        Effect::AddAccount {
            protocol,
            label,
            settings,
            secret,
        },
    ] = &effects[..]
    else {
        panic!("expected one AddAccount, got {effects:?}");
    };
    assert_eq!(protocol, &ProtocolId::new("xmpp"));
    assert_eq!(label, "me@example.org");
    assert_eq!(settings.get("jid"), Some("me@example.org"));
    assert_eq!(settings.get("tls"), Some("direct"));
    assert_eq!(settings.get("password"), None, "never in the settings");
    assert_eq!(secret, &Some(Secret::new("hunter2")));
    assert!(shows(&app, "Adding…"));
}

#[test]
fn the_engines_answer_is_shown_or_closes_the_form() {
    let mut app = form();
    let _ = app.update(Message::Setup(Action::Added(Err(
        "invalid account settings: jid is required".into(),
    ))));
    assert!(
        shows(
            &app,
            "The account could not be added: invalid account settings: jid is required"
        ),
        "{:?}",
        texts(&app)
    );
    let record = AccountRecord {
        id: AccountId::new("acct-new"),
        protocol: ProtocolId::new("xmpp"),
        label: "me@example.org".into(),
        settings: Default::default(),
        enabled: true,
        created_at: NOW,
    };
    let effects = app.update(Message::Setup(Action::Added(Ok(record))));
    assert!(app.setup().is_none());
    assert_eq!(
        effects,
        [Effect::LoadLists, Effect::Retry(AccountId::new("acct-new"))]
    );
}

#[test]
fn field_labels_follow_the_language() {
    koine_ui::i18n::set_language("en");
    let label = Label::new("sms-field-own-number", "Your phone number");
    assert_eq!(
        koine_ui::account_setup::label_text(&label),
        "Your phone number"
    );
    let unknown = Label::new("thirdparty-field-nick", "Nickname");
    assert_eq!(koine_ui::account_setup::label_text(&unknown), "Nickname");
}
