//! Consent on XMPP with the real `koine` binary and a real Prosody on
//! loopback: a stranger's first message lands in Requests, accepting moves a
//! chat to the inbox, and a block stops the stranger's messages. Run inside
//! `scripts/with-keyring`.

mod common;
mod gk;
mod xmpp;

use common::{json_lines, koine, ok};
use gk::{Tail, contains_text, is_online, is_type};

/// `koine send` from a profile with no Koine running (it connects, sends and
/// disconnects). Under a loaded CI machine the acknowledgement of a send
/// from a resumed XMPP stream was once seen to take longer than the default
/// 30 s wait: the wait is longer here, and a send that still times out
/// prints the sender's log so the cause can be read.
fn send(profile: &std::path::Path, from: &str, to: &str, text: &str) -> std::process::Output {
    let out = koine(profile, &["send", "--wait", "120", from, to, text], None);
    if !out.status.success() {
        let log =
            std::fs::read_to_string(profile.join("logs").join("koine.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(60).collect();
        eprintln!(
            "log of {} (last lines, newest first):\n{}",
            profile.display(),
            tail.join("\n")
        );
    }
    out
}

#[test]
fn xmpp_strangers_land_in_requests_and_a_block_stops_them() {
    let server = xmpp::Prosody::start();
    let dir = tempfile::tempdir().expect("tmp");
    let (pa, pm, pf) = (
        dir.path().join("alice"),
        dir.path().join("mallory"),
        dir.path().join("friend"),
    );
    let alice = server.account(&pa, "alice");
    let mallory = server.account(&pm, "mallory");
    let friend = server.account(&pf, "friend");
    let tail = Tail::start(&pa);
    tail.wait_for("Alice online", is_online);
    let id = std::process::id();

    let spam = format!("buy now {id}");
    ok(send(&pm, &mallory, &alice, &spam), "mallory");
    tail.wait_for("the stranger's message", |v| {
        is_type(v, "message_stored") && contains_text(v, &spam)
    });
    let hello = format!("hello, it's your friend {id}");
    ok(send(&pf, &friend, &alice, &hello), "friend");
    tail.wait_for("the friend's message", |v| {
        is_type(v, "message_stored") && contains_text(v, &hello)
    });
    let requests = json_lines(&ok(
        koine(&pa, &["requests", "list", "--json"], None),
        "list",
    ));
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(
        requests
            .iter()
            .all(|r| r["protocol"] == "xmpp" && r["kind"]["kind"] == "first_message")
    );

    ok(koine(&pa, &["requests", "accept", &friend], None), "accept");
    let out = ok(koine(&pa, &["requests", "block", &mallory], None), "block");
    assert_eq!(json_lines(&out)[0]["blocked_locally"], true);
    let requests = json_lines(&ok(
        koine(&pa, &["requests", "list", "--json"], None),
        "list",
    ));
    assert!(requests.is_empty(), "{requests:?}");
    let listed = String::from_utf8_lossy(&ok(koine(&pa, &["conversations"], None), "list").stdout)
        .into_owned();
    assert!(
        listed.contains(&friend) && !listed.contains("(request)"),
        "the friend's chat is in the inbox: {listed}"
    );

    let again = format!("still selling {id}");
    ok(send(&pm, &mallory, &alice, &again), "mallory again");
    let after = format!("are you there {id}");
    ok(send(&pf, &friend, &alice, &after), "friend again");
    tail.wait_for("the friend's next message", |v| {
        assert!(
            !contains_text(v, &again),
            "a blocked stranger got through: {v}"
        );
        is_type(v, "message_stored") && contains_text(v, &after)
    });
    let found =
        String::from_utf8_lossy(&ok(koine(&pa, &["search", "selling"], None), "search").stdout)
            .into_owned();
    assert!(!found.contains(&again), "{found}");
    tail.stop();
}
