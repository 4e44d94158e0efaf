//! The conformance suite against the simulated phone, for both backends.
//!
//! Each account is a desktop paired with its own simulated phone; the two
//! phones share a simulated carrier, so a message from account 0 goes
//! desktop A → phone A → carrier → phone B → desktop B.

mod common;
mod hostile_gate;
mod hostile_kde;

use common::{GateRig, KdeRig, NUMBERS, PASSWORD, PHONE_NAME};
use koine_api::Protocol;
use koine_conformance::{Harness, HostilePeer, TestAccount, TestServer};
use koine_sms::SmsRelay;
use koine_sms::sim::Carrier;
use std::net::SocketAddr;
use std::sync::Arc;

struct KdeHarness;

struct KdeServers {
    _carrier: Arc<Carrier>,
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
        for number in NUMBERS {
            let rig = KdeRig::start(&carrier, number, 8, true, 0).await;
            accounts.push(rig.paired_account(number));
            phones.push(rig);
        }
        // A desktop the phone never paired with: it tells us so.
        let bad = phones[0].stranger_account(NUMBERS[0]);
        Ok(KdeServers {
            _carrier: carrier,
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
        let _ = &self.phones;
        PHONE_NAME.into()
    }

    fn pointed_at(&self, account: &TestAccount, endpoint: SocketAddr) -> TestAccount {
        let mut a = account.clone();
        a.settings.set("phone_address", endpoint.to_string());
        a
    }

    /// Account 0's own phone, paired, writing hostile packets.
    async fn hostile_peer(&self) -> anyhow::Result<Option<Box<dyn HostilePeer>>> {
        Ok(Some(Box::new(hostile_kde::HostilePhone::new(
            self.phones[0].kde.clone(),
        ))))
    }
}

struct GateHarness;

struct GateServers {
    _carrier: Arc<Carrier>,
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
            let rig = GateRig::start(&carrier, number, 0).await;
            accounts.push(rig.account(number, PASSWORD));
            phones.push(rig);
        }
        let bad = phones[0].account(NUMBERS[0], "wrong password");
        Ok(GateServers {
            _carrier: carrier,
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
    koine_conformance::suite!(GateHarness);
}
