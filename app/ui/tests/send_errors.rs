//! A failed send says why in the user's language, from the typed reason:
//! a verified contact's changed key and a message that could not be
//! encrypted each have their own sentence, never the network's English.

mod common;

use common::*;
use koine_api::{AccountId, Address, LocalId, SendError};
use koine_core::EngineEvent;
use koine_ui::app::Message;

fn failed(app: &mut koine_ui::app::App, error: SendError) {
    app.update(Message::Engine(Box::new(EngineEvent::SendFailed {
        account: AccountId::new("acct-g"),
        local_id: LocalId::new("l-1"),
        error,
        will_retry: false,
    })));
}

#[test]
fn a_blocked_send_to_a_changed_key_and_an_unencryptable_one_say_why_in_the_language() {
    koine_ui::i18n::set_language("en");
    let mut app = app();
    let _ = app.update(Message::Select(ALICE));
    failed(
        &mut app,
        SendError::IdentityChanged {
            with: Address::parse_any("+4915112345678").unwrap(),
        },
    );
    assert!(
        shows(
            &app,
            "Could not send: the security key of +4915112345678 changed since you verified it."
        ),
        "{:?}",
        texts(&app)
    );

    failed(
        &mut app,
        SendError::CannotEncrypt {
            reason: "no OMEMO device".into(),
        },
    );
    assert!(
        shows(&app, "so it was not sent unencrypted (no OMEMO device)"),
        "{:?}",
        texts(&app)
    );

    // The reason follows the language (one test: the language is global).
    let error = SendError::IdentityChanged {
        with: Address::parse_any("+4915112345678").unwrap(),
    };
    koine_ui::i18n::set_language("fr");
    let fr = koine_ui::send_errors::text(&error);
    koine_ui::i18n::set_language("en");
    let en = koine_ui::send_errors::text(&error);
    assert!(
        fr.contains("a changé depuis que vous l’avez vérifiée"),
        "{fr}"
    );
    assert!(en.contains("changed since you verified it"), "{en}");
}
