//! Messages per second through the reference server for a burst of 10,000
//! messages: encrypt (Signal), send (Noise), store and forward (SQLite),
//! receive, decrypt, store (the E2EE module's sealed SQLite store), ack.
//!
//! `cargo bench -p koine-gatekeeper --bench throughput` (the release profile)
//! or `--profile dev` for a quick figure. Uses an in-memory secret store so
//! it runs without a keyring; everything else is the real stack.

use koine_api::{
    AccountId, Command, Content, ConversationKey, Event, EventSink, LocalId, Protocol, Secret,
    SecretError, SecretStore, SessionContext, Settings,
};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command as Proc, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_koine-gatekeeper-server");
const N: usize = 10_000;

#[derive(Default)]
struct MemorySecrets(Mutex<HashMap<String, String>>);

impl SecretStore for MemorySecrets {
    fn get(&self, name: &str) -> Result<Option<Secret>, SecretError> {
        let m = self.0.lock().map_err(|_| SecretError::Locked)?;
        Ok(m.get(name).map(|v| Secret::new(v.clone())))
    }
    fn set(&self, name: &str, value: &Secret) -> Result<(), SecretError> {
        let mut m = self.0.lock().map_err(|_| SecretError::Locked)?;
        m.insert(name.into(), value.expose().into());
        Ok(())
    }
    fn delete(&self, name: &str) -> Result<(), SecretError> {
        let mut m = self.0.lock().map_err(|_| SecretError::Locked)?;
        m.remove(name);
        Ok(())
    }
}

fn admin(db: &std::path::Path, args: &[&str]) {
    let ok = Proc::new(BIN)
        .arg("--db")
        .arg(db)
        .args(args)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "admin {args:?}");
}

fn session(
    ready: &serde_json::Value,
    user: &str,
    password: &str,
    dir: &std::path::Path,
) -> (tokio::sync::mpsc::Sender<Command>, koine_api::EventReceiver) {
    let mut s = Settings::default();
    let get = |k: &str| ready[k].as_str().unwrap_or_default().to_owned();
    s.set("user", user);
    s.set("endpoint", get("noise"));
    s.set("server_key", get("server_key"));
    s.set("gatekeeper_http", get("gatekeeper_http"));
    s.set("provider_url", get("provider_http"));
    std::fs::create_dir_all(dir).expect("dir");
    let (tx, rx) = tokio::sync::mpsc::channel(1024);
    let (sink, events) = EventSink::channel(4096);
    let cx = SessionContext {
        account: AccountId::new(user),
        settings: s,
        secret: Some(Secret::new(password)),
        secrets: Arc::new(MemorySecrets::default()),
        data_dir: dir.to_path_buf(),
        commands: rx,
        events: sink,
    };
    tokio::spawn(koine_gatekeeper::GatekeeperProtocol.run(cx));
    (tx, events)
}

async fn until(rx: &mut koine_api::EventReceiver, mut f: impl FnMut(&Event) -> bool) {
    while let Some(e) = rx.recv().await {
        if f(&e) {
            return;
        }
    }
    panic!("session ended");
}

fn send(to: &str, text: String, id: String) -> Command {
    Command::SendMessage {
        local_id: LocalId::new(id),
        conversation: ConversationKey::new(to),
        content: Content::text(text),
        reply_to: None,
    }
}

fn main() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("bench.sqlite");
    admin(&db, &["add-user", "koine:alice", "a"]);
    admin(&db, &["add-user", "+4915112345678", "b"]);
    admin(&db, &["opt-in", "+4915112345678", "koine"]);
    let mut child = Proc::new(BIN)
        .arg("--db")
        .arg(&db)
        .args(["serve", "--rate", "1000000", "--burst", "1000000"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("ready");
    let ready: serde_json::Value = serde_json::from_str(&line).expect("ready json");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (a_tx, mut a_rx) = session(&ready, "koine:alice", "a", &dir.path().join("a"));
        let (b_tx, mut b_rx) = session(&ready, "+4915112345678", "b", &dir.path().join("b"));
        let online = |e: &Event| matches!(e, Event::ConnectionChanged(koine_api::ConnectionState::Online { .. }));
        until(&mut a_rx, online).await;
        until(&mut b_rx, online).await;
        // Warm-up: establish the Signal session.
        a_tx.send(send("+4915112345678", "warm-up".into(), "warm".into())).await.expect("send");
        until(&mut b_rx, |e| matches!(e, Event::MessageReceived(_))).await;

        let start = Instant::now();
        let sender = tokio::spawn(async move {
            for i in 0..N {
                a_tx.send(send("+4915112345678", format!("message number {i}"), format!("bench-{i}")))
                    .await
                    .expect("send");
            }
            a_tx
        });
        let acks = tokio::spawn(async move {
            let mut n = 0;
            while n < N {
                match a_rx.recv().await {
                    Some(Event::SendAcked { .. }) => n += 1,
                    Some(Event::SendFailed { error, .. }) => panic!("send failed: {error}"),
                    Some(_) => {}
                    None => panic!("sender session ended"),
                }
            }
            start.elapsed()
        });
        let mut received = 0;
        while received < N {
            match tokio::time::timeout(Duration::from_secs(120), b_rx.recv()).await {
                Ok(Some(Event::MessageReceived(_))) => received += 1,
                Ok(Some(_)) => {}
                Ok(None) => panic!("recipient session ended"),
                Err(_) => panic!("stalled after {received} messages"),
            }
        }
        let all = start.elapsed();
        let acked = acks.await.expect("acks");
        drop(sender.await.expect("sender"));
        drop(b_tx);
        println!(
            "gatekeeper throughput: {N} messages sent, acknowledged, received and decrypted in {:.2} s = {:.0} messages/s (all acks after {:.2} s)",
            all.as_secs_f64(),
            N as f64 / all.as_secs_f64(),
            acked.as_secs_f64()
        );
    });
    let _ = child.kill();
    let _ = child.wait();
}
