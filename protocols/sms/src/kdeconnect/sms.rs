//! The bodies of the SMS packets (`kdeconnect.sms.*`, messages version 2).

use serde::{Deserialize, Serialize};

/// Android's message box types (the `type` field).
pub mod message_type {
    /// Received.
    pub const INBOX: i32 = 1;
    /// Sent by the phone.
    pub const SENT: i32 = 2;
    /// A draft, not sent.
    pub const DRAFT: i32 = 3;
    /// Waiting to be sent.
    pub const OUTBOX: i32 = 4;
    /// Sending failed.
    pub const FAILED: i32 = 5;
    /// Queued for later.
    pub const QUEUED: i32 = 6;
}

/// The `event` bit field of a message.
pub mod event {
    /// A text message.
    pub const TEXT_MESSAGE: i32 = 0x1;
    /// A message with several recipients (group MMS).
    pub const MULTI_TARGET: i32 = 0x2;
}

/// One address of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsAddress {
    /// The number as the phone stores it (often national form).
    pub address: String,
}

/// An MMS part, as listed in a message (thumbnail only; the file is
/// requested with `request_attachment`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    /// The part's id in the phone's MMS store.
    pub part_id: i64,
    /// The MIME type.
    pub mime_type: String,
    /// A base64 thumbnail, may be empty.
    #[serde(default)]
    pub encoded_thumbnail: String,
    /// The file's unique name on the phone.
    pub unique_identifier: String,
}

/// One message of `kdeconnect.sms.messages` (version 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsMessage {
    /// [`event`] bits.
    #[serde(default = "text_event")]
    pub event: i32,
    /// The text.
    #[serde(default)]
    pub body: String,
    /// Everyone in the thread but the phone's owner, the sender first for
    /// incoming messages.
    pub addresses: Vec<SmsAddress>,
    /// Milliseconds since the epoch.
    pub date: i64,
    /// [`message_type`].
    #[serde(rename = "type")]
    pub kind: i32,
    /// 1 when read.
    #[serde(default)]
    pub read: i32,
    /// The thread.
    pub thread_id: i64,
    /// The message's id in the phone's store.
    #[serde(rename = "_id")]
    pub uid: i64,
    /// The SIM subscription it went through (dual SIM), -1 when unknown.
    #[serde(default = "minus_one")]
    pub sub_id: i64,
    /// MMS parts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentRef>,
}

fn text_event() -> i32 {
    event::TEXT_MESSAGE
}

fn minus_one() -> i64 {
    -1
}

/// The body of `kdeconnect.sms.messages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Messages {
    /// The messages.
    pub messages: Vec<SmsMessage>,
    /// Always 2 here.
    #[serde(default)]
    pub version: i32,
}

/// The body of `kdeconnect.sms.request_conversation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestConversation {
    /// The thread.
    #[serde(rename = "threadID")]
    pub thread_id: i64,
    /// Only messages older than this (ms); absent for the newest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range_start_timestamp: Option<i64>,
    /// How many at most; -1 for all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_to_request: Option<i64>,
}

/// A file attached to an outgoing MMS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutgoingAttachment {
    /// The file name.
    pub file_name: String,
    /// The bytes, base64.
    pub base64_encoded_file: String,
    /// The MIME type.
    pub mime_type: String,
}

/// The body of `kdeconnect.sms.request` (version 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendRequest {
    /// Always 2.
    pub version: i32,
    /// The recipients.
    pub addresses: Vec<SmsAddress>,
    /// The text.
    pub message_body: String,
    /// The SIM subscription to send with; -1 for the default.
    #[serde(rename = "subID", default = "minus_one")]
    pub sub_id: i64,
    /// Files, for an MMS.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<OutgoingAttachment>,
}

/// The body of `kdeconnect.sms.request_attachment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestAttachment {
    /// The part.
    pub part_id: i64,
    /// The file's unique name.
    pub unique_identifier: String,
}

/// The body of `kdeconnect.sms.attachment_file` (the bytes are its payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentFile {
    /// The file's unique name.
    pub filename: String,
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    reason = "tests index data they built themselves; a panic is a test failure"
)]
mod tests {
    use super::*;
    use crate::kdeconnect::packet::Packet;

    #[test]
    fn messages_v2_decode_with_defaults() {
        let p = Packet::decode(br#"{"id":1,"type":"kdeconnect.sms.messages","body":{"version":2,"messages":[{"body":"hi","addresses":[{"address":"0612345678"}],"date":5,"type":1,"thread_id":3,"_id":9}]}}"#).expect("packet");
        let m: Messages = p.body_as().expect("body");
        assert_eq!(m.messages[0].sub_id, -1);
        assert_eq!(m.messages[0].event, event::TEXT_MESSAGE);
        assert_eq!(m.messages[0].uid, 9);
    }

    #[test]
    fn messages_with_wrong_types_are_refused() {
        let p = Packet::decode(br#"{"id":1,"type":"kdeconnect.sms.messages","body":{"messages":[{"body":"hi","addresses":"x","date":5,"type":1,"thread_id":3,"_id":9}]}}"#).expect("packet");
        assert!(p.body_as::<Messages>().is_err());
    }

    #[test]
    fn send_request_carries_sub_id() {
        let r = SendRequest {
            version: 2,
            addresses: vec![SmsAddress {
                address: "+33612345678".into(),
            }],
            message_body: "hello".into(),
            sub_id: 2,
            attachments: vec![],
        };
        let v = serde_json::to_value(&r).expect("json");
        assert_eq!(v["subID"], 2);
        assert_eq!(v["messageBody"], "hello");
    }
}
