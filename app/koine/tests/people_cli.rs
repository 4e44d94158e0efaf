//! People, route choice and consent through real servers, with the real
//! `koine` binary: the reference gatekeeper server and simulated phones
//! (SMSGate local API on a simulated carrier) run in this test process on
//! loopback. Run inside `scripts/with-keyring`.

mod common;
mod gk;
mod sms;

use common::{json_lines, koine, ok};
use gk::{ALICE, BOB, Tail, add_account, contains_text, is_online, is_type, start_server};
use koine_gatekeeper::server::db::Db;
use koine_gatekeeper::wire::Peer;
use koine_gatekeeper::wire::stanza::Folder;
use koine_sms::sim::Phone;
use sms::{Phones, phone};
use std::path::Path;
use std::time::{Duration, Instant};

const MALLORY: &str = "koine:mallory";

fn has_sms(phone: &Phone, body: &str) -> bool {
    phone
        .with_store(|s| s.messages().iter().any(|m| m.body == body))
        .unwrap_or(false)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The gatekeeper server with Alice (third-party user), Bob (gatekeeper
/// user, opted in to Koine's provider) and Mallory (third-party user).
fn gatekeeper(dir: &Path) -> koine_gatekeeper::server::Ready {
    let db_path = dir.join("gatekeeper.sqlite");
    let ready = start_server(db_path.clone(), Duration::ZERO);
    let db = Db::open(&db_path).expect("db");
    for (user, pw) in [(ALICE, "pw-a"), (BOB, "pw-b"), (MALLORY, "pw-m")] {
        db.add_user(&Peer::parse(user).expect("peer"), pw)
            .expect("user");
    }
    db.set_optin(
        &Peer::parse(BOB).expect("b"),
        "koine",
        Folder::Separate,
        true,
    )
    .expect("opt-in");
    ready
}

#[test]
fn a_person_on_the_gatekeeper_and_sms_gets_the_gatekeeper_route_and_sms_only_after_consent() {
    let dir = tempfile::tempdir().expect("tmp");
    let ready = gatekeeper(dir.path());
    let phones = Phones::start();
    let bob_phone = phone(&phones.carrier, BOB);
    let (pa, pb) = (dir.path().join("alice"), dir.path().join("bob"));
    add_account(&pa, ALICE, "pw-a", &ready);
    phones.add_account(&pa);
    add_account(&pb, BOB, "pw-b", &ready);
    let tail_b = Tail::start(&pb);
    tail_b.wait_for("Bob online", is_online);

    // Alice's address book knows Bob's number: one person, two routes.
    let vcf = dir.path().join("bob.vcf");
    std::fs::write(
        &vcf,
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bob\r\nTEL;TYPE=CELL:+49 151 1234\r\n 5678\r\nEND:VCARD\r\n",
    )
    .expect("vcf");
    ok(
        koine(&pa, &["people", "import", vcf.to_str().expect("p")], None),
        "import",
    );
    let people = json_lines(&ok(koine(&pa, &["people", "list", "--json"], None), "list"));
    assert_eq!(people.len(), 1, "{people:?}");
    assert_eq!(people[0]["addresses"].as_array().map(Vec::len), Some(2));

    let route = json_lines(&ok(
        koine(&pa, &["people", "route", "Bob", "--json"], None),
        "route",
    ));
    let chosen = &route[0]["chosen"];
    assert_eq!(chosen["protocol"], "gatekeeper", "{route:?}");
    assert_eq!(route[0]["needs_consent_for_downgrade"], false);
    assert_eq!(route[0]["alternatives"][0]["protocol"], "sms");

    let best = format!("by the best route {}", std::process::id());
    let out = ok(
        koine(&pa, &["people", "send", "Bob", &best], None),
        "send by the best route",
    );
    assert_eq!(json_lines(&out)[0]["protocol"], "gatekeeper");
    tail_b.wait_for("Bob gets it through the gatekeeper", |v| {
        is_type(v, "message_stored") && contains_text(v, &best)
    });

    let by_sms = format!("by sms {}", std::process::id());
    let refused = koine(
        &pa,
        &["people", "send", "Bob", &by_sms, "--via", "alice-phone"],
        None,
    );
    assert_eq!(
        refused.status.code(),
        Some(4),
        "a downgrade to SMS asks first: {}",
        text(&refused.stderr)
    );
    assert!(!has_sms(&bob_phone, &by_sms), "nothing went out by SMS");

    let out = ok(
        koine(
            &pa,
            &[
                "people",
                "send",
                "Bob",
                &by_sms,
                "--via",
                "alice-phone",
                "--allow-downgrade",
                "once",
            ],
            None,
        ),
        "send by SMS with consent",
    );
    assert_eq!(json_lines(&out)[0]["protocol"], "sms");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !has_sms(&bob_phone, &by_sms) {
        assert!(Instant::now() < deadline, "Bob's phone never got the SMS");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Consent once is once.
    let again = koine(
        &pa,
        &["people", "send", "Bob", "again", "--via", "alice-phone"],
        None,
    );
    assert_eq!(again.status.code(), Some(4));
    tail_b.stop();
}

#[test]
fn a_third_party_strangers_first_message_is_a_request_and_blocking_stops_it_at_the_gatekeeper() {
    let dir = tempfile::tempdir().expect("tmp");
    let ready = gatekeeper(dir.path());
    let (pb, pm) = (dir.path().join("bob"), dir.path().join("mallory"));
    add_account(&pb, BOB, "pw-b", &ready);
    add_account(&pm, MALLORY, "pw-m", &ready);
    let tail_b = Tail::start(&pb);
    tail_b.wait_for("Bob online", is_online);
    let first = format!("hello from a stranger {}", std::process::id());
    ok(
        koine(&pm, &["send", MALLORY, BOB, &first], None),
        "first message",
    );
    let (mut stored, mut requested) = (false, false);
    tail_b.wait_for("the message and the request", |v| {
        stored |= is_type(v, "message_stored") && contains_text(v, &first);
        requested |= is_type(v, "request_received") && contains_text(v, MALLORY);
        stored && requested
    });
    tail_b.stop();

    let requests = json_lines(&ok(
        koine(&pb, &["requests", "list", "--json"], None),
        "list",
    ));
    assert_eq!(requests.len(), 1, "one entry: {requests:?}");
    assert_eq!(requests[0]["protocol"], "gatekeeper");
    assert_eq!(requests[0]["kind"]["kind"], "third_party_opt_in");
    assert!(
        requests[0]["conversation"].is_i64(),
        "with its conversation"
    );
    let conversations = text(&ok(koine(&pb, &["conversations"], None), "conversations").stdout);
    assert!(conversations.contains("(request)"), "{conversations}");

    let out = ok(koine(&pb, &["requests", "block", MALLORY], None), "block");
    let outcome = json_lines(&out);
    assert_eq!(outcome[0]["network_answered"], true, "{outcome:?}");
    let requests = json_lines(&ok(
        koine(&pb, &["requests", "list", "--json"], None),
        "list",
    ));
    assert!(requests.is_empty(), "{requests:?}");

    // The gatekeeper itself refuses Mallory now.
    let again = koine(&pm, &["send", MALLORY, BOB, "let me in"], None);
    assert_eq!(
        again.status.code(),
        Some(2),
        "refused by the network: {} {}",
        text(&again.stdout),
        text(&again.stderr)
    );
    assert!(text(&again.stderr).to_lowercase().contains("block"));
}

#[test]
fn an_unknown_sms_sender_lands_in_requests_and_a_local_block_drops_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let phones = Phones::start();
    let pa = dir.path().join("alice");
    phones.add_account(&pa);
    let tail = Tail::start(&pa);
    tail.wait_for("the phone online", is_online);
    let id = std::process::id();

    let spam = format!("you won a prize {id}");
    phones.inject("+33698765432", &spam);
    tail.wait_for("the stranger's SMS", |v| {
        is_type(v, "message_stored") && contains_text(v, &spam)
    });
    let requests = json_lines(&ok(
        koine(&pa, &["requests", "list", "--json"], None),
        "list",
    ));
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0]["protocol"], "sms");
    assert_eq!(requests[0]["kind"]["kind"], "first_message");
    assert!(contains_text(&requests[0], &spam));

    let out = ok(
        koine(&pa, &["requests", "block", "+33698765432"], None),
        "block",
    );
    let outcome = &json_lines(&out)[0];
    assert_eq!(outcome["blocked_locally"], true);
    assert_eq!(
        outcome["network_answered"], false,
        "SMS has no block of its own"
    );

    let blocked = format!("still me {id}");
    let after = format!("someone else {id}");
    phones.inject("+33698765432", &blocked);
    phones.inject("+33611112222", &after);
    tail.wait_for("the next sender's SMS", |v| {
        assert!(
            !contains_text(v, &blocked),
            "a blocked sender's SMS was delivered: {v}"
        );
        is_type(v, "message_stored") && contains_text(v, &after)
    });
    let found = text(&ok(koine(&pa, &["search", "still", "me"], None), "search").stdout);
    assert!(
        !found.contains(&blocked),
        "nothing of it is stored: {found}"
    );
    let requests = json_lines(&ok(
        koine(&pa, &["requests", "list", "--json"], None),
        "list",
    ));
    assert_eq!(
        requests.len(),
        1,
        "the other stranger is a request: {requests:?}"
    );

    // Anyone may text directly once the policy says so.
    ok(
        koine(&pa, &["policy", "set", "sms", "anyone"], None),
        "policy",
    );
    let welcome = format!("hello from a new number {id}");
    phones.inject("+33633334444", &welcome);
    tail.wait_for("the new number's SMS", |v| {
        is_type(v, "message_stored") && contains_text(v, &welcome)
    });
    let requests = json_lines(&ok(
        koine(&pa, &["requests", "list", "--json"], None),
        "list",
    ));
    assert_eq!(
        requests.len(),
        1,
        "no new request under 'anyone': {requests:?}"
    );
    tail.stop();
}

/// With a Koine running on the profile (here `koine tail`, as the window
/// would), answering a request and sending to a person from the command
/// line go through it: neither starts a second session.
#[test]
fn a_second_koine_hands_request_answers_and_person_sends_to_the_running_one() {
    let dir = tempfile::tempdir().expect("tmp");
    let ready = gatekeeper(dir.path());
    let (pa, pb, pm) = (
        dir.path().join("alice"),
        dir.path().join("bob"),
        dir.path().join("mallory"),
    );
    add_account(&pa, ALICE, "pw-a", &ready);
    add_account(&pb, BOB, "pw-b", &ready);
    add_account(&pm, MALLORY, "pw-m", &ready);

    let tail_b = Tail::start(&pb);
    tail_b.wait_for("Bob online", is_online);
    let first = format!("hello from a stranger {}", std::process::id());
    ok(
        koine(&pm, &["send", MALLORY, BOB, &first], None),
        "first message",
    );
    tail_b.wait_for("the request", |v| {
        is_type(v, "request_received") && contains_text(v, MALLORY)
    });
    let out = ok(
        koine(&pb, &["requests", "block", MALLORY], None),
        "block through the running Koine",
    );
    assert_eq!(json_lines(&out)[0]["network_answered"], true, "{out:?}");
    let again = koine(&pm, &["send", MALLORY, BOB, "let me in"], None);
    assert_eq!(
        again.status.code(),
        Some(2),
        "the network refuses Mallory now: {}",
        text(&again.stderr)
    );

    let tail_a = Tail::start(&pa);
    tail_a.wait_for("Alice online", is_online);
    let vcf = dir.path().join("bob.vcf");
    std::fs::write(
        &vcf,
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bob\r\nTEL;TYPE=CELL:+4915112345678\r\nEND:VCARD\r\n",
    )
    .expect("vcf");
    ok(
        koine(&pa, &["people", "import", vcf.to_str().expect("p")], None),
        "import",
    );
    let body = format!("to a person, handed {}", std::process::id());
    let out = ok(
        koine(&pa, &["people", "send", "Bob", &body], None),
        "people send through the running Koine",
    );
    assert_eq!(
        json_lines(&out)[0]["by"],
        "the running Koine",
        "{}",
        text(&out.stdout)
    );
    tail_b.wait_for("Bob gets it", |v| {
        is_type(v, "message_stored") && contains_text(v, &body)
    });
    let reconnects = tail_a
        .lines_so_far()
        .iter()
        .filter(|l| l.contains("account_status") && l.contains("connecting"))
        .count();
    assert_eq!(reconnects, 0, "Alice's account reconnected");
    tail_a.stop();
    tail_b.stop();
}
