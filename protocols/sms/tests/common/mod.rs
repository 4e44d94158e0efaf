//! Shared rigs for the SMS plugin's integration tests: simulated phones on
//! a simulated carrier, on loopback, and accounts pointing at them.
#![allow(dead_code)]

use koine_api::{Address, PhoneNumber, Secret, Settings};
use koine_conformance::TestAccount;
use koine_sms::kdeconnect::tls::LocalIdentity;
use koine_sms::sim::kdeconnect::{KdeConfig, KdePhone, KdeServer};
use koine_sms::sim::smsgate::{GateConfig, GatePhone, GateServer};
use koine_sms::sim::{Carrier, Phone, PhoneConfig};
use std::net::SocketAddr;
use std::sync::Arc;

pub const PHONE_NAME: &str = "Koine test phone";
pub const NUMBERS: [&str; 2] = ["+33612345601", "+33612345602"];
pub const PASSWORD: &str = "correct horse battery staple";

pub fn phone(carrier: &Arc<Carrier>, number: &str, skew: i64) -> Arc<Phone> {
    Phone::new(
        PhoneConfig {
            number: number.into(),
            region: "FR".into(),
            device_name: PHONE_NAME.into(),
            clock_skew_secs: skew,
        },
        carrier,
    )
}

pub struct KdeRig {
    pub phone: Arc<Phone>,
    pub kde: Arc<KdePhone>,
    pub server: Option<KdeServer>,
    pub addr: SocketAddr,
}

impl KdeRig {
    pub async fn start(
        carrier: &Arc<Carrier>,
        number: &str,
        version: u32,
        accept: bool,
        skew: i64,
    ) -> Self {
        let config = KdeConfig {
            device_id: format!("sim_{}", number.trim_start_matches('+')),
            protocol_version: version,
            accept_pairing: accept,
        };
        Self::start_with(carrier, number, skew, config, false, false).await
    }

    /// A phone with its KDE Connect side configured by hand: `tls12_only`
    /// like the Android app, `pair_on_connect` asking to pair right after
    /// TLS.
    pub async fn start_with(
        carrier: &Arc<Carrier>,
        number: &str,
        skew: i64,
        config: KdeConfig,
        tls12_only: bool,
        pair_on_connect: bool,
    ) -> Self {
        let phone = phone(carrier, number, skew);
        let kde = KdePhone::new(phone.clone(), config, None).expect("phone identity");
        kde.tls12_only(tls12_only);
        kde.pair_on_connect(pair_on_connect);
        let server = kde
            .listen("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("listen");
        let addr = server.addr();
        Self {
            phone,
            kde,
            server: Some(server),
            addr,
        }
    }

    /// Stops the phone's network side (Wi-Fi off): the listener and every
    /// connection close.
    pub fn stop(&mut self) {
        self.server = None;
    }

    /// Starts it again on the same address.
    pub async fn restart(&mut self) {
        self.server = Some(self.kde.listen(self.addr).await.expect("listen again"));
    }

    /// Settings of a fresh, unpaired desktop account for this phone.
    pub fn unpaired_settings(&self) -> Settings {
        let mut s = Settings::default();
        s.set("backend", "kdeconnect");
        s.set("phone_address", self.addr.to_string());
        s.set("region", "FR");
        s.set("device_name", "Test desktop");
        s
    }

    /// An account whose desktop identity the phone already trusts.
    pub fn paired_account(&self, number: &str) -> TestAccount {
        let desktop = LocalIdentity::generate(&format!("desk_{}", uuid::Uuid::new_v4().simple()))
            .expect("desktop identity");
        self.kde
            .trust(&desktop.device_id, &desktop.fingerprint().expect("fp"), 8);
        self.account_with(desktop, number)
    }

    /// An account with a desktop identity the phone does not know.
    pub fn stranger_account(&self, number: &str) -> TestAccount {
        let desktop = LocalIdentity::generate(&format!("desk_{}", uuid::Uuid::new_v4().simple()))
            .expect("desktop identity");
        self.account_with(desktop, number)
    }

    fn account_with(&self, desktop: LocalIdentity, number: &str) -> TestAccount {
        let mut s = self.unpaired_settings();
        s.set("phone_device_id", self.kde.device_id());
        s.set("phone_fingerprint", self.kde.fingerprint());
        s.set("phone_name", PHONE_NAME);
        s.set("own_number", number);
        TestAccount {
            settings: s,
            secret: Some(Secret::new(serde_json::to_string(&desktop).expect("json"))),
            address: Address::Phone(PhoneNumber::parse(number).expect("number")),
        }
    }
}

pub struct GateRig {
    pub phone: Arc<Phone>,
    pub gate: Arc<GatePhone>,
    pub server: GateServer,
    pub webhook_port: u16,
    /// The app's certificate, in its HTTPS mode.
    pub certificate: Option<LocalIdentity>,
}

impl GateRig {
    pub async fn start(carrier: &Arc<Carrier>, number: &str, skew: i64) -> Self {
        Self::start_with(carrier, number, skew, false).await
    }

    /// A phone whose API is plain HTTP, or HTTPS with a self-signed
    /// certificate (the app's HTTPS mode).
    pub async fn start_with(carrier: &Arc<Carrier>, number: &str, skew: i64, https: bool) -> Self {
        let phone = phone(carrier, number, skew);
        let gate = GatePhone::new(
            phone.clone(),
            GateConfig {
                username: "sms".into(),
                password: PASSWORD.into(),
            },
        );
        let addr = "127.0.0.1:0".parse().expect("addr");
        let certificate =
            https.then(|| LocalIdentity::generate("smsgate_app").expect("certificate"));
        let server = match &certificate {
            Some(c) => gate.listen_tls(addr, c).await,
            None => gate.listen(addr).await,
        }
        .expect("listen");
        // A fixed webhook port per account, so a restarted session gets the
        // calls the phone retried while it was away.
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("probe");
        let webhook_port = probe.local_addr().expect("addr").port();
        drop(probe);
        Self {
            phone,
            gate,
            server,
            webhook_port,
            certificate,
        }
    }

    /// An account for this phone; with HTTPS, its certificate already
    /// pinned in the settings (read off the phone).
    pub fn account(&self, number: &str, password: &str) -> TestAccount {
        let mut s = Settings::default();
        s.set("backend", "smsgate");
        match &self.certificate {
            Some(c) => {
                s.set("url", format!("https://{}", self.server.addr()));
                s.set("certificate_fingerprint", c.fingerprint().expect("fp"));
            }
            None => s.set("url", format!("http://{}", self.server.addr())),
        }
        s.set("username", "sms");
        s.set("region", "FR");
        s.set("phone_name", PHONE_NAME);
        s.set("own_number", number);
        s.set("webhook_listen", format!("127.0.0.1:{}", self.webhook_port));
        TestAccount {
            settings: s,
            secret: Some(Secret::new(password)),
            address: Address::Phone(PhoneNumber::parse(number).expect("number")),
        }
    }
}
