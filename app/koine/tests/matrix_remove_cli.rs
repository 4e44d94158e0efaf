//! Removing a Matrix account with the real `koine` binary and a real Synapse
//! on loopback: the command says whether the homeserver ended the login, and
//! removal still succeeds, with a warning, when the homeserver is down. Run
//! inside `scripts/with-keyring`.

mod common;
mod gk;
mod matrix;

use common::{koine, ok};
use gk::{Tail, is_online};

fn online_once(profile: &std::path::Path) {
    let tail = Tail::start(profile);
    tail.wait_for("online", is_online);
    tail.stop();
}

#[test]
fn removing_an_account_says_whether_the_server_ended_the_login() {
    let server = matrix::Synapse::start();
    let dir = tempfile::tempdir().expect("tmp");
    let (pa, pb) = (dir.path().join("alice"), dir.path().join("bob"));
    let alice = server.account(&pa, "alice");
    let bob = server.account(&pb, "bob");
    online_once(&pa);
    online_once(&pb);

    let out = ok(
        koine(&pa, &["account", "remove", &alice], None),
        "remove alice",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("removed "), "{stdout}");
    assert!(
        stdout.contains("the server ended this login"),
        "the homeserver was told: {stdout}"
    );

    drop(server);
    let out = ok(
        koine(&pb, &["account", "remove", &bob], None),
        "remove bob with the homeserver down",
    );
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(stdout.contains("removed "), "{stdout}");
    assert!(
        stderr.contains("the server could not be told"),
        "the user is warned: {stderr}"
    );
    let listed = ok(koine(&pb, &["account", "list"], None), "list");
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(!listed.contains(&bob), "gone from the profile: {listed}");
}
