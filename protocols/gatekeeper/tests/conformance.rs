//! The shared conformance suite against the reference server: account 0 is a
//! third-party user (`koine:alice`), account 1 a gatekeeper user who opted in
//! to the `koine` provider.

mod common;
mod hostile_peer;

use common::Server;
use koine_api::Protocol;
use koine_conformance::{Harness, HostilePeer, TestAccount, TestServer};
use std::net::SocketAddr;
use std::sync::Arc;

struct Gatekeeper;

struct Running {
    server: Server,
    a: TestAccount,
    b: TestAccount,
}

impl Harness for Gatekeeper {
    type Server = Running;

    fn protocol(&self) -> Arc<dyn Protocol> {
        Arc::new(koine_gatekeeper::GatekeeperProtocol)
    }

    async fn start(&self) -> anyhow::Result<Running> {
        let server = tokio::task::spawn_blocking(|| -> anyhow::Result<Server> {
            let server = Server::start()?;
            server.admin(&["opt-in", "+4915112345678", "koine"])?;
            Ok(server)
        })
        .await??;
        let a = server.user("koine:alice", "alice-password")?;
        let b = server.user("+4915112345678", "bob-password")?;
        Ok(Running { server, a, b })
    }
}

impl TestServer for Running {
    fn account(&self, index: usize) -> TestAccount {
        if index == 0 {
            self.a.clone()
        } else {
            self.b.clone()
        }
    }

    fn bad_credentials(&self) -> TestAccount {
        self.server.account("koine:alice", "wrong-password")
    }

    fn route_host(&self) -> String {
        "gatekeeper.test".into()
    }

    fn pointed_at(&self, account: &TestAccount, endpoint: SocketAddr) -> TestAccount {
        let mut a = account.clone();
        a.settings.set("endpoint", endpoint.to_string());
        a
    }

    /// Account 1, the gatekeeper user, as a raw client with its own
    /// Signal device.
    async fn hostile_peer(&self) -> anyhow::Result<Option<Box<dyn HostilePeer>>> {
        let peer = hostile_peer::RawPeer::login(
            &self.server.ready.noise,
            &self.server.ready.server_key,
            "+4915112345678",
            "bob-password",
        )
        .await?;
        Ok(Some(Box::new(peer)))
    }

    /// The reference server's database, spool and log: it relays Signal
    /// ciphertext over Noise, keeps only what waits for delivery, and
    /// must hold the text nowhere in the clear.
    fn observe(
        &self,
        canary: &str,
        _account: usize,
    ) -> Option<koine_conformance::route_truth::Observation> {
        use koine_conformance::route_truth::{Observation, bytes_under, holds};
        Some(Observation {
            plaintext_stored: Some(holds(&bytes_under(self.server.dir.path()), canary)),
            keeps_what_it_reads: false,
            ..Observation::default()
        })
    }
}

koine_conformance::suite!(Gatekeeper);
