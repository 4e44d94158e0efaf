//! The reference gatekeeper server in the test process, and `koine tail`
//! as a child process, for the CLI tests that go through it.

#![allow(dead_code)] // each test file uses its own part

use crate::common::koine;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const ALICE: &str = "koine:alice";
pub const BOB: &str = "+4915112345678";

pub struct Tail {
    pub child: Child,
    lines: mpsc::Receiver<String>,
}

impl Tail {
    pub fn start(profile: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_koine"))
            .arg("--profile")
            .arg(profile)
            .args(["tail", "--json"])
            .env_remove("KOINE_HOME")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn tail");
        let out = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// The first line for which `pick` says yes.
    pub fn wait_for(
        &self,
        what: &str,
        mut pick: impl FnMut(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                && pick(&v)
            {
                return v;
            }
        }
    }

    /// Every line printed since the last call that was not consumed by
    /// [`Tail::wait_for`], without waiting.
    pub fn lines_so_far(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }

    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Tail {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn contains_text(v: &serde_json::Value, needle: &str) -> bool {
    match v {
        serde_json::Value::String(s) => s.contains(needle),
        serde_json::Value::Array(a) => a.iter().any(|x| contains_text(x, needle)),
        serde_json::Value::Object(o) => o.values().any(|x| contains_text(x, needle)),
        _ => false,
    }
}

/// The files of the message in a `message_stored` line, as `koine
/// attachment` saves them from their sealed copies in `profile`; checks
/// that each was sealed (no received file lies in the profile as it is).
pub fn saved_files(profile: &Path, v: &serde_json::Value, out_dir: &Path) -> Vec<Vec<u8>> {
    let m = &v["message"];
    let id = m["id"].as_i64().expect("a message id");
    let attachments = m["content"]["attachments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut files = Vec::new();
    for (i, a) in attachments.iter().enumerate() {
        assert_eq!(
            a["source"]["kind"], "sealed",
            "received files are sealed: {a}"
        );
        let out = out_dir.join(format!("saved-{id}-{i}"));
        let done = koine(
            profile,
            &[
                "attachment",
                &id.to_string(),
                out.to_str().expect("path"),
                "--index",
                &i.to_string(),
            ],
            None,
        );
        assert!(
            done.status.success(),
            "koine attachment: {}",
            String::from_utf8_lossy(&done.stderr)
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&out).expect("saved").permissions().mode();
            assert_eq!(mode & 0o077, 0, "a saved file is the user's alone");
        }
        files.push(std::fs::read(&out).expect("saved file"));
    }
    files
}

/// Every file or folder under `dir` (itself included) that another user
/// could read or enter.
#[cfg(unix)]
pub fn not_private(dir: &Path) -> Vec<(std::path::PathBuf, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut found = Vec::new();
    let Ok(meta) = std::fs::symlink_metadata(dir) else {
        return found;
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        found.push((dir.to_path_buf(), mode));
    }
    if meta.is_dir() {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            found.extend(not_private(&entry.path()));
        }
    }
    found
}

/// Every file under `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if std::fs::read(&path)
            .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
        {
            found.push(path);
        }
    }
    found
}

pub fn start_server(
    db: std::path::PathBuf,
    ack_delay: Duration,
) -> koine_gatekeeper::server::Ready {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let config = koine_gatekeeper::server::Config {
            ack_delay,
            ..koine_gatekeeper::server::Config::loopback(db)
        };
        let _ = rt.block_on(koine_gatekeeper::server::run(config, |r| {
            let _ = tx.send(r.clone());
        }));
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("server ready")
}

/// The reference server on loopback with Alice (a third-party user) and
/// Bob (a gatekeeper user who opted in to Koine), each with an account in
/// a profile of their own under `dir`: the server's database (to look into
/// its queues), and the two profiles.
pub fn alice_and_bob(
    dir: &Path,
    ack_delay: Duration,
) -> (
    koine_gatekeeper::server::db::Db,
    std::path::PathBuf,
    std::path::PathBuf,
) {
    use koine_gatekeeper::server::db::Db;
    use koine_gatekeeper::wire::Peer;
    use koine_gatekeeper::wire::stanza::Folder;
    let db_path = dir.join("gatekeeper.sqlite");
    let ready = start_server(db_path.clone(), ack_delay);
    let db = Db::open(&db_path).expect("db");
    let (alice, bob) = (Peer::parse(ALICE).expect("a"), Peer::parse(BOB).expect("b"));
    db.add_user(&alice, "pw-a").expect("alice");
    db.add_user(&bob, "pw-b").expect("bob");
    db.set_optin(&bob, "koine", Folder::Separate, true)
        .expect("opt-in");
    let (pa, pb) = (dir.join("profile-a"), dir.join("profile-b"));
    add_account(&pa, ALICE, "pw-a", &ready);
    add_account(&pb, BOB, "pw-b", &ready);
    (db, pa, pb)
}

pub fn add_account(
    profile: &Path,
    user: &str,
    password: &str,
    r: &koine_gatekeeper::server::Ready,
) {
    let sets = [
        format!("user={user}"),
        format!("endpoint={}", r.noise),
        format!("server_key={}", r.server_key),
        format!("gatekeeper_http={}", r.gatekeeper_http),
        format!("provider_url={}", r.provider_http),
        "server_name=gatekeeper.test".to_owned(),
    ];
    let mut args = vec!["account", "add", "gatekeeper", user, "--password-stdin"];
    for s in &sets {
        args.push("--set");
        args.push(s);
    }
    let out = koine(profile, &args, Some(&format!("{password}\n")));
    assert!(
        out.status.success(),
        "account add: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn is_type(v: &serde_json::Value, t: &str) -> bool {
    v.get("type").and_then(|x| x.as_str()) == Some(t)
}

pub fn is_online(v: &serde_json::Value) -> bool {
    contains_text(v, "online") || contains_text(v, "Online")
}
