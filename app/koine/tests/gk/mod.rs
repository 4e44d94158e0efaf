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

pub fn local_paths(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(o) => {
            if o.get("kind").and_then(|k| k.as_str()) == Some("local_path")
                && let Some(p) = o.get("value").and_then(|p| p.as_str())
            {
                out.push(p.to_owned());
            }
            o.values().for_each(|x| local_paths(x, out));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| local_paths(x, out)),
        _ => {}
    }
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
