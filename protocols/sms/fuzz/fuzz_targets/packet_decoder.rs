//! Fuzzes the KDE Connect packet decoder down to the typed bodies, and the
//! framing reader's line splitting.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Every line of the input, as the link reader would split it.
    for line in data.split(|b| *b == b'\n') {
        let _ = koine_sms::kdeconnect::decode_typed(line);
    }
});
