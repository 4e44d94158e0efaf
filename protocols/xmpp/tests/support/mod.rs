//! Test support: a real Prosody on loopback, with a test CA made here.
//!
//! Every test starts its own server in a temp dir (config, data, log, pid),
//! on ports picked at run time on 127.0.0.1, and kills it on drop. The server
//! certificate is signed by a CA created for this run with the `openssl` CLI;
//! the client trusts it through the `extra_ca_file` setting, never by turning
//! verification off.

#![allow(dead_code)]

use koine_api::{Jid, Secret, Settings};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The virtual host the tests use. `*.localhost` does not resolve here, so
/// the client is pointed at 127.0.0.1 explicitly while keeping the domain for
/// SASL and certificate checks.
pub const DOMAIN: &str = "koine.localhost";
/// A second virtual host on the same server, for federation-hop routes.
pub mod client;
pub mod raw;

pub const OTHER_DOMAIN: &str = "other.localhost";
/// The largest file the test server's upload service takes.
pub const UPLOAD_LIMIT: u64 = 1024 * 1024;

/// A running Prosody.
pub struct Prosody {
    dir: tempfile::TempDir,
    child: Child,
    /// STARTTLS client port.
    pub c2s_port: u16,
    /// Direct TLS client port.
    pub tls_port: u16,
    /// HTTPS port (upload).
    pub https_port: u16,
    /// The test CA's certificate (PEM).
    pub ca_file: PathBuf,
}

/// Additions to the test server's configuration.
#[derive(Debug, Default)]
pub struct Extra {
    /// Lua lines for the global section.
    pub global: String,
    /// More modules enabled on every host.
    pub modules: Vec<String>,
    /// Modules written for the test: (name without `mod_`, Lua source).
    pub plugins: Vec<(String, String)>,
    /// Sections appended at the end (components).
    pub tail: String,
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run command");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Makes a CA and a server certificate for `hosts` in `dir`.
/// Returns (ca.pem, server.crt, server.key).
pub fn make_certificates(dir: &Path, hosts: &[&str]) -> (PathBuf, PathBuf, PathBuf) {
    let ca_key = dir.join("ca.key");
    let ca = dir.join("ca.pem");
    let key = dir.join("server.key");
    let csr = dir.join("server.csr");
    let crt = dir.join("server.crt");
    let ext = dir.join("san.ext");
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=Koine test CA",
            "-keyout",
        ])
        .arg(&ca_key)
        .arg("-out")
        .arg(&ca)
        .args([
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]));
    run(Command::new("openssl")
        .args([
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
        ])
        .arg(format!("/CN={}", hosts[0]))
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&csr));
    let mut san: Vec<String> = hosts.iter().map(|h| format!("DNS:{h}")).collect();
    san.push("DNS:localhost".into());
    san.push("IP:127.0.0.1".into());
    std::fs::write(
        &ext,
        format!(
            "subjectAltName={}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
            san.join(",")
        ),
    )
    .expect("write ext");
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-in"])
        .arg(&csr)
        .arg("-CA")
        .arg(&ca)
        .arg("-CAkey")
        .arg(&ca_key)
        .arg("-CAcreateserial")
        .arg("-extfile")
        .arg(&ext)
        .arg("-out")
        .arg(&crt));
    (ca, crt, key)
}

impl Prosody {
    /// Starts Prosody and waits until it offers STARTTLS.
    pub fn start() -> Self {
        Self::start_with(Extra::default())
    }

    /// Like [`Self::start`], with additions to the configuration.
    pub fn start_with(extra: Extra) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let plugins = dir.path().join("plugins");
        std::fs::create_dir_all(&plugins).expect("plugin dir");
        for (name, source) in &extra.plugins {
            std::fs::write(plugins.join(format!("mod_{name}.lua")), source).expect("plugin");
        }
        let extra_modules: String = extra.modules.iter().map(|m| format!("\"{m}\"; ")).collect();
        let extra_global = &extra.global;
        let extra_tail = &extra.tail;
        let hosts = [
            DOMAIN.to_owned(),
            format!("conference.{DOMAIN}"),
            format!("upload.{DOMAIN}"),
            OTHER_DOMAIN.to_owned(),
        ];
        let host_refs: Vec<&str> = hosts.iter().map(String::as_str).collect();
        let (ca_file, crt, key) = make_certificates(dir.path(), &host_refs);
        let (c2s_port, tls_port, https_port, http_port, s2s_port) = (
            free_port(),
            free_port(),
            free_port(),
            free_port(),
            free_port(),
        );
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).expect("data dir");
        let d = dir.path().display();
        let run_as_root = if is_root() { "run_as_root = true" } else { "" };
        let config = format!(
            r#"
{run_as_root}
pidfile = "{d}/prosody.pid"
plugin_paths = {{ "{d}/plugins" }}
{extra_global}
data_path = "{d}/data"
certificates = "{d}"
log = {{ info = "{d}/prosody.log"; error = "{d}/prosody.err" }}
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {c2s_port} }}
c2s_direct_tls_ports = {{ {tls_port} }}
s2s_ports = {{ {s2s_port} }}
http_ports = {{ {http_port} }}
https_ports = {{ {https_port} }}
http_interfaces = {{ "127.0.0.1" }}
https_interfaces = {{ "127.0.0.1" }}
https_ssl = {{ certificate = "{crt}"; key = "{key}" }}
ssl = {{ certificate = "{crt}"; key = "{key}" }}
c2s_direct_tls_ssl = {{ certificate = "{crt}"; key = "{key}" }}
c2s_require_encryption = true
s2s_require_encryption = true
authentication = "internal_hashed"
storage = "internal"
archive_expires_after = "never"
default_archive_policy = true
max_archive_query_results = 250
smacks_hibernation_time = 600
http_default_host = "upload.{DOMAIN}"
http_external_url = "https://127.0.0.1:{https_port}/"
limits = {{ c2s = {{ rate = "100mb/s" }} }}
modules_enabled = {{
  "roster"; "saslauth"; "tls"; "disco"; "pep"; "mam"; "carbons"; "smacks";
  "blocklist"; "ping"; "private"; "vcard4"; "bookmarks"; "csi_simple"; "offline";
  "posix"; "limits"; {extra_modules}
}}
modules_disabled = {{ "s2s" }}
VirtualHost "{DOMAIN}"
  ssl = {{ certificate = "{crt}"; key = "{key}" }}
  disco_items = {{ {{ "upload.{DOMAIN}" }}, {{ "conference.{DOMAIN}" }} }}
VirtualHost "{OTHER_DOMAIN}"
  ssl = {{ certificate = "{crt}"; key = "{key}" }}
Component "conference.{DOMAIN}" "muc"
  modules_enabled = {{ "muc_mam" }}
  restrict_room_creation = false
Component "upload.{DOMAIN}" "http_file_share"
  http_file_share_size_limit = {UPLOAD_LIMIT}
{extra_tail}
"#,
            crt = crt.display(),
            key = key.display(),
        );
        let cfg = dir.path().join("prosody.cfg.lua");
        std::fs::write(&cfg, config).expect("write config");
        let child = Command::new("prosody")
            .arg("--config")
            .arg(&cfg)
            .arg("-F")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn prosody");
        let server = Self {
            dir,
            child,
            c2s_port,
            tls_port,
            https_port,
            ca_file,
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        use std::io::{Read, Write};
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.c2s_port)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let _ = write!(
                    s,
                    "<?xml version='1.0'?><stream:stream to='{DOMAIN}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
                );
                let mut buf = vec![0u8; 4096];
                let mut got = String::new();
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    got.push_str(&String::from_utf8_lossy(&buf[..n]));
                    if got.contains("<starttls") {
                        return;
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "prosody did not start: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server's log, for failure messages.
    pub fn log(&self) -> String {
        let p = self.dir.path();
        format!(
            "{}\n{}",
            std::fs::read_to_string(p.join("prosody.log")).unwrap_or_default(),
            std::fs::read_to_string(p.join("prosody.err")).unwrap_or_default()
        )
    }

    /// Registers `user@domain` with `password`.
    pub fn register(&self, user: &str, domain: &str, password: &str) -> Jid {
        run(Command::new("prosodyctl")
            .arg("--config")
            .arg(self.dir.path().join("prosody.cfg.lua"))
            .args(["register", user, domain, password]));
        Jid::parse(&format!("{user}@{domain}")).expect("jid")
    }

    /// Registers a user on the main domain with a fresh password, returning
    /// settings (STARTTLS, pointed at 127.0.0.1) and the secret.
    pub fn account(&self, user: &str) -> (Settings, Secret, Jid) {
        self.account_on(user, DOMAIN)
    }

    /// Like [`Self::account`], on `domain`.
    pub fn account_on(&self, user: &str, domain: &str) -> (Settings, Secret, Jid) {
        let password = format!("pw-{}", uuid::Uuid::new_v4());
        let jid = self.register(user, domain, &password);
        (self.settings_for(&jid), Secret::new(password), jid)
    }

    /// STARTTLS settings for `jid`.
    pub fn settings_for(&self, jid: &Jid) -> Settings {
        let mut s = Settings::default();
        s.set("jid", jid.as_str());
        s.set("server_host", "127.0.0.1");
        s.set("server_port", self.c2s_port.to_string());
        s.set("tls", "starttls");
        s.set("extra_ca_file", self.ca_file.display().to_string());
        s
    }

    /// Direct-TLS settings for `jid`.
    pub fn direct_tls_settings_for(&self, jid: &Jid) -> Settings {
        let mut s = self.settings_for(jid);
        s.set("server_port", self.tls_port.to_string());
        s.set("tls", "direct");
        s
    }

    /// The temp dir of this server (for extra files a test needs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Drop for Prosody {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The TLS version Prosody's log says its client streams negotiated
/// (`Stream encrypted (TLSv1.3 with …)`), when they all agree.
pub fn negotiated_tls(log: &str) -> Option<koine_api::TlsVersion> {
    let mut versions = log
        .lines()
        .filter(|l| l.contains("c2s"))
        .filter_map(|l| l.split("Stream encrypted (").nth(1))
        .filter_map(|rest| match rest.split_whitespace().next() {
            Some("TLSv1.3") => Some(koine_api::TlsVersion::Tls13),
            Some("TLSv1.2") => Some(koine_api::TlsVersion::Tls12),
            _ => None,
        });
    let first = versions.next()?;
    versions.all(|v| v == first).then_some(first)
}
