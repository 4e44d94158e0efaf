use super::*;
use crate::model::{AccountRecord, ConversationId};
use koine_api::{
    AccountId, Address, Author, Command, Content, ConversationKey, DeliveryState, Direction,
    EndToEnd, Hop, HopKind, Jid, LocalId, Message, MessageChange, ProtocolId, RemoteId, Route,
    Settings, Timestamp, TransportSecurity,
};

pub(super) fn route() -> Route {
    Route {
        hops: vec![Hop::new(
            "example.org",
            HopKind::ClientLink,
            TransportSecurity::Plaintext,
        )],
        end_to_end: EndToEnd::none(),
    }
}

fn store_with_account(id: &str) -> (Store, AccountId) {
    let store = Store::open_in_memory().expect("store");
    let account = AccountId::new(id);
    add_account(&store, &account, "test", "me@example.org", 1);
    (store, account)
}

pub(super) fn add_account(
    store: &Store,
    id: &AccountId,
    protocol: &str,
    label: &str,
    created_at: i64,
) {
    store
        .insert_account(&AccountRecord {
            id: id.clone(),
            protocol: ProtocolId::new(protocol),
            label: label.into(),
            settings: Settings::default(),
            enabled: true,
            created_at: Timestamp(created_at),
        })
        .expect("account");
}

pub(super) fn incoming(key: &str, remote: &str, text: &str, at: i64) -> Message {
    Message {
        conversation: ConversationKey::new(key),
        remote_id: RemoteId::new(remote),
        local_id: None,
        sender: Address::Jid(Jid::parse(key).expect("jid")),
        sender_name: Some("Bob".into()),
        direction: Direction::Incoming,
        timestamp: Timestamp(at),
        content: Content::text(text),
        reply_to: None,
        route: route(),
    }
}

pub(super) fn conversation(store: &Store, account: &AccountId, key: &str) -> ConversationId {
    store
        .ensure_conversation(account, &ConversationKey::new(key), None, false)
        .expect("conversation")
        .0
}

#[test]
fn migrations_set_the_schema_version_and_reopen_cleanly() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("k.sqlite3");
    let key = StoreKey::generate();
    let store = Store::open(&path, &key).expect("open");
    assert_eq!(store.schema_version().expect("version"), 4);
    drop(store);
    let store = Store::open(&path, &key).expect("reopen");
    assert_eq!(store.schema_version().expect("version"), 4);
}

#[test]
fn a_newer_profile_is_refused_not_damaged() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("k.sqlite3");
    let key = StoreKey::generate();
    drop(Store::open(&path, &key).expect("open"));
    let conn = rusqlite::Connection::open(&path).expect("raw");
    key.unlock(&conn).expect("key");
    conn.pragma_update(None, "user_version", 99).expect("bump");
    drop(conn);
    assert!(matches!(
        Store::open(&path, &key),
        Err(StoreError::TooNew { found: 99, .. })
    ));
}

#[test]
fn duplicates_are_stored_once_and_counted_unread_once() {
    let (mut store, account) = store_with_account("a");
    let conv = conversation(&store, &account, "bob@example.org");
    let m = incoming("bob@example.org", "r1", "hello", 10);
    assert!(store.insert_message(conv, &m).expect("insert").is_some());
    assert!(store.insert_message(conv, &m).expect("again").is_none());
    assert_eq!(store.message_count(conv).expect("count"), 1);
    assert_eq!(store.conversation(conv).expect("conv").unread, 1);
}

#[test]
fn queued_message_and_outbox_commit_together_and_ack_clears_the_outbox() {
    let (mut store, account) = store_with_account("a");
    let conv = conversation(&store, &account, "bob@example.org");
    let local = LocalId::new("l1");
    let command = Command::SendMessage {
        local_id: local.clone(),
        conversation: ConversationKey::new("bob@example.org"),
        content: Content::text("hi"),
        reply_to: None,
    };
    let me = Address::parse_any("me@example.org").expect("me");
    let id = store
        .queue_message(&messages::Outgoing {
            account: &account,
            conversation: conv,
            sender: &me,
            command: &command,
            timestamp: Timestamp(5),
        })
        .expect("queue");
    assert_eq!(store.pending(&account).expect("pending"), vec![command]);
    assert_eq!(store.message(id).expect("msg").state, DeliveryState::Queued);

    store
        .ack(&local, &RemoteId::new("srv-1"), &route())
        .expect("ack");
    assert!(store.pending(&account).expect("pending").is_empty());
    let m = store.message(id).expect("msg");
    assert_eq!(m.state, DeliveryState::Sent);
    assert_eq!(m.remote_id, Some(RemoteId::new("srv-1")));
    assert_eq!(m.route, Some(route()));
    // A second ack (a retry acknowledged again) changes nothing.
    store
        .ack(&local, &RemoteId::new("srv-1"), &route())
        .expect("ack again");
    assert_eq!(store.message_count(conv).expect("count"), 1);

    // The echo of our own message (carbons, sync) updates, never duplicates.
    let mut echo = incoming("bob@example.org", "srv-1", "hi", 6);
    echo.direction = Direction::Outgoing;
    echo.local_id = Some(local);
    assert!(store.insert_message(conv, &echo).expect("echo").is_none());
    assert_eq!(store.message_count(conv).expect("count"), 1);
}

#[test]
fn retryable_failures_stay_queued_and_final_ones_fail() {
    let (mut store, account) = store_with_account("a");
    let conv = conversation(&store, &account, "bob@example.org");
    let me = Address::parse_any("me@example.org").expect("me");
    let mut ids = Vec::new();
    for n in 0..2 {
        let command = Command::SendMessage {
            local_id: LocalId::new(format!("l{n}")),
            conversation: ConversationKey::new("bob@example.org"),
            content: Content::text("x"),
            reply_to: None,
        };
        ids.push(
            store
                .queue_message(&messages::Outgoing {
                    account: &account,
                    conversation: conv,
                    sender: &me,
                    command: &command,
                    timestamp: Timestamp(n),
                })
                .expect("queue"),
        );
    }
    store
        .fail(&LocalId::new("l0"), "rate limited", true)
        .expect("fail");
    store
        .fail(&LocalId::new("l1"), "not opted in", false)
        .expect("fail");
    let pending = store.pending(&account).expect("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].local_id(), Some(&LocalId::new("l0")));
    assert_eq!(
        store.message(ids[0]).expect("m").state,
        DeliveryState::Queued
    );
    let failed = store.message(ids[1]).expect("m");
    assert_eq!(failed.state, DeliveryState::Failed);
    assert_eq!(failed.error.as_deref(), Some("not opted in"));
}

#[test]
fn delivery_states_only_advance_and_changes_apply() {
    let (mut store, account) = store_with_account("a");
    let key = ConversationKey::new("bob@example.org");
    let conv = conversation(&store, &account, key.as_str());
    let mut m = incoming(key.as_str(), "r1", "hello", 10);
    m.direction = Direction::Outgoing;
    let id = store
        .insert_message(conv, &m)
        .expect("insert")
        .expect("new");
    let r1 = RemoteId::new("r1");
    assert!(
        store
            .update_delivery(&account, &key, &r1, DeliveryState::Read)
            .expect("read")
            .is_some()
    );
    assert!(
        store
            .update_delivery(&account, &key, &r1, DeliveryState::Delivered)
            .expect("late")
            .is_none()
    );
    assert_eq!(store.message(id).expect("m").state, DeliveryState::Read);

    let bob = Address::parse_any("bob@example.org").expect("bob");
    store
        .apply_change(
            &account,
            &key,
            &r1,
            &MessageChange::Edited {
                text: "hello there".into(),
            },
            &Author::Me,
            Timestamp(11),
        )
        .expect("edit");
    store
        .apply_change(
            &account,
            &key,
            &r1,
            &MessageChange::ReactionAdded {
                by: bob.clone(),
                key: "👍".into(),
            },
            &Author::Other(bob.clone()),
            Timestamp(12),
        )
        .expect("react");
    let got = store.message(id).expect("m");
    assert_eq!(got.content.text, "hello there");
    assert_eq!(got.edited_at, Some(Timestamp(11)));
    assert_eq!(
        got.reactions,
        vec![("bob@example.org".to_owned(), "👍".to_owned())]
    );
    // The edit is what search finds now.
    assert_eq!(store.search("there", 10).expect("search").len(), 1);
    store
        .apply_change(
            &account,
            &key,
            &r1,
            &MessageChange::Deleted,
            &Author::Me,
            Timestamp(13),
        )
        .expect("delete");
    assert!(store.search("there", 10).expect("search").is_empty());
}

#[test]
fn another_account_cannot_claim_a_queued_message_by_its_local_id() {
    let (mut store, a) = store_with_account("a");
    let b = AccountId::new("b");
    add_account(&store, &b, "test", "me2@example.net", 2);
    let conv_a = conversation(&store, &a, "bob@example.org");
    let conv_b = conversation(&store, &b, "eve@example.net");
    let local = LocalId::new("l-secret");
    let command = Command::SendMessage {
        local_id: local.clone(),
        conversation: ConversationKey::new("bob@example.org"),
        content: Content::text("for bob only"),
        reply_to: None,
    };
    let me = Address::parse_any("me@example.org").expect("me");
    let id = store
        .queue_message(&messages::Outgoing {
            account: &a,
            conversation: conv_a,
            sender: &me,
            command: &command,
            timestamp: Timestamp(5),
        })
        .expect("queue");
    // Account b's server reports "our" message with a's local id.
    let mut forged = incoming("eve@example.net", "evil-1", "forged", 6);
    forged.direction = Direction::Outgoing;
    forged.local_id = Some(local.clone());
    let inserted = store.insert_message(conv_b, &forged).expect("insert");
    let m = store.message(id).expect("a's message");
    assert_eq!(
        m.state,
        DeliveryState::Queued,
        "a's message marked sent by b"
    );
    assert_eq!(m.remote_id, None);
    assert_eq!(store.pending(&a).expect("pending"), vec![command]);
    // b's message is stored as b's own, without the stolen local id.
    let theirs = store
        .message(inserted.expect("stored"))
        .expect("b's message");
    assert_eq!(theirs.content.text, "forged");
    assert_eq!(
        store.message_id_by_local(&b, &local).expect("by local"),
        None
    );
    assert_eq!(
        store.message_id_by_local(&a, &local).expect("by local"),
        Some(id)
    );
}

#[test]
fn nobody_edits_or_deletes_a_message_they_did_not_write() {
    let (mut store, account) = store_with_account("a");
    let key = ConversationKey::new("room@muc.example.org");
    let conv = conversation(&store, &account, key.as_str());
    // One message of mine, one of Alice's, in the same conversation.
    let mut mine = incoming(key.as_str(), "mine", "my original words", 10);
    mine.direction = Direction::Outgoing;
    let mine = store
        .insert_message(conv, &mine)
        .expect("insert")
        .expect("new");
    let mut hers = incoming(key.as_str(), "hers", "alice's words", 11);
    let alice = Address::parse_any("alice@example.org").expect("alice");
    hers.sender = alice.clone();
    let hers = store
        .insert_message(conv, &hers)
        .expect("insert")
        .expect("new");
    let mallory = Author::Other(Address::parse_any("mallory@example.org").expect("mallory"));
    let spoof = MessageChange::Edited {
        text: "SPOOFED EDIT".into(),
    };
    for (target, by) in [
        ("mine", &mallory),
        ("mine", &Author::Other(alice.clone())),
        ("hers", &mallory),
        ("hers", &Author::Me),
    ] {
        for change in [&spoof, &MessageChange::Deleted] {
            let applied = store
                .apply_change(
                    &account,
                    &key,
                    &RemoteId::new(target),
                    change,
                    by,
                    Timestamp(20),
                )
                .expect("change");
            assert!(
                applied.is_none(),
                "{change:?} of {target} by {by:?} was applied"
            );
        }
    }
    // A reaction reported in someone else's name is refused too.
    let forged = MessageChange::ReactionAdded {
        by: alice.clone(),
        key: "👎".into(),
    };
    assert!(
        store
            .apply_change(
                &account,
                &key,
                &RemoteId::new("mine"),
                &forged,
                &mallory,
                Timestamp(21)
            )
            .expect("react")
            .is_none()
    );
    let m = store.message(mine).expect("mine");
    assert_eq!(m.content.text, "my original words");
    assert!(m.edited_at.is_none() && !m.deleted && m.reactions.is_empty());
    let h = store.message(hers).expect("hers");
    assert_eq!(h.content.text, "alice's words");
    assert!(h.edited_at.is_none() && !h.deleted);
    // A moderator (as the network checked) removes anyone's message, and
    // edits nobody's.
    let moderator = Author::Moderator(Address::parse_any("mod@example.org").expect("mod"));
    assert!(
        store
            .apply_change(
                &account,
                &key,
                &RemoteId::new("hers"),
                &spoof,
                &moderator,
                Timestamp(22)
            )
            .expect("edit")
            .is_none()
    );
    // Each author may still change their own.
    let fix = MessageChange::Edited {
        text: "fixed".into(),
    };
    assert!(
        store
            .apply_change(
                &account,
                &key,
                &RemoteId::new("hers"),
                &fix,
                &Author::Other(alice),
                Timestamp(22)
            )
            .expect("edit")
            .is_some()
    );
    assert!(
        store
            .apply_change(
                &account,
                &key,
                &RemoteId::new("mine"),
                &fix,
                &Author::Me,
                Timestamp(23)
            )
            .expect("edit")
            .is_some()
    );
    assert!(
        store
            .apply_change(
                &account,
                &key,
                &RemoteId::new("hers"),
                &MessageChange::Deleted,
                &moderator,
                Timestamp(24)
            )
            .expect("moderated")
            .is_some()
    );
    assert!(store.message(hers).expect("hers").deleted);
}

#[test]
fn search_spans_accounts_and_ignores_accents_and_case() {
    let (mut store, a) = store_with_account("a");
    let b = AccountId::new("b");
    add_account(&store, &b, "other", "me2", 2);
    let ca = conversation(&store, &a, "bob@example.org");
    let cb = conversation(&store, &b, "eve@example.net");
    store
        .insert_message(
            ca,
            &incoming("bob@example.org", "1", "On se voit au Café Flore ?", 1),
        )
        .expect("m");
    store
        .insert_message(
            cb,
            &incoming("eve@example.net", "2", "the cafe downstairs is closed", 2),
        )
        .expect("m");
    store
        .insert_message(cb, &incoming("eve@example.net", "3", "unrelated", 3))
        .expect("m");
    let hits = store.search("CAFE", 10).expect("search");
    assert_eq!(hits.len(), 2);
    let accounts: std::collections::BTreeSet<_> =
        hits.iter().map(|h| h.account.as_str().to_owned()).collect();
    assert_eq!(accounts.len(), 2, "hits from both accounts");
    // Prefix on the last word; syntax characters are harmless.
    assert_eq!(store.search("downst", 10).expect("prefix").len(), 1);
    assert!(store.search("\"AND(", 10).expect("odd input").is_empty());
    assert!(store.search("   ", 10).expect("empty").is_empty());
}

#[test]
fn removing_an_account_removes_its_history_and_outbox() {
    let (mut store, account) = store_with_account("a");
    let conv = conversation(&store, &account, "bob@example.org");
    store
        .insert_message(conv, &incoming("bob@example.org", "1", "bye", 1))
        .expect("m");
    store
        .enqueue(
            &account,
            &Command::React {
                local_id: LocalId::new("r"),
                conversation: ConversationKey::new("bob@example.org"),
                target: RemoteId::new("1"),
                key: "👋".into(),
                remove: false,
            },
        )
        .expect("enqueue");
    assert!(store.remove_account(&account).expect("remove"));
    assert!(store.conversations().expect("list").is_empty());
    assert_eq!(store.outbox_len().expect("outbox"), 0);
    assert!(store.search("bye", 10).expect("search").is_empty());
}

#[test]
fn timeline_pages_backwards() {
    let (mut store, account) = store_with_account("a");
    let conv = conversation(&store, &account, "bob@example.org");
    for n in 0..25 {
        store
            .insert_message(
                conv,
                &incoming("bob@example.org", &format!("r{n}"), &format!("m{n}"), n),
            )
            .expect("m");
    }
    let newest = store.messages(conv, None, 10).expect("page");
    assert_eq!(newest.first().map(|m| m.content.text.as_str()), Some("m15"));
    assert_eq!(newest.last().map(|m| m.content.text.as_str()), Some("m24"));
    let older = store.messages(conv, Some(newest[0].id), 10).expect("older");
    assert_eq!(older.last().map(|m| m.content.text.as_str()), Some("m14"));
    assert_eq!(older.first().map(|m| m.content.text.as_str()), Some("m5"));
}

#[test]
fn a_message_handed_to_the_phone_stays_in_the_outbox_until_confirmed_or_failed() {
    let (mut store, account) = store_with_account("a");
    let conv = conversation(&store, &account, "+33612345678");
    let me = Address::parse_any("me@example.org").expect("me");
    let mut ids = Vec::new();
    for n in ["h1", "h2"] {
        let command = Command::SendMessage {
            local_id: LocalId::new(n),
            conversation: ConversationKey::new("+33612345678"),
            content: Content::text(n),
            reply_to: None,
        };
        ids.push(
            store
                .queue_message(&messages::Outgoing {
                    account: &account,
                    conversation: conv,
                    sender: &me,
                    command: &command,
                    timestamp: Timestamp(5),
                })
                .expect("queue"),
        );
    }
    for n in ["h1", "h2"] {
        store
            .hand_over(&account, &LocalId::new(n))
            .expect("hand over");
    }
    assert_eq!(
        store.message(ids[0]).expect("m").state,
        DeliveryState::Handed
    );
    // Not confirmed: a later session hands both again.
    assert_eq!(store.pending(&account).expect("pending").len(), 2);
    // Another account's session cannot touch this account's messages.
    let other = AccountId::new("b");
    assert_eq!(
        store
            .hand_over(&other, &LocalId::new("h1"))
            .expect("other account"),
        None
    );
    // The phone's sent box confirms one, its failed box fails the other.
    store
        .ack(&LocalId::new("h1"), &RemoteId::new("7"), &route())
        .expect("ack");
    store
        .fail(&LocalId::new("h2"), "the phone could not send it", false)
        .expect("fail");
    assert_eq!(store.message(ids[0]).expect("m").state, DeliveryState::Sent);
    assert_eq!(
        store.message(ids[1]).expect("m").state,
        DeliveryState::Failed
    );
    assert!(store.pending(&account).expect("pending").is_empty());
    // A confirmed message is not handed back.
    assert_eq!(
        store
            .hand_over(&account, &LocalId::new("h1"))
            .expect("again"),
        None
    );
}

#[test]
fn the_list_carries_each_conversations_last_message() {
    let (mut store, account) = store_with_account("a");
    let conv = conversation(&store, &account, "bob@example.org");
    assert_eq!(store.conversation(conv).expect("conv").preview, None);
    let long = "é".repeat(500);
    store
        .insert_message(conv, &incoming("bob@example.org", "r1", "first", 10))
        .expect("insert");
    store
        .insert_message(conv, &incoming("bob@example.org", "r2", &long, 20))
        .expect("insert");
    let mut photo = incoming("bob@example.org", "r0", "", 5);
    photo.content.attachments.push(koine_api::Attachment {
        name: "photo.jpg".into(),
        mime: "image/jpeg".into(),
        size: 1000,
        source: koine_api::AttachmentSource::Remote("https://example.org/p.jpg".into()),
        sha256: None,
    });
    store.insert_message(conv, &photo).expect("older photo");
    let preview = store
        .conversations()
        .expect("list")
        .into_iter()
        .find(|c| c.id == conv)
        .and_then(|c| c.preview)
        .expect("a preview");
    assert_eq!(preview.direction, Direction::Incoming);
    assert_eq!(preview.sender_name.as_deref(), Some("Bob"));
    // The newest by time, cut to 200 characters (not bytes).
    assert_eq!(preview.text, "é".repeat(200));
    assert!(!preview.attachments && !preview.deleted);

    let mut newest = incoming("bob@example.org", "r3", "", 30);
    newest.content.attachments = photo.content.attachments.clone();
    store.insert_message(conv, &newest).expect("photo");
    let preview = store
        .conversation(conv)
        .expect("conv")
        .preview
        .expect("preview");
    assert!(preview.attachments);
    assert_eq!(preview.text, "");
}
