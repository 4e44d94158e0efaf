//! The KDE Connect backend against KDE's own daemon, `kdeconnectd` (Debian's
//! `kdeconnect` package, 22.12, protocol 7), not the simulated phone: a peer
//! the project did not write.
//!
//! The daemon listens on the fixed port 1716, so the test runs it in a
//! network namespace of its own with only `lo`: the test binary starts
//! itself again inside `unshare -n` (with its own private D-Bus session and
//! keyring, `scripts/with-keyring`), and that second run talks to the daemon
//! over D-Bus with `gdbus`. Koine connects by TCP to 127.0.0.1:1716: the
//! daemon's UDP discovery ignores senders in 127.0.0.0/8, and Koine connects
//! by address anyway.
//!
//! Checked: pairing asked by Koine and accepted on the daemon
//! (`acceptPairing`), pairing asked by the daemon (`requestPair`) and
//! accepted in Koine, the key Koine shows equals what the daemon's
//! `verificationKey()` method returns both times, the pinned pairing works after the
//! daemon restarts, and the daemon's ping reaches a link that declares the
//! ping capability (and is not offered to one that does not).

use koine_api::{Address, Command, Event, PromptAnswer, PromptKind, Protocol, Secret, Settings};
use koine_conformance::{RunningSession, TestAccount};
use koine_sms::SmsRelay;
use koine_sms::kdeconnect::identity::Identity;
use koine_sms::kdeconnect::link;
use koine_sms::kdeconnect::tls::{LocalIdentity, fingerprint};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::process::{Child, Command as Process};

const INNER: &str = "KOINE_KDECONNECTD_INNER";
const DAEMON: &str = "/usr/lib/x86_64-linux-gnu/libexec/kdeconnectd";
const SERVICE: &str = "org.kde.kdeconnect";
const DEVICE: &str = "org.kde.kdeconnect.device";
const TIMEOUT: Duration = Duration::from_secs(20);

/// Why the test cannot run here, when it cannot: only off Linux, or where
/// no network namespace can be made.
fn cannot_run() -> Option<String> {
    if !cfg!(target_os = "linux") {
        return Some("kdeconnectd and network namespaces are Linux only".into());
    }
    match std::process::Command::new("unshare")
        .args(["-n", "true"])
        .output()
    {
        Ok(o) if o.status.success() => None,
        Ok(o) => Some(format!(
            "cannot create a network namespace (unshare -n: {})",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Some(format!("cannot create a network namespace (unshare: {e})")),
    }
}

fn daemon_path() -> PathBuf {
    std::env::var_os("KOINE_KDECONNECTD")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DAEMON))
}

/// Runs `name` again inside a new network namespace and a private D-Bus
/// session; fails with its output if it fails there.
fn run_inside(name: &str) {
    if let Some(reason) = cannot_run() {
        println!("SKIPPED {name}: {reason}");
        return;
    }
    assert!(
        daemon_path().exists(),
        "{} is missing: install Debian's kdeconnect package (scripts/deps.d/sms.sh does)",
        daemon_path().display()
    );
    let exe = std::env::current_exe().expect("test binary");
    let with_keyring = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/with-keyring");
    let out = std::process::Command::new("unshare")
        .arg("-n")
        .arg("--")
        .arg(with_keyring)
        .arg(exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(INNER, "1")
        .output()
        .expect("unshare");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // What the run inside saw (the keys, the route), shown with --nocapture.
    println!("{stderr}");
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "inside the namespace {name} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
}

/// KDE's daemon, headless, with its configuration in `home`.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    async fn start(home: &Path) -> Self {
        let log = home.join("kdeconnectd.log");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log");
        let child = Process::new(daemon_path())
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("QT_QPA_PLATFORM", "offscreen")
            .stdout(file.try_clone().expect("log"))
            .stderr(file)
            .kill_on_drop(true)
            .spawn()
            .expect("kdeconnectd");
        let daemon = Self { child, log };
        // Ready once it answers on the bus and listens on its port.
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        loop {
            // Asked without calling the daemon itself: a call would make
            // the bus start another one (the package's D-Bus activation).
            let on_bus = Process::new("gdbus")
                .args([
                    "call",
                    "--session",
                    "--dest",
                    "org.freedesktop.DBus",
                    "--object-path",
                    "/org/freedesktop/DBus",
                    "--method",
                    "org.freedesktop.DBus.NameHasOwner",
                    SERVICE,
                ])
                .output()
                .await
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("true"));
            if on_bus
                && tokio::net::TcpStream::connect("127.0.0.1:1716")
                    .await
                    .is_ok()
            {
                return daemon;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "kdeconnectd did not come up; its log:\n{}",
                daemon.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- kdeconnectd's log\n{}", self.log_text());
        }
    }
}

/// Calls a D-Bus method of the daemon: `args` are the object path, the
/// method (interface.name) and its arguments in GVariant text.
async fn gdbus(args: &[&str]) -> Result<String, String> {
    let (path, rest) = args.split_first().ok_or("no object path")?;
    let (method, params) = rest.split_first().ok_or("no method")?;
    let out = Process::new("gdbus")
        .args(["call", "--session", "--dest", SERVICE, "--object-path"])
        .arg(path)
        .arg("--method")
        .arg(method)
        .args(params)
        .output()
        .await
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

fn device_path(id: &str) -> String {
    format!("/modules/kdeconnect/devices/{id}")
}

/// A property of the daemon's record of device `id`, as GVariant text.
async fn device_property(id: &str, name: &str) -> Result<String, String> {
    gdbus(&[
        &device_path(id),
        "org.freedesktop.DBus.Properties.Get",
        DEVICE,
        name,
    ])
    .await
}

/// The verification key the daemon shows for device `id`, as Koine and the
/// Android app show it. 22.12 has it as a method, `verificationKey()`,
/// returning the whole SHA-256 in lowercase hex (64 digits) as bytes; the
/// key people compare is its first 8 digits, uppercase.
async fn daemon_key(id: &str) -> String {
    let raw = gdbus(&[
        &device_path(id),
        "org.kde.kdeconnect.device.verificationKey",
    ])
    .await
    .expect("verificationKey()");
    let hex = bytes_of(&raw);
    assert_eq!(hex.len(), 64, "a SHA-256 in hex: {raw}");
    let key: String = hex.chars().take(8).collect::<String>().to_ascii_uppercase();
    eprintln!("daemon verificationKey() for {id}: {hex} -> {key}");
    key
}

/// The text of gdbus's byte string: `(b'text',)`, or `([byte 0x41, …],)`.
fn bytes_of(variant: &str) -> String {
    if let Some(rest) = variant.split("b'").nth(1) {
        return rest.split('\'').next().unwrap_or_default().to_owned();
    }
    variant
        .split("0x")
        .skip(1)
        .filter_map(|h| u8::from_str_radix(h.get(..2)?, 16).ok())
        .map(char::from)
        .collect()
}

/// Waits until `check` holds, polling.
async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn is_true(id: &str, property: &str) -> bool {
    device_property(id, property)
        .await
        .is_ok_and(|v| v.contains("true"))
}

fn account(identity: &LocalIdentity) -> TestAccount {
    let mut s = Settings::default();
    s.set("backend", "kdeconnect");
    s.set("phone_address", "127.0.0.1:1716");
    s.set("region", "FR");
    s.set("device_name", "Koine test desktop");
    TestAccount {
        settings: s,
        secret: Some(Secret::new(
            serde_json::to_string(identity).expect("identity json"),
        )),
        address: Address::Phone(koine_api::PhoneNumber::parse("+33612345601").expect("n")),
    }
}

fn start(account: &TestAccount, dir: &Path) -> RunningSession {
    let plugin: Arc<dyn Protocol> = Arc::new(SmsRelay::new("FR"));
    RunningSession::start(&plugin, account, dir, TIMEOUT).expect("session")
}

async fn pair_prompt(s: &mut RunningSession) -> (koine_api::PromptId, String) {
    s.wait_for("a pairing prompt", |e| match e {
        Event::PromptRaised(p) => match &p.kind {
            PromptKind::PairDevice { key, .. } => Some((p.id.clone(), key.clone())),
            _ => None,
        },
        _ => None,
    })
    .await
    .expect("pairing prompt")
}

async fn confirm(s: &RunningSession, prompt: koine_api::PromptId) {
    s.command(Command::AnswerPrompt {
        prompt,
        answer: PromptAnswer::Confirm,
    })
    .await
    .expect("answer");
}

/// Brings `lo` up in the namespace (it starts down).
fn loopback_up() {
    let status = std::process::Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .status()
        .expect("ip");
    assert!(status.success(), "ip link set lo up failed");
}

#[test]
fn koine_pairs_with_kdes_daemon_both_ways_and_stays_pinned() {
    if std::env::var_os(INNER).is_none() {
        return run_inside("koine_pairs_with_kdes_daemon_both_ways_and_stays_pinned");
    }
    loopback_up();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(pairs_both_ways_and_stays_pinned());
}

async fn pairs_both_ways_and_stays_pinned() {
    let tmp = tempfile::tempdir().expect("tmp");
    let home = tmp.path().join("kde");
    std::fs::create_dir_all(&home).expect("home");
    let daemon = Daemon::start(&home).await;

    // 1. Koine asks, the daemon accepts.
    let asker = LocalIdentity::generate("koine_asks").expect("identity");
    let asker_dir = tmp.path().join("asker");
    let mut s = start(&account(&asker), &asker_dir);
    let (prompt, key) = pair_prompt(&mut s).await;
    until("the daemon to see Koine", || async {
        device_property(&asker.device_id, "isReachable")
            .await
            .is_ok_and(|v| v.contains("true"))
    })
    .await;
    let key_on_daemon = daemon_key(&asker.device_id).await;
    confirm(&s, prompt).await;
    until("the daemon to hear Koine's request", || async {
        is_true(&asker.device_id, "hasPairingRequests").await
    })
    .await;
    gdbus(&[
        &device_path(&asker.device_id),
        "org.kde.kdeconnect.device.acceptPairing",
    ])
    .await
    .expect("acceptPairing");
    let link = s.online().await.expect("online once the daemon accepted");
    // Qt 5.15 with OpenSSL 3 in Debian 12 negotiates TLS 1.3 with Koine.
    eprintln!("route to the daemon: {:?}", link.transport);
    assert!(
        matches!(
            link.transport,
            koine_api::TransportSecurity::Tls { pinned: true, .. }
        ),
        "{:?}",
        link.transport
    );
    assert!(is_true(&asker.device_id, "isTrusted").await);
    eprintln!("Koine shows {key} for its own request");
    assert_eq!(
        key, key_on_daemon,
        "the key Koine shows is the one the daemon shows"
    );
    s.stop().await.expect("stop");

    // 2. The daemon asks, Koine accepts.
    let asked = LocalIdentity::generate("koine_is_asked").expect("identity");
    let asked_dir = tmp.path().join("asked");
    let mut s = start(&account(&asked), &asked_dir);
    let (offer, _) = pair_prompt(&mut s).await;
    until("the daemon to see Koine", || async {
        is_true(&asked.device_id, "isReachable").await
    })
    .await;
    gdbus(&[
        &device_path(&asked.device_id),
        "org.kde.kdeconnect.device.requestPair",
    ])
    .await
    .expect("requestPair");
    let (prompt, key) = pair_prompt(&mut s).await;
    assert_ne!(prompt, offer, "the daemon's request is a prompt of its own");
    let key_on_daemon = daemon_key(&asked.device_id).await;
    eprintln!("Koine shows {key} for the daemon's request");
    assert_eq!(key, key_on_daemon, "both screens show the same key");
    confirm(&s, prompt).await;
    s.online().await.expect("online once Koine accepted");
    until("the daemon to trust Koine", || async {
        is_true(&asked.device_id, "isTrusted").await
    })
    .await;
    s.stop().await.expect("stop");

    // 3. The daemon restarts; Koine reconnects with its pin, no prompt.
    daemon.stop().await;
    let daemon = Daemon::start(&home).await;
    let mut s = start(&account(&asker), &asker_dir);
    let link = s
        .online()
        .await
        .expect("online with the pin after a restart");
    assert!(matches!(
        link.transport,
        koine_api::TransportSecurity::Tls { pinned: true, .. }
    ));
    assert!(
        !s.drain_for(Duration::from_millis(300))
            .await
            .iter()
            .any(|e| matches!(e, Event::PromptRaised(_))),
        "no pairing prompt for a pinned daemon"
    );
    until("the daemon to trust the reconnected Koine", || async {
        is_true(&asker.device_id, "isReachable").await
            && is_true(&asker.device_id, "isTrusted").await
    })
    .await;
    // Koine's session declares no ping: the daemon offers none to it.
    let ping = format!("{}/ping", device_path(&asker.device_id));
    assert!(
        gdbus(&[&ping, "org.kde.kdeconnect.device.ping.sendPing"])
            .await
            .is_err(),
        "the daemon pings only devices that accept pings"
    );
    s.stop().await.expect("stop");

    // 4. A link with the same paired identity that declares ping gets the
    // daemon's ping.
    let daemon_cert = daemon_pin(&home);
    let me = Identity {
        device_id: asker.device_id.clone(),
        device_name: "Koine test desktop".into(),
        device_type: "desktop".into(),
        protocol_version: 8,
        incoming_capabilities: vec!["kdeconnect.ping".into()],
        outgoing_capabilities: vec!["kdeconnect.ping".into()],
        tcp_port: None,
    };
    let mut link = link::connect(
        "127.0.0.1:1716".parse().expect("addr"),
        &asker,
        &me,
        Some(daemon_cert),
        None,
    )
    .await
    .expect("pinned link");
    until("the daemon's ping plugin for the link", || async {
        gdbus(&[&ping, "org.kde.kdeconnect.device.ping.sendPing"])
            .await
            .is_ok()
    })
    .await;
    let packet = tokio::time::timeout(TIMEOUT, async {
        loop {
            let p = link.reader.next().await.expect("a packet");
            if p.kind == "kdeconnect.ping" {
                return p;
            }
        }
    })
    .await
    .expect("the daemon's ping");
    assert_eq!(packet.kind, "kdeconnect.ping");
    daemon.stop().await;
}

/// The pin of the daemon's certificate, read from its own file.
fn daemon_pin(home: &Path) -> String {
    use base64::Engine;
    let pem = std::fs::read_to_string(home.join("config/kdeconnect/certificate.pem"))
        .expect("the daemon's certificate");
    let b64: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .expect("PEM");
    fingerprint(&der)
}
