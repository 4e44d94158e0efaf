//! SMSGate's local API, as JSON types, and the webhook signature.
//!
//! - `POST /message` with HTTP basic auth: `{"id", "textMessage": {"text"},
//!   "phoneNumbers": [...], "simNumber", "withDeliveryReport"}` → 202 and the
//!   message state.
//! - `GET /message/{id}` → the state: `Pending`, `Processed`, `Sent`,
//!   `Delivered`, `Failed`, overall and per recipient.
//! - `POST /webhooks` `{"id", "url", "event"}` for `sms:received`,
//!   `sms:sent`, `sms:delivered`, `sms:failed`, `mms:received`;
//!   `PATCH /settings` `{"webhooks": {"signing_key"}}`.
//! - Webhook calls carry `X-Signature`: hex HMAC-SHA256 with the signing key
//!   over the raw body followed by the `X-Timestamp` header's value (Unix
//!   seconds).

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The largest clock difference accepted on a webhook (replay window).
pub const MAX_WEBHOOK_SKEW_SECS: i64 = 300;

/// Message states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum State {
    /// Accepted by the app, not yet handled.
    Pending,
    /// Handed to the radio.
    Processed,
    /// Sent by the phone.
    Sent,
    /// Delivered to the recipient's phone.
    Delivered,
    /// Sending failed.
    Failed,
}

/// The text of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextMessage {
    /// The text.
    pub text: String,
}

/// `POST /message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendMessage {
    /// The client's id for the message (we use the local id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The text (current form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_message: Option<TextMessage>,
    /// The text (legacy form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The recipients.
    pub phone_numbers: Vec<String>,
    /// SIM slot, 1-based.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sim_number: Option<u32>,
    /// Ask the carrier for delivery reports.
    #[serde(default)]
    pub with_delivery_report: bool,
}

/// One recipient's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecipientState {
    /// The number.
    pub phone_number: String,
    /// Its state.
    pub state: State,
}

/// A message's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageState {
    /// The id.
    pub id: String,
    /// The overall state.
    pub state: State,
    /// Per recipient.
    #[serde(default)]
    pub recipients: Vec<RecipientState>,
}

/// `POST /webhooks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    /// The id (stable ids make registration idempotent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Where the phone calls.
    pub url: String,
    /// The event.
    pub event: String,
}

/// A webhook call's body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookCall {
    /// The phone's id.
    #[serde(default)]
    pub device_id: String,
    /// `sms:received`...
    pub event: String,
    /// This call's id (the same on retries).
    pub id: String,
    /// The event's data.
    pub payload: serde_json::Value,
    /// The webhook registration it answers.
    #[serde(default)]
    pub webhook_id: String,
}

/// `sms:received` data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Received {
    /// Content-derived id (not unique).
    #[serde(default)]
    pub message_id: String,
    /// The text.
    pub message: String,
    /// The sender.
    pub phone_number: String,
    /// The SIM slot.
    #[serde(default)]
    pub sim_number: Option<u32>,
    /// When (phone's local time, RFC 3339).
    #[serde(default)]
    pub received_at: String,
}

/// `sms:sent`, `sms:delivered`, `sms:failed` data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// The message id (ours).
    pub message_id: String,
    /// The recipient.
    pub phone_number: String,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `mms:received` data (the app reports the MMS, not its content).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MmsReceived {
    /// The id.
    #[serde(default)]
    pub message_id: String,
    /// The sender.
    pub phone_number: String,
    /// The subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// Size in bytes.
    #[serde(default)]
    pub size: u64,
}

/// The signature of a webhook call.
pub fn sign(key: &str, body: &[u8], timestamp: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    mac.update(timestamp.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Checks a webhook call's signature (constant time) and its timestamp
/// against `now_secs`.
pub fn verify(
    key: &str,
    body: &[u8],
    timestamp: &str,
    signature: &str,
    now_secs: i64,
) -> Result<(), &'static str> {
    let ts: i64 = timestamp.trim().parse().map_err(|_| "bad-timestamp")?;
    let Ok(sig) = hex::decode(signature.trim()) else {
        return Err("bad-signature");
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
        return Err("bad-key");
    };
    mac.update(body);
    mac.update(timestamp.as_bytes());
    mac.verify_slice(&sig).map_err(|_| "bad-signature")?;
    if now_secs.abs_diff(ts) > MAX_WEBHOOK_SKEW_SECS.unsigned_abs() {
        return Err("clock-skew");
    }
    Ok(())
}

/// `Authorization` header value for basic auth.
pub fn basic_auth(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// Formats Unix milliseconds as RFC 3339 UTC (`2026-11-27T10:00:00.000Z`).
pub fn rfc3339(ms: i64) -> String {
    // Clamped to the years 0000 to 9999, so the date arithmetic below
    // cannot overflow (it uses wrapping operations only to say so).
    let ms = ms.clamp(-62_167_219_200_000, 253_402_300_799_999);
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days.wrapping_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = doe
        .wrapping_sub(doe / 1460)
        .wrapping_add(doe / 36_524)
        .wrapping_sub(doe / 146_096)
        / 365;
    let doy = doe.wrapping_sub(
        yoe.wrapping_mul(365)
            .wrapping_add(yoe / 4)
            .wrapping_sub(yoe / 100),
    );
    let mp = doy.wrapping_mul(5).wrapping_add(2) / 153;
    let d = doy
        .wrapping_sub(mp.wrapping_mul(153).wrapping_add(2) / 5)
        .wrapping_add(1);
    let m = if mp < 10 {
        mp.wrapping_add(3)
    } else {
        mp.wrapping_sub(9)
    };
    let y = yoe
        .wrapping_add(era.wrapping_mul(400))
        .wrapping_add(i64::from(m <= 2));
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    reason = "tests index data they built themselves; a panic is a test failure"
)]
mod tests {
    use super::*;

    #[test]
    fn extreme_webhook_timestamps_are_skew_not_an_overflow() {
        for (ts, now) in [(i64::MIN, 1_700_000_000), (i64::MAX, -1_700_000_000)] {
            let ts = ts.to_string();
            let sig = sign("k", b"{}", &ts);
            assert_eq!(verify("k", b"{}", &ts, &sig, now), Err("clock-skew"));
        }
    }

    #[test]
    fn signatures_verify_and_detect_tampering_and_skew() {
        let sig = sign("key", b"{\"a\":1}", "1000");
        assert_eq!(verify("key", b"{\"a\":1}", "1000", &sig, 1000), Ok(()));
        assert_eq!(
            verify("key", b"{\"a\":2}", "1000", &sig, 1000),
            Err("bad-signature")
        );
        assert_eq!(
            verify("other", b"{\"a\":1}", "1000", &sig, 1000),
            Err("bad-signature")
        );
        assert_eq!(
            verify("key", b"{\"a\":1}", "1000", &sig, 1000 + 301),
            Err("clock-skew")
        );
        assert_eq!(verify("key", b"{}", "soon", &sig, 0), Err("bad-timestamp"));
        assert_eq!(verify("key", b"{}", "1000", "zz", 0), Err("bad-signature"));
    }

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_764_237_600_123), "2025-11-27T10:00:00.123Z");
    }

    #[test]
    fn send_body_shape() {
        let m = SendMessage {
            id: Some("l1".into()),
            text_message: Some(TextMessage { text: "hi".into() }),
            message: None,
            phone_numbers: vec!["+33612345678".into()],
            sim_number: Some(2),
            with_delivery_report: true,
        };
        let v = serde_json::to_value(&m).expect("json");
        assert_eq!(v["textMessage"]["text"], "hi");
        assert_eq!(v["phoneNumbers"][0], "+33612345678");
        assert_eq!(v["simNumber"], 2);
        assert_eq!(v["withDeliveryReport"], true);
    }
}
