//! The shared conformance suite against a real Synapse on loopback.
//!
//! The two accounts share an encrypted direct chat made at start (A invites,
//! B joins, both mark it direct), so the suite's messages are Megolm-encrypted
//! between Koine devices; the conversation key is that room's id.

mod hostile_matrix;
mod support;

use koine_api::{ConversationKey, Protocol};
use koine_conformance::{Harness, HostilePeer, TestAccount, TestServer};
use std::net::SocketAddr;
use std::sync::Arc;
use support::{Synapse, TestUser};

struct MatrixHarness;

struct Server {
    synapse: Synapse,
    users: [TestUser; 2],
    room: String,
}

impl Harness for MatrixHarness {
    type Server = Server;

    fn protocol(&self) -> Arc<dyn Protocol> {
        Arc::new(koine_matrix::Matrix)
    }

    async fn start(&self) -> anyhow::Result<Server> {
        let synapse = Synapse::start().await?;
        let a = synapse.register("alice").await?;
        let b = synapse.register("bob").await?;
        let room = a.create_room(&[&b], true, true).await?;
        b.join(&room).await?;
        b.set_direct(&a.user_id, &room).await?;
        Ok(Server {
            synapse,
            users: [a, b],
            room,
        })
    }
}

impl TestServer for Server {
    fn account(&self, index: usize) -> TestAccount {
        let user = &self.users[index.min(1)];
        TestAccount {
            settings: self.synapse.settings(user),
            secret: Some(user.secret()),
            address: user.address(),
        }
    }

    fn bad_credentials(&self) -> TestAccount {
        let mut account = self.account(0);
        account.secret = Some(koine_api::Secret::new("not the password"));
        account
    }

    fn route_host(&self) -> String {
        support::SERVER_NAME.into()
    }

    fn pointed_at(&self, account: &TestAccount, endpoint: SocketAddr) -> TestAccount {
        let mut pointed = account.clone();
        pointed
            .settings
            .set("homeserver", format!("http://{endpoint}"));
        pointed
    }

    fn conversation_key(&self, _to: &TestAccount) -> ConversationKey {
        ConversationKey::new(&self.room)
    }

    /// Account 1 as a raw client-server API client in the shared room.
    async fn hostile_peer(&self) -> anyhow::Result<Option<Box<dyn HostilePeer>>> {
        Ok(Some(Box::new(hostile_matrix::RawMember {
            user: self.users[1].clone(),
            room: self.room.clone(),
        })))
    }

    /// Synapse keeps every event it can read in its database: a plaintext
    /// event's text is there, a Megolm one's is not.
    fn observe(
        &self,
        canary: &str,
        _account: usize,
    ) -> Option<koine_conformance::route_truth::Observation> {
        use koine_conformance::route_truth::{Observation, bytes_under, holds};
        Some(Observation {
            plaintext_stored: Some(holds(&bytes_under(self.synapse.dir()), canary)),
            keeps_what_it_reads: true,
            ..Observation::default()
        })
    }
}

koine_conformance::suite!(MatrixHarness);
