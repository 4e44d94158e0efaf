//! A hostile server that completes the Noise handshake with the pinned key
//! and then misbehaves: every kind of bad input ends in a typed error or a
//! notice, never a panic or a hang.

mod common;

use common::Live;
use koine_api::{Event, InputSource, Notice, ProtocolError, SendError, SessionError, Settings};
use koine_gatekeeper::wire::noise::{generate_static_key, read_message, server_handshake};
use koine_gatekeeper::wire::stanza::{IqPayload, IqType};
use koine_gatekeeper::wire::{Peer, Stanza};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

#[derive(Clone, Copy)]
enum Misbehaviour {
    OversizeFrame,
    MalformedStanza,
    BadNoiseTag,
    TruncatedBundle,
}

async fn hostile(kind: Misbehaviour) -> anyhow::Result<(String, Vec<u8>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    let (private, public) = generate_static_key()?;
    tokio::spawn(async move {
        let Ok((mut s, _)) = listener.accept().await else {
            return;
        };
        let Ok(mut noise) = server_handshake(&mut s, &private).await else {
            return;
        };
        // First stanza: <auth>.
        let Ok(Some(m)) = read_message(&mut s).await else {
            return;
        };
        let Ok(frames) = noise.open(&m) else { return };
        let Some(Ok(Stanza::Auth { id, .. })) = frames.first().map(|f| Stanza::decode(f)) else {
            return;
        };
        let send = |noise: &mut koine_gatekeeper::wire::noise::NoiseSession, body: &[u8]| {
            noise.seal_frame(body).unwrap_or_default()
        };
        match kind {
            Misbehaviour::OversizeFrame => {
                // A frame header announcing 4 GiB inside a valid Noise message.
                let mut raw = vec![0u8; 32];
                let n = noise_raw(&mut noise, &[0xff, 0xff, 0xff, 0xff], &mut raw);
                let _ = s.write_all(&n).await;
            }
            Misbehaviour::MalformedStanza => {
                let w = send(&mut noise, b"<success id='1' user='nobody' session=>");
                let _ = s.write_all(&w).await;
            }
            Misbehaviour::BadNoiseTag => {
                let _ = s.write_all(&[0, 40]).await;
                let _ = s.write_all(&[0x5a; 40]).await;
            }
            Misbehaviour::TruncatedBundle => {
                let ok = Stanza::Success {
                    id,
                    user: Peer::parse("koine:alice").expect("address"),
                    session: "s".into(),
                    prekeys: 100,
                };
                let w = send(&mut noise, &ok.encode());
                let _ = s.write_all(&w).await;
                // Answer every iq: keys with a count, bundles truncated.
                loop {
                    let Ok(Some(m)) = read_message(&mut s).await else {
                        return;
                    };
                    let Ok(frames) = noise.open(&m) else { return };
                    for f in frames {
                        if let Ok(Stanza::Iq { id, payload, .. }) = Stanza::decode(&f) {
                            let answer = match payload {
                                IqPayload::BundleRequest(of) => {
                                    IqPayload::Bundle(of, vec![0x0a, 0x21, 0x05])
                                }
                                _ => IqPayload::Count(Some(100)),
                            };
                            let st = Stanza::Iq {
                                id,
                                kind: IqType::Result,
                                payload: answer,
                            };
                            let w = send(&mut noise, &st.encode());
                            let _ = s.write_all(&w).await;
                        }
                    }
                }
            }
        }
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    });
    Ok((addr, public))
}

/// Encrypts raw plaintext bytes (not a frame) as one transport message.
fn noise_raw(
    noise: &mut koine_gatekeeper::wire::noise::NoiseSession,
    plaintext: &[u8],
    _scratch: &mut [u8],
) -> Vec<u8> {
    noise.seal_raw(plaintext).unwrap_or_default()
}

fn account(endpoint: &str, key: &[u8]) -> koine_conformance::TestAccount {
    let mut s = Settings::default();
    s.set("user", "+4915112345678");
    s.set("endpoint", endpoint);
    s.set("server_key", hex::encode(key));
    s.set("gatekeeper_http", "http://127.0.0.1:9");
    koine_conformance::TestAccount {
        settings: s,
        secret: Some(koine_api::Secret::new("pw")),
        address: koine_api::Address::parse_any("+4915112345678").expect("address"),
    }
}

async fn ends_with(kind: Misbehaviour) -> anyhow::Result<SessionError> {
    let (addr, key) = hostile(kind).await?;
    let dirs = tempfile::tempdir()?;
    let live = Live::start(&account(&addr, &key), &dirs.path().join("x"))?;
    match live.ended().await? {
        Err(e) => Ok(e),
        Ok(()) => anyhow::bail!("the session must fail"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_frame_is_a_typed_error() -> anyhow::Result<()> {
    let e = ends_with(Misbehaviour::OversizeFrame).await?;
    assert!(
        matches!(
            e,
            SessionError::Protocol(ProtocolError::TooLarge { what: "frame", .. })
        ),
        "{e:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_stanza_is_a_typed_error() -> anyhow::Result<()> {
    let e = ends_with(Misbehaviour::MalformedStanza).await?;
    assert!(
        matches!(
            e,
            SessionError::Protocol(ProtocolError::Malformed { what: "stanza", .. })
        ),
        "{e:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_noise_tag_is_a_typed_error() -> anyhow::Result<()> {
    let e = ends_with(Misbehaviour::BadNoiseTag).await?;
    assert!(
        matches!(e, SessionError::Protocol(ProtocolError::Decrypt(_))),
        "{e:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_bundle_fails_the_send_and_the_session_goes_on() -> anyhow::Result<()> {
    let (addr, key) = hostile(Misbehaviour::TruncatedBundle).await?;
    let dirs = tempfile::tempdir()?;
    let mut live = Live::start(&account(&addr, &key), &dirs.path().join("x"))?;
    live.online().await?;
    live.send(common::text("+4930123456789", "hi", "t1"))
        .await?;
    let mut noticed = false;
    let error = live
        .wait("t1 failed", |e| match e {
            Event::Notice(Notice::MalformedInput {
                source: InputSource::Server,
                detail,
            }) => {
                noticed = detail.contains("PreKeyBundle");
                None
            }
            Event::SendFailed { error, .. } => Some(error.clone()),
            _ => None,
        })
        .await?;
    assert!(noticed, "a notice names the bad bundle");
    assert!(matches!(error, SendError::Rejected(_)));
    Ok(())
}
