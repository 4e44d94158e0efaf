//! Presence: a dot on a direct chat whose peer is online, a word (and the
//! peer's status, cleaned) under the open chat's title; forgotten when the
//! account that reported it goes offline; never on groups.

mod common;

use common::*;
use koine_api::{AccountId, Address, Availability, ConversationKind};
use koine_core::{AccountStatus, ConversationRecord, EngineEvent};
use koine_ui::app::{App, Message};

fn engine(app: &mut App, event: EngineEvent) {
    let _ = app.update(Message::Engine(Box::new(event)));
}

fn alice() -> Address {
    Address::parse_any("@alice:their.server").expect("address")
}

/// Alice's chat knows its peer, and is open.
fn with_peer(kind: ConversationKind) -> App {
    let mut app = app();
    let record = app
        .conversations
        .iter()
        .find(|c| c.id == ALICE)
        .cloned()
        .expect("listed");
    engine(
        &mut app,
        EngineEvent::ConversationChanged {
            account: record.account.clone(),
            conversation: ConversationRecord {
                peer: Some(alice()),
                kind,
                ..record
            },
        },
    );
    let _ = app.update(Message::Select(ALICE));
    let _ = app.update(Message::MessagesLoaded(ALICE, Vec::new()));
    app
}

fn presence(app: &mut App, availability: Availability, status: Option<&str>) {
    engine(
        app,
        EngineEvent::Presence {
            account: AccountId::new("acct-m"),
            address: alice(),
            availability,
            status: status.map(str::to_owned),
        },
    );
}

fn current(app: &App) -> ConversationRecord {
    app.current().cloned().expect("open chat")
}

#[test]
fn a_peer_online_shows_under_the_title_and_on_the_row() {
    let mut app = with_peer(ConversationKind::Direct);
    assert!(
        app.presence_of(&current(&app)).is_none(),
        "unknown at first"
    );
    assert!(!shows(&app, "Online"));
    presence(&mut app, Availability::Online, None);
    assert_eq!(
        app.presence_of(&current(&app)),
        Some((Availability::Online, None))
    );
    assert!(shows(&app, "Online"), "{:?}", texts(&app));
    assert!(shows(&app, "●"), "the row's dot");
    presence(&mut app, Availability::Away, Some("in a meeting"));
    assert!(shows(&app, "Away: in a meeting"), "{:?}", texts(&app));
    presence(&mut app, Availability::Offline, None);
    assert!(shows(&app, "Offline"));
    assert!(!shows(&app, "●"), "no dot for someone offline");
}

#[test]
fn a_status_from_the_network_is_one_clean_short_line() {
    let mut app = with_peer(ConversationKind::Direct);
    let hostile = format!("\u{202e}gnitteem\nin a {}", "very ".repeat(100));
    presence(&mut app, Availability::Busy, Some(&hostile));
    let (_, status) = app.presence_of(&current(&app)).expect("known");
    let status = status.expect("a status");
    assert!(
        !status.contains('\n') && !status.contains('\u{202e}'),
        "{status:?}"
    );
    assert!(status.chars().count() <= koine_ui::presence::MAX_STATUS_CHARS + 1);
    assert!(shows(&app, "Busy: gnitteem in a very"), "{:?}", texts(&app));
}

#[test]
fn what_an_account_reported_is_forgotten_when_it_goes_offline() {
    let mut app = with_peer(ConversationKind::Direct);
    presence(&mut app, Availability::Online, None);
    engine(
        &mut app,
        EngineEvent::AccountStatus {
            account: AccountId::new("acct-m"),
            status: AccountStatus::Offline {
                reason: koine_core::StatusReason::Network { detail: None },
                retry_in_ms: 1_000,
            },
        },
    );
    assert!(app.presence_of(&current(&app)).is_none(), "not shown stale");
    assert!(!shows(&app, "Online"));
}

#[test]
fn another_accounts_report_or_a_group_shows_nothing() {
    let mut app = with_peer(ConversationKind::Direct);
    engine(
        &mut app,
        EngineEvent::Presence {
            account: AccountId::new("acct-x"),
            address: alice(),
            availability: Availability::Online,
            status: None,
        },
    );
    assert!(
        app.presence_of(&current(&app)).is_none(),
        "only the chat's own account speaks for its peer"
    );
    let mut group = with_peer(ConversationKind::Group);
    presence(&mut group, Availability::Online, None);
    assert!(group.presence_of(&current(&group)).is_none());
}
