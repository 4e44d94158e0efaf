//! Matrix: `mxc://` URIs and attachment locators from room members.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    koine_matrix::fuzzing::mxc(&String::from_utf8_lossy(data));
});
