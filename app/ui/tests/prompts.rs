//! Simulator tests of the plugins' questions as dialogs
//! (`ICED_TEST_BACKEND=tiny-skia`): each kind shows what to check, the
//! answer goes back to the session that asked, one question at a time.

mod common;

use common::*;
use koine_api::{AccountId, Address, Prompt, PromptAnswer, PromptId, PromptKind};
use koine_core::EngineEvent;
use koine_ui::app::{App, Effect, Message};

fn raise(app: &mut App, account: &str, id: &str, kind: PromptKind) {
    let effects = app.update(Message::Engine(Box::new(EngineEvent::PromptRaised {
        account: AccountId::new(account),
        prompt: Prompt {
            id: PromptId::new(id),
            kind,
        },
    })));
    assert!(effects.is_empty());
}

fn bob() -> Address {
    Address::Room("@bob:their.server".into())
}

#[test]
fn a_certificate_to_pin_shows_host_reason_and_fingerprint_and_is_answered() {
    let mut app = app();
    raise(
        &mut app,
        "acct-x",
        "pin-1",
        PromptKind::PinCertificate {
            host: "jabber.example".into(),
            fingerprint: "AB:CD:EF:01".into(),
            reason: "self-signed".into(),
        },
    );
    assert!(
        shows(&app, "Trust the certificate of jabber.example?"),
        "{:?}",
        texts(&app)
    );
    assert!(shows(&app, "(self-signed)"));
    assert!(shows(&app, "AB:CD:EF:01"));
    assert!(
        shows(&app, "XMPP · me@jabber.example"),
        "which account asks"
    );
    let messages = click(&app, "Do not connect");
    let effects = apply(&mut app, messages);
    assert_eq!(
        effects,
        [Effect::AnswerPrompt {
            account: AccountId::new("acct-x"),
            prompt: PromptId::new("pin-1"),
            answer: PromptAnswer::Reject,
        }]
    );
    assert!(!shows(&app, "AB:CD:EF:01"), "the dialog is gone");
}

#[test]
fn emoji_safety_numbers_pairing_and_changed_keys_each_say_what_to_compare() {
    let mut app = app();
    raise(
        &mut app,
        "acct-m",
        "sas",
        PromptKind::CompareEmoji {
            with: bob(),
            emoji: vec![("🐶".into(), "Dog".into()), ("🔑".into(), "Key".into())],
        },
    );
    raise(
        &mut app,
        "acct-m",
        "number",
        PromptKind::CompareSafetyNumber {
            with: bob(),
            number: "12345 67890".into(),
        },
    );
    raise(
        &mut app,
        "acct-s",
        "pair",
        PromptKind::PairDevice {
            device: "Pixel 7".into(),
            key: "2655260C".into(),
        },
    );
    raise(
        &mut app,
        "acct-m",
        "identity",
        PromptKind::IdentityChanged {
            with: bob(),
            new_fingerprint: "05 AA BB".into(),
        },
    );
    // The same question raised again is asked once.
    raise(
        &mut app,
        "acct-m",
        "sas",
        PromptKind::CompareEmoji {
            with: bob(),
            emoji: Vec::new(),
        },
    );
    assert_eq!(app.prompts.len(), 4);

    assert!(shows(&app, "Verify @bob:their.server"), "{:?}", texts(&app));
    assert!(shows(&app, "Dog") && shows(&app, "Key"));
    assert!(shows(&app, "3 more questions wait."));
    let messages = click(&app, "They match");
    let effects = apply(&mut app, messages);
    assert!(matches!(
        &effects[..],
        [Effect::AnswerPrompt { prompt, answer: PromptAnswer::Confirm, .. }] if prompt.as_str() == "sas"
    ));

    assert!(shows(&app, "12345 67890"));
    let messages = click(&app, "They differ");
    let effects = apply(&mut app, messages);
    assert!(matches!(
        &effects[..],
        [Effect::AnswerPrompt { prompt, answer: PromptAnswer::Reject, .. }] if prompt.as_str() == "number"
    ));

    assert!(shows(&app, "Pair with Pixel 7?"));
    assert!(shows(&app, "2655260C"));
    let messages = click(&app, "Pair");
    let effects = apply(&mut app, messages);
    assert!(matches!(
        &effects[..],
        [Effect::AnswerPrompt { account, answer: PromptAnswer::Confirm, .. }] if account.as_str() == "acct-s"
    ));

    assert!(shows(&app, "The identity key of @bob:their.server changed"));
    assert!(shows(&app, "05 AA BB"));
    assert!(!shows(&app, "more question"), "the last one");
    let messages = click(&app, "Trust the new key");
    let _ = apply(&mut app, messages);
    assert!(app.prompts.is_empty());
}

#[test]
fn the_dialog_blocks_the_window_until_answered() {
    let mut app = app();
    raise(
        &mut app,
        "acct-s",
        "pair",
        PromptKind::PairDevice {
            device: "Pixel 7".into(),
            key: "2655260C".into(),
        },
    );
    // A click on a conversation behind the dialog does nothing.
    let alice = text_bounds(&app)
        .into_iter()
        .find(|(t, _)| t == "Alice")
        .expect("Alice")
        .1;
    let messages = click_at(&app, alice.center());
    assert!(messages.is_empty(), "{messages:?}");
    // Esc closes panels, not a question.
    let _ = app.update(Message::CloseInspector);
    assert_eq!(app.prompts.len(), 1);
}

#[test]
fn a_browser_sign_in_shows_the_page_and_opens_only_web_addresses() {
    let mut app = app();
    let url = "https://matrix.example/_matrix/client/v3/login/sso/redirect?redirectUrl=x";
    raise(
        &mut app,
        "acct-m",
        "sso-1",
        PromptKind::SignInInBrowser {
            server: "matrix.example".into(),
            url: url.into(),
        },
    );
    assert!(
        shows(&app, "Sign in to matrix.example"),
        "{:?}",
        texts(&app)
    );
    assert!(shows(&app, url), "the address is shown to be checked");
    let messages = click(&app, "Open in the browser");
    let effects = apply(&mut app, messages);
    assert_eq!(
        effects,
        [
            Effect::OpenUrl(url.into()),
            Effect::AnswerPrompt {
                account: AccountId::new("acct-m"),
                prompt: PromptId::new("sso-1"),
                answer: PromptAnswer::Confirm,
            }
        ]
    );

    raise(
        &mut app,
        "acct-m",
        "sso-2",
        PromptKind::SignInInBrowser {
            server: "matrix.example".into(),
            url: "file:///etc/passwd".into(),
        },
    );
    let effects = app.update(Message::AnswerPrompt(PromptAnswer::Confirm));
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::OpenUrl(_))),
        "{effects:?}"
    );
}

#[test]
fn a_recovery_key_is_shown_with_a_copy_button_and_saved_on_confirm() {
    let mut app = app();
    let key = "EsTc 1234 abcd EFGH";
    raise(
        &mut app,
        "acct-m",
        "matrix-recovery-key",
        PromptKind::SaveRecoveryKey {
            account: bob(),
            key: koine_api::Secret::new(key),
        },
    );
    assert!(
        shows(&app, "Save your recovery key for"),
        "{:?}",
        texts(&app)
    );
    assert!(shows(&app, key), "the key itself is shown");
    let messages = click(&app, "Copy");
    let effects = apply(&mut app, messages);
    assert_eq!(effects, [Effect::Copy(key.into())]);
    assert!(shows(&app, key), "copying does not close the question");
    let messages = click(&app, "I have saved it");
    let effects = apply(&mut app, messages);
    assert_eq!(
        effects,
        [Effect::AnswerPrompt {
            account: AccountId::new("acct-m"),
            prompt: PromptId::new("matrix-recovery-key"),
            answer: PromptAnswer::Confirm,
        }]
    );
    assert!(!shows(&app, key));
}
