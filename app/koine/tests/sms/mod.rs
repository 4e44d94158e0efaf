//! Simulated phones for the CLI tests: one simulated carrier, Alice's phone
//! speaking SMSGate's local API, in this test process on loopback.

#![allow(dead_code)]

use crate::common::koine;
use koine_sms::sim::smsgate::{GateConfig, GatePhone, GateServer};
use koine_sms::sim::{Carrier, Phone, PhoneConfig};
use std::path::Path;
use std::sync::Arc;

pub const ALICE_PHONE: &str = "+33612345601";
pub const SMS_PASSWORD: &str = "sms-secret";

/// Phones on one simulated carrier; Alice's speaks SMSGate's local API.
pub struct Phones {
    pub carrier: Arc<Carrier>,
    pub alice: Arc<Phone>,
    pub gate: Arc<GatePhone>,
    _server: GateServer,
    url: String,
    webhook_port: u16,
    rt: tokio::runtime::Runtime,
}

pub fn phone(carrier: &Arc<Carrier>, number: &str) -> Arc<Phone> {
    Phone::new(
        PhoneConfig {
            number: number.into(),
            region: "FR".into(),
            device_name: "Test phone".into(),
            clock_skew_secs: 0,
        },
        carrier,
    )
}

impl Phones {
    pub fn start() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let carrier = Carrier::new();
        let alice = phone(&carrier, ALICE_PHONE);
        let gate = GatePhone::new(
            alice.clone(),
            GateConfig {
                username: "sms".into(),
                password: SMS_PASSWORD.into(),
            },
        );
        let server = rt
            .block_on(gate.listen("127.0.0.1:0".parse().expect("addr")))
            .expect("listen");
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("probe");
        let webhook_port = probe.local_addr().expect("addr").port();
        drop(probe);
        Self {
            url: format!("http://{}", server.addr()),
            carrier,
            alice,
            gate,
            _server: server,
            webhook_port,
            rt,
        }
    }

    /// Adds Alice's SMS account (label `alice-phone`) to a profile.
    pub fn add_account(&self, profile: &Path) {
        let sets = [
            "backend=smsgate".to_owned(),
            format!("url={}", self.url),
            "username=sms".to_owned(),
            "region=FR".to_owned(),
            format!("own_number={ALICE_PHONE}"),
            format!("webhook_listen=127.0.0.1:{}", self.webhook_port),
        ];
        let mut args = vec!["account", "add", "sms", "alice-phone", "--password-stdin"];
        for s in &sets {
            args.push("--set");
            args.push(s);
        }
        let out = koine(profile, &args, Some(&format!("{SMS_PASSWORD}\n")));
        assert!(
            out.status.success(),
            "sms account: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// An SMS from `from` reaches Alice's phone.
    pub fn inject(&self, from: &str, body: &str) {
        let _guard = self.rt.enter();
        self.alice.inject_sms(from, body).expect("injected");
    }

    /// The statuses Koine answered the webhook calls carrying `text` with,
    /// retries included (`None`: not reached).
    pub fn answers_to(&self, text: &str) -> Vec<Option<u16>> {
        self.gate
            .webhook_attempts()
            .iter()
            .filter(|a| a.call.payload["message"].as_str() == Some(text))
            .map(|a| a.status)
            .collect()
    }
}
