//! Gatekeeper: arbitrary bytes to the frame decoder (in two chunks) and every
//! frame it yields, and the bytes themselves, to the stanza decoder. What
//! decodes must encode and decode to the same stanza.
#![no_main]

use koine_gatekeeper::wire::{FrameDecoder, Stanza};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Stanza::decode(data);
    let split = data.first().map(|b| usize::from(*b)).unwrap_or(0);
    let mut d = FrameDecoder::new(64 * 1024);
    let (a, b) = data.split_at(split.min(data.len()));
    for chunk in [a, b] {
        d.push(chunk);
        while let Ok(Some(frame)) = d.next_frame() {
            if let Ok(s) = Stanza::decode(&frame) {
                assert_eq!(Stanza::decode(&s.encode()).ok(), Some(s));
            }
        }
    }
    let _ = d.finish();
});
