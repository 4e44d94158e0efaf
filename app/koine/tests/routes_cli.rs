//! `koine routes check` without a network: a message queued while its
//! server is down is reported as taken by a provisional route, and an
//! unknown conversation is a one-line error. Run inside
//! `scripts/with-keyring`.

mod common;

use common::{json_lines, koine, ok};

#[test]
fn a_queued_message_is_on_a_provisional_route_and_unknown_chats_are_an_error() {
    let dir = tempfile::tempdir().expect("tmp");
    // A port nobody listens on: bind, read the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    ok(
        koine(
            dir.path(),
            &[
                "account",
                "add",
                "xmpp",
                "me@koine.test",
                "--set",
                "jid=me@koine.test",
                "--set",
                "server_host=127.0.0.1",
                "--set",
                &format!("server_port={port}"),
                "--password-stdin",
            ],
            Some("not used\n"),
        ),
        "account",
    );
    let out = koine(
        dir.path(),
        &[
            "send",
            "me@koine.test",
            "friend@koine.test",
            "later",
            "--wait",
            "2",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(3), "queued");

    let report = json_lines(&ok(
        koine(
            dir.path(),
            &["routes", "check", "friend@koine.test", "--json"],
            None,
        ),
        "routes check",
    ));
    assert_eq!(report.len(), 1, "{report:?}");
    assert_eq!(report[0]["direction"], "outgoing");
    assert_eq!(report[0]["subject"], "message");
    assert_eq!(report[0]["count"], 1);
    assert_eq!(report[0]["provisional"], true);
    assert!(report[0]["route"].is_null(), "no route known yet");
    let human = ok(
        koine(dir.path(), &["routes", "check", "friend@koine.test"], None),
        "routes check",
    );
    let human = String::from_utf8_lossy(&human.stdout);
    assert!(human.contains("(provisional: not sent yet)"), "{human}");

    let out = koine(dir.path(), &["routes", "check", "999"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no conversation"), "{err}");
}
