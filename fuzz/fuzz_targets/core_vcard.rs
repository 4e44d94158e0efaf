//! The engine's vCard reader (contacts imported from a file). What it reads
//! must be written and read back to the same cards.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cards) = koine_core::vcard::parse(text) {
        let _ = koine_core::vcard::parse(&koine_core::vcard::write(&cards));
    }
});
