//! Route truth on Matrix with the real `koine` binary, a real Synapse and an
//! independent peer (matrix-nio): the first message of a new direct chat,
//! whose room and encryption that very send creates, is stored with the
//! Megolm route it took, and `koine routes check` says so. Checked from
//! outside: Synapse's database holds no copy of the text and the peer
//! decrypted it. Run inside `scripts/with-keyring` after
//! `source scripts/deps.d/matrix.sh`.

mod common;
mod matrix;

use common::{json_lines, koine, ok};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Runs the nio peer for `user`; its output lines arrive on the channel.
fn nio_peer(
    server: &matrix::Synapse,
    user: &str,
    store: &std::path::Path,
    expect: &str,
) -> (std::process::Child, mpsc::Receiver<String>) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/matrix/nio_dm_peer.py");
    let mut child = Command::new(matrix::venv_bin().join("python"))
        .arg(script)
        .args([&server.url(), user, matrix::PASSWORD])
        .arg(store)
        .arg(expect)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the nio peer");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

fn wait_line(rx: &mpsc::Receiver<String>, what: &str, pick: impl Fn(&str) -> bool) -> String {
    loop {
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(line) if pick(&line) => return line,
            Ok(line) => eprintln!("nio: {line}"),
            Err(e) => panic!("nio peer: no {what}: {e}"),
        }
    }
}

#[test]
fn the_first_message_of_a_new_encrypted_direct_chat_is_stored_with_the_megolm_route() {
    let server = matrix::Synapse::start();
    let dir = tempfile::tempdir().expect("tmp");
    let (pa, pb) = (dir.path().join("alice"), dir.path().join("bob"));
    let alice = server.account(&pa, "alice");
    let bob = server.account(&pb, "bob");
    let nio_store = dir.path().join("nio");
    std::fs::create_dir_all(&nio_store).expect("nio store");
    // A canary: if Synapse stored it in the clear, the search finds it.
    let canary = format!("route canary {}", std::process::id());
    let (mut nio, lines) = nio_peer(&server, &bob, &nio_store, &canary);
    wait_line(&lines, "READY", |l| l == "READY");

    // No room with Bob yet: this send creates the direct chat, encrypted.
    ok(koine(&pa, &["send", &alice, &bob, &canary], None), "send");

    let got = wait_line(&lines, "the message", |l| l.starts_with("GOT "));
    assert_eq!(
        got,
        format!("GOT {canary} ENCRYPTED"),
        "the peer decrypted it"
    );
    let _ = nio.wait();
    let db = server.database_bytes();
    assert!(
        db.windows(b"m.room.encrypted".len())
            .any(|w| w == b"m.room.encrypted"),
        "the search reads Synapse's events"
    );
    assert!(
        !db.windows(canary.len()).any(|w| w == canary.as_bytes()),
        "Synapse's database holds the plaintext"
    );

    // Stored with the route it took: Megolm, no longer provisional.
    let export: serde_json::Value =
        serde_json::from_slice(&ok(koine(&pa, &["export"], None), "export").stdout)
            .expect("export is JSON");
    let message = export["conversations"]
        .as_array()
        .expect("conversations")
        .iter()
        .flat_map(|c| c["messages"].as_array().cloned().unwrap_or_default())
        .find(|m| m["content"]["text"] == canary.as_str())
        .expect("the message is stored");
    assert_eq!(
        message["route"]["end_to_end"]["scheme"], "megolm",
        "stored route: {}",
        message["route"]
    );
    assert_ne!(message["route_provisional"], true);

    // The report shows one route for the chat: Megolm, taken once.
    let conversation = message["conversation"].as_i64().expect("conversation id");
    let report = json_lines(&ok(
        koine(
            &pa,
            &["routes", "check", &conversation.to_string(), "--json"],
            None,
        ),
        "routes check",
    ));
    assert_eq!(report.len(), 1, "{report:?}");
    assert_eq!(report[0]["end_to_end"], "megolm");
    assert_eq!(report[0]["protection"], "end-to-end-unverified");
    assert_eq!(report[0]["count"], 1);
    assert_eq!(report[0]["direction"], "outgoing");
    assert_eq!(report[0]["provisional"], false);
    let human = ok(
        koine(&pa, &["routes", "check", &conversation.to_string()], None),
        "routes check",
    );
    let human = String::from_utf8_lossy(&human.stdout);
    assert!(human.starts_with("outgoing\tmessages\t1\t"), "{human}");
    assert!(human.contains("megolm"), "{human}");
}
