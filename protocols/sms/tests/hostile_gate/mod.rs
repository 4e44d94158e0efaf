//! A hostile SMSGate app for the conformance suite: the simulated gateway
//! of account 0 calls the desktop's webhook with signed bodies of its
//! choosing, and raw HTTP anyone on the machine could send.
//!
//! A case's payload is JSON: a list of actions, each a signed call (its
//! body and the `X-Timestamp` it claims) or raw bytes (hex) written to the
//! webhook's socket.

use koine_conformance::{HostileCase, HostilePeer, PeerFuture, Victim};
use koine_sms::sim::smsgate::GatePhone;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const STRANGER: &str = "+33612345698";
const FRIEND: &str = "+33612345699";

#[derive(Serialize, Deserialize)]
enum Action {
    /// A webhook call, signed, claiming this timestamp (seconds).
    Signed { body: String, timestamp: String },
    /// Bytes written as they are to the webhook listener.
    Raw(String),
}

/// The victim's own gateway, turned hostile.
pub struct HostileGate {
    pub gate: Arc<GatePhone>,
    /// The desktop's webhook listener.
    pub webhook: String,
}

fn now_secs() -> i64 {
    koine_api::Timestamp::now().0 / 1000
}

/// A webhook call body.
fn call(id: &str, event: &str, payload: Value) -> String {
    json!({"deviceId": "sim", "event": event, "id": id, "payload": payload,
           "webhookId": "w"})
    .to_string()
}

fn received(id: &str, from: &str, text: &str) -> String {
    call(
        id,
        "sms:received",
        json!({"messageId": id, "message": text, "phoneNumber": from, "simNumber": 1,
               "receivedAt": "2026-01-01T00:00:00.000+00:00"}),
    )
}

fn signed(body: String) -> Action {
    Action::Signed {
        body,
        timestamp: now_secs().to_string(),
    }
}

fn dated(body: String, timestamp: impl ToString) -> Action {
    Action::Signed {
        body,
        timestamp: timestamp.to_string(),
    }
}

fn raw(bytes: impl AsRef<[u8]>) -> Action {
    Action::Raw(hex::encode(bytes))
}

fn payload(actions: Vec<Action>) -> Vec<u8> {
    serde_json::to_vec(&actions).unwrap_or_default()
}

fn case(name: &str, actions: Vec<Action>) -> HostileCase {
    HostileCase::new(name, payload(actions))
}

impl HostileGate {
    async fn raw(&self, bytes: &[u8]) -> anyhow::Result<()> {
        let mut s = tokio::net::TcpStream::connect(&self.webhook).await?;
        // The listener may close early (refusing what it read): both ends
        // of that are fine here.
        let _ = s.write_all(bytes).await;
        let _ = s.shutdown().await;
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            s.read_to_end(&mut answer),
        )
        .await;
        Ok(())
    }
}

impl HostilePeer for HostileGate {
    fn catalogue(&self, victim: &Victim) -> Vec<HostileCase> {
        let own = victim.own_message.as_str();
        let now = now_secs();
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let nested100 = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        let flood: Vec<Action> = (0..100)
            .map(|i| {
                signed(received(
                    &format!("flood-{i}"),
                    STRANGER,
                    &format!("flood {i}"),
                ))
            })
            .collect();
        let http = |head: &str, body: &str| format!("{head}\r\n\r\n{body}").into_bytes();
        vec![
            case(
                "non-ASCII, controls and odd senders",
                vec![
                    signed(received("h1", STRANGER, "é\u{202e}🏳️‍🌈\u{0}\u{1b}[2J")),
                    signed(received("h2", "é", "a non-ASCII sender")),
                    signed(received("h3", "", "an empty sender")),
                    signed(received("h4", &"9".repeat(10_000), "a 10,000-digit sender")),
                ],
            ),
            case(
                "a 3 MB message",
                vec![signed(received("h5", STRANGER, &"x".repeat(3_000_000)))],
            ),
            case("JSON nested 100,000 deep", vec![signed(deep)]),
            case(
                "JSON nested 100 deep in an unknown field",
                vec![signed(call(
                    "h6",
                    "sms:received",
                    json!({"messageId": "h6", "message": "nested", "phoneNumber": STRANGER,
                               "extra": serde_json::from_str::<Value>(&nested100).unwrap_or_default()}),
                ))],
            ),
            case(
                "unknown events and payloads of the wrong shape",
                vec![
                    signed(call("h7", "sms:unknown", json!({"x": 1}))),
                    signed(call("h8", "", json!(null))),
                    signed(call("h9", "sms:received", json!("a string"))),
                    signed(call("h10", "sms:sent", json!({"messageId": 7}))),
                    signed(call("h11", "mms:received", json!({"messageId": []}))),
                    signed("[]".into()),
                    signed("not JSON".into()),
                ],
            ),
            case(
                "reports on the victim's message and on 10,000-character ids",
                vec![
                    signed(call(
                        "h12",
                        "sms:failed",
                        json!({"messageId": own, "phoneNumber": STRANGER, "reason": "spoofed"}),
                    )),
                    signed(call(
                        "h13",
                        "sms:delivered",
                        json!({"messageId": "é".repeat(10_000), "phoneNumber": "é"}),
                    )),
                ],
            ),
            case(
                "timestamps at i64::MIN, i64::MAX, past u64 and 4 minutes ahead",
                vec![
                    dated(received("h14", STRANGER, "dated i64::MIN"), i64::MIN),
                    dated(received("h15", STRANGER, "dated i64::MAX"), i64::MAX),
                    dated(
                        received("h16", STRANGER, "dated past u64"),
                        "99999999999999999999999",
                    ),
                    dated(
                        received("h17", STRANGER, "dated ahead"),
                        now.saturating_add(240),
                    ),
                    dated(
                        received("h18", STRANGER, "dated with spaces"),
                        format!(" {now} "),
                    ),
                ],
            ),
            case(
                "one call id used twice",
                vec![
                    signed(received("dup", STRANGER, "first of a pair")),
                    signed(received("dup", STRANGER, "second of a pair")),
                ],
            ),
            case(
                "calls that are not signed, or signed wrong",
                vec![
                    raw(http(
                        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2",
                        "{}",
                    )),
                    raw(http(
                        "POST / HTTP/1.1\r\nX-Signature: zz\r\nX-Timestamp: é\r\nContent-Length: 2",
                        "{}",
                    )),
                ],
            ),
            case(
                "HTTP framing built to overflow",
                vec![
                    raw(http(
                        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked",
                        "ffffffffffffffff\r\nx\r\n0\r\n\r\n",
                    )),
                    raw(http(
                        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked",
                        "fffffffffffffffffffffff\r\nx\r\n",
                    )),
                    raw(http(
                        "POST / HTTP/1.1\r\nContent-Length: 18446744073709551615",
                        "x",
                    )),
                    raw(http("POST / HTTP/1.1\r\nContent-Length: -1", "x")),
                    raw(http(
                        &format!("POST / HTTP/1.1\r\nX-Long: {}", "é".repeat(100_000)),
                        "",
                    )),
                    raw(b"POST / HTTP/1.1\r\nX-Bad: \xff\xfe\r\n\r\n"),
                    raw(b"\xff\xfe garbage\r\n\r\n"),
                    raw(http("POST / HTTP/1.1\r\nContent-Length: 100", "cut short")),
                    raw(b""),
                ],
            ),
            case("a flood of 100 calls", flood),
        ]
    }

    fn send_raw<'a>(&'a mut self, _victim: &'a Victim, payload: &'a [u8]) -> PeerFuture<'a> {
        Box::pin(async move {
            let actions: Vec<Action> = serde_json::from_slice(payload)?;
            for a in actions {
                match a {
                    Action::Signed { body, timestamp } => {
                        // A refusal, or a listener that hangs up on a body
                        // it will not read, is an answer too.
                        let _ = self.gate.post_signed(body.as_bytes(), &timestamp).await;
                    }
                    Action::Raw(bytes) => self.raw(&hex::decode(bytes)?).await?,
                }
            }
            Ok(())
        })
    }

    fn send_plain<'a>(&'a mut self, _victim: &'a Victim, text: &'a str) -> PeerFuture<'a> {
        Box::pin(async move {
            self.gate
                .phone
                .inject_sms(FRIEND, text)
                .ok_or_else(|| anyhow::anyhow!("the phone's store is gone"))?;
            Ok(())
        })
    }
}
