//! The KDE Connect packet: one JSON object per line.
//!
//! ```text
//! {"id": 1700000000000, "type": "kdeconnect.sms.request", "body": {...},
//!  "payloadSize": 1234, "payloadTransferInfo": {"port": 1739}}
//! ```
//!
//! The `id` is a number in the Android app and a string in KDE's desktop
//! daemon: both are accepted and kept as text. Decoding is strict about
//! shapes (typed [`PacketError`]s) and lenient about unknown fields.

use crate::error::PacketError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The largest packet line accepted, newline excluded (4 MiB). SMS threads
/// are sent a page at a time and attachments travel as payloads, so real
/// packets stay far below this.
pub const MAX_PACKET_BYTES: usize = 4 * 1024 * 1024;

/// Packet types this crate speaks.
pub mod kind {
    /// Identity (before TLS, and inside TLS from protocol 8 on).
    pub const IDENTITY: &str = "kdeconnect.identity";
    /// Pairing request, answer, or unpairing.
    pub const PAIR: &str = "kdeconnect.pair";
    /// Desktop asks for the newest message of every thread.
    pub const SMS_REQUEST_CONVERSATIONS: &str = "kdeconnect.sms.request_conversations";
    /// Desktop asks for the messages of one thread.
    pub const SMS_REQUEST_CONVERSATION: &str = "kdeconnect.sms.request_conversation";
    /// Desktop asks the phone to send an SMS or MMS.
    pub const SMS_REQUEST: &str = "kdeconnect.sms.request";
    /// Desktop asks for the full file of an MMS part.
    pub const SMS_REQUEST_ATTACHMENT: &str = "kdeconnect.sms.request_attachment";
    /// Phone sends messages (answers and new ones).
    pub const SMS_MESSAGES: &str = "kdeconnect.sms.messages";
    /// Phone sends an MMS part's file as a payload.
    pub const SMS_ATTACHMENT_FILE: &str = "kdeconnect.sms.attachment_file";
}

/// Where the payload of a packet can be fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadInfo {
    /// Size in bytes.
    pub size: u64,
    /// TCP port on the sender's address.
    pub port: u16,
}

/// A decoded packet.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    /// The sender's id for it (milliseconds since the epoch, usually).
    pub id: String,
    /// The packet type, e.g. `kdeconnect.sms.messages`.
    pub kind: String,
    /// The body, always an object.
    pub body: Map<String, Value>,
    /// The payload announced with it, if any.
    pub payload: Option<PayloadInfo>,
}

impl Packet {
    /// A packet with a fresh id and a body serialised from `body`.
    pub fn new(kind: &str, body: &impl Serialize) -> Self {
        let body = match serde_json::to_value(body) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        Self {
            id: now_millis().to_string(),
            kind: kind.to_owned(),
            body,
            payload: None,
        }
    }

    /// Decodes one line (without its newline).
    pub fn decode(line: &[u8]) -> Result<Self, PacketError> {
        if line.len() > MAX_PACKET_BYTES {
            return Err(PacketError::TooLarge {
                size: line.len(),
                limit: MAX_PACKET_BYTES,
            });
        }
        let text = std::str::from_utf8(line).map_err(|_| PacketError::NotUtf8)?;
        let value: Value =
            serde_json::from_str(text.trim()).map_err(|e| PacketError::Json(e.to_string()))?;
        let Value::Object(mut obj) = value else {
            return Err(PacketError::NotObject);
        };
        let id = match obj.remove("id") {
            Some(Value::String(s)) => s,
            Some(Value::Number(n)) => n.to_string(),
            Some(_) => {
                return Err(PacketError::WrongType {
                    field: "id",
                    expected: "a string or a number",
                });
            }
            None => return Err(PacketError::MissingField("id")),
        };
        let kind = match obj.remove("type") {
            Some(Value::String(s)) if !s.is_empty() => s,
            Some(_) => {
                return Err(PacketError::WrongType {
                    field: "type",
                    expected: "a non-empty string",
                });
            }
            None => return Err(PacketError::MissingField("type")),
        };
        let body = match obj.remove("body") {
            Some(Value::Object(b)) => b,
            Some(_) => {
                return Err(PacketError::WrongType {
                    field: "body",
                    expected: "an object",
                });
            }
            None => return Err(PacketError::MissingField("body")),
        };
        let payload = match obj.remove("payloadSize") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => {
                let size = n.as_i64().ok_or(PacketError::WrongType {
                    field: "payloadSize",
                    expected: "an integer",
                })?;
                // -1 means "unknown size, read to the end": we refuse it, a
                // phone always knows the size of an MMS part.
                let size = u64::try_from(size).map_err(|_| PacketError::WrongType {
                    field: "payloadSize",
                    expected: "a size of zero or more",
                })?;
                let port = obj
                    .get("payloadTransferInfo")
                    .and_then(|i| i.get("port"))
                    .ok_or(PacketError::MissingField("payloadTransferInfo.port"))?
                    .as_u64()
                    .and_then(|p| u16::try_from(p).ok())
                    .filter(|p| *p != 0)
                    .ok_or(PacketError::WrongType {
                        field: "payloadTransferInfo.port",
                        expected: "a TCP port",
                    })?;
                Some(PayloadInfo { size, port })
            }
            Some(_) => {
                return Err(PacketError::WrongType {
                    field: "payloadSize",
                    expected: "an integer",
                });
            }
        };
        Ok(Self {
            id,
            kind,
            body,
            payload,
        })
    }

    /// Encodes the packet as one line, newline included.
    pub fn encode(&self) -> Vec<u8> {
        let mut obj = Map::new();
        // The id travels as a number when it is one (as the Android app does).
        let id = self
            .id
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(self.id.clone()));
        obj.insert("id".into(), id);
        obj.insert("type".into(), Value::String(self.kind.clone()));
        obj.insert("body".into(), Value::Object(self.body.clone()));
        if let Some(p) = self.payload {
            obj.insert("payloadSize".into(), Value::from(p.size));
            let mut info = Map::new();
            info.insert("port".into(), Value::from(p.port));
            obj.insert("payloadTransferInfo".into(), Value::Object(info));
        }
        let mut line = Value::Object(obj).to_string().into_bytes();
        line.push(b'\n');
        line
    }

    /// The body as a typed value.
    pub fn body_as<T: DeserializeOwned>(&self) -> Result<T, PacketError> {
        serde_json::from_value(Value::Object(self.body.clone())).map_err(|e| PacketError::Body {
            kind: self.kind.clone(),
            detail: e.to_string(),
        })
    }

    /// Sets the payload announcement.
    pub fn with_payload(mut self, payload: PayloadInfo) -> Self {
        self.payload = Some(payload);
        self
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> i64 {
    koine_api::Timestamp::now().0
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    reason = "tests index data they built themselves; a panic is a test failure"
)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numeric_and_string_ids_are_accepted() {
        let a = Packet::decode(br#"{"id":17,"type":"kdeconnect.pair","body":{"pair":true}}"#)
            .expect("numeric id");
        assert_eq!(a.id, "17");
        let b = Packet::decode(br#"{"id":"17","type":"kdeconnect.pair","body":{}}"#)
            .expect("string id");
        assert_eq!(b.id, "17");
    }

    #[test]
    fn round_trip_keeps_payload() {
        let p = Packet::new(kind::SMS_ATTACHMENT_FILE, &json!({"filename": "a.png"})).with_payload(
            PayloadInfo {
                size: 42,
                port: 1739,
            },
        );
        let line = p.encode();
        assert_eq!(line.last(), Some(&b'\n'));
        let back = Packet::decode(&line[..line.len() - 1]).expect("decodes");
        assert_eq!(back, p);
    }

    #[test]
    fn broken_json_is_a_typed_error() {
        assert!(matches!(
            Packet::decode(b"{\"id\":1,\"type\":"),
            Err(PacketError::Json(_))
        ));
        assert_eq!(Packet::decode(b"[1,2]"), Err(PacketError::NotObject));
        assert_eq!(Packet::decode(&[0xff, 0xfe]), Err(PacketError::NotUtf8));
    }

    #[test]
    fn wrong_types_are_typed_errors() {
        assert_eq!(
            Packet::decode(br#"{"id":true,"type":"x","body":{}}"#),
            Err(PacketError::WrongType {
                field: "id",
                expected: "a string or a number"
            })
        );
        assert_eq!(
            Packet::decode(br#"{"id":1,"type":5,"body":{}}"#),
            Err(PacketError::WrongType {
                field: "type",
                expected: "a non-empty string"
            })
        );
        assert_eq!(
            Packet::decode(br#"{"id":1,"type":"x","body":"hello"}"#),
            Err(PacketError::WrongType {
                field: "body",
                expected: "an object"
            })
        );
        assert_eq!(
            Packet::decode(br#"{"id":1,"type":"x"}"#),
            Err(PacketError::MissingField("body"))
        );
        assert!(matches!(
            Packet::decode(br#"{"id":1,"type":"x","body":{},"payloadSize":-1}"#),
            Err(PacketError::WrongType { .. })
        ));
        assert!(matches!(
            Packet::decode(
                br#"{"id":1,"type":"x","body":{},"payloadSize":5,"payloadTransferInfo":{"port":70000}}"#
            ),
            Err(PacketError::WrongType { .. })
        ));
    }

    #[test]
    fn huge_packets_are_refused_before_parsing() {
        let huge = vec![b' '; MAX_PACKET_BYTES + 1];
        assert!(matches!(
            Packet::decode(&huge),
            Err(PacketError::TooLarge { .. })
        ));
    }

    #[test]
    fn body_schema_errors_name_the_packet_type() {
        #[derive(serde::Deserialize, Debug)]
        struct Pair {
            #[allow(dead_code)]
            pair: bool,
        }
        let p = Packet::decode(br#"{"id":1,"type":"kdeconnect.pair","body":{"pair":"yes"}}"#)
            .expect("envelope is fine");
        match p.body_as::<Pair>() {
            Err(PacketError::Body { kind, .. }) => assert_eq!(kind, "kdeconnect.pair"),
            other => panic!("expected a body error, got {other:?}"),
        }
    }
}
