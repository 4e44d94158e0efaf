//! The Matrix recovery key with the real `koine` binary and Synapse on
//! loopback: `koine prompts list` shows it to the user who asks, while the
//! `koine tail` stream (often kept in files) never carries it. Run inside
//! `scripts/with-keyring`.

mod common;
mod gk;
mod matrix;

use common::{koine, ok};
use gk::{Tail, is_online, is_type};

#[test]
fn the_recovery_key_is_shown_on_request_and_never_in_the_tail_stream() {
    let server = matrix::Synapse::start();
    let dir = tempfile::tempdir().expect("tmp");
    let pa = dir.path().join("alice");
    let _alice = server.account(&pa, "alice");
    let tail = Tail::start(&pa);
    tail.wait_for("Alice online", is_online);
    let raised = tail.wait_for("the recovery key prompt", |v| {
        is_type(v, "prompt_raised") && v["prompt"]["kind"]["kind"] == "save_recovery_key"
    });

    let listed = ok(koine(&pa, &["prompts", "list"], None), "prompts list");
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    let key = listed
        .lines()
        .find_map(|l| {
            l.split_once("then confirm: ")
                .map(|(_, k)| k.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("the key is listed: {listed}"));
    assert!(
        key.split_whitespace().count() >= 12,
        "a recovery key: {key}"
    );
    let line = raised.to_string();
    assert!(
        !line.contains(&key),
        "the tail stream carries the recovery key: {line}"
    );
    for word in key.split_whitespace() {
        assert!(!line.contains(word), "part of the key in the tail: {line}");
    }
    tail.stop();
}
