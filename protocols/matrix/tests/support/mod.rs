//! Test support: a real Synapse on loopback, users registered through the
//! shared secret, and a few raw client-server calls for setting up rooms.
//!
//! Every server gets its own temp dir, a free port on 127.0.0.1, a generated
//! config, and is killed when dropped. Synapse comes from the venv that
//! `scripts/deps.d/matrix.sh` installs (`KOINE_MATRIX_VENV_BIN`).

#![allow(dead_code)]

pub mod oidc;

use anyhow::{Context, bail};
use hmac::{Hmac, Mac};
use koine_api::{Address, Mxid, Secret, Settings};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::process::{Child, Command};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The server name every test server uses.
pub const SERVER_NAME: &str = "koine.test";
/// Every test user's password.
pub const PASSWORD: &str = "correct horse battery staple";

/// At most this many Synapses run at once in one test binary (2 cores).
fn slots() -> Arc<Semaphore> {
    static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    SLOTS.get_or_init(|| Arc::new(Semaphore::new(3))).clone()
}

fn venv_bin() -> PathBuf {
    if let Ok(bin) = std::env::var("KOINE_MATRIX_VENV_BIN") {
        return PathBuf::from(bin);
    }
    let cache = std::env::var("KOINE_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into()))
                .join(".cache/koine")
        });
    cache.join("venvs/matrix/bin")
}

/// The venv's python, for the interop peer.
pub fn python() -> PathBuf {
    venv_bin().join("python")
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A running Synapse.
pub struct Synapse {
    dir: tempfile::TempDir,
    port: u16,
    server_name: String,
    secret: String,
    child: Option<Child>,
    http: reqwest::Client,
    _slot: OwnedSemaphorePermit,
}

impl Synapse {
    /// Starts a fresh server.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(None).await
    }

    /// Starts a fresh server that federates: its server name is
    /// `127.0.0.1:<federation port>` (an IP literal with a port, so peers
    /// need no `.well-known` or SRV lookup), its federation listener speaks
    /// TLS with `tls`'s certificate, and it trusts `tls`'s CA for outgoing
    /// federation (with loopback allowed as a destination).
    pub async fn start_federating(tls: &koine_tls::test_ca::TestCa) -> anyhow::Result<Self> {
        Self::start_with(Some(tls)).await
    }

    /// Starts a fresh server that offers single sign-on through `provider`
    /// (an OpenID Connect provider on loopback) besides passwords.
    pub async fn start_with_sso(provider: &oidc::Provider) -> anyhow::Result<Self> {
        Self::start_inner(None, Some(provider)).await
    }

    async fn start_with(tls: Option<&koine_tls::test_ca::TestCa>) -> anyhow::Result<Self> {
        Self::start_inner(tls, None).await
    }

    async fn start_inner(
        tls: Option<&koine_tls::test_ca::TestCa>,
        sso: Option<&oidc::Provider>,
    ) -> anyhow::Result<Self> {
        let slot = slots().acquire_owned().await.context("semaphore")?;
        let dir = tempfile::tempdir()?;
        let port = free_port()?;
        let secret = format!("shared-{}", uuid::Uuid::new_v4().simple());
        let federation = match tls {
            Some(tls) => Some((free_port()?, tls)),
            None => None,
        };
        let server_name = match &federation {
            Some((fed_port, _)) => format!("127.0.0.1:{fed_port}"),
            None => SERVER_NAME.to_owned(),
        };
        write_config(dir.path(), port, &secret, &server_name, federation)?;
        if let Some(provider) = sso {
            let extra = oidc::synapse_config(port, provider);
            let path = dir.path().join("homeserver.yaml");
            let mut config = std::fs::read_to_string(&path)?;
            config.push_str(&extra);
            std::fs::write(&path, config)?;
        }
        let mut server = Self {
            dir,
            port,
            server_name,
            secret,
            child: None,
            http: reqwest::Client::new(),
            _slot: slot,
        };
        server.spawn().await?;
        Ok(server)
    }

    async fn spawn(&mut self) -> anyhow::Result<()> {
        let python = python();
        if !python.exists() {
            bail!(
                "no Synapse venv at {}: source scripts/deps.d/matrix.sh first",
                python.display()
            );
        }
        let log = std::fs::File::create(self.dir.path().join("stdout.log"))?;
        let child = Command::new(python)
            .args(["-m", "synapse.app.homeserver", "-c"])
            .arg(self.dir.path().join("homeserver.yaml"))
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .context("starting synapse")?;
        self.child = Some(child);
        self.wait_ready().await
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let url = format!("{}/_matrix/client/versions", self.url());
        for _ in 0..600 {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                let log =
                    std::fs::read_to_string(self.dir.path().join("stdout.log")).unwrap_or_default();
                bail!("synapse exited with {status}: {log}");
            }
            if let Ok(r) = self.http.get(&url).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("synapse did not become ready")
    }

    /// Stops the server (SIGKILL: the tests also cover a crash).
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().await?;
        }
        Ok(())
    }

    /// Starts the stopped server again on the same port and data.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.stop().await?;
        self.spawn().await
    }

    /// The client-server API base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The server name (the part after `:` in its users' ids).
    pub fn server_name(&self) -> &str {
        &self.server_name
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The data dir.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Registers a user through the shared-secret admin API.
    pub async fn register(&self, localpart: &str) -> anyhow::Result<TestUser> {
        let url = format!("{}/_synapse/admin/v1/register", self.url());
        let nonce: Value = self
            .http
            .get(&url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let nonce = nonce["nonce"].as_str().context("nonce")?.to_owned();
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(self.secret.as_bytes())?;
        mac.update(format!("{nonce}\0{localpart}\0{PASSWORD}\0notadmin").as_bytes());
        let mac = hex::encode(mac.finalize().into_bytes());
        let body = json!({"nonce": nonce, "username": localpart, "password": PASSWORD, "admin": false, "mac": mac});
        let r: Value = self
            .http
            .post(&url)
            .json(&body)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(TestUser {
            user_id: r["user_id"].as_str().context("user_id")?.to_owned(),
            token: r["access_token"]
                .as_str()
                .context("access_token")?
                .to_owned(),
            base: self.url(),
            http: self.http.clone(),
        })
    }

    /// Settings of a Koine account for `user` on this server.
    pub fn settings(&self, user: &TestUser) -> Settings {
        let mut s = Settings::default();
        s.set("user_id", &user.user_id);
        s.set("homeserver", self.url());
        s
    }
}

impl Drop for Synapse {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
    }
}

fn write_config(
    dir: &Path,
    port: u16,
    secret: &str,
    server_name: &str,
    federation: Option<(u16, &koine_tls::test_ca::TestCa)>,
) -> anyhow::Result<()> {
    let d = dir.display();
    let log_config = format!(
        "version: 1\nformatters:\n  f:\n    format: '%(asctime)s %(levelname)s %(name)s %(message)s'\n\
         handlers:\n  file:\n    class: logging.FileHandler\n    filename: {d}/synapse.log\n    formatter: f\n\
         root:\n  level: WARNING\n  handlers: [file]\ndisable_existing_loggers: false\n"
    );
    std::fs::write(dir.join("log.yaml"), log_config)?;
    let rate = "{per_second: 100000, burst_count: 100000}";
    // Synapse refuses outgoing requests to private addresses, and checks a
    // server name that is an IP literal against that list with no allow
    // list: the federating test servers block nothing (0.0.0.0 and :: stay
    // blocked whatever the list).
    let federation = match federation {
        None => String::new(),
        Some((fed_port, tls)) => format!(
            r#"  - port: {fed_port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: true
    resources:
      - names: [federation]
        compress: false
tls_certificate_path: "{cert}"
tls_private_key_path: "{key}"
federation_verify_certificates: true
federation_custom_ca_list: ["{ca}"]
ip_range_blacklist: []
"#,
            cert = tls.cert_file.display(),
            key = tls.key_file.display(),
            ca = tls.ca_file.display(),
        ),
    };
    let config = format!(
        r#"server_name: "{server_name}"
pid_file: {d}/homeserver.pid
listeners:
  - port: {port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
{federation}database:
  name: sqlite3
  args:
    database: {d}/homeserver.db
log_config: {d}/log.yaml
media_store_path: {d}/media
signing_key_path: {d}/signing.key
report_stats: false
trusted_key_servers: []
suppress_key_server_warning: true
registration_shared_secret: "{secret}"
enable_registration: false
macaroon_secret_key: "{secret}-macaroon"
form_secret: "{secret}-form"
presence:
  enabled: false
rc_message: {rate}
rc_registration: {rate}
rc_login:
  address: {rate}
  account: {rate}
  failed_attempts: {rate}
rc_joins:
  local: {rate}
  remote: {rate}
rc_joins_per_room: {rate}
rc_invites:
  per_room: {rate}
  per_user: {rate}
  per_issuer: {rate}
rc_admin_redaction: {rate}
rc_key_requests: {rate}
rc_3pid_validation: {rate}
rc_room_creation: {rate}
rc_reports: {rate}
rc_delayed_event_mgmt: {rate}
"#
    );
    std::fs::write(dir.join("homeserver.yaml"), config)?;
    Ok(())
}

/// A registered user with an access token for raw API calls (set-up only:
/// the plugin under test logs in on its own).
#[derive(Clone)]
pub struct TestUser {
    /// The full user id.
    pub user_id: String,
    /// An access token of the registration's own device.
    pub token: String,
    base: String,
    http: reqwest::Client,
}

impl TestUser {
    /// The user's address.
    pub fn address(&self) -> Address {
        Address::Mxid(Mxid::parse(&self.user_id).expect("valid user id"))
    }

    /// The password, as Koine gets it.
    pub fn secret(&self) -> Secret {
        Secret::new(PASSWORD)
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .request(method, format!("{}/_matrix/client/v3{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{path}: {status} {value}");
        }
        Ok(value)
    }

    /// Creates a room with `invite`d users, encrypted or not, marked direct
    /// when `direct`; returns the room id.
    pub async fn create_room(
        &self,
        invite: &[&TestUser],
        direct: bool,
        encrypted: bool,
    ) -> anyhow::Result<String> {
        let mut initial_state = vec![];
        if encrypted {
            initial_state.push(json!({"type": "m.room.encryption", "state_key": "",
                "content": {"algorithm": "m.megolm.v1.aes-sha2"}}));
        }
        let invite: Vec<&str> = invite.iter().map(|u| u.user_id.as_str()).collect();
        let body = json!({"invite": invite, "is_direct": direct, "preset": "trusted_private_chat",
            "initial_state": initial_state});
        let r = self
            .call(reqwest::Method::POST, "/createRoom", Some(body))
            .await?;
        let room = r["room_id"].as_str().context("room_id")?.to_owned();
        if direct {
            for other in &invite {
                self.set_direct(other, &room).await?;
            }
        }
        Ok(room)
    }

    /// Records `room` as the direct chat with `other` in `m.direct`.
    pub async fn set_direct(&self, other: &str, room: &str) -> anyhow::Result<()> {
        let path = format!("/user/{}/account_data/m.direct", enc(&self.user_id));
        let mut current = self
            .call(reqwest::Method::GET, &path, None)
            .await
            .unwrap_or(json!({}));
        if !current.is_object() {
            current = json!({});
        }
        current[other] = json!([room]);
        self.call(reqwest::Method::PUT, &path, Some(current))
            .await?;
        Ok(())
    }

    /// Joins a room (accepts an invite).
    pub async fn join(&self, room: &str) -> anyhow::Result<()> {
        self.call(
            reqwest::Method::POST,
            &format!("/join/{}", enc(room)),
            Some(json!({})),
        )
        .await?;
        Ok(())
    }

    /// Sets a state event.
    pub async fn put_state(
        &self,
        room: &str,
        event_type: &str,
        key: &str,
        content: Value,
    ) -> anyhow::Result<()> {
        let path = format!(
            "/rooms/{}/state/{}/{}",
            enc(room),
            enc(event_type),
            enc(key)
        );
        self.call(reqwest::Method::PUT, &path, Some(content))
            .await?;
        Ok(())
    }

    /// Sends a plaintext `m.text` (for unencrypted rooms); returns the event id.
    pub async fn send_text(&self, room: &str, text: &str) -> anyhow::Result<String> {
        let txn = uuid::Uuid::new_v4().simple().to_string();
        let path = format!("/rooms/{}/send/m.room.message/{txn}", enc(room));
        let r = self
            .call(
                reqwest::Method::PUT,
                &path,
                Some(json!({"msgtype": "m.text", "body": text})),
            )
            .await?;
        Ok(r["event_id"].as_str().context("event_id")?.to_owned())
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// A Koine session of `user` on `server` with its state in `dir` (a restart
/// with the same dir finds its keyring scope and store again).
pub fn koine_session(
    server: &Synapse,
    user: &TestUser,
    dir: &Path,
) -> anyhow::Result<koine_conformance::RunningSession> {
    let protocol: Arc<dyn koine_api::Protocol> = Arc::new(koine_matrix::Matrix);
    let account = koine_conformance::TestAccount {
        settings: server.settings(user),
        secret: Some(user.secret()),
        address: user.address(),
    };
    koine_conformance::RunningSession::start(&protocol, &account, dir, Duration::from_secs(60))
}

/// The keyring scope [`koine_session`] gives a session with data dir `dir`.
pub fn keyring_scope(dir: &Path) -> koine_keyring::KeyringSecrets {
    koine_keyring::KeyringSecrets::scoped(koine_conformance::keyring_scope(dir))
}

/// Waits for a message with this text and returns it.
pub async fn wait_text(
    session: &mut koine_conformance::RunningSession,
    text: &str,
) -> anyhow::Result<koine_api::Message> {
    session
        .wait_for(&format!("message {text:?}"), |e| match e {
            koine_api::Event::MessageReceived(m) if m.content.text == text => Some(m.clone()),
            _ => None,
        })
        .await
}

impl TestUser {
    /// The ids of this user's devices.
    pub async fn devices(&self) -> anyhow::Result<Vec<String>> {
        let r = self.call(reqwest::Method::GET, "/devices", None).await?;
        Ok(r["devices"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|d| d["device_id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }
}

impl TestUser {
    /// Waits until `user`'s cross-signing master key is on the server.
    pub async fn wait_master_key(&self, user: &str) -> anyhow::Result<()> {
        for _ in 0..300 {
            let r = self
                .call(
                    reqwest::Method::POST,
                    "/keys/query",
                    Some(json!({"device_keys": {user: []}})),
                )
                .await?;
            if r["master_keys"][user].is_object() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("no cross-signing master key for {user}")
    }

    /// The current key backup version, if any.
    pub async fn backup_version(&self) -> anyhow::Result<Option<String>> {
        match self
            .call(reqwest::Method::GET, "/room_keys/version", None)
            .await
        {
            Ok(v) => Ok(v["version"].as_str().map(str::to_owned)),
            Err(_) => Ok(None),
        }
    }
}

impl TestUser {
    /// Uploads `bytes` to the media repository; returns the `mxc://` URI.
    pub async fn upload(&self, bytes: Vec<u8>, content_type: &str) -> anyhow::Result<String> {
        let response = self
            .http
            .post(format!("{}/_matrix/media/v3/upload", self.base))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await?;
        let status = response.status();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("upload: {status} {value}");
        }
        Ok(value["content_uri"]
            .as_str()
            .context("content_uri")?
            .to_owned())
    }

    /// Sends an `m.room.message` with this content (unencrypted rooms);
    /// returns the event id.
    pub async fn send_message(&self, room: &str, content: Value) -> anyhow::Result<String> {
        let txn = uuid::Uuid::new_v4().simple().to_string();
        let path = format!("/rooms/{}/send/m.room.message/{txn}", enc(room));
        let r = self
            .call(reqwest::Method::PUT, &path, Some(content))
            .await?;
        Ok(r["event_id"].as_str().context("event_id")?.to_owned())
    }

    /// Sends an event of any type with this content; returns its id.
    pub async fn send_event(
        &self,
        room: &str,
        event_type: &str,
        content: Value,
    ) -> anyhow::Result<String> {
        let txn = uuid::Uuid::new_v4().simple().to_string();
        let path = format!("/rooms/{}/send/{}/{txn}", enc(room), enc(event_type));
        let r = self
            .call(reqwest::Method::PUT, &path, Some(content))
            .await?;
        Ok(r["event_id"].as_str().context("event_id")?.to_owned())
    }

    /// Who the server says owns `token` (`/account/whoami`), or the error
    /// code it answers with.
    pub async fn whoami_with(&self, token: &str) -> anyhow::Result<Result<String, String>> {
        let response = self
            .http
            .get(format!("{}/_matrix/client/v3/account/whoami", self.base))
            .bearer_auth(token)
            .send()
            .await?;
        let ok = response.status().is_success();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        Ok(if ok {
            Ok(value["user_id"].as_str().unwrap_or_default().to_owned())
        } else {
            Err(value["errcode"].as_str().unwrap_or_default().to_owned())
        })
    }
}

/// `n` bytes that do not repeat in any short pattern.
pub fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

impl TestUser {
    /// Waits (30 s at most) until `text` shows in the room's recent history
    /// as this user sees it; returns its sender.
    pub async fn wait_text(&self, room: &str, text: &str) -> anyhow::Result<String> {
        let path = format!("/rooms/{}/messages?dir=b&limit=50", enc(room));
        for _ in 0..300 {
            let r = self.call(reqwest::Method::GET, &path, None).await?;
            let found = r["chunk"].as_array().and_then(|events| {
                events.iter().find_map(|e| {
                    (e["content"]["body"].as_str() == Some(text))
                        .then(|| e["sender"].as_str().unwrap_or_default().to_owned())
                })
            });
            if let Some(sender) = found {
                return Ok(sender);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{text:?} never reached {} in {room}", self.user_id)
    }
}

impl TestUser {
    /// Redacts `event` in `room`; returns the redaction's event id, or the
    /// server's refusal.
    pub async fn redact(&self, room: &str, event: &str) -> anyhow::Result<String> {
        let txn = uuid::Uuid::new_v4().simple().to_string();
        let path = format!("/rooms/{}/redact/{}/{txn}", enc(room), enc(event));
        let r = self
            .call(reqwest::Method::PUT, &path, Some(json!({})))
            .await?;
        Ok(r["event_id"].as_str().context("event_id")?.to_owned())
    }
}

impl TestUser {
    /// Creates an unencrypted room where the `invite`d users are plain
    /// members (`private_chat`: in room version 12, `trusted_private_chat`
    /// makes invitees creators, with unlimited power); returns its id.
    pub async fn create_room_as_owner(&self, invite: &[&TestUser]) -> anyhow::Result<String> {
        let invite: Vec<&str> = invite.iter().map(|u| u.user_id.as_str()).collect();
        let body = json!({"invite": invite, "preset": "private_chat"});
        let r = self
            .call(reqwest::Method::POST, "/createRoom", Some(body))
            .await?;
        Ok(r["room_id"].as_str().context("room_id")?.to_owned())
    }
}
