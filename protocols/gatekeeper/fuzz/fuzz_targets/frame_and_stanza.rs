//! Feeds arbitrary bytes to the frame decoder (in arbitrary chunks) and every
//! frame it yields, and the bytes themselves, to the stanza decoder. Any
//! panic is a bug: malformed input must come back as a typed error.

#![no_main]

use koine_gatekeeper::wire::{FrameDecoder, Stanza};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Stanza::decode(data);
    let split = data.first().map(|b| *b as usize).unwrap_or(0);
    let mut d = FrameDecoder::new(64 * 1024);
    let (a, b) = data.split_at(split.min(data.len()));
    for chunk in [a, b] {
        d.push(chunk);
        while let Ok(Some(frame)) = d.next_frame() {
            if let Ok(s) = Stanza::decode(&frame) {
                // What decodes must encode and decode to the same stanza.
                assert_eq!(Stanza::decode(&s.encode()).ok(), Some(s));
            }
        }
    }
    let _ = d.finish();
});
