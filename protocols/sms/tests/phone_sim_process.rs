//! The `koine-phone-sim` binary as a real process: the plugin pairs through
//! a pre-shared trust, receives an injected SMS, and texts the second
//! simulated phone across the simulated carrier.

use koine_api::{
    Address, Command, Content, ConversationKey, Event, LocalId, PhoneNumber, Protocol, Secret,
    Settings,
};
use koine_conformance::{RunningSession, TestAccount};
use koine_sms::SmsRelay;
use koine_sms::kdeconnect::tls::LocalIdentity;
use serde_json::{Value, json};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command as Process};

struct Sim {
    _child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl Sim {
    async fn line(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(20), self.stdout.next_line())
            .await
            .expect("the simulator answers")
            .expect("read")
            .expect("a line");
        serde_json::from_str(&line).expect("JSON from the simulator")
    }

    async fn command(&mut self, v: Value) -> Value {
        let mut line = v.to_string();
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).await.expect("write");
        self.stdin.flush().await.expect("flush");
        self.line().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_binary_speaks_kde_connect() {
    let state = tempfile::tempdir().expect("tmp");
    let mut child = Process::new(env!("CARGO_BIN_EXE_koine-phone-sim"))
        .args([
            "--phone",
            "+33612345601",
            "--phone",
            "06 12 34 56 02",
            "--listen",
            "127.0.0.1:0",
        ])
        .arg("--state-dir")
        .arg(state.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the simulator");
    let stdin = child.stdin.take().expect("stdin");
    let stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut sim = Sim {
        _child: child,
        stdin,
        stdout,
    };
    let a = sim.line().await;
    let b = sim.line().await;
    assert_eq!(sim.line().await, json!({"ready": true}));
    assert_eq!(a["number"], "+33612345601");
    assert_eq!(
        b["number"], "+33612345602",
        "national numbers are normalised"
    );

    let desktop = LocalIdentity::generate("desk_process").expect("id");
    let trusted = sim
        .command(
            json!({"trust": {"phone": "+33612345601", "device_id": "desk_process",
            "fingerprint": desktop.fingerprint().expect("fp")}}),
        )
        .await;
    assert_eq!(trusted, json!({"trusted": true}));

    let mut settings = Settings::default();
    settings.set("backend", "kdeconnect");
    settings.set("phone_address", a["addr"].as_str().expect("addr"));
    settings.set("phone_device_id", a["device_id"].as_str().expect("id"));
    settings.set("phone_fingerprint", a["fingerprint"].as_str().expect("fp"));
    settings.set("region", "FR");
    let account = TestAccount {
        settings,
        secret: Some(Secret::new(serde_json::to_string(&desktop).expect("json"))),
        address: Address::Phone(PhoneNumber::parse("+33612345601").expect("n")),
    };
    let plugin: Arc<dyn Protocol> = Arc::new(SmsRelay::new("FR"));
    let dirs = tempfile::tempdir().expect("tmp");
    let mut s = RunningSession::start(
        &plugin,
        &account,
        &dirs.path().join("proc"),
        Duration::from_secs(20),
    )
    .expect("session");
    let link = s.online().await.expect("online");
    assert_eq!(link.host, "Koine test phone");

    let injected = sim
        .command(json!({"inject_sms": {"phone": "+33612345601", "from": "06 98 76 54 32", "body": "from the process"}}))
        .await;
    assert!(injected["injected"].is_i64());
    let m = s
        .wait_for("the injected SMS", |e| match e {
            Event::MessageReceived(m) if m.content.text == "from the process" => Some(m.clone()),
            _ => None,
        })
        .await
        .expect("received");
    assert_eq!(m.conversation.as_str(), "+33698765432");

    s.command(Command::SendMessage {
        local_id: LocalId::new("proc-1"),
        conversation: ConversationKey::new("+33612345602"),
        content: Content::text("across the carrier"),
        reply_to: None,
    })
    .await
    .expect("cmd");
    s.wait_for("ack", |e| match e {
        Event::SendAcked { local_id, .. } if local_id.as_str() == "proc-1" => Some(()),
        _ => None,
    })
    .await
    .expect("ack");
    let dump = sim
        .command(json!({"dump": {"phone": "+33612345602"}}))
        .await;
    let got = dump["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .find(|m| m["body"] == "across the carrier")
        .cloned()
        .expect("the second phone received it");
    assert_eq!(got["type"], 1, "an incoming message on the second phone");
    assert_eq!(got["addresses"][0]["address"], "+33612345601");
    // The simulator kept its identity and pairing on disk.
    assert!(state.path().join("phone-33612345601.json").exists());
}
