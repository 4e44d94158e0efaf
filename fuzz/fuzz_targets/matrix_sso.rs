//! Matrix: the head of a request to the single sign-on loopback listener.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    koine_matrix::fuzzing::sso_request(data);
});
