//! The history at rest: encrypted with a key only the keyring holds, never
//! opened without it, encrypted in place when an older Koine left it in
//! plaintext, and nothing deleted left readable in the file, its WAL or the
//! search index.

use super::tests::{add_account, conversation, incoming};
use super::*;
use crate::model::ConversationId;
use koine_api::{AccountId, Author, ConversationKey, MessageChange, RemoteId, Secret, Timestamp};
use std::collections::HashMap;
use std::sync::Mutex;

/// A keyring in memory.
#[derive(Default)]
struct MemoryKeyring(Mutex<HashMap<String, String>>);

impl SecretStore for MemoryKeyring {
    fn get(&self, name: &str) -> std::result::Result<Option<Secret>, SecretError> {
        let map = self.0.lock().expect("lock");
        Ok(map.get(name).map(|v| Secret::new(v.as_str())))
    }
    fn set(&self, name: &str, value: &Secret) -> std::result::Result<(), SecretError> {
        let mut map = self.0.lock().expect("lock");
        map.insert(name.to_owned(), value.expose().to_owned());
        Ok(())
    }
    fn delete(&self, name: &str) -> std::result::Result<(), SecretError> {
        self.0.lock().expect("lock").remove(name);
        Ok(())
    }
}

/// A keyring that refuses everything (locked, or the user said no).
struct RefusingKeyring;

impl SecretStore for RefusingKeyring {
    fn get(&self, _: &str) -> std::result::Result<Option<Secret>, SecretError> {
        Err(SecretError::Locked)
    }
    fn set(&self, _: &str, _: &Secret) -> std::result::Result<(), SecretError> {
        Err(SecretError::Locked)
    }
    fn delete(&self, _: &str) -> std::result::Result<(), SecretError> {
        Err(SecretError::Locked)
    }
}

fn no_progress(_: EncryptProgress) {}

/// Every file under `dir` (recursively) whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).expect("list").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if std::fs::read(&path)
                .expect("read")
                .windows(needle.len())
                .any(|w| w == needle.as_bytes())
            {
                found.push(path);
            }
        }
    }
    found
}

/// Two accounts on two networks, a chat on each, and in each chat
/// messages that carry the given canaries.
fn write_canaries(store: &mut Store, canaries: &[&str]) -> Vec<(AccountId, ConversationId)> {
    let mut chats = Vec::new();
    for (i, protocol) in ["xmpp", "sms"].iter().enumerate() {
        let account = AccountId::new(format!("acct-{protocol}"));
        add_account(store, &account, protocol, "me@example.org", 1);
        let key = format!("peer{i}@example.org");
        let conv = conversation(store, &account, &key);
        for (n, canary) in canaries.iter().enumerate() {
            let remote = format!("r{i}-{n}");
            let text = format!("{canary} sent on {protocol}");
            store
                .insert_message(conv, &incoming(&key, &remote, &text, 10 + n as i64))
                .expect("insert");
        }
        chats.push((account, conv));
    }
    chats
}

#[test]
fn a_new_profile_is_encrypted_and_no_canary_is_in_any_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("koine.sqlite3");
    let keyring = MemoryKeyring::default();
    let canaries = ["zqxcanarylive", "café-zqxaccent"];
    {
        let mut store = Store::open_profile(&path, &keyring, &mut no_progress).expect("open");
        assert!(store.is_encrypted());
        write_canaries(&mut store, &canaries);
        // Found through the full-text index, so it holds them too.
        assert_eq!(store.search("zqxcanarylive", 10).expect("search").len(), 2);
    }
    for canary in canaries
        .iter()
        .chain(["peer0@example.org", "SQLite format"].iter())
    {
        assert_eq!(
            files_containing(dir.path(), canary),
            Vec::<std::path::PathBuf>::new(),
            "{canary} is readable in the profile"
        );
    }
    // The key is in the keyring only.
    let key = keyring.get(KEY_NAME).expect("get").expect("kept");
    let head = key.expose().get(..16).expect("64 digits");
    assert!(files_containing(dir.path(), head).is_empty());
    let store = Store::open_profile(&path, &keyring, &mut no_progress).expect("reopen");
    assert_eq!(store.search("zqxaccent", 10).expect("search").len(), 2);
}

#[test]
fn without_its_key_the_history_is_refused_never_opened_in_plaintext() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("koine.sqlite3");
    // A new profile whose keyring refuses: no file is made at all.
    assert!(matches!(
        Store::open_profile(&path, &RefusingKeyring, &mut no_progress),
        Err(StoreError::KeyUnavailable(SecretError::Locked))
    ));
    assert!(!path.exists());
    let keyring = MemoryKeyring::default();
    {
        let mut store = Store::open_profile(&path, &keyring, &mut no_progress).expect("open");
        write_canaries(&mut store, &["zqxkept"]);
    }
    let before = std::fs::read(&path).expect("read");
    assert!(matches!(
        Store::open_profile(&path, &RefusingKeyring, &mut no_progress),
        Err(StoreError::KeyUnavailable(_))
    ));
    assert!(matches!(
        Store::open_profile(&path, &MemoryKeyring::default(), &mut no_progress),
        Err(StoreError::KeyMissing)
    ));
    let other = MemoryKeyring::default();
    other
        .set(KEY_NAME, &StoreKey::generate().to_secret())
        .expect("set");
    assert!(matches!(
        Store::open_profile(&path, &other, &mut no_progress),
        Err(StoreError::WrongKey)
    ));
    other.set(KEY_NAME, &Secret::new("not a key")).expect("set");
    assert!(matches!(
        Store::open_profile(&path, &other, &mut no_progress),
        Err(StoreError::KeyMalformed)
    ));
    assert_eq!(
        std::fs::read(&path).expect("read"),
        before,
        "left as it was"
    );
    let store = Store::open_profile(&path, &keyring, &mut no_progress).expect("right key");
    assert_eq!(store.search("zqxkept", 10).expect("search").len(), 2);
}

fn fixture(dir: &Path) -> std::path::PathBuf {
    // Written by Koine before it encrypted (schema version 3): two accounts
    // (XMPP, Matrix), three messages each, "plaintextcanary<a>x<n> from
    // before encryption".
    let path = dir.join("koine.sqlite3");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/plaintext-profile-v3.sqlite3"
        ),
        &path,
    )
    .expect("copy the fixture");
    path
}

#[test]
fn a_profile_of_the_previous_version_is_encrypted_in_place() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = fixture(dir.path());
    assert_eq!(files_containing(dir.path(), "plaintextcanary0x1").len(), 1);
    let keyring = MemoryKeyring::default();
    let mut seen = Vec::new();
    let store = Store::open_profile(&path, &keyring, &mut |p| seen.push(p)).expect("open");
    assert_eq!(store.schema_version().expect("version"), 4);
    assert_eq!(store.accounts().expect("accounts").len(), 2);
    let hits = store.search("plaintextcanary0x1", 10).expect("search");
    assert_eq!(hits.len(), 1);
    let total = std::fs::metadata(dir.path().join("koine.sqlite3")).map(|m| m.len());
    assert!(total.is_ok());
    let last = seen.last().copied().expect("progress reported");
    assert_eq!(seen.first().map(|p| p.done_bytes), Some(0));
    assert_eq!(last.done_bytes, last.total_bytes);
    assert!(seen.windows(2).all(|w| w[0].done_bytes <= w[1].done_bytes));
    drop(store);
    assert_eq!(
        files_containing(dir.path(), "plaintextcanary"),
        Vec::<std::path::PathBuf>::new()
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["koine.sqlite3".to_owned()], "nothing else left");
    // And it is the encrypted file that opens from now on.
    assert!(matches!(
        Store::open_profile(&path, &MemoryKeyring::default(), &mut no_progress),
        Err(StoreError::KeyMissing)
    ));
    Store::open_profile(&path, &keyring, &mut no_progress).expect("reopen");
}

#[test]
fn an_interrupted_encryption_is_finished_or_undone() {
    // Stopped between the plaintext's second name and the copy's rename:
    // only `.plaintext` is there; it is the database, and is encrypted.
    let dir = tempfile::tempdir().expect("tmp");
    let path = fixture(dir.path());
    std::fs::rename(&path, encrypt::plaintext_path(&path)).expect("rename");
    std::fs::write(encrypt::encrypting_path(&path), b"half an export").expect("write");
    let keyring = MemoryKeyring::default();
    let store = Store::open_profile(&path, &keyring, &mut no_progress).expect("open");
    assert_eq!(
        store
            .search("plaintextcanary1x2", 10)
            .expect("search")
            .len(),
        1
    );
    drop(store);
    assert!(files_containing(dir.path(), "plaintextcanary").is_empty());
    assert!(!encrypt::encrypting_path(&path).exists());

    // Stopped before the plaintext's second name was removed: it is
    // overwritten and removed, the encrypted database kept.
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/plaintext-profile-v3.sqlite3"
        ),
        encrypt::plaintext_path(&path),
    )
    .expect("copy");
    let store = Store::open_profile(&path, &keyring, &mut no_progress).expect("open");
    assert_eq!(store.accounts().expect("accounts").len(), 2);
    drop(store);
    assert!(!encrypt::plaintext_path(&path).exists());
    assert!(files_containing(dir.path(), "plaintextcanary").is_empty());
}

#[test]
fn a_large_plaintext_history_reports_progress_while_it_is_encrypted() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("koine.sqlite3");
    let conv = {
        let mut store = Store::open_plaintext(&path).expect("plaintext");
        let account = AccountId::new("a");
        add_account(&store, &account, "xmpp", "me@example.org", 1);
        let conv = conversation(&store, &account, "bob@example.org");
        let long = "mot ".repeat(200);
        store
            .batch(|s| {
                for n in 0..20_000 {
                    let text = format!("{n} {long}");
                    s.insert_message(
                        conv,
                        &incoming("bob@example.org", &format!("r{n}"), &text, n),
                    )?;
                }
                Ok(())
            })
            .expect("fill");
        conv
    };
    let mut seen = Vec::new();
    let store =
        Store::open_profile(&path, &MemoryKeyring::default(), &mut |p| seen.push(p)).expect("open");
    assert_eq!(store.message_count(conv).expect("count"), 20_000);
    let total = seen.first().expect("first").total_bytes;
    assert!(total > 10 << 20, "a large history: {total} bytes");
    assert!(seen.len() >= 3, "progress while it ran: {seen:?}");
    assert!(
        seen.iter()
            .any(|p| p.done_bytes > 0 && p.done_bytes < p.total_bytes),
        "{seen:?}"
    );
    assert_eq!(seen.last().map(|p| p.done_bytes), Some(total));
}

/// A deleted message, a removed account and a cleared chat, then a
/// checkpoint; each canary is touched by one of them only. Returns the
/// canaries that must be gone and one that stays.
fn delete_canaries(store: &mut Store) -> ([&'static str; 3], &'static str) {
    let xmpp = AccountId::new("acct-xmpp");
    let sms = AccountId::new("acct-sms");
    add_account(store, &xmpp, "xmpp", "me@example.org", 1);
    add_account(store, &sms, "sms", "+33600000000", 1);
    let put = |store: &mut Store, account: &AccountId, peer: &str, remote: &str, text: &str| {
        let chat = conversation(store, account, peer);
        store
            .insert_message(chat, &incoming(peer, remote, text, 1))
            .expect("insert");
        chat
    };
    put(
        store,
        &xmpp,
        "peer0@example.org",
        "d1",
        "zqxdeletedmsg said peer0",
    );
    put(store, &xmpp, "peer0@example.org", "k1", "zqxstillhere");
    let cleared = put(store, &xmpp, "clear@example.org", "c1", "zqxclearedchat");
    put(store, &sms, "removed@example.org", "s1", "zqxremovedacct");
    let peer0 = Address::Jid(koine_api::Jid::parse("peer0@example.org").expect("jid"));
    let deleted = store
        .apply_change(
            &xmpp,
            &ConversationKey::new("peer0@example.org"),
            &RemoteId::new("d1"),
            &MessageChange::Deleted,
            &Author::Other(peer0),
            Timestamp(100),
        )
        .expect("delete");
    assert!(deleted.is_some());
    assert_eq!(store.clear_history(cleared).expect("clear"), 1);
    assert!(store.remove_account(&sms).expect("remove"));
    store.checkpoint().expect("checkpoint");
    (
        ["zqxdeletedmsg", "zqxremovedacct", "zqxclearedchat"],
        "zqxstillhere",
    )
}

use koine_api::Address;

#[test]
fn what_was_deleted_is_overwritten_in_the_file_the_wal_and_the_index() {
    // In plaintext, so that what the pages still hold can be seen.
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("koine.sqlite3");
    let mut store = Store::open_plaintext(&path).expect("open");
    let (gone, kept) = delete_canaries(&mut store);
    // The store is still open: its WAL and index files are there.
    for canary in gone {
        assert_eq!(
            files_containing(dir.path(), canary),
            Vec::<std::path::PathBuf>::new(),
            "{canary} is still in the profile's files"
        );
        assert!(store.search(canary, 10).expect("search").is_empty());
    }
    assert!(
        !files_containing(dir.path(), kept).is_empty(),
        "the grep sees plaintext"
    );
    assert_eq!(store.search(kept, 10).expect("search").len(), 1);
}

#[test]
fn nothing_deleted_or_kept_is_readable_in_an_encrypted_profile() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("koine.sqlite3");
    let keyring = MemoryKeyring::default();
    let mut store = Store::open_profile(&path, &keyring, &mut no_progress).expect("open");
    let (gone, kept) = delete_canaries(&mut store);
    for canary in gone.iter().chain([&kept]) {
        assert!(files_containing(dir.path(), canary).is_empty(), "{canary}");
    }
    for canary in gone {
        assert!(store.search(canary, 10).expect("search").is_empty());
    }
    assert_eq!(store.search(kept, 10).expect("search").len(), 1);
}

#[test]
fn commits_are_synced_to_disk_while_a_durable_hold_lasts() {
    let mut store = Store::open_in_memory().expect("open");
    let level = |s: &Store| -> i64 {
        s.conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .expect("pragma")
    };
    const NORMAL: i64 = 1;
    const FULL: i64 = 2;
    assert_eq!(level(&store), NORMAL);
    store.hold_durable().expect("hold");
    store.hold_durable().expect("nested hold");
    assert_eq!(level(&store), FULL);
    store.release_durable().expect("release");
    assert_eq!(level(&store), FULL, "the outer hold still lasts");
    store.release_durable().expect("release");
    assert_eq!(level(&store), NORMAL);
}
