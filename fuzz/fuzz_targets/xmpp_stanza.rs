//! XMPP: one stanza after login through every reader that may see it (chat,
//! carbons, archive results, rooms, OMEMO elements, out-of-band data,
//! roster, vCards, disco, PEP).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        koine_xmpp::fuzzing::stanza(text);
    }
});
