//! kill -9 of the sending `koine` process after the server stored the
//! message but before the acknowledgement reached it; then a restart. The
//! message must arrive exactly once. The reference server holds each
//! acknowledgement for a few seconds (`ack_delay`) so the kill lands in that
//! window every time, and the test checks that it did. Run inside
//! `scripts/with-keyring`.

mod common;
mod gk;

use common::koine;
use gk::{ALICE, BOB, Tail, add_account, contains_text, is_online, is_type, start_server};
use koine_gatekeeper::server::db::Db;
use koine_gatekeeper::wire::Peer;
use koine_gatekeeper::wire::stanza::Folder;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ACK_DELAY: Duration = Duration::from_secs(5);

#[test]
fn a_sender_killed_between_store_and_acknowledgement_delivers_exactly_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let db_path = dir.path().join("gatekeeper.sqlite");
    let ready = start_server(db_path.clone(), ACK_DELAY);
    let db = Db::open(&db_path).expect("db");
    let (alice, bob) = (Peer::parse(ALICE).expect("a"), Peer::parse(BOB).expect("b"));
    db.add_user(&alice, "pw-a").expect("alice");
    db.add_user(&bob, "pw-b").expect("bob");
    db.set_optin(&bob, "koine", Folder::Separate, true)
        .expect("opt-in");
    let (pa, pb) = (dir.path().join("profile-a"), dir.path().join("profile-b"));
    add_account(&pa, ALICE, "pw-a", &ready);
    add_account(&pb, BOB, "pw-b", &ready);
    // Bob publishes his keys once, then goes away.
    let tail_b = Tail::start(&pb);
    tail_b.wait_for("Bob online", is_online);
    tail_b.stop();

    let text = format!("exactly once {}", std::process::id());
    let mut send = Command::new(env!("CARGO_BIN_EXE_koine"))
        .arg("--profile")
        .arg(&pa)
        .args(["send", ALICE, BOB, &text, "--wait", "60"])
        .env_remove("KOINE_HOME")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn send");
    // The server stored it for Bob: the acknowledgement is now held back.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let queued = db.pending(&bob, 0, 100).expect("queue");
        if queued.iter().any(|q| q.sender == ALICE && q.body.is_some()) {
            break;
        }
        assert!(Instant::now() < deadline, "the server never stored it");
        assert!(
            send.try_wait().expect("poll").is_none(),
            "koine send ended before the server stored the message"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let stored_at = Instant::now();
    assert!(
        send.try_wait().expect("poll").is_none(),
        "koine send ended on its own: the kill would not be between store and ack"
    );
    send.kill().expect("kill -9");
    let status = send.wait().expect("wait");
    assert!(
        stored_at.elapsed() < ACK_DELAY,
        "the kill landed inside the held acknowledgement"
    );
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "killed by SIGKILL: {status:?}");
    }

    // Restart: the outbox sends it again under the same id; the server
    // keeps one copy and acknowledges.
    let tail_a = Tail::start(&pa);
    tail_a.wait_for("the resent message acknowledged", |v| {
        is_type(v, "message_updated")
            && contains_text(v, &text)
            && (contains_text(v, "sent") || contains_text(v, "delivered"))
    });
    tail_a.stop();

    // Bob comes back and gets it once.
    let tail_b = Tail::start(&pb);
    tail_b.wait_for("the message at Bob", |v| {
        is_type(v, "message_stored") && contains_text(v, &text)
    });
    // Bob's acknowledgement empties the server's queue of messages.
    let deadline = Instant::now() + Duration::from_secs(30);
    while db
        .pending(&bob, 0, 100)
        .expect("queue")
        .iter()
        .any(|q| q.body.is_some())
    {
        assert!(Instant::now() < deadline, "Bob never acknowledged");
        std::thread::sleep(Duration::from_millis(50));
    }
    tail_b.stop();
    let out = koine(&pb, &["search", "--json", &text], None);
    assert!(out.status.success());
    let hits = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(&text))
        .count();
    assert_eq!(hits, 1, "exactly one copy at Bob");
    let out = koine(&pa, &["search", "--json", &text], None);
    let at_alice = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(&text))
        .count();
    assert_eq!(at_alice, 1, "one copy in Alice's history too");
}
