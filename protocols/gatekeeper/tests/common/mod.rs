//! A real reference server process for tests: spawned from the binary built
//! by this package, on loopback with dynamic ports, its own SQLite file and
//! log in a temp dir, killed on drop.

#![allow(dead_code)]

use koine_api::{Address, Secret, Settings};
use koine_conformance::TestAccount;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_koine-gatekeeper-server");

pub struct Ready {
    pub noise: String,
    pub gatekeeper_http: String,
    pub provider_http: String,
    pub server_key: String,
}

pub struct Server {
    pub dir: tempfile::TempDir,
    pub child: Option<Child>,
    pub ready: Ready,
    pub extra: Vec<String>,
}

fn field(line: &str, key: &str) -> anyhow::Result<String> {
    let v: serde_json::Value = serde_json::from_str(line)?;
    v.get(key)
        .and_then(|x| x.as_str())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("ready line lacks {key}: {line}"))
}

impl Server {
    pub fn db(&self) -> PathBuf {
        self.dir.path().join("gatekeeper.sqlite")
    }

    pub fn log(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// Starts a server with extra `serve` flags.
    pub fn start_with(extra: &[&str]) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut s = Self {
            dir,
            child: None,
            ready: Ready {
                noise: String::new(),
                gatekeeper_http: String::new(),
                provider_http: String::new(),
                server_key: String::new(),
            },
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        s.spawn(None)?;
        Ok(s)
    }

    pub fn start() -> anyhow::Result<Self> {
        Self::start_with(&[])
    }

    /// (Re)spawns the process; `same_ports` rebinds the previous addresses.
    pub fn spawn(&mut self, same_ports: Option<()>) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log())?;
        let mut cmd = Command::new(BIN);
        cmd.arg("--db").arg(self.db()).arg("serve");
        if same_ports.is_some() {
            let strip = |u: &str| u.trim_start_matches("http://").to_owned();
            cmd.args(["--noise", &self.ready.noise]);
            cmd.args(["--gatekeeper-http", &strip(&self.ready.gatekeeper_http)]);
            cmd.args(["--provider-http", &strip(&self.ready.provider_http)]);
        }
        cmd.args(&self.extra);
        let mut child = cmd
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        self.child = Some(child);
        self.ready = Ready {
            noise: field(&line, "noise")?,
            gatekeeper_http: field(&line, "gatekeeper_http")?,
            provider_http: field(&line, "provider_http")?,
            server_key: field(&line, "server_key")?,
        };
        Ok(())
    }

    /// kill -9.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn admin(&self, args: &[&str]) -> anyhow::Result<()> {
        admin(&self.db(), args)
    }

    /// A registered user: `+E164` or `provider:id`.
    pub fn user(&self, address: &str, password: &str) -> anyhow::Result<TestAccount> {
        self.admin(&["add-user", address, password])?;
        Ok(self.account(address, password))
    }

    /// Settings for an address (registered or not).
    pub fn account(&self, address: &str, password: &str) -> TestAccount {
        let mut s = Settings::default();
        s.set("user", address);
        s.set("endpoint", &self.ready.noise);
        s.set("server_name", "gatekeeper.test");
        s.set("operator", "Reference gatekeeper");
        s.set("server_key", &self.ready.server_key);
        s.set("gatekeeper_http", &self.ready.gatekeeper_http);
        if !address.starts_with('+') {
            s.set("provider_url", &self.ready.provider_http);
        }
        TestAccount {
            settings: s,
            secret: Some(Secret::new(password)),
            address: Address::parse_any(address).expect("test address"),
        }
    }
}

pub fn admin(db: &Path, args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new(BIN).arg("--db").arg(db).args(args).output()?;
    anyhow::ensure!(
        out.status.success(),
        "admin {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A plugin session the test can abort abruptly (like a killed process).
///
/// A forwarding task plays the engine: an event counts as stored once it is
/// in `events`, and once `Live` is dropped the next event is never stored.
pub struct Live {
    pub commands: tokio::sync::mpsc::Sender<koine_api::Command>,
    pub events: tokio::sync::mpsc::UnboundedReceiver<koine_api::Event>,
    pub task: tokio::task::JoinHandle<Result<(), koine_api::SessionError>>,
    pub data_dir: std::path::PathBuf,
}

/// The keyring scope `Live::start` gives a session on `data_dir`.
pub fn keyring_scope(data_dir: &Path) -> String {
    format!(
        "gatekeeper-test-{}",
        data_dir.to_string_lossy().replace(['/', '.'], "_")
    )
}

/// The keyring a session on `data_dir` uses.
pub fn keyring(data_dir: &Path) -> koine_keyring::KeyringSecrets {
    koine_keyring::KeyringSecrets::scoped(keyring_scope(data_dir))
}

impl Live {
    pub fn start(account: &TestAccount, data_dir: &Path) -> anyhow::Result<Self> {
        use koine_api::{AccountId, EventSink, Protocol, SessionContext};
        std::fs::create_dir_all(data_dir)?;
        let scope = keyring_scope(data_dir);
        let (commands, rx) = tokio::sync::mpsc::channel(64);
        let (sink, mut from_session) = EventSink::channel(1024);
        let (to_test, events) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(e) = from_session.recv().await {
                if to_test.send(e).is_err() {
                    break;
                }
            }
        });
        let cx = SessionContext {
            account: AccountId::new(scope.clone()),
            settings: account.settings.clone(),
            secret: account.secret.clone(),
            secrets: std::sync::Arc::new(koine_keyring::KeyringSecrets::scoped(scope)),
            data_dir: data_dir.to_path_buf(),
            commands: rx,
            events: sink,
        };
        let task = tokio::spawn(koine_gatekeeper::GatekeeperProtocol.run(cx));
        Ok(Self {
            commands,
            events,
            task,
            data_dir: data_dir.to_path_buf(),
        })
    }

    /// The content of a received file, which the session sealed in its
    /// data directory under the account's file key.
    pub fn opened(&self, a: &koine_api::Attachment) -> anyhow::Result<Vec<u8>> {
        let koine_api::AttachmentSource::Sealed(path) = &a.source else {
            anyhow::bail!("not downloaded and sealed: {a:?}");
        };
        let path = Path::new(path);
        anyhow::ensure!(
            path.starts_with(&self.data_dir),
            "{path:?} is outside the account's folder"
        );
        let vault = koine_vault::Vault::existing(&keyring(&self.data_dir))?
            .ok_or_else(|| anyhow::anyhow!("no file key"))?;
        let plain = vault
            .read(path)?
            .ok_or_else(|| anyhow::anyhow!("{path:?} is missing"))?;
        Ok(plain.to_vec())
    }

    pub async fn wait<T>(
        &mut self,
        what: &str,
        mut pick: impl FnMut(&koine_api::Event) -> Option<T>,
    ) -> anyhow::Result<T> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(e)) => {
                    if let Some(t) = pick(&e) {
                        return Ok(t);
                    }
                }
                Ok(None) => anyhow::bail!("session ended while waiting for {what}"),
                Err(_) => anyhow::bail!("timed out waiting for {what}"),
            }
        }
    }

    pub async fn online(&mut self) -> anyhow::Result<koine_api::Hop> {
        self.wait("online", |e| match e {
            koine_api::Event::ConnectionChanged(koine_api::ConnectionState::Online { link }) => {
                Some(link.clone())
            }
            _ => None,
        })
        .await
    }

    pub async fn drain(&mut self, window: std::time::Duration) -> Vec<koine_api::Event> {
        let deadline = tokio::time::Instant::now() + window;
        let mut out = Vec::new();
        while let Ok(Some(e)) = tokio::time::timeout_at(deadline, self.events.recv()).await {
            out.push(e);
        }
        out
    }

    pub async fn send(&self, c: koine_api::Command) -> anyhow::Result<()> {
        self.commands
            .send(c)
            .await
            .map_err(|_| anyhow::anyhow!("session gone"))
    }

    /// Ends the session as a crash would: no goodbye, nothing flushed.
    pub fn kill(self) {
        self.task.abort();
    }

    /// Closes the command channel (as the engine does to stop) and waits
    /// for the session's end.
    pub async fn ended(self) -> anyhow::Result<Result<(), koine_api::SessionError>> {
        let Live {
            commands,
            mut events,
            task,
            ..
        } = self;
        drop(commands);
        let drain = tokio::spawn(async move { while events.recv().await.is_some() {} });
        let r = tokio::time::timeout(std::time::Duration::from_secs(30), task).await??;
        drain.abort();
        Ok(r)
    }
}

pub fn text(to: &str, body: &str, id: &str) -> koine_api::Command {
    koine_api::Command::SendMessage {
        local_id: koine_api::LocalId::new(id),
        conversation: koine_api::ConversationKey::new(to),
        content: koine_api::Content::text(body),
        reply_to: None,
    }
}

/// Waits for the outcome of a send: `Ok(route)` or `Err(error)`.
pub async fn outcome(
    live: &mut Live,
    id: &str,
) -> anyhow::Result<Result<koine_api::Route, koine_api::SendError>> {
    live.wait(&format!("outcome of {id}"), |e| match e {
        koine_api::Event::SendAcked {
            local_id, route, ..
        } if local_id.as_str() == id => Some(Ok(route.clone())),
        koine_api::Event::SendFailed { local_id, error } if local_id.as_str() == id => {
            Some(Err(error.clone()))
        }
        _ => None,
    })
    .await
}

pub async fn received(live: &mut Live, body: &str) -> anyhow::Result<koine_api::Message> {
    live.wait(&format!("message {body:?}"), |e| match e {
        koine_api::Event::MessageReceived(m) if m.content.text == body => Some(m.clone()),
        _ => None,
    })
    .await
}
