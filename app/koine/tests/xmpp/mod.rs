//! A Prosody server on loopback for the CLI tests: a test CA, one virtual
//! host, STARTTLS, and accounts registered with `prosodyctl`.

#![allow(dead_code)]

use crate::common::koine;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const DOMAIN: &str = "koine.localhost";

pub struct Prosody {
    dir: tempfile::TempDir,
    child: Child,
    port: u16,
    ca: PathBuf,
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn openssl(args: &[&str], dir: &Path) {
    run(Command::new("openssl").args(args).current_dir(dir));
}

impl Prosody {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        openssl(
            &[
                &["req", "-x509"][..],
                &ec,
                &[
                    "-days",
                    "2",
                    "-subj",
                    "/CN=Test CA",
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.pem",
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign",
                ],
            ]
            .concat(),
            d,
        );
        openssl(
            &[
                &["req"][..],
                &ec,
                &[
                    "-subj",
                    &format!("/CN={DOMAIN}"),
                    "-keyout",
                    "server.key",
                    "-out",
                    "server.csr",
                ],
            ]
            .concat(),
            d,
        );
        std::fs::write(
            d.join("san.ext"),
            format!("subjectAltName=DNS:{DOMAIN},IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
        )
        .expect("ext");
        openssl(
            &[
                "x509",
                "-req",
                "-days",
                "2",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-extfile",
                "san.ext",
                "-out",
                "server.crt",
            ],
            d,
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let p = d.display();
        let config = format!(
            r#"run_as_root = true
pidfile = "{p}/prosody.pid"
data_path = "{p}"
log = {{ error = "{p}/prosody.err" }}
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {port} }}
c2s_direct_tls_ports = {{ }}
s2s_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}
ssl = {{ certificate = "{p}/server.crt"; key = "{p}/server.key" }}
c2s_require_encryption = true
authentication = "internal_hashed"
storage = "internal"
modules_enabled = {{ "roster"; "saslauth"; "tls"; "disco"; "blocklist"; "ping"; "carbons"; "mam"; "smacks"; "offline"; "posix" }}
modules_disabled = {{ "s2s" }}
VirtualHost "{DOMAIN}"
"#
        );
        std::fs::write(d.join("prosody.cfg.lua"), config).expect("config");
        let child = Command::new("prosody")
            .arg("--config")
            .arg(d.join("prosody.cfg.lua"))
            .arg("-F")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn prosody");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "prosody did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            ca: d.join("ca.pem"),
            dir,
            child,
            port,
        }
    }

    /// Registers `user@DOMAIN` and adds it as an XMPP account to `profile`.
    pub fn account(&self, profile: &Path, user: &str) -> String {
        let jid = format!("{user}@{DOMAIN}");
        let password = format!("pw-{user}");
        run(Command::new("prosodyctl")
            .arg("--config")
            .arg(self.dir.path().join("prosody.cfg.lua"))
            .args(["register", user, DOMAIN, &password]));
        let sets = [
            format!("jid={jid}"),
            "server_host=127.0.0.1".to_owned(),
            format!("server_port={}", self.port),
            "tls=starttls".to_owned(),
            format!("extra_ca_file={}", self.ca.display()),
        ];
        let mut args = vec!["account", "add", "xmpp", &jid, "--password-stdin"];
        for s in &sets {
            args.push("--set");
            args.push(s);
        }
        let out = koine(profile, &args, Some(&format!("{password}\n")));
        assert!(
            out.status.success(),
            "xmpp account: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        jid
    }
}

impl Drop for Prosody {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
