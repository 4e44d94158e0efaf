//! Consent on Matrix with the real `koine` binary and a real Synapse on
//! loopback: a stranger's invitation lands in Requests; blocking leaves the
//! room and ignores the inviter through the homeserver, and nothing more
//! from them arrives. Run inside `scripts/with-keyring`.

mod common;
mod gk;
mod matrix;

use common::{json_lines, koine, ok};
use gk::{Tail, contains_text, is_online, is_type};

#[test]
fn a_matrix_strangers_invite_is_a_request_and_blocking_ignores_them() {
    let server = matrix::Synapse::start();
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

    ok(
        koine(
            &pm,
            &["send", &mallory, &alice, "hello from a stranger"],
            None,
        ),
        "mallory writes",
    );
    tail.wait_for("the invitation", |v| {
        is_type(v, "request_received") && contains_text(v, &mallory)
    });
    tail.stop();
    let requests = json_lines(&ok(
        koine(&pa, &["requests", "list", "--json"], None),
        "list",
    ));
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0]["protocol"], "matrix");
    assert_eq!(requests[0]["kind"]["kind"], "room_invite");

    // Exits 0 only once the homeserver confirmed: room left, inviter ignored.
    let out = ok(
        koine(&pa, &["requests", "block", &mallory, "--wait", "60"], None),
        "block",
    );
    assert_eq!(json_lines(&out)[0]["network_answered"], true);
    assert!(
        json_lines(&ok(
            koine(&pa, &["requests", "list", "--json"], None),
            "list"
        ))
        .is_empty()
    );

    let tail = Tail::start(&pa);
    tail.wait_for("Alice online again", is_online);
    ok(
        koine(&pm, &["send", &mallory, &alice, "let me in"], None),
        "mallory again",
    );
    ok(
        koine(&pf, &["send", &friend, &alice, "hi, a friend here"], None),
        "friend",
    );
    tail.wait_for("the friend's invitation", |v| {
        is_type(v, "request_received") && contains_text(v, &friend)
    });
    let requests = json_lines(&ok(
        koine(&pa, &["requests", "list", "--json"], None),
        "list",
    ));
    assert!(
        requests.iter().all(|r| !contains_text(r, &mallory)),
        "nothing more from the blocked inviter: {requests:?}"
    );
    tail.stop();
}
