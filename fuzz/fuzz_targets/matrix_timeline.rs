//! Matrix: one timeline event (JSON) converted into a message, an edit, a
//! redaction or a reaction.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    koine_matrix::fuzzing::timeline_event(data);
});
