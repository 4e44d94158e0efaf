//! SMSGate: the HTTP/1.1 request reader that receives the phone's webhooks
//! (request line, headers, content-length and chunked bodies).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    else {
        return;
    };
    let _ = rt.block_on(koine_sms::smsgate::http::read_request(data));
    let _ = koine_sms::smsgate::http::Url::parse(&String::from_utf8_lossy(data));
});
