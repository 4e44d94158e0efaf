//! Why an account is offline or stopped, in the user's language: each
//! typed reason has its own words; a network's or a library's English never
//! reaches the account list.

mod common;

use common::*;
use koine_api::AccountId;
use koine_core::{AccountStatus, EngineEvent, StatusReason};
use koine_ui::app::Message;

fn status(app: &mut koine_ui::app::App, account: &str, status: AccountStatus) {
    let _ = app.update(Message::Engine(Box::new(EngineEvent::AccountStatus {
        account: AccountId::new(account),
        status,
    })));
}

#[test]
fn offline_and_stopped_accounts_say_why_in_french() {
    let mut app = app();
    koine_ui::i18n::set_language("fr");
    status(
        &mut app,
        "acct-x",
        AccountStatus::Offline {
            reason: StatusReason::Network {
                detail: Some("Connection refused (os error 111)".into()),
            },
            retry_in_ms: 4_200,
        },
    );
    status(
        &mut app,
        "acct-m",
        AccountStatus::Failed {
            reason: StatusReason::AuthFailed,
        },
    );
    status(
        &mut app,
        "acct-s",
        AccountStatus::Offline {
            reason: StatusReason::StoreFailed {
                detail: "database is locked".into(),
            },
            retry_in_ms: 1_000,
        },
    );
    let all = texts(&app).join("\n");
    koine_ui::i18n::set_language("en");
    assert!(
        all.contains("Hors ligne : serveur injoignable (nouvel essai dans 5 s)"),
        "{all}"
    );
    assert!(
        all.contains("Arrêté : le serveur a refusé l’identifiant ou le mot de passe"),
        "{all}"
    );
    assert!(
        all.contains("Hors ligne : Koine n’a pas pu enregistrer dans son historique"),
        "{all}"
    );
    for english in [
        "network error",
        "Connection refused",
        "authentication failed",
        "locked",
    ] {
        assert!(!all.contains(english), "{english} shown: {all}");
    }
}

#[test]
fn a_store_error_is_shown_not_dropped() {
    let mut app = app();
    koine_ui::i18n::set_language("en");
    let _ = app.update(Message::Select(ALICE));
    let _ = app.update(Message::Engine(Box::new(EngineEvent::EngineError {
        account: AccountId::new("acct-m"),
        detail: "disk I/O error".into(),
    })));
    assert!(
        shows(&app, "Koine could not save to its history"),
        "{:?}",
        texts(&app)
    );
}
