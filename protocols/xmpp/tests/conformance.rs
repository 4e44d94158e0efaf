//! The shared conformance suite, run against a real Prosody on loopback.

mod support;

use koine_api::{Address, Protocol, Secret};
use koine_conformance::{Harness, TestAccount, TestServer};
use std::net::SocketAddr;
use std::sync::Arc;
use support::{DOMAIN, Prosody};

struct XmppHarness;

struct Server {
    prosody: Prosody,
    accounts: Vec<TestAccount>,
}

impl Harness for XmppHarness {
    type Server = Server;

    fn protocol(&self) -> Arc<dyn Protocol> {
        Arc::new(koine_xmpp::Xmpp::new())
    }

    async fn start(&self) -> anyhow::Result<Server> {
        let server = tokio::task::spawn_blocking(|| {
            let prosody = Prosody::start();
            let accounts = ["anna", "ben"]
                .iter()
                .map(|user| {
                    let (settings, secret, jid) = prosody.account(user);
                    TestAccount {
                        settings,
                        secret: Some(secret),
                        address: Address::Jid(jid),
                    }
                })
                .collect();
            Server { prosody, accounts }
        })
        .await?;
        Ok(server)
    }
}

impl TestServer for Server {
    fn account(&self, index: usize) -> TestAccount {
        self.accounts[index].clone()
    }

    fn bad_credentials(&self) -> TestAccount {
        TestAccount {
            secret: Some(Secret::new("not the password")),
            ..self.accounts[0].clone()
        }
    }

    fn route_host(&self) -> String {
        DOMAIN.to_owned()
    }

    fn pointed_at(&self, account: &TestAccount, endpoint: SocketAddr) -> TestAccount {
        let mut settings = account.settings.clone();
        settings.set("server_host", endpoint.ip().to_string());
        settings.set("server_port", endpoint.port().to_string());
        let _ = &self.prosody;
        TestAccount {
            settings,
            ..account.clone()
        }
    }

    /// Prosody's own account of the message: the TLS version its log says
    /// the client streams negotiated, and whether its archive (every chat
    /// message is archived here) holds the text in the clear.
    fn observe(&self, canary: &str) -> Option<koine_conformance::route_truth::Observation> {
        use koine_conformance::route_truth::{Observation, bytes_under, holds};
        Some(Observation {
            tls: support::negotiated_tls(&self.prosody.log()),
            plaintext_stored: Some(holds(
                &bytes_under(&self.prosody.dir().join("data")),
                canary,
            )),
            keeps_what_it_reads: true,
        })
    }
}

koine_conformance::suite!(XmppHarness);
