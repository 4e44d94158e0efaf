//! Provisional routes: stored when queued, replaced by what the plugin
//! reports, counted per conversation.

use super::*;
use crate::model::AccountRecord;
use koine_api::{
    AccountId, Address, Command, Content, Conversation, ConversationKey, ConversationKind,
    Direction, E2eEnd, E2eScheme, EndToEnd, Hop, HopKind, LocalId, ProtocolId, RemoteId, Route,
    Settings, Timestamp, TransportSecurity, Verification, Visibility,
};

fn plain() -> Route {
    Route {
        hops: vec![
            Hop::new(
                "hs.example",
                HopKind::ClientLink,
                TransportSecurity::Plaintext,
            )
            .reading(Visibility::Content),
        ],
        end_to_end: EndToEnd::none(),
    }
}

fn megolm() -> Route {
    Route {
        hops: vec![
            Hop::new(
                "hs.example",
                HopKind::ClientLink,
                TransportSecurity::Plaintext,
            )
            .reading(Visibility::MetadataOnly),
        ],
        end_to_end: EndToEnd {
            scheme: E2eScheme::Megolm,
            ends: E2eEnd::RecipientDevices,
            verification: Verification::Unverified,
            fingerprint: None,
        },
    }
}

fn setup() -> (Store, AccountId, crate::model::ConversationId) {
    let store = Store::open_in_memory().expect("store");
    let account = AccountId::new("a");
    store
        .insert_account(&AccountRecord {
            id: account.clone(),
            protocol: ProtocolId::new("test"),
            label: "me".into(),
            settings: Settings::default(),
            enabled: true,
            created_at: Timestamp(1),
        })
        .expect("account");
    let conversation = store
        .upsert_conversation(
            &account,
            &Conversation {
                key: ConversationKey::new("!room"),
                title: "Bob".into(),
                kind: ConversationKind::Direct,
                peer: None,
                route: plain(),
                read_only: false,
            },
        )
        .expect("conversation");
    (store, account, conversation)
}

fn queue(
    store: &mut Store,
    account: &AccountId,
    conv: crate::model::ConversationId,
    id: &str,
    at: i64,
) -> MessageId {
    let command = Command::SendMessage {
        local_id: LocalId::new(id),
        conversation: ConversationKey::new("!room"),
        content: Content::text("hi"),
        reply_to: None,
    };
    let me = Address::parse_any("@me:hs.example").expect("me");
    store
        .queue_message(&messages::Outgoing {
            account,
            conversation: conv,
            sender: &me,
            command: &command,
            timestamp: Timestamp(at),
        })
        .expect("queue")
}

use crate::model::MessageId;

#[test]
fn a_queued_message_has_the_conversation_route_marked_provisional_until_the_plugin_reports() {
    let (mut store, account, conv) = setup();
    let id = queue(&mut store, &account, conv, "l1", 10);
    let m = store.message(id).expect("message");
    assert_eq!(m.route, Some(plain()));
    assert!(m.route_provisional);
    let p = store
        .provisional_route(&account, &LocalId::new("l1"))
        .expect("provisional")
        .expect("one");
    assert_eq!(p.route, Some(plain()));
    assert_eq!(p.subject, RouteSubject::Message);
    // Another account cannot see it as its own.
    assert_eq!(
        store
            .provisional_route(&AccountId::new("other"), &LocalId::new("l1"))
            .expect("other"),
        None
    );

    store
        .ack(&LocalId::new("l1"), &RemoteId::new("$e1"), &megolm())
        .expect("ack");
    let m = store.message(id).expect("message");
    assert_eq!(m.route, Some(megolm()));
    assert!(!m.route_provisional);
    assert_eq!(
        store
            .provisional_route(&account, &LocalId::new("l1"))
            .expect("settled"),
        None
    );
}

#[test]
fn edits_and_reactions_keep_their_own_route_and_the_report_counts_each_route() {
    let (mut store, account, conv) = setup();
    let first = queue(&mut store, &account, conv, "l1", 10);
    store
        .ack(&LocalId::new("l1"), &RemoteId::new("$e1"), &megolm())
        .expect("ack");
    queue(&mut store, &account, conv, "l2", 20);
    store
        .ack(&LocalId::new("l2"), &RemoteId::new("$e2"), &megolm())
        .expect("ack");
    queue(&mut store, &account, conv, "l3", 30);

    let react = Command::React {
        local_id: LocalId::new("r1"),
        conversation: ConversationKey::new("!room"),
        target: RemoteId::new("$e1"),
        key: "👍".into(),
        remove: false,
    };
    store.enqueue(&account, &react).expect("enqueue");
    let p = store
        .provisional_route(&account, &LocalId::new("r1"))
        .expect("provisional")
        .expect("one");
    assert_eq!(p.subject, RouteSubject::Reaction);
    assert_eq!(p.message, Some(first));
    assert_eq!(p.route, Some(plain()));
    // Reactions go in the clear even in an encrypted room.
    store
        .ack(&LocalId::new("r1"), &RemoteId::new("$r1"), &plain())
        .expect("ack");

    let uses = store.route_uses(conv).expect("uses");
    let line = |route: &Route, provisional, subject| {
        uses.iter()
            .find(|u| {
                u.route.as_ref() == Some(route)
                    && u.provisional == provisional
                    && u.subject == subject
                    && u.direction == Direction::Outgoing
            })
            .map(|u| (u.count, u.first.0, u.last.0))
    };
    assert_eq!(
        line(&megolm(), false, RouteSubject::Message),
        Some((2, 10, 20))
    );
    assert_eq!(
        line(&plain(), true, RouteSubject::Message),
        Some((1, 30, 30))
    );
    assert_eq!(
        line(&plain(), false, RouteSubject::Reaction).map(|l| l.0),
        Some(1)
    );
    assert_eq!(uses.len(), 3);
}
