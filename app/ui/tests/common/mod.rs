//! Shared fixtures of the simulator tests: a window filled with real records
//! (the same types the engine stores) and helpers to drive it.

#![allow(dead_code)]

use iced::{Settings, Theme};
use iced_test::Simulator;
use iced_test::selector::{Candidate, Text as TextTarget};
use koine_api::{
    AccountId, Address, Content, ConversationKey, ConversationKind, DeliveryState, Direction,
    E2eEnd, E2eScheme, EndToEnd, Hop, HopKind, LocalId, ProtocolId, Route, Timestamp, TlsVersion,
    TransportSecurity, Verification, Visibility,
};
use koine_core::{
    AccountRecord, AccountStatus, ConversationId, ConversationRecord, MessageId, StoredMessage,
};
use koine_ui::app::{App, Effect, Message};
use std::collections::HashMap;

pub const NOW: Timestamp = Timestamp(1_764_244_800_000); // 2025-11-27 12:00 UTC
pub const HOUR: i64 = 3_600_000;

pub const ALICE: ConversationId = ConversationId(1);
pub const MUM_SMS: ConversationId = ConversationId(2);
pub const BRIDGED: ConversationId = ConversationId(3);
pub const STRANGER: ConversationId = ConversationId(4);

fn tls() -> TransportSecurity {
    TransportSecurity::Tls {
        version: TlsVersion::Tls13,
        pinned: false,
    }
}

pub fn matrix_verified() -> Route {
    Route {
        hops: vec![
            Hop::new("matrix.example", HopKind::ClientLink, tls()).seeing_your_ip(),
            Hop::new("their.server", HopKind::Federation, tls()),
        ],
        end_to_end: EndToEnd {
            scheme: E2eScheme::Megolm,
            ends: E2eEnd::RecipientDevices,
            verification: Verification::Verified,
            fingerprint: Some("ABCD 1234 EF56".into()),
        },
    }
}

pub fn sms_route() -> Route {
    Route {
        hops: vec![
            Hop::new(
                "Pixel 7",
                HopKind::RelayDevice,
                TransportSecurity::LanTlsPinned {
                    fingerprint: "ab12cd34ef56ab12cd34".into(),
                },
            )
            .reading(Visibility::Content),
            Hop::new("carrier", HopKind::Carrier, TransportSecurity::Cellular)
                .reading(Visibility::Content)
                .operated_by("your carrier"),
        ],
        end_to_end: EndToEnd::none(),
    }
}

pub fn bridged_route() -> Route {
    Route {
        hops: vec![
            Hop::new("matrix.example", HopKind::ClientLink, tls()).seeing_your_ip(),
            Hop::new(
                "wa.bridge.example",
                HopKind::Bridge {
                    remote_network: "WhatsApp".into(),
                },
                tls(),
            )
            .reading(Visibility::Content)
            .operated_by("bridge.example"),
        ],
        end_to_end: EndToEnd {
            scheme: E2eScheme::Megolm,
            ends: E2eEnd::Hop(1),
            verification: Verification::Unverified,
            fingerprint: None,
        },
    }
}

fn account(id: &str, protocol: &str, label: &str) -> AccountRecord {
    AccountRecord {
        id: AccountId::new(id),
        protocol: ProtocolId::new(protocol),
        label: label.into(),
        settings: Default::default(),
        enabled: true,
        created_at: NOW,
    }
}

pub fn conversation(
    id: ConversationId,
    account: &str,
    key: &str,
    title: &str,
    route: Route,
    hours_ago: i64,
) -> ConversationRecord {
    ConversationRecord {
        id,
        account: AccountId::new(account),
        key: ConversationKey::new(key),
        title: title.into(),
        kind: ConversationKind::Direct,
        peer: None,
        route: Some(route),
        read_only: false,
        is_request: false,
        pinned: false,
        unread: 0,
        last_activity: Timestamp(NOW.0 - hours_ago * HOUR),
        draft: None,
        preview: None,
    }
}

pub fn message(
    id: i64,
    conversation: ConversationId,
    direction: Direction,
    hours_ago: i64,
    text: &str,
    state: DeliveryState,
) -> StoredMessage {
    StoredMessage {
        id: MessageId(id),
        conversation,
        remote_id: None,
        local_id: (direction == Direction::Outgoing).then(|| LocalId::new(format!("l{id}"))),
        sender: Address::Room("@alice:their.server".into()),
        sender_name: Some("Alice".into()),
        direction,
        timestamp: Timestamp(NOW.0 - hours_ago * HOUR),
        content: Content::text(text),
        reply_to: None,
        edited_at: None,
        deleted: false,
        state,
        error: None,
        route: None,
        route_provisional: false,
        reactions: Vec::new(),
    }
}

/// A window with three networks, a pinned chat, unread counts and one request.
pub fn app() -> App {
    koine_ui::i18n::set_language("en");
    let names = HashMap::from([
        (ProtocolId::new("matrix"), "Matrix".to_owned()),
        (ProtocolId::new("sms"), "SMS".to_owned()),
        (ProtocolId::new("xmpp"), "XMPP".to_owned()),
    ]);
    let mut app = App::new(names);
    app.now = NOW;
    let _ = app.update(Message::ListsLoaded {
        accounts: vec![
            account("acct-m", "matrix", "@me:matrix.example"),
            account("acct-s", "sms", "+33600000000"),
            account("acct-x", "xmpp", "me@jabber.example"),
        ],
        conversations: vec![
            conversation(ALICE, "acct-m", "!alice", "Alice", matrix_verified(), 1),
            ConversationRecord {
                pinned: true,
                unread: 3,
                ..conversation(MUM_SMS, "acct-s", "+33611111111", "Mum", sms_route(), 30)
            },
            conversation(
                BRIDGED,
                "acct-m",
                "!wa",
                "Bob on WhatsApp",
                bridged_route(),
                2,
            ),
            ConversationRecord {
                is_request: true,
                ..conversation(
                    STRANGER,
                    "acct-x",
                    "eve@evil.example",
                    "eve@evil.example",
                    matrix_verified(),
                    0,
                )
            },
        ],
    });
    let statuses = [
        ("acct-m", AccountStatus::Connecting),
        (
            "acct-x",
            AccountStatus::Offline {
                reason: koine_core::StatusReason::Network {
                    detail: Some("Connection refused (os error 111)".into()),
                },
                retry_in_ms: 4_200,
            },
        ),
    ];
    for (id, status) in statuses {
        let _ = app.update(Message::Engine(Box::new(
            koine_core::EngineEvent::AccountStatus {
                account: AccountId::new(id),
                status,
            },
        )));
    }
    app
}

pub fn simulator(app: &App) -> Simulator<'_, Message> {
    Simulator::with_size(
        Settings::default(),
        (1400.0, 800.0),
        koine_ui::view::view(app),
    )
}

/// Feeds what the simulator produced into the app; returns the effects.
pub fn apply(app: &mut App, messages: Vec<Message>) -> Vec<Effect> {
    messages.into_iter().flat_map(|m| app.update(m)).collect()
}

/// Whether some text widget on screen contains `needle`.
pub fn shows(app: &App, needle: &str) -> bool {
    let mut sim = simulator(app);
    let needle = needle.to_owned();
    sim.find(move |c: Candidate<'_>| match c {
        Candidate::Text {
            id,
            bounds,
            visible_bounds,
            content,
        } if content.contains(&needle) => Some(TextTarget::Raw {
            id: id.cloned(),
            bounds,
            visible_bounds,
        }),
        _ => None,
    })
    .is_ok()
}

/// Clicks the text widget equal to `label`; returns the produced messages.
pub fn click(app: &App, label: &str) -> Vec<Message> {
    let mut sim = simulator(app);
    sim.click(label)
        .unwrap_or_else(|e| panic!("click {label:?}: {e}"));
    sim.into_messages().collect()
}

pub fn theme() -> Theme {
    Theme::Light
}

/// Every text on screen (for failure messages).
pub fn texts(app: &App) -> Vec<String> {
    let mut sim = simulator(app);
    let mut all = Vec::new();
    let _ = sim.find(|c: Candidate<'_>| {
        if let Candidate::Text { content, .. } = c {
            all.push(content.to_owned());
        }
        None::<TextTarget>
    });
    all
}

/// Every text on screen with its bounds.
pub fn text_bounds(app: &App) -> Vec<(String, iced::Rectangle)> {
    let mut sim = simulator(app);
    let mut all = Vec::new();
    let _ = sim.find(|c: Candidate<'_>| {
        if let Candidate::Text {
            content, bounds, ..
        } = c
        {
            all.push((content.to_owned(), bounds));
        }
        None::<TextTarget>
    });
    all
}

/// Clicks at a point; returns the produced messages.
pub fn click_at(app: &App, point: iced::Point) -> Vec<Message> {
    let mut sim = simulator(app);
    sim.point_at(point);
    let _ = sim.simulate(iced_test::simulator::click());
    sim.into_messages().collect()
}

/// Clicks the text `label` on the same line as the text `line` (both right
/// of the sidebar); returns the produced messages.
pub fn click_on_line(app: &App, line: &str, label: &str) -> Vec<Message> {
    let texts = text_bounds(app);
    let row = texts
        .iter()
        .find(|(t, b)| t == line && b.x > 330.0)
        .unwrap_or_else(|| panic!("no {line:?} on screen"))
        .1;
    let target = texts
        .iter()
        .find(|(t, b)| t == label && (b.center_y() - row.center_y()).abs() < 12.0)
        .unwrap_or_else(|| panic!("no {label:?} on the line of {line:?}"))
        .1;
    click_at(app, target.center())
}

/// Clicks the text `label` right of the sidebar; returns the messages.
pub fn click_right(app: &App, label: &str) -> Vec<Message> {
    let target = text_bounds(app)
        .into_iter()
        .find(|(t, b)| t == label && b.x > 330.0)
        .unwrap_or_else(|| panic!("no {label:?} right of the sidebar: {:?}", texts(app)))
        .1;
    click_at(app, target.center())
}

/// Clicks the first text `label` below the text `anchor` (within 200 px,
/// same column); returns the produced messages.
pub fn click_below(app: &App, anchor: &str, label: &str) -> Vec<Message> {
    let texts = text_bounds(app);
    let top = texts
        .iter()
        .find(|(t, _)| t == anchor)
        .unwrap_or_else(|| panic!("no {anchor:?} on screen: {:?}", texts))
        .1;
    let target = texts
        .iter()
        .filter(|(t, b)| {
            t == label && b.y > top.y && b.y - top.y < 200.0 && (b.x - top.x).abs() < 300.0
        })
        .min_by(|a, b| a.1.y.total_cmp(&b.1.y))
        .unwrap_or_else(|| panic!("no {label:?} below {anchor:?}"))
        .1;
    click_at(app, target.center())
}

/// A person with addresses, each `(account, address)`.
pub fn person(id: i64, name: &str, addresses: &[(&str, &str)]) -> koine_core::Person {
    koine_core::Person {
        id: koine_core::PersonId(id),
        name: name.into(),
        addresses: addresses
            .iter()
            .map(|(account, address)| koine_core::people::PersonAddress {
                account: Some(AccountId::new(*account)),
                address: Address::parse_any(address).expect("address"),
                source: koine_core::people::AddressSource::Seen,
            })
            .collect(),
        hints: Vec::new(),
    }
}
