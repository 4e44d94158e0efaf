//! XMPP: links and addresses a peer writes (out-of-band and upload URLs,
//! `aesgcm://` links, file links in decrypted bodies, room addresses).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    koine_xmpp::fuzzing::text(&String::from_utf8_lossy(data));
});
