//! The shared conformance suite, run against a real Prosody on loopback.

mod support;

use koine_api::{Address, Protocol, Secret};
use koine_conformance::{
    Harness, HostileCase, HostilePeer, PeerFuture, TestAccount, TestServer, Victim,
};
use std::net::SocketAddr;
use std::sync::Arc;
use support::raw::RawPeer;
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

    /// Not yet: in one full `scripts/test` run out of four, the session
    /// ended with a network error while the OMEMO file was being sent (it
    /// passed alone and in three whole runs of this suite). Files are
    /// covered by `tests/upload.rs` and `tests/omemo.rs` until the cause
    /// is found.
    fn sends_files(&self) -> bool {
        false
    }

    async fn hostile_peer(&self) -> anyhow::Result<Option<Box<dyn HostilePeer>>> {
        let account = &self.accounts[1];
        let secret = account.secret.clone().expect("a password");
        let peer = RawPeer::login(&account.settings, &secret).await;
        Ok(Some(Box::new(Mallory(peer))))
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
    fn observe(
        &self,
        canary: &str,
        _account: usize,
    ) -> Option<koine_conformance::route_truth::Observation> {
        use koine_conformance::route_truth::{Observation, SeenLink, bytes_under, holds};
        Some(Observation {
            link: support::negotiated_tls(&self.prosody.log()).map(SeenLink::Tls),
            plaintext_stored: Some(holds(
                &bytes_under(&self.prosody.dir().join("data")),
                canary,
            )),
            keeps_what_it_reads: true,
            ..Observation::default()
        })
    }
}

/// Account 1 as a raw XMPP client.
struct Mallory(RawPeer);

const CORRECT: &str = "urn:xmpp:message-correct:0";
const RETRACT: &str = "urn:xmpp:message-retract:1";
const REACTIONS: &str = "urn:xmpp:reactions:0";

/// A chat message to `to` with `extra` children after the body.
fn chat(to: &str, id: &str, body: &str, extra: &str) -> String {
    format!(
        "<message xmlns='jabber:client' to='{to}' type='chat' id='{id}'>\
         <body>{body}</body>{extra}</message>"
    )
}

/// One payload: stanzas wrapped in `<batch/>`, sent one by one.
fn batch(stanzas: &[String]) -> String {
    format!("<batch xmlns='urn:koine:test'>{}</batch>", stanzas.concat())
}

impl HostilePeer for Mallory {
    fn catalogue(&self, victim: &Victim) -> Vec<HostileCase> {
        let to = victim.address.to_string();
        let own = victim.own_message.as_str();
        let one = |id: &str, body: &str, extra: &str| batch(&[chat(&to, id, body, extra)]);
        let oob = |url: &str| format!("<x xmlns='jabber:x:oob'><url>{url}</url></x>");
        let delay = |stamp: &str| format!("<delay xmlns='urn:xmpp:delay' stamp='{stamp}'/>");
        let long_url = format!("https://h.example/{}", "é".repeat(30_000));
        let nested = format!(
            "{}{}",
            "<x xmlns='urn:koine:deep'>".repeat(200),
            "</x>".repeat(200)
        );
        let forwarded = |inner_from: &str, body: &str| {
            format!(
                "<forwarded xmlns='urn:xmpp:forward:0'>\
                 <message xmlns='jabber:client' from='{inner_from}' to='{to}' type='chat' id='fwd'>\
                 <body>{body}</body></message></forwarded>"
            )
        };
        let flood: Vec<String> = (0..100)
            .map(|i| chat(&to, &format!("flood-{i}"), &format!("flood {i}"), ""))
            .collect();
        vec![
            HostileCase::new(
                "a non-ASCII OOB link",
                one("h1", "https:/é", &oob("https:/é")),
            ),
            HostileCase::new("a 60 KB link", one("h2", "big link", &oob(&long_url))),
            HostileCase::new("a non-ASCII aesgcm link", one("h3", "aesgcm://é#é", "")),
            HostileCase::new(
                "a correction of the victim's message",
                one(
                    "h4",
                    "SPOOFED EDIT",
                    &format!("<replace xmlns='{CORRECT}' id='{own}'/>"),
                ),
            )
            .never_showing("SPOOFED EDIT"),
            HostileCase::new(
                "a retraction of the victim's message",
                one(
                    "h5",
                    "retracted",
                    &format!("<retract xmlns='{RETRACT}' id='{own}'/>"),
                ),
            ),
            HostileCase::new(
                "a reaction to the victim's message",
                one(
                    "h6",
                    "reacts",
                    &format!(
                        "<reactions xmlns='{REACTIONS}' id='{own}'><reaction>👍</reaction></reactions>"
                    ),
                ),
            ),
            HostileCase::new(
                "the victim's message id reused",
                one(own, "same id as yours", ""),
            ),
            HostileCase::new(
                "one id used twice",
                batch(&[
                    chat(&to, "dup", "first of a pair", ""),
                    chat(&to, "dup", "second of a pair", ""),
                ]),
            ),
            HostileCase::new(
                "a date in the future",
                one("h8", "from 2999", &delay("2999-01-01T00:00:00Z")),
            ),
            HostileCase::new(
                "a date in the past",
                one("h9", "from 1971", &delay("1971-01-01T00:00:00Z")),
            ),
            HostileCase::new("a 100 KB body", one("h10", &"x".repeat(100_000), "")),
            HostileCase::new("200 nested unknown elements", one("h11", "deep", &nested)),
            HostileCase::new(
                "a headline with unknown payloads",
                batch(&[format!(
                    "<message xmlns='jabber:client' to='{to}' type='headline' id='h12'>\
                     <unknown xmlns='urn:koine:unknown'><more/></unknown></message>"
                )]),
            ),
            HostileCase::new(
                "a carbon forged by a contact",
                batch(&[format!(
                    "<message xmlns='jabber:client' to='{to}' type='chat' id='h13'>\
                     <sent xmlns='urn:xmpp:carbons:2'>{}</sent></message>",
                    forwarded(&to, "FORGED CARBON")
                )]),
            )
            .never_showing("FORGED CARBON"),
            HostileCase::new(
                "an archive result forged by a contact",
                batch(&[format!(
                    "<message xmlns='jabber:client' to='{to}' id='h14'>\
                     <result xmlns='urn:xmpp:mam:2' queryid='q' id='a1'>{}</result></message>",
                    forwarded(&to, "FORGED ARCHIVE")
                )]),
            )
            .never_showing("FORGED ARCHIVE"),
            HostileCase::new("a flood of 100 messages", batch(&flood)),
        ]
    }

    fn send_raw<'a>(&'a mut self, _victim: &'a Victim, payload: &'a [u8]) -> PeerFuture<'a> {
        Box::pin(async move {
            let wrapper: tokio_xmpp::minidom::Element = std::str::from_utf8(payload)?.parse()?;
            for stanza in wrapper.children() {
                self.0.send_element(stanza).await;
            }
            Ok(())
        })
    }

    fn send_plain<'a>(&'a mut self, victim: &'a Victim, text: &'a str) -> PeerFuture<'a> {
        Box::pin(async move {
            let id = format!("plain-{}", uuid::Uuid::new_v4().simple());
            self.0
                .send_xml(&chat(victim.address.to_string().as_str(), &id, text, ""))
                .await;
            Ok(())
        })
    }
}

koine_conformance::suite!(XmppHarness);
