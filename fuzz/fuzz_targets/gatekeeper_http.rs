//! Gatekeeper: the reference server's HTTP request reader (head, headers,
//! body, path percent-decoding, query and form), and the URL, address and
//! XML parsers, on the same bytes.
#![no_main]

use koine_gatekeeper::wire::{Element, Peer, http};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() {
        let mut reader = data;
        if let Ok(req) = rt.block_on(http::read_request(&mut reader, 64 * 1024)) {
            let _ = http::parse_form(&String::from_utf8_lossy(&req.body));
            let _ = req.bearer();
            let _ = req.query("to");
        }
    }
    let text = String::from_utf8_lossy(data);
    let _ = http::Url::parse(&text);
    if let Ok(decoded) = http::percent_decode(&text) {
        assert_eq!(
            http::percent_decode(&http::percent_encode(&decoded)).ok(),
            Some(decoded)
        );
    }
    let _ = http::parse_form(&text);
    let _ = Peer::parse(&text);
    let _ = Element::parse(data);
});
