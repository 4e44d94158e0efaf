//! One process owns a profile's sessions. With `koine tail` running on
//! Alice's profile, a second `koine tail` is refused, and 200 `koine send`
//! commands hand their messages to the running one instead of opening a
//! second session (which would fork the Signal sessions and send the outbox
//! twice): Bob receives each message exactly once, and Alice's account
//! never reconnects. The reference gatekeeper server runs in this process
//! on loopback; the clients are the real `koine` binary. Run inside
//! `scripts/with-keyring`.

mod common;

mod gk;

use common::koine;
use gk::{ALICE, BOB, Tail, alice_and_bob, contains_text, is_online, is_type};
use std::collections::BTreeMap;
use std::time::Duration;

const MESSAGES: usize = 200;

#[test]
fn a_second_koine_hands_its_sends_to_the_running_one() {
    let dir = tempfile::tempdir().expect("tmp");
    let (_db, pa, pb) = alice_and_bob(dir.path(), Duration::ZERO);

    let tail_b = Tail::start(&pb);
    tail_b.wait_for("Bob online", is_online);
    let tail_a = Tail::start(&pa);
    tail_a.wait_for("Alice online", is_online);

    // A second owner is refused at once, with the reason.
    let second = koine(&pa, &["tail", "--json"], None);
    assert!(!second.status.success(), "a second tail ran sessions");
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("another Koine process"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );

    let tag = std::process::id();
    for i in 0..MESSAGES {
        let text = format!("handed {i} of {tag}");
        let out = koine(&pa, &["send", ALICE, BOB, &text], None);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("the running Koine"),
            "send {i}: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    while seen.len() < MESSAGES {
        let v = tail_b.wait_for("every message at Bob", |v| {
            is_type(v, "message_stored") && contains_text(v, &format!(" of {tag}"))
        });
        let text = v["message"]["content"]["text"]
            .as_str()
            .expect("text")
            .to_owned();
        *seen.entry(text).or_default() += 1;
    }
    // Whatever else Bob's tail printed meanwhile counts too.
    for line in tail_b.lines_so_far() {
        if line.contains(&format!(" of {tag}")) && line.contains("message_stored") {
            let v: serde_json::Value = serde_json::from_str(&line).expect("json");
            let text = v["message"]["content"]["text"].as_str().unwrap_or_default();
            *seen.entry(text.to_owned()).or_default() += 1;
        }
    }
    assert!(
        seen.values().all(|n| *n == 1),
        "each message exactly once at Bob: {:?}",
        seen.iter().filter(|(_, n)| **n != 1).collect::<Vec<_>>()
    );
    // Alice's session never went down: no second connection was made.
    let reconnects = tail_a
        .lines_so_far()
        .iter()
        .filter(|l| l.contains("account_status") && l.contains("connecting"))
        .count();
    assert_eq!(reconnects, 0, "Alice's account reconnected");
    tail_a.stop();
    tail_b.stop();
}
