//! Two Koine profiles talk through the reference gatekeeper server with the
//! headless CLI, both directions: text, an image and a file; the delivery
//! receipt comes back. The server runs in this test process on loopback
//! (the gatekeeper crate's `server::run`); the clients are the real `koine`
//! binary. Run inside `scripts/with-keyring`.

mod common;

use common::koine;
use koine_gatekeeper::server::db::Db;
use koine_gatekeeper::wire::Peer;
use koine_gatekeeper::wire::stanza::Folder;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const ALICE: &str = "koine:alice";
const BOB: &str = "+4915112345678";

struct Tail {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Tail {
    fn start(profile: &Path) -> Self {
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
    fn wait_for(
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

    fn stop(mut self) {
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

fn contains_text(v: &serde_json::Value, needle: &str) -> bool {
    match v {
        serde_json::Value::String(s) => s.contains(needle),
        serde_json::Value::Array(a) => a.iter().any(|x| contains_text(x, needle)),
        serde_json::Value::Object(o) => o.values().any(|x| contains_text(x, needle)),
        _ => false,
    }
}

fn local_paths(v: &serde_json::Value, out: &mut Vec<String>) {
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

fn start_server(db: std::path::PathBuf) -> koine_gatekeeper::server::Ready {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let config = koine_gatekeeper::server::Config {
            db,
            noise: "127.0.0.1:0".parse().expect("addr"),
            gatekeeper_http: "127.0.0.1:0".parse().expect("addr"),
            provider_http: "127.0.0.1:0".parse().expect("addr"),
            rate: 20.0,
            burst: 200.0,
        };
        let _ = rt.block_on(koine_gatekeeper::server::run(config, |r| {
            let _ = tx.send(r.clone());
        }));
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("server ready")
}

fn add_account(profile: &Path, user: &str, password: &str, r: &koine_gatekeeper::server::Ready) {
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

fn is_type(v: &serde_json::Value, t: &str) -> bool {
    v.get("type").and_then(|x| x.as_str()) == Some(t)
}

fn is_online(v: &serde_json::Value) -> bool {
    contains_text(v, "online") || contains_text(v, "Online")
}

#[test]
fn two_profiles_exchange_text_image_and_file_through_the_reference_server() {
    let dir = tempfile::tempdir().expect("tmp");
    let db_path = dir.path().join("gatekeeper.sqlite");
    let ready = start_server(db_path.clone());
    let db = Db::open(&db_path).expect("db");
    let (alice, bob) = (Peer::parse(ALICE).expect("a"), Peer::parse(BOB).expect("b"));
    db.add_user(&alice, "pw-a").expect("alice");
    db.add_user(&bob, "pw-b").expect("bob");
    db.set_optin(&bob, "koine", Folder::Separate, true)
        .expect("opt-in");

    let (pa, pb) = (dir.path().join("profile-a"), dir.path().join("profile-b"));
    add_account(&pa, ALICE, "pw-a", &ready);
    add_account(&pb, BOB, "pw-b", &ready);
    let image: Vec<u8> = (0..40_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let file = b"%PDF-1.4 a small report\n".repeat(200);
    let (image_path, file_path) = (dir.path().join("photo.png"), dir.path().join("report.pdf"));
    std::fs::write(&image_path, &image).expect("image");
    std::fs::write(&file_path, &file).expect("file");

    // Bob comes online once (publishing his keys), Alice writes.
    let tail_b = Tail::start(&pb);
    tail_b.wait_for("Bob online", is_online);
    let text_ab = format!("hello bob {}", std::process::id());
    let out = koine(
        &pa,
        &[
            "send",
            ALICE,
            BOB,
            &text_ab,
            "--attach",
            image_path.to_str().expect("path"),
            "--attach",
            file_path.to_str().expect("path"),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "send A→B: {} {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let got = tail_b.wait_for("Alice's message at Bob", |v| {
        is_type(v, "message_stored") && contains_text(v, &text_ab)
    });
    let mut paths = Vec::new();
    local_paths(&got, &mut paths);
    let contents: Vec<Vec<u8>> = paths.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    assert!(
        contents.contains(&image),
        "the image arrived intact: {paths:?} in {got}"
    );
    assert!(
        contents.contains(&file),
        "the file arrived intact: {paths:?}"
    );
    tail_b.stop();

    // Bob answers with a file; Alice sees it, and the receipt of hers.
    let text_ba = format!("hello alice {}", std::process::id());
    let out = koine(
        &pb,
        &[
            "send",
            BOB,
            ALICE,
            &text_ba,
            "--attach",
            file_path.to_str().expect("path"),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "send B→A: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tail_a = Tail::start(&pa);
    let mut message = None;
    let mut delivered = false;
    tail_a.wait_for("Bob's message and the receipt of Alice's", |v| {
        if is_type(v, "message_stored") && contains_text(v, &text_ba) && message.is_none() {
            message = Some(v.clone());
        }
        if is_type(v, "message_updated")
            && contains_text(v, &text_ab)
            && contains_text(v, "delivered")
        {
            delivered = true;
        }
        message.is_some() && delivered
    });
    let got = message.expect("message");
    let mut paths = Vec::new();
    local_paths(&got, &mut paths);
    assert!(
        paths
            .iter()
            .any(|p| std::fs::read(p).ok().as_deref() == Some(file.as_slice())),
        "the file arrived intact: {paths:?}"
    );
    tail_a.stop();
}
