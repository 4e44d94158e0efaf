//! A hostile gatekeeper user for the conformance suite: a raw client of
//! the reference server (Noise, stanzas, its own Signal device) that
//! encrypts whatever content it likes to the account under test.
//!
//! A case's payload is JSON: a list of messages, each with its stanza id
//! and either a plaintext to encrypt (hex) or a ciphertext sent as it is.

use anyhow::{Context, bail};
use koine_conformance::{HostileCase, HostilePeer, PeerFuture, Victim};
use koine_e2ee::{CiphertextKind, Device, PeerId};
use koine_gatekeeper::wire::noise::{
    NoiseSession, client_handshake, generate_static_key, read_message,
};
use koine_gatekeeper::wire::proto::{self, Content, KeyUpload, Media, Reaction};
use koine_gatekeeper::wire::stanza::{CipherKind, IqPayload, IqType};
use koine_gatekeeper::wire::{Peer, Stanza};
use prost::Message as _;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// One message of a case.
#[derive(Serialize, Deserialize)]
struct Wire {
    id: String,
    /// A plaintext to encrypt (hex).
    content: Option<String>,
    /// A ciphertext to send as a PreKey message without encrypting (hex).
    raw: Option<String>,
}

/// A gatekeeper user logged in over Noise with its own Signal device.
pub struct RawPeer {
    stream: TcpStream,
    noise: NoiseSession,
    device: Device,
    next: u64,
    session_with: Option<Peer>,
}

impl RawPeer {
    /// Logs in as `user` with `password` and publishes a prekey bundle.
    pub async fn login(
        endpoint: &str,
        server_key: &str,
        user: &str,
        password: &str,
    ) -> anyhow::Result<Self> {
        let mut stream = TcpStream::connect(endpoint).await?;
        let (private, _) = generate_static_key()?;
        let pin = hex::decode(server_key)?;
        let noise = client_handshake(&mut stream, &private, Some(&pin)).await?;
        let mut peer = Self {
            stream,
            noise,
            device: Device::ephemeral()?,
            next: 0,
            session_with: None,
        };
        let id = peer.next_id();
        peer.send(&Stanza::Auth {
            id: id.clone(),
            user: user.to_owned(),
            token: None,
            password: Some(password.to_owned()),
        })
        .await?;
        peer.wait(|s| match s {
            Stanza::Success { id: got, .. } if *got == id => Some(Ok(())),
            Stanza::Failure { id: got, code } if *got == id => {
                Some(Err(anyhow::anyhow!("login refused: {}", code.as_str())))
            }
            _ => None,
        })
        .await??;
        let spk = peer.device.signed_pre_key()?;
        let otks = peer.device.generate_one_time_pre_keys(5)?;
        let upload = KeyUpload {
            identity_key: peer.device.identity_key(),
            registration_id: peer.device.registration_id(),
            device_id: 1,
            signed_pre_key: Some(proto::SignedPreKey {
                id: spk.id,
                public_key: spk.public_key,
                signature: spk.signature,
            }),
            one_time_pre_keys: otks
                .into_iter()
                .map(|k| proto::OneTimePreKey {
                    id: k.id,
                    public_key: k.public_key,
                })
                .collect(),
        };
        peer.iq(IqType::Set, IqPayload::Keys(upload.encode_to_vec()))
            .await?;
        Ok(peer)
    }

    fn next_id(&mut self) -> String {
        self.next = self.next.wrapping_add(1);
        format!("mallory-{}", self.next)
    }

    async fn send(&mut self, s: &Stanza) -> anyhow::Result<()> {
        let wire = self.noise.seal_frame(&s.encode())?;
        self.stream.write_all(&wire).await?;
        Ok(())
    }

    /// Reads stanzas until `pick` matches one; the others (the victim's
    /// messages, receipts) are dropped unanswered.
    async fn wait<T>(&mut self, mut pick: impl FnMut(&Stanza) -> Option<T>) -> anyhow::Result<T> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let m = tokio::time::timeout_at(deadline, read_message(&mut self.stream))
                .await
                .context("the server did not answer")??
                .context("the server closed the connection")?;
            for frame in self.noise.open(&m)? {
                if let Some(t) = Stanza::decode(&frame).ok().as_ref().and_then(&mut pick) {
                    return Ok(t);
                }
            }
        }
    }

    async fn iq(&mut self, kind: IqType, payload: IqPayload) -> anyhow::Result<IqPayload> {
        let id = self.next_id();
        self.send(&Stanza::Iq {
            id: id.clone(),
            kind,
            payload,
        })
        .await?;
        self.wait(|s| match s {
            Stanza::Iq {
                id: got,
                kind: IqType::Result,
                payload,
            } if *got == id => Some(Ok(payload.clone())),
            Stanza::Iq { id: got, .. } if *got == id => {
                Some(Err(anyhow::anyhow!("iq {id} refused")))
            }
            _ => None,
        })
        .await?
    }

    /// Starts a Signal session with `to` from its published bundle.
    async fn ensure_session(&mut self, to: &Peer) -> anyhow::Result<()> {
        if self.session_with.as_ref() == Some(to) {
            return Ok(());
        }
        let IqPayload::Bundle(_, bytes) = self
            .iq(IqType::Get, IqPayload::BundleRequest(to.clone()))
            .await?
        else {
            bail!("no bundle for {to}");
        };
        let b: proto::PreKeyBundle = proto::decode("PreKeyBundle", &bytes)?;
        let spk = b.signed_pre_key.unwrap_or_default();
        let bundle = koine_e2ee::PreKeyBundle {
            identity_key: b.identity_key,
            registration_id: b.registration_id,
            device_id: b.device_id,
            signed_pre_key: koine_e2ee::SignedPreKey {
                id: spk.id,
                public_key: spk.public_key,
                signature: spk.signature,
            },
            one_time_pre_key: b.one_time_pre_key.map(|k| koine_e2ee::OneTimePreKey {
                id: k.id,
                public_key: k.public_key,
            }),
        };
        self.device
            .start_session(&PeerId::new(to.to_string(), 1), &bundle)
            .await?;
        self.session_with = Some(to.clone());
        Ok(())
    }

    /// Sends one message and waits until the server stored it.
    async fn send_message(&mut self, to: &Peer, w: &Wire) -> anyhow::Result<()> {
        self.ensure_session(to).await?;
        let (kind, body) = match (&w.content, &w.raw) {
            (Some(plain), _) => {
                let ct = self
                    .device
                    .encrypt(&PeerId::new(to.to_string(), 1), &hex::decode(plain)?)
                    .await?;
                let kind = match ct.kind {
                    CiphertextKind::PreKey => CipherKind::PreKey,
                    CiphertextKind::Whisper => CipherKind::Whisper,
                };
                (kind, ct.bytes)
            }
            (None, Some(raw)) => (CipherKind::PreKey, hex::decode(raw)?),
            (None, None) => bail!("a message with neither content nor ciphertext"),
        };
        self.send(&Stanza::Message {
            id: w.id.clone(),
            to: Some(to.clone()),
            from: None,
            kind,
            ts: None,
            body,
        })
        .await?;
        let id = w.id.clone();
        self.wait(|s| match s {
            Stanza::Ack { id: got, .. } if *got == id => Some(Ok(())),
            Stanza::Nack { id: got, code, .. } if *got == id => Some(Err(anyhow::anyhow!(
                "message {id} refused: {}",
                code.as_str()
            ))),
            _ => None,
        })
        .await?
    }
}

fn victim_peer(victim: &Victim) -> anyhow::Result<Peer> {
    Peer::parse(&victim.address.to_string()).map_err(|e| anyhow::anyhow!("{e}"))
}

fn now_ms() -> i64 {
    koine_api::Timestamp::now().0
}

fn text(t: &str) -> Content {
    Content {
        text: t.to_owned(),
        sent_at_ms: now_ms(),
        ..Content::default()
    }
}

fn media(url: &str, name: &str) -> Media {
    Media {
        url: url.to_owned(),
        key: vec![7; 32],
        nonce: vec![1; 12],
        ciphertext_sha256: vec![2; 32],
        plaintext_sha256: vec![3; 32],
        size: 3,
        mime: "image/png".into(),
        name: name.to_owned(),
    }
}

fn one(id: &str, plaintext: Vec<u8>) -> Wire {
    Wire {
        id: id.to_owned(),
        content: Some(hex::encode(plaintext)),
        raw: None,
    }
}

fn payload(messages: Vec<Wire>) -> Vec<u8> {
    serde_json::to_vec(&messages).unwrap_or_default()
}

/// Unknown protobuf groups nested `depth` deep (field 15), after `prefix`.
fn nested(prefix: Vec<u8>, depth: usize) -> Vec<u8> {
    let mut out = prefix;
    out.extend(std::iter::repeat_n(0x7b, depth));
    out.extend(std::iter::repeat_n(0x7c, depth));
    out
}

impl HostilePeer for RawPeer {
    fn catalogue(&self, victim: &Victim) -> Vec<HostileCase> {
        let own = victim.own_message.as_str();
        let enc = |c: Content| c.encode_to_vec();
        let case = |name: &str, id: &str, c: Content| {
            HostileCase::new(name, payload(vec![one(id, enc(c))]))
        };
        let long_host = format!("https://{}/m", "a".repeat(255));
        let non_ascii = "é\u{202e}🏳️‍🌈\u{0}ü".repeat(1000);
        let flood: Vec<Wire> = (0..100)
            .map(|i| one(&format!("flood-{i}"), enc(text(&format!("flood {i}")))))
            .collect();
        vec![
            case("non-ASCII text with controls", "h1", text(&non_ascii)),
            case("a 150 KB text", "h2", text(&"x".repeat(150_000))),
            case(
                "a reaction to the victim's message",
                "h3",
                Content {
                    reaction: Some(Reaction {
                        target: own.to_owned(),
                        key: "👍".into(),
                        remove: false,
                    }),
                    ..text("")
                },
            ),
            case(
                "a reaction removal of a reaction nobody made",
                "h4",
                Content {
                    reaction: Some(Reaction {
                        target: own.to_owned(),
                        key: "❤".into(),
                        remove: true,
                    }),
                    ..text("")
                },
            ),
            case(
                "a 10 KB reaction to an unknown non-ASCII id",
                "h5",
                Content {
                    reaction: Some(Reaction {
                        target: "é".repeat(5000),
                        key: "😀".repeat(2500),
                        remove: false,
                    }),
                    ..text("")
                },
            ),
            case(
                "a reply to a 10 KB non-ASCII id",
                "h6",
                Content {
                    reply_to: "é".repeat(5000),
                    ..text("a reply to nothing")
                },
            ),
            case(
                "the victim's message id reused",
                own,
                text("SAME ID AS YOURS"),
            ),
            case(
                "non-ASCII, 255-character and unreachable media links",
                "h7",
                Content {
                    media: vec![
                        media("https://é/é", "é.png"),
                        media(&long_host, "long.png"),
                        media("http://127.0.0.1:1/v1/media/x", "closed.png"),
                        media("mxc://not-http/x", ""),
                    ],
                    ..text("links")
                },
            ),
            case(
                "media named like paths, with bad keys and sizes",
                "h8",
                Content {
                    media: vec![
                        Media {
                            key: vec![1; 3],
                            nonce: vec![],
                            size: u64::MAX,
                            ..media("http://127.0.0.1:1/a", "../../../etc/passwd")
                        },
                        media("http://127.0.0.1:1/b", "/etc/passwd"),
                        media("http://127.0.0.1:1/c", ".."),
                    ],
                    ..text("paths")
                },
            ),
            case(
                "100 media in one message",
                "h9",
                Content {
                    media: (0..100)
                        .map(|i| media("http://127.0.0.1:1/m", &format!("m{i}")))
                        .collect(),
                    ..text("many files")
                },
            ),
            case(
                "sent at i64::MIN",
                "h10",
                Content {
                    sent_at_ms: i64::MIN,
                    ..text("from the beginning of time")
                },
            ),
            case(
                "sent at i64::MAX",
                "h11",
                Content {
                    sent_at_ms: i64::MAX,
                    ..text("from the end of time")
                },
            ),
            case(
                "sent from the year 2999",
                "h12",
                Content {
                    sent_at_ms: 32_472_144_000_000,
                    ..text("from 2999")
                },
            ),
            HostileCase::new(
                "one id used twice",
                payload(vec![
                    one("dup", enc(text("first of a pair"))),
                    one("dup", enc(text("SECOND OF A PAIR"))),
                ]),
            )
            .never_showing("SECOND OF A PAIR"),
            HostileCase::new(
                "a ciphertext that does not decrypt",
                payload(vec![Wire {
                    id: "h13".into(),
                    content: None,
                    raw: Some(hex::encode([0x33; 200])),
                }]),
            ),
            HostileCase::new(
                "encrypted bytes that are no protobuf",
                payload(vec![one("h14", vec![0xff; 64])]),
            ),
            HostileCase::new(
                "1000 nested unknown protobuf groups",
                payload(vec![one("h15", nested(Vec::new(), 1000))]),
            ),
            HostileCase::new(
                "20 nested unknown groups after a text",
                payload(vec![one("h16", nested(enc(text("nested")), 20))]),
            ),
            HostileCase::new("a flood of 100 messages", payload(flood)),
        ]
    }

    fn send_raw<'a>(&'a mut self, victim: &'a Victim, payload: &'a [u8]) -> PeerFuture<'a> {
        Box::pin(async move {
            let to = victim_peer(victim)?;
            let messages: Vec<Wire> = serde_json::from_slice(payload)?;
            for w in &messages {
                self.send_message(&to, w).await?;
            }
            Ok(())
        })
    }

    fn send_plain<'a>(&'a mut self, victim: &'a Victim, t: &'a str) -> PeerFuture<'a> {
        Box::pin(async move {
            let to = victim_peer(victim)?;
            let id = format!("plain-{}", uuid::Uuid::new_v4().simple());
            self.send_message(&to, &one(&id, text(t).encode_to_vec()))
                .await
        })
    }
}
