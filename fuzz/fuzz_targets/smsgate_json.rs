//! SMSGate: the bodies the phone sends: webhook calls (signature check,
//! then received SMS and MMS, progress), message states and webhook lists
//! in answers, and the sender numbers they carry.
#![no_main]

use koine_sms::smsgate::api::{
    MessageState, MmsReceived, Progress, Received, Webhook, WebhookCall, verify,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = verify("key", data, &text, &text, 1_700_000_000);
    if let Ok(call) = serde_json::from_slice::<WebhookCall>(data) {
        if let Ok(r) = serde_json::from_value::<Received>(call.payload.clone()) {
            let _ = koine_sms::phone::sms_address(&r.phone_number, "FR");
        }
        if let Ok(r) = serde_json::from_value::<MmsReceived>(call.payload.clone()) {
            let _ = koine_sms::phone::sms_address(&r.phone_number, "US");
        }
        let _ = serde_json::from_value::<Progress>(call.payload);
    }
    let _ = serde_json::from_slice::<MessageState>(data);
    let _ = serde_json::from_slice::<Vec<Webhook>>(data);
    let _ = koine_sms::phone::sms_address(&text, "DE");
});
