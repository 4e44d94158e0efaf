//! Simulator tests of the Requests inbox (`ICED_TEST_BACKEND=tiny-skia`):
//! each request says who, on which network, what and a preview; the four
//! answers go to the engine; the list follows the engine's changes; account
//! statuses known before the window opened are shown.

mod common;

use common::*;
use koine_api::{AccountId, Address, Decision, Hop, HopKind, ProtocolId, RequestKind, Timestamp};
use koine_core::{AccountStatus, EngineEvent, InboxRequest};
use koine_ui::app::{App, Effect, Message};

fn requests() -> Vec<InboxRequest> {
    vec![
        InboxRequest {
            account: AccountId::new("acct-x"),
            protocol: ProtocolId::new("xmpp"),
            from: Address::parse_any("zed@chat.example").expect("jid"),
            display_name: Some("Zed".into()),
            kind: RequestKind::ContactRequest,
            preview: None,
            received: NOW,
            conversation: None,
            network_request: None,
        },
        InboxRequest {
            account: AccountId::new("acct-m"),
            protocol: ProtocolId::new("matrix"),
            from: Address::parse_any("@kim:their.server").expect("mxid"),
            display_name: None,
            kind: RequestKind::RoomInvite {
                room_name: Some("Book club".into()),
            },
            preview: Some("Join us on Thursday".into()),
            received: Timestamp(NOW.0 - HOUR),
            conversation: None,
            network_request: None,
        },
        InboxRequest {
            account: AccountId::new("acct-x"),
            protocol: ProtocolId::new("xmpp"),
            from: Address::parse_any("eve@evil.example").expect("jid"),
            display_name: None,
            kind: RequestKind::FirstMessage,
            preview: Some("Cheap pills".into()),
            received: NOW,
            conversation: Some(STRANGER),
            network_request: None,
        },
    ]
}

fn with_requests() -> App {
    let mut app = app();
    let effects = app.update(Message::RequestsLoaded(requests()));
    assert!(effects.is_empty());
    app
}

#[test]
fn each_request_shows_who_which_network_what_and_a_preview() {
    let app = with_requests();
    for needle in [
        "Zed (zed@chat.example)",
        "XMPP · Contact request",
        "@kim:their.server",
        "Matrix · Invitation to Book club",
        "“Join us on Thursday”",
        "XMPP · First message",
        "“Cheap pills”",
        "Requests (3)",
    ] {
        assert!(shows(&app, needle), "{needle:?} in {:?}", texts(&app));
    }
    // The stranger's conversation is one card, not a card and a row.
    let eve = texts(&app)
        .iter()
        .filter(|t| t.contains("eve@evil.example"))
        .count();
    assert_eq!(eve, 1, "{:?}", texts(&app));
}

#[test]
fn the_four_answers_go_to_the_engine_for_the_right_request() {
    for (label, decision) in [
        ("Accept", Decision::Accept),
        ("Decline", Decision::Decline),
        ("Block", Decision::Block),
        ("Report", Decision::Report),
    ] {
        let mut app = with_requests();
        let messages = click_below(&app, "@kim:their.server", label);
        let effects = apply(&mut app, messages);
        assert_eq!(
            effects,
            [Effect::AnswerRequest(
                Box::new(requests()[1].clone()),
                decision
            )],
            "{label}"
        );
        // Answered once: the buttons of that card wait for the engine.
        let again = click_below(&app, "@kim:their.server", label);
        assert!(again.is_empty(), "{label}: {again:?}");
    }
    // A failed answer says why and gives the buttons back.
    let mut app = with_requests();
    let messages = click_below(&app, "@kim:their.server", "Block");
    let _ = apply(&mut app, messages);
    let _ = app.update(Message::AnswerFailed("account offline".into()));
    assert!(shows(
        &app,
        "The answer did not reach the network: account offline"
    ));
    assert!(!click_below(&app, "@kim:their.server", "Block").is_empty());
}

#[test]
fn a_request_opens_its_conversation_and_the_list_follows_the_engine() {
    let mut app = with_requests();
    let messages = click(&app, "eve@evil.example");
    let effects = apply(&mut app, messages);
    assert!(
        effects.contains(&Effect::LoadMessages(STRANGER)),
        "{effects:?}"
    );

    for event in [
        EngineEvent::RequestsChanged,
        EngineEvent::RequestResolved {
            account: AccountId::new("acct-x"),
            request: koine_api::RequestId::new("subscribe:zed@chat.example"),
        },
    ] {
        let effects = app.update(Message::Engine(Box::new(event)));
        assert!(effects.contains(&Effect::LoadRequests), "{effects:?}");
    }
    let _ = app.update(Message::RequestsLoaded(requests()[1..].to_vec()));
    assert!(!shows(&app, "Zed (zed@chat.example)"));
    assert!(shows(&app, "Requests (2)"));
}

#[test]
fn statuses_read_at_startup_show_accounts_already_online() {
    let online = AccountStatus::Online {
        link: Hop::new(
            "matrix.example",
            HopKind::ClientLink,
            koine_api::TransportSecurity::Plaintext,
        ),
    };
    // Read before the accounts are listed …
    let mut early = App::new(Default::default());
    let _ = early.update(Message::StatusesLoaded(vec![(
        AccountId::new("acct-m"),
        online.clone(),
    )]));
    let listed = app();
    let _ = early.update(Message::ListsLoaded {
        accounts: listed.accounts.iter().map(|a| a.record.clone()).collect(),
        conversations: Vec::new(),
    });
    assert_eq!(early.accounts[0].status, online);
    // … or after.
    let mut late = app();
    assert!(!shows(&late, "Online"));
    let _ = late.update(Message::StatusesLoaded(vec![(
        AccountId::new("acct-m"),
        online,
    )]));
    assert!(shows(&late, "Online"), "{:?}", texts(&late));
}

#[test]
fn blocked_addresses_are_listed_in_the_settings_and_unblocked() {
    let mut app = app();
    let messages = click(&app, "Settings");
    let effects = apply(&mut app, messages);
    assert_eq!(effects, [Effect::LoadBlocked]);
    assert!(shows(&app, "No one is blocked."));
    let _ = app.update(Message::BlockedLoaded(vec![(
        AccountId::new("acct-s"),
        "+33699999999".into(),
    )]));
    assert!(shows(&app, "+33699999999 · SMS"), "{:?}", texts(&app));
    let messages = click(&app, "Unblock");
    let effects = apply(&mut app, messages);
    assert_eq!(
        effects,
        [Effect::Unblock(
            AccountId::new("acct-s"),
            Address::parse_any("+33699999999").expect("phone")
        )]
    );
    // Blocking from a request re-reads the list.
    let effects = app.update(Message::Engine(Box::new(EngineEvent::RequestsChanged)));
    assert!(effects.contains(&Effect::LoadBlocked), "{effects:?}");
}
