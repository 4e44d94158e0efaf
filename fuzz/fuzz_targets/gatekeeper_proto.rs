//! Gatekeeper: the protobuf payloads a peer or a client sends (key uploads,
//! prekey bundles, message content with media and reactions).
#![no_main]

use koine_gatekeeper::wire::proto::{self, Content, KeyUpload, PreKeyBundle};
use libfuzzer_sys::fuzz_target;
use prost::Message as _;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = proto::decode::<Content>("Content", data) {
        assert_eq!(Content::decode(m.encode_to_vec().as_slice()).ok(), Some(m));
    }
    let _ = proto::decode::<KeyUpload>("KeyUpload", data);
    let _ = proto::decode::<PreKeyBundle>("PreKeyBundle", data);
});
