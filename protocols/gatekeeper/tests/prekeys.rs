//! Prekeys on the reference server. One peer cannot drain a user's one-time
//! prekeys: past a small burst, the bundles it fetches carry no one-time
//! prekey (X3DH still works with the signed prekey), while another peer
//! still gets one. A week-old signed prekey is replaced at login.

mod common;

use common::{Live, Server};
use koine_gatekeeper::wire::Stanza;
use koine_gatekeeper::wire::noise::{
    NoiseSession, client_handshake, generate_static_key, read_message,
};
use koine_gatekeeper::wire::proto::{self, PreKeyBundle};
use koine_gatekeeper::wire::stanza::{IqPayload, IqType};
use std::collections::VecDeque;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const ALICE: &str = "koine:alice";

/// A bare client speaking the wire protocol, logged in with a password.
struct Raw {
    stream: TcpStream,
    noise: NoiseSession,
    inbox: VecDeque<Stanza>,
    next: u32,
}

impl Raw {
    async fn login(server: &Server, user: &str, password: &str) -> anyhow::Result<Self> {
        let mut stream = TcpStream::connect(&server.ready.noise).await?;
        let (private, _) = generate_static_key()?;
        let key = hex::decode(&server.ready.server_key)?;
        let noise = client_handshake(&mut stream, &private, Some(&key)).await?;
        let mut raw = Self {
            stream,
            noise,
            inbox: VecDeque::new(),
            next: 0,
        };
        raw.send(&Stanza::Auth {
            id: "auth".into(),
            user: user.into(),
            token: None,
            password: Some(password.into()),
        })
        .await?;
        loop {
            match raw.recv().await? {
                Stanza::Success { .. } => return Ok(raw),
                Stanza::Failure { .. } => anyhow::bail!("login refused"),
                _ => {}
            }
        }
    }

    async fn send(&mut self, s: &Stanza) -> anyhow::Result<()> {
        let m = self.noise.seal_frame(&s.encode())?;
        self.stream.write_all(&m).await?;
        Ok(())
    }

    async fn recv(&mut self) -> anyhow::Result<Stanza> {
        loop {
            if let Some(s) = self.inbox.pop_front() {
                return Ok(s);
            }
            let m = read_message(&mut self.stream)
                .await?
                .ok_or_else(|| anyhow::anyhow!("closed"))?;
            for f in self.noise.open(&m)? {
                self.inbox.push_back(Stanza::decode(&f)?);
            }
        }
    }

    /// Fetches `of`'s bundle; whether it carried a one-time prekey.
    async fn bundle_has_one_time_key(&mut self, of: &str) -> anyhow::Result<bool> {
        Ok(self.bundle(of).await?.one_time_pre_key.is_some())
    }

    /// Fetches `of`'s bundle.
    async fn bundle(&mut self, of: &str) -> anyhow::Result<PreKeyBundle> {
        self.next += 1;
        let id = format!("b{}", self.next);
        self.send(&Stanza::Iq {
            id: id.clone(),
            kind: IqType::Get,
            payload: IqPayload::BundleRequest(koine_gatekeeper::wire::Peer::parse(of)?),
        })
        .await?;
        loop {
            if let Stanza::Iq {
                id: got, payload, ..
            } = self.recv().await?
                && got == id
            {
                let IqPayload::Bundle(_, bytes) = payload else {
                    anyhow::bail!("no bundle: {payload:?}");
                };
                return Ok(proto::decode("PreKeyBundle", &bytes)?);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_peer_cannot_drain_a_users_one_time_prekeys() -> anyhow::Result<()> {
    let server = Server::start()?;
    server.admin(&["add-user", ALICE, "pw-a"])?;
    for (user, pw) in [("+4915112345678", "pw-b"), ("+4930123456789", "pw-c")] {
        server.admin(&["add-user", user, pw])?;
        server.admin(&["opt-in", user, "koine"])?;
    }
    let dirs = tempfile::tempdir()?;
    // Alice publishes her keys (50 one-time prekeys).
    let mut a = Live::start(&server.account(ALICE, "pw-a"), &dirs.path().join("a"))?;
    a.online().await?;

    let mut bob = Raw::login(&server, "+4915112345678", "pw-b").await?;
    let mut with_key = 0;
    for _ in 0..20 {
        if bob.bundle_has_one_time_key(ALICE).await? {
            with_key += 1;
        }
    }
    assert!(
        (1..=5).contains(&with_key),
        "one peer took {with_key} of Alice's one-time prekeys in a burst"
    );
    // The last one Bob asked for came without: the cap holds.
    assert!(!bob.bundle_has_one_time_key(ALICE).await?);
    // Another peer is not held back by Bob.
    let mut carol = Raw::login(&server, "+4930123456789", "pw-c").await?;
    assert!(carol.bundle_has_one_time_key(ALICE).await?);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_week_old_signed_prekey_is_replaced_when_the_account_logs_in() -> anyhow::Result<()> {
    let server = Server::start()?;
    server.admin(&["add-user", ALICE, "pw-a"])?;
    server.admin(&["add-user", "+4915112345678", "pw-b"])?;
    server.admin(&["opt-in", "+4915112345678", "koine"])?;
    let dirs = tempfile::tempdir()?;
    let dir = dirs.path().join("a");
    let mut a = Live::start(&server.account(ALICE, "pw-a"), &dir)?;
    a.online().await?;
    a.ended().await??;

    // While the account is away, its signed prekey turns eight days old.
    let aged = {
        let secrets = common::keyring(&dir);
        let mut device = koine_e2ee::Device::open(&dir.join("e2ee.sqlite"), &secrets)?;
        let eight_days = 8 * 24 * 3600 * 1000;
        device
            .rotate_signed_pre_key_at(koine_api::Timestamp(
                koine_api::Timestamp::now().0 - eight_days,
            ))?
            .id
    };

    let mut a = Live::start(&server.account(ALICE, "pw-a"), &dir)?;
    a.online().await?;
    let mut bob = Raw::login(&server, "+4915112345678", "pw-b").await?;
    let published = bob
        .bundle(ALICE)
        .await?
        .signed_pre_key
        .ok_or_else(|| anyhow::anyhow!("no signed prekey"))?;
    assert!(
        published.id > aged,
        "the server still hands out the week-old signed prekey {aged} (got {})",
        published.id
    );
    Ok(())
}
