//! A store that refuses writes must not make Koine acknowledge what it did
//! not store. Here another process holds the profile database's write lock
//! (as a backup tool or a stuck process would: every write of Koine's ends
//! in `SQLITE_BUSY`) while a message arrives; the network must keep it, and
//! once the lock is gone Koine stores it exactly once and only then
//! acknowledges it. Real `koine` binaries, real servers on loopback. Run
//! inside `scripts/with-keyring`.

mod common;
mod gk;
mod matrix;
mod sms;
mod xmpp;

use common::{koine, ok};
use gk::{ALICE, BOB, Tail, alice_and_bob, contains_text, is_online, is_type};
use std::path::Path;
use std::time::{Duration, Instant};

/// Holds the write lock of a profile's database until dropped.
struct Locked(rusqlite::Connection);

impl Locked {
    fn take(profile: &Path) -> Self {
        let conn = rusqlite::Connection::open(profile.join("koine.sqlite3")).expect("open");
        koine_core::store::StoreKey::from_keyring(&koine_core::Profile::at(profile))
            .expect("the history's key")
            .unlock(&conn)
            .expect("unlock");
        conn.execute_batch("BEGIN EXCLUSIVE").expect("lock");
        Self(conn)
    }
}

impl Drop for Locked {
    fn drop(&mut self) {
        let _ = self.0.execute_batch("ROLLBACK");
    }
}

/// The session ended because the store refused a write.
fn store_failed(v: &serde_json::Value) -> bool {
    is_type(v, "account_status") && v["status"]["reason"]["kind"] == "store_failed"
}

/// How many stored messages of the profile carry `text` (read-only: the
/// store may be read beside the running Koine).
fn stored(profile: &Path, text: &str) -> usize {
    let out = ok(koine(profile, &["search", "--json", text], None), "search");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(text))
        .count()
}

/// With Alice's store locked, `from` (profile `sender`) writes to `to`: the
/// session ends on the store failure, and once the lock is gone the message
/// is stored exactly once.
fn arrives_once_after_a_locked_store(tail: &Tail, pa: &Path, sender: &Path, from: &str, to: &str) {
    let lock = Locked::take(pa);
    let text = format!("while the store was locked {}", std::process::id());
    ok(
        koine(sender, &["send", "--wait", "120", from, to, &text], None),
        "the peer sends",
    );
    tail.wait_for("the store failure", store_failed);
    drop(lock);
    tail.wait_for("the message, once the store works", |v| {
        is_type(v, "message_stored") && contains_text(v, &text)
    });
    assert_eq!(stored(pa, &text), 1, "stored exactly once");
}

#[test]
fn gatekeeper_a_message_the_store_refused_is_kept_by_the_server_and_stored_once_later() {
    let dir = tempfile::tempdir().expect("tmp");
    let (db, pa, pb) = alice_and_bob(dir.path(), Duration::ZERO);
    let alice = koine_gatekeeper::wire::Peer::parse(ALICE).expect("alice");
    let tail = Tail::start(&pa);
    tail.wait_for("Alice online", is_online);

    let lock = Locked::take(&pa);
    let text = format!("while the store was locked {}", std::process::id());
    ok(koine(&pb, &["send", BOB, ALICE, &text], None), "Bob sends");
    tail.wait_for("the store failure", store_failed);
    assert_eq!(
        db.queue_len(&alice).expect("queue"),
        1,
        "acknowledged although not stored"
    );

    drop(lock);
    tail.wait_for("the message, once the store works", |v| {
        is_type(v, "message_stored") && contains_text(v, &text)
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while db.queue_len(&alice).expect("queue") > 0 {
        assert!(Instant::now() < deadline, "never acknowledged once stored");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(stored(&pa, &text), 1, "stored exactly once");
    tail.stop();
}

#[test]
fn xmpp_a_message_the_store_refused_comes_again_and_is_stored_once() {
    let server = xmpp::Prosody::start();
    let dir = tempfile::tempdir().expect("tmp");
    let (pa, pf) = (dir.path().join("alice"), dir.path().join("friend"));
    let alice = server.account(&pa, "alice");
    let friend = server.account(&pf, "friend");
    let tail = Tail::start(&pa);
    tail.wait_for("Alice online", is_online);

    arrives_once_after_a_locked_store(&tail, &pa, &pf, &friend, &alice);
    tail.stop();
}

#[test]
fn matrix_a_message_the_store_refused_comes_again_with_the_next_sync_and_is_stored_once() {
    let server = matrix::Synapse::start();
    let dir = tempfile::tempdir().expect("tmp");
    let (pa, pf) = (dir.path().join("alice"), dir.path().join("friend"));
    let alice = server.account(&pa, "alice");
    let friend = server.account(&pf, "friend");
    let tail = Tail::start(&pa);
    tail.wait_for("Alice online", is_online);
    ok(
        koine(
            &pf,
            &["send", "--wait", "120", &friend, &alice, "hello"],
            None,
        ),
        "the friend writes first",
    );
    tail.wait_for("the invitation", |v| {
        is_type(v, "request_received") && contains_text(v, &friend)
    });
    ok(
        koine(&pa, &["requests", "accept", &friend, "--wait", "60"], None),
        "accept",
    );
    tail.wait_for("the first message", |v| {
        is_type(v, "message_stored") && contains_text(v, "hello")
    });

    arrives_once_after_a_locked_store(&tail, &pa, &pf, &friend, &alice);
    tail.stop();
}

#[test]
fn sms_a_message_the_store_refused_is_not_acknowledged_to_the_phone_and_is_stored_once_later() {
    let phones = sms::Phones::start();
    let dir = tempfile::tempdir().expect("tmp");
    let pa = dir.path().join("alice");
    phones.add_account(&pa);
    let tail = Tail::start(&pa);
    tail.wait_for("the phone online", is_online);

    let lock = Locked::take(&pa);
    let text = format!("while the store was locked {}", std::process::id());
    phones.inject("+33611112222", &text);
    tail.wait_for("the store failure", store_failed);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut refused = phones.answers_to(&text);
    while refused.is_empty() {
        assert!(Instant::now() < deadline, "the phone's call never ended");
        std::thread::sleep(Duration::from_millis(50));
        refused = phones.answers_to(&text);
    }
    assert!(
        refused.iter().all(|s| s.is_none_or(|s| s >= 500)),
        "acknowledged to the phone although not stored: {refused:?}"
    );

    drop(lock);
    tail.wait_for("the message, once the store works", |v| {
        is_type(v, "message_stored") && contains_text(v, &text)
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while !phones
        .answers_to(&text)
        .iter()
        .any(|s| s.is_some_and(|s| s < 300))
    {
        assert!(Instant::now() < deadline, "never acknowledged once stored");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(stored(&pa, &text), 1, "stored exactly once");
    tail.stop();
}
