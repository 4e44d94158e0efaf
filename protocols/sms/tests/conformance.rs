//! The conformance suite against the simulated phone, for both backends.
//!
//! Each account is a desktop paired with its own simulated phone; the two
//! phones share a simulated carrier, so a message from account 0 goes
//! desktop A → phone A → carrier → phone B → desktop B.
//!
//! For route truth, each account's first hop is its own phone: it reports
//! the links to its desktop that carried the canary (the TLS version it
//! negotiated, or plain HTTP), whether its SMS store holds the canary (a
//! phone keeps what it sends and receives), and whether the carrier carried
//! it in the clear.

mod common;
mod hostile_gate;
mod hostile_kde;

use common::{GateRig, KdeRig, NUMBERS, PASSWORD, PHONE_NAME};
use koine_api::Protocol;
use koine_conformance::route_truth::{Observation, SeenLink};
use koine_conformance::{Harness, HostilePeer, TestAccount, TestServer};
use koine_sms::SmsRelay;
use koine_sms::sim::kdeconnect::KdeConfig;
use koine_sms::sim::{Carrier, LinkSecurity, Phone, WireLog};
use std::net::SocketAddr;
use std::sync::Arc;

/// What a phone saw of the message whose text is `canary`.
fn phone_saw(phone: &Phone, wire: &WireLog, carrier: &Carrier, canary: &str) -> Observation {
    let links = wire.links_carrying(canary);
    let weakest = links.first().map(|link| match link {
        LinkSecurity::Plaintext => SeenLink::Plaintext,
        LinkSecurity::Tls(version) => SeenLink::Tls(*version),
    });
    assert!(
        weakest.is_some(),
        "the phone {} saw {canary:?} on no link with its desktop",
        phone.config.number
    );
    Observation {
        link: weakest,
        plaintext_stored: phone.with_store(|s| s.holds(canary)),
        keeps_what_it_reads: true,
        onward_in_clear: Some(carrier.carried(canary)),
    }
}

struct KdeHarness;

struct KdeServers {
    carrier: Arc<Carrier>,
    phones: Vec<KdeRig>,
    accounts: Vec<TestAccount>,
    bad: TestAccount,
}

impl Harness for KdeHarness {
    type Server = KdeServers;

    fn protocol(&self) -> Arc<dyn Protocol> {
        Arc::new(SmsRelay::new("FR"))
    }

    async fn start(&self) -> anyhow::Result<KdeServers> {
        let carrier = Carrier::new();
        let mut phones = Vec::new();
        let mut accounts = Vec::new();
        // Account 0's phone offers only TLS 1.2, like the Android app;
        // account 1's offers TLS 1.3 too.
        for (i, number) in NUMBERS.into_iter().enumerate() {
            let config = KdeConfig {
                device_id: format!("sim_{}", number.trim_start_matches('+')),
                protocol_version: 8,
                accept_pairing: true,
            };
            let rig = KdeRig::start_with(&carrier, number, 0, config, i == 0, false).await;
            accounts.push(rig.paired_account(number));
            phones.push(rig);
        }
        // A desktop the phone never paired with: it tells us so.
        let bad = phones[0].stranger_account(NUMBERS[0]);
        Ok(KdeServers {
            carrier,
            phones,
            accounts,
            bad,
        })
    }
}

impl TestServer for KdeServers {
    fn account(&self, index: usize) -> TestAccount {
        self.accounts[index].clone()
    }

    fn bad_credentials(&self) -> TestAccount {
        self.bad.clone()
    }

    fn route_host(&self) -> String {
        PHONE_NAME.into()
    }

    fn pointed_at(&self, account: &TestAccount, endpoint: SocketAddr) -> TestAccount {
        let mut a = account.clone();
        a.settings.set("phone_address", endpoint.to_string());
        a
    }

    /// The account's own phone: the KDE Connect links that carried the
    /// canary, its SMS store, and the carrier.
    fn observe(&self, canary: &str, account: usize) -> Option<Observation> {
        let rig = self.phones.get(account)?;
        Some(phone_saw(&rig.phone, rig.kde.wire(), &self.carrier, canary))
    }

    /// Account 0's own phone, paired, writing hostile packets.
    async fn hostile_peer(&self) -> anyhow::Result<Option<Box<dyn HostilePeer>>> {
        Ok(Some(Box::new(hostile_kde::HostilePhone::new(
            self.phones[0].kde.clone(),
        ))))
    }
}

/// SMSGate's local API over plain HTTP, or in the app's HTTPS mode.
struct GateHarness {
    https: bool,
}

struct GateServers {
    carrier: Arc<Carrier>,
    phones: Vec<GateRig>,
    accounts: Vec<TestAccount>,
    bad: TestAccount,
}

impl Harness for GateHarness {
    type Server = GateServers;

    fn protocol(&self) -> Arc<dyn Protocol> {
        Arc::new(SmsRelay::new("FR"))
    }

    async fn start(&self) -> anyhow::Result<GateServers> {
        let carrier = Carrier::new();
        let mut phones = Vec::new();
        let mut accounts = Vec::new();
        for number in NUMBERS {
            let rig = GateRig::start_with(&carrier, number, 0, self.https).await;
            accounts.push(rig.account(number, PASSWORD));
            phones.push(rig);
        }
        let bad = phones[0].account(NUMBERS[0], "wrong password");
        Ok(GateServers {
            carrier,
            phones,
            accounts,
            bad,
        })
    }
}

impl TestServer for GateServers {
    fn account(&self, index: usize) -> TestAccount {
        self.accounts[index].clone()
    }

    fn bad_credentials(&self) -> TestAccount {
        self.bad.clone()
    }

    fn route_host(&self) -> String {
        PHONE_NAME.into()
    }

    fn pointed_at(&self, account: &TestAccount, endpoint: SocketAddr) -> TestAccount {
        let mut a = account.clone();
        a.settings.set("url", format!("http://{endpoint}"));
        a
    }

    /// The account's own phone: the API requests and webhook calls that
    /// carried the canary, its SMS store, and the carrier.
    fn observe(&self, canary: &str, account: usize) -> Option<Observation> {
        let rig = self.phones.get(account)?;
        Some(phone_saw(
            &rig.phone,
            rig.gate.wire(),
            &self.carrier,
            canary,
        ))
    }

    /// The app's local API refuses to send MMS (the KDE Connect backend
    /// sends them).
    fn sends_files(&self) -> bool {
        false
    }

    /// Account 0's own gateway app, calling its webhook with hostile bodies.
    async fn hostile_peer(&self) -> anyhow::Result<Option<Box<dyn HostilePeer>>> {
        Ok(Some(Box::new(hostile_gate::HostileGate {
            gate: self.phones[0].gate.clone(),
            webhook: format!("127.0.0.1:{}", self.phones[0].webhook_port),
        })))
    }
}

mod kdeconnect {
    use super::*;
    koine_conformance::suite!(KdeHarness);
}

mod smsgate {
    use super::*;
    koine_conformance::suite!(GateHarness { https: false });
}

mod smsgate_https {
    use super::*;
    koine_conformance::suite!(GateHarness { https: true });
}
