//! The headless commands, run as the real binary against throwaway profiles.
//! Run inside `scripts/with-keyring` (the real Secret Service).

mod common;

use common::koine;
use std::path::Path;
use std::process::Command;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn version_and_help_exit_zero() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = koine(dir.path(), &["--version"], None);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout).trim(),
        format!("koine {}", env!("CARGO_PKG_VERSION"))
    );
    for sub in [
        &["--help"][..],
        &["account", "--help"],
        &["send", "--help"],
        &["tail", "--help"],
        &["search", "--help"],
        &["export", "--help"],
    ] {
        let out = koine(dir.path(), sub, None);
        assert!(out.status.success(), "{sub:?}");
        assert!(text(&out.stdout).contains("Usage"), "{sub:?}");
    }
}

#[test]
fn without_a_display_the_window_says_so_in_one_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_koine"))
        .arg("--profile")
        .arg(dir.path())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("WAYLAND_SOCKET")
        .output()
        .expect("run koine");
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("koine: error: no display"), "{err}");
}

#[test]
fn errors_are_one_line_and_non_zero() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = koine(
        dir.path(),
        &["account", "add", "carrier-pigeon", "me", "--password-stdin"],
        Some("x\n"),
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("koine: error: unknown network"), "{err}");
    let out = koine(dir.path(), &["send", "nobody", "a@b.c", "hi"], None);
    assert!(!out.status.success());
    assert!(text(&out.stderr).starts_with("koine: error: no account matches"));
    let out = koine(
        dir.path(),
        &[
            "account",
            "add",
            "xmpp",
            "me",
            "--set",
            "novalue",
            "--password-stdin",
        ],
        Some("x\n"),
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("KEY=VALUE"));
}

/// A Matrix account can be added without a password (it signs in through
/// the server's web page); an XMPP account cannot.
#[test]
fn no_password_only_where_the_network_can_sign_in_without_one() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = koine(
        dir.path(),
        &[
            "account",
            "add",
            "xmpp",
            "me@koine.test",
            "--set",
            "jid=me@koine.test",
            "--no-password",
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).starts_with("koine: error: this network needs a password"));
    let out = koine(
        dir.path(),
        &[
            "account",
            "add",
            "matrix",
            "@me:koine.test",
            "--set",
            "user_id=@me:koine.test",
            "--set",
            "homeserver=http://127.0.0.1:9",
            "--no-password",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed = koine(dir.path(), &["account", "list"], None);
    assert!(text(&listed.stdout).contains("@me:koine.test"));

    // A setting changes afterwards (the explicit "start over" choice, say);
    // a secret never goes into the settings.
    let set = koine(
        dir.path(),
        &[
            "account",
            "set",
            "@me:koine.test",
            "--set",
            "e2ee_start_over=store-1",
        ],
        None,
    );
    assert!(set.status.success(), "{}", text(&set.stderr));
    let listed = koine(dir.path(), &["account", "list", "--json"], None);
    assert!(
        text(&listed.stdout).contains("\"e2ee_start_over\":\"store-1\""),
        "{}",
        text(&listed.stdout)
    );
    let secret = koine(
        dir.path(),
        &[
            "account",
            "set",
            "@me:koine.test",
            "--set",
            "password=hunter2",
        ],
        None,
    );
    assert!(!secret.status.success());
    assert!(
        text(&secret.stderr).contains("is a secret"),
        "{}",
        text(&secret.stderr)
    );
}

/// An account whose server is unreachable: the message is queued in the
/// outbox (exit code 3), listed, searchable, exported; the password is in the
/// keyring and nowhere in the profile or its logs.
#[test]
fn offline_send_is_queued_and_the_password_stays_in_the_keyring() {
    let dir = tempfile::tempdir().expect("tmp");
    // A port nobody listens on: bind, read the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let password = format!("pw-{}-never-on-disk", std::process::id());
    let out = koine(
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
        Some(&format!("{password}\n")),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let account = text(&out.stdout).trim().to_owned();
    assert!(account.starts_with("acct-"));

    let out = koine(
        dir.path(),
        &[
            "send",
            "me@koine.test",
            "friend@koine.test",
            "queued while the server is down",
            "--wait",
            "3",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("\"state\":\"queued\""));

    let out = koine(dir.path(), &["conversations"], None);
    assert!(text(&out.stdout).contains("friend@koine.test"));
    let out = koine(dir.path(), &["search", "--json", "server down"], None);
    assert!(text(&out.stdout).contains("queued while the server is down"));
    let out = koine(dir.path(), &["export"], None);
    let export: serde_json::Value = serde_json::from_slice(&out.stdout).expect("export is JSON");
    assert_eq!(export["conversations"][0]["messages"][0]["state"], "queued");

    // The password: in the keyring (secret-tool sees it)...
    let found = Command::new("secret-tool")
        .args([
            "lookup",
            "service",
            "im.koine.Koine",
            "username",
            &format!("{account}/password"),
        ])
        .output();
    if let Ok(found) = found
        && found.status.success()
    {
        assert_eq!(text(&found.stdout).trim(), password);
    }
    // ...and in no file of the profile, logs included.
    let logs = dir.path().join("logs").join("koine.log");
    assert!(logs.exists(), "the log file exists");
    let hits = files_containing(dir.path(), password.as_bytes());
    assert!(hits.is_empty(), "password found in {hits:?}");

    let out = koine(dir.path(), &["account", "remove", &account], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = koine(dir.path(), &["account", "list"], None);
    assert!(text(&out.stdout).trim().is_empty());
}

fn files_containing(dir: &Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("read dir") {
                stack.push(entry.expect("entry").path());
            }
        } else if std::fs::read(&path).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle)) {
            hits.push(path);
        }
    }
    hits
}

/// The profile's history key entry in the keyring.
fn history_key_entry(profile: &Path) -> String {
    let id = std::fs::read_to_string(profile.join("database.id")).expect("the profile's id");
    format!("profile-{}/database-key", id.trim())
}

#[test]
fn a_history_whose_key_is_gone_is_refused_with_the_reason_and_left_as_it_was() {
    let dir = tempfile::tempdir().expect("tmp");
    let profile = dir.path();
    let out = koine(profile, &["account", "list"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let db = profile.join("koine.sqlite3");
    let before = std::fs::read(&db).expect("the history");
    assert!(
        !before.starts_with(b"SQLite format 3"),
        "encrypted from the start"
    );
    let cleared = Command::new("secret-tool")
        .args(["clear", "service", "im.koine.Koine", "username"])
        .arg(history_key_entry(profile))
        .status()
        .expect("secret-tool");
    assert!(cleared.success());
    for (lang, says) in [
        ("en", "its key is no longer in the system keyring"),
        ("fr", "sa clé n’est plus dans le trousseau du système"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_koine"))
            .arg("--profile")
            .arg(profile)
            .args(["account", "list"])
            .env_remove("KOINE_HOME")
            .env("KOINE_LANG", lang)
            .output()
            .expect("run koine");
        assert!(!out.status.success(), "{lang}: refused");
        assert!(
            text(&out.stderr).contains(says),
            "{lang}: {}",
            text(&out.stderr)
        );
        assert_eq!(
            text(&out.stderr).lines().count(),
            1,
            "{}",
            text(&out.stderr)
        );
    }
    assert_eq!(
        std::fs::read(&db).expect("the history"),
        before,
        "left as it was"
    );
}

#[test]
fn a_profile_of_the_previous_version_is_encrypted_on_its_first_start() {
    let dir = tempfile::tempdir().expect("tmp");
    let profile = dir.path();
    // Written by Koine before it encrypted: "plaintextcanary<a>x<n> from
    // before encryption", three messages on XMPP and three on Matrix.
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../core/fixtures/plaintext-profile-v3.sqlite3"
        ),
        profile.join("koine.sqlite3"),
    )
    .expect("the fixture");
    let out = koine(profile, &["search", "plaintextcanary1x2"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("plaintextcanary1x2"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("history: 100%"),
        "{}",
        text(&out.stderr)
    );
    for entry in std::fs::read_dir(profile).expect("list").flatten() {
        if entry.path().is_file() {
            let bytes = std::fs::read(entry.path()).expect("read");
            assert!(
                !bytes.windows(15).any(|w| w == b"plaintextcanary"),
                "{} holds plaintext",
                entry.path().display()
            );
        }
    }
    let again = koine(profile, &["search", "plaintextcanary0x0"], None);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stderr).is_empty(),
        "encrypted once: {}",
        text(&again.stderr)
    );
}
