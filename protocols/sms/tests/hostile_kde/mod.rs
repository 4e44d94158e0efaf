//! A hostile paired phone for the conformance suite: after pairing, the
//! simulated phone writes whatever lines it likes on the KDE Connect link
//! (payloads are raw bytes, one or more packets each).

use koine_conformance::{HostileCase, HostilePeer, PeerFuture, Victim};
use koine_sms::kdeconnect::packet::MAX_PACKET_BYTES;
use koine_sms::sim::Part;
use koine_sms::sim::kdeconnect::KdePhone;
use serde_json::{Value, json};
use std::sync::Arc;

/// Who the hostile messages claim to come from, and who writes the plain
/// ones in between.
const STRANGER: &str = "+33612345698";
const FRIEND: &str = "+33612345699";

/// MMS part names a hostile phone may use, each served with a few bytes.
pub const PART_NAMES: [&str; 5] = ["..", "/etc/passwd", "../../x", "é/\u{0}", ""];

/// The victim's own phone, turned hostile.
pub struct HostilePhone {
    pub kde: Arc<KdePhone>,
}

impl HostilePhone {
    pub fn new(kde: Arc<KdePhone>) -> Self {
        for name in PART_NAMES {
            kde.add_part(
                name,
                Part {
                    name: name.into(),
                    mime: "image/png".into(),
                    bytes: b"png".to_vec(),
                },
            );
        }
        Self { kde }
    }
}

/// One packet line.
fn line(kind: &str, body: Value) -> Vec<u8> {
    let mut l =
        serde_json::to_vec(&json!({"id": 1, "type": kind, "body": body})).unwrap_or_default();
    l.push(b'\n');
    l
}

/// A `kdeconnect.sms.messages` line with `messages`.
fn messages(messages: Vec<Value>) -> Vec<u8> {
    line(
        "kdeconnect.sms.messages",
        json!({"messages": messages, "version": 2}),
    )
}

/// An incoming SMS from `from`.
fn sms(uid: i64, from: &str, body: &str, date: i64) -> Value {
    json!({"event": 1, "body": body, "addresses": [{"address": from}], "date": date,
           "type": 1, "read": 0, "thread_id": 9001, "_id": uid, "sub_id": -1})
}

fn now_ms() -> i64 {
    koine_api::Timestamp::now().0
}

/// A packet line of exactly `size` bytes before its newline, its body
/// made of two-byte characters up to the end.
fn sized(size: usize) -> Vec<u8> {
    let line = |body: &str| messages(vec![sms(1_000_100, STRANGER, body, now_ms())]);
    let empty = line("").len().saturating_sub(1);
    let room = size.saturating_sub(empty);
    let body = format!("{}{}", "x".repeat(room % 2), "é".repeat(room / 2));
    line(&body)
}

impl HostilePeer for HostilePhone {
    fn catalogue(&self, victim: &Victim) -> Vec<HostileCase> {
        let own: i64 = victim.own_message.as_str().parse().unwrap_or(1);
        let victim_number = victim.address.to_string();
        let now = now_ms();
        let mut uid = 1_000_000;
        let mut next = || {
            uid += 1;
            uid
        };
        let one = |m: Value| HostileCase::new("", messages(vec![m]));
        let named = |name: &str, c: HostileCase| HostileCase {
            name: name.into(),
            ..c
        };
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let mut nested_ok = sms(next(), STRANGER, "nested", now);
        nested_ok["extra"] =
            serde_json::from_str(&format!("{}1{}", "[".repeat(100), "]".repeat(100)))
                .unwrap_or_default();
        let attachments: Vec<Value> = PART_NAMES
            .iter()
            .enumerate()
            .map(|(i, n)| {
                json!({"part_id": i, "mime_type": "image/png",
                                 "encoded_thumbnail": "", "unique_identifier": n})
            })
            .collect();
        let mut mms = sms(next(), STRANGER, "parts with path names", now);
        mms["attachments"] = Value::Array(attachments);
        mms["event"] = json!(1);
        let flood: Vec<Value> = (0..1000)
            .map(|i| sms(2_000_000 + i, STRANGER, &format!("flood {i}"), now))
            .collect();
        let mut unknown = Vec::new();
        for i in 0..200 {
            unknown.extend(line(&format!("kdeconnect.unknown.{i}"), json!({"x": i})));
        }
        vec![
            named(
                "non-ASCII, controls and odd addresses",
                HostileCase::new(
                    "",
                    messages(vec![
                        sms(next(), STRANGER, "é\u{202e}🏳️‍🌈\u{0}\u{1b}[2J", now),
                        sms(next(), "é", "a non-ASCII sender", now),
                        sms(next(), "", "an empty sender", now),
                        sms(next(), &"9".repeat(10_000), "a 10,000-digit sender", now),
                    ]),
                ),
            ),
            HostileCase::new("a line cut inside a character", b"{\"id\":1,\"\xc3\n".to_vec()),
            HostileCase::new(
                "a packet of exactly the limit in two-byte characters",
                sized(MAX_PACKET_BYTES),
            ),
            HostileCase::new(
                "a packet one byte over the limit in two-byte characters",
                sized(MAX_PACKET_BYTES.saturating_add(1)),
            ),
            HostileCase::new("a 3 MB body", {
                let big = "x".repeat(3_000_000);
                messages(vec![sms(next(), STRANGER, &big, now)])
            }),
            HostileCase::new(
                "JSON nested 100,000 deep",
                format!(
                    "{{\"id\":1,\"type\":\"kdeconnect.sms.messages\",\"body\":{{\"messages\":{deep}}}}}\n"
                )
                .into_bytes(),
            ),
            named("JSON nested 100 deep in an unknown field", one(nested_ok)),
            named(
                "dates at i64::MIN, i64::MAX and in 2999",
                HostileCase::new(
                    "",
                    messages(vec![
                        sms(next(), STRANGER, "dated i64::MIN", i64::MIN),
                        sms(next(), STRANGER, "dated i64::MAX", i64::MAX),
                        sms(next(), STRANGER, "dated 2999", 32_472_144_000_000),
                    ]),
                ),
            ),
            HostileCase::new(
                "a pairing request dated i64::MIN",
                line("kdeconnect.pair", json!({"pair": true, "timestamp": i64::MIN})),
            ),
            named(
                "the victim's message id reused in its conversation",
                one(sms(own, &victim_number, "same id as yours", now)),
            ),
            HostileCase::new(
                "one id used twice",
                messages(vec![
                    sms(1_000_500, STRANGER, "first of a pair", now),
                    sms(1_000_500, STRANGER, "second of a pair", now),
                ]),
            ),
            named("MMS parts named .., /etc/passwd and worse", one(mms)),
            HostileCase::new(
                "attachment files nobody asked for",
                [
                    line(
                        "kdeconnect.sms.attachment_file",
                        json!({"filename": "../../x"}),
                    ),
                    b"{\"id\":1,\"type\":\"kdeconnect.sms.attachment_file\",\"body\":{\"filename\":\"..\"},\
                      \"payloadSize\":18446744073709551615,\"payloadTransferInfo\":{\"port\":1}}\n"
                    .to_vec(),
                ]
                .concat(),
            ),
            HostileCase::new(
                "message lists of the wrong shape",
                [
                    line("kdeconnect.sms.messages", json!({"messages": "none"})),
                    line("kdeconnect.sms.messages", json!({"messages": [{"_id": "x"}]})),
                    line("kdeconnect.sms.messages", json!({"messages": [], "version": 99})),
                ]
                .concat(),
            ),
            HostileCase::new("200 packets of unknown types", unknown),
            HostileCase::new("a flood of 1000 messages in one packet", messages(flood)),
        ]
    }

    fn send_raw<'a>(&'a mut self, _victim: &'a Victim, payload: &'a [u8]) -> PeerFuture<'a> {
        Box::pin(async move {
            anyhow::ensure!(self.kde.send_raw(payload), "no desktop is connected");
            Ok(())
        })
    }

    fn send_plain<'a>(&'a mut self, _victim: &'a Victim, text: &'a str) -> PeerFuture<'a> {
        Box::pin(async move {
            self.kde
                .phone
                .inject_sms(FRIEND, text)
                .ok_or_else(|| anyhow::anyhow!("the phone's store is gone"))?;
            Ok(())
        })
    }
}
