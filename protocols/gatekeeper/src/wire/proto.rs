//! The protobuf messages of `proto/gatekeeper.proto`, generated at build time
//! by prost from descriptors that the pure-Rust `protox` compiler makes (no
//! `protoc`), plus typed decoding.

#![allow(missing_docs, clippy::all)]

include!(concat!(env!("OUT_DIR"), "/koine.gatekeeper.v1.rs"));

use super::error::WireError;

/// Decodes a protobuf message, naming it in the error.
pub fn decode<M: prost::Message + Default>(
    what: &'static str,
    bytes: &[u8],
) -> Result<M, WireError> {
    M::decode(bytes).map_err(|e| WireError::Protobuf {
        what,
        detail: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;

    #[test]
    fn content_round_trips_and_truncation_is_an_error() {
        let c = Content {
            text: "hello".into(),
            media: vec![Media {
                url: "http://127.0.0.1:1/v1/media/x".into(),
                key: vec![7; 32],
                nonce: vec![1; 12],
                ciphertext_sha256: vec![2; 32],
                plaintext_sha256: vec![3; 32],
                size: 12345,
                mime: "image/png".into(),
                name: "a.png".into(),
            }],
            reply_to: "m-1".into(),
            sent_at_ms: 1,
            reaction: None,
        };
        let bytes = c.encode_to_vec();
        assert_eq!(decode::<Content>("Content", &bytes), Ok(c));
        let truncated = bytes
            .get(..bytes.len().saturating_sub(3))
            .expect("a prefix");
        assert!(matches!(
            decode::<Content>("Content", truncated),
            Err(WireError::Protobuf {
                what: "Content",
                ..
            })
        ));
    }

    #[test]
    fn schema_field_numbers_match_the_proto_file() {
        // The generated code comes from the .proto file itself; this guards
        // the wire numbers other implementations rely on.
        let b = PreKeyBundle {
            identity_key: vec![5],
            registration_id: 1,
            device_id: 1,
            signed_pre_key: Some(SignedPreKey {
                id: 2,
                public_key: vec![6],
                signature: vec![7],
            }),
            one_time_pre_key: None,
        };
        assert_eq!(
            b.encode_to_vec(),
            vec![
                0x0a, 1, 5, 0x10, 1, 0x18, 1, 0x22, 8, 0x08, 2, 0x12, 1, 6, 0x1a, 1, 7
            ]
        );
    }
}
