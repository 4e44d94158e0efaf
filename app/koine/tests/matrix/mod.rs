//! A Synapse on loopback for the CLI tests (from the venv that
//! `scripts/deps.d/matrix.sh` installs), users registered with
//! `register_new_matrix_user`, accounts added with the real `koine`.

#![allow(dead_code)]

use crate::common::koine;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const SERVER_NAME: &str = "koine.test";
pub const PASSWORD: &str = "correct horse battery staple";

pub struct Synapse {
    dir: tempfile::TempDir,
    child: Child,
    port: u16,
}

pub fn venv_bin() -> PathBuf {
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

fn ready(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /_matrix/client/versions HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.ends_with(b"200")
}

impl Synapse {
    /// The homeserver's URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every byte Synapse's database holds (the SQLite file and its
    /// write-ahead log), to search for plaintext.
    pub fn database_bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for name in ["homeserver.db", "homeserver.db-wal"] {
            if let Ok(bytes) = std::fs::read(self.dir.path().join(name)) {
                all.extend(bytes);
            }
        }
        all
    }

    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path().display();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let rate = "{per_second: 100000, burst_count: 100000}";
        std::fs::write(
            dir.path().join("log.yaml"),
            format!("version: 1\nhandlers:\n  file:\n    class: logging.FileHandler\n    filename: {d}/synapse.log\nroot:\n  level: WARNING\n  handlers: [file]\n"),
        )
        .expect("log config");
        let config = format!(
            r#"server_name: "{SERVER_NAME}"
pid_file: {d}/homeserver.pid
listeners:
  - port: {port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    resources:
      - names: [client]
database:
  name: sqlite3
  args:
    database: {d}/homeserver.db
log_config: {d}/log.yaml
media_store_path: {d}/media
signing_key_path: {d}/signing.key
report_stats: false
trusted_key_servers: []
suppress_key_server_warning: true
registration_shared_secret: "test-shared-secret"
enable_registration: false
macaroon_secret_key: "test-macaroon"
form_secret: "test-form"
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
rc_invites:
  per_room: {rate}
  per_user: {rate}
  per_issuer: {rate}
rc_room_creation: {rate}
"#
        );
        std::fs::write(dir.path().join("homeserver.yaml"), config).expect("config");
        let python = venv_bin().join("python");
        assert!(
            python.exists(),
            "no Synapse venv at {}: source scripts/deps.d/matrix.sh first",
            python.display()
        );
        let child = Command::new(python)
            .args(["-m", "synapse.app.homeserver", "-c"])
            .arg(dir.path().join("homeserver.yaml"))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn synapse");
        let deadline = Instant::now() + Duration::from_secs(60);
        while !ready(port) {
            assert!(Instant::now() < deadline, "synapse did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { dir, child, port }
    }

    /// Registers `@user:koine.test` and adds it as a Matrix account to `profile`.
    pub fn account(&self, profile: &Path, user: &str) -> String {
        let out = Command::new(venv_bin().join("register_new_matrix_user"))
            .arg("-c")
            .arg(self.dir.path().join("homeserver.yaml"))
            .args(["-u", user, "-p", PASSWORD, "--no-admin"])
            .arg(format!("http://127.0.0.1:{}", self.port))
            .output()
            .expect("register");
        assert!(
            out.status.success(),
            "register {user}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mxid = format!("@{user}:{SERVER_NAME}");
        let sets = [
            format!("user_id={mxid}"),
            format!("homeserver=http://127.0.0.1:{}", self.port),
        ];
        let mut args = vec!["account", "add", "matrix", &mxid, "--password-stdin"];
        for s in &sets {
            args.push("--set");
            args.push(s);
        }
        let out = koine(profile, &args, Some(&format!("{PASSWORD}\n")));
        assert!(
            out.status.success(),
            "matrix account: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        mxid
    }
}

impl Drop for Synapse {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
