//! The message payload of legacy OMEMO: the body is sealed with AES-128-GCM
//! under a fresh key and IV; the 16-byte key and the 16-byte GCM tag,
//! concatenated, are what the Signal session encrypts for each device.
//!
//! Older senders put the tag after the ciphertext and send a 16-byte key;
//! both forms are read. 12-byte IVs are sent; 16-byte IVs (older clients)
//! are read too.

use aes_gcm::aead::consts::U16;
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::aes::Aes128;
use aes_gcm::{Aes128Gcm, AesGcm, Key, Nonce};

const TAG: usize = 16;

/// A sealed body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The 32 bytes to encrypt for every device: key then tag.
    pub key_material: Vec<u8>,
    /// The IV.
    pub iv: Vec<u8>,
    /// The ciphertext, without the tag.
    pub payload: Vec<u8>,
}

/// Why a payload did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The key material is neither 16 nor 32 bytes long, or the IV is not 12 or 16.
    #[error("key material of {key} bytes with an IV of {iv} bytes")]
    Shape {
        /// Key material length.
        key: usize,
        /// IV length.
        iv: usize,
    },
    /// The tag did not verify.
    #[error("the payload does not authenticate")]
    Tampered,
}

/// Seals `body`.
pub fn seal(body: &[u8]) -> Result<Sealed, PayloadError> {
    let key: [u8; 16] = rand::random();
    let iv: [u8; 12] = rand::random();
    let cipher = Aes128Gcm::new(Key::<Aes128Gcm>::from_slice(&key));
    let mut ct = cipher
        .encrypt(Nonce::from_slice(&iv), body)
        .map_err(|_| PayloadError::Tampered)?;
    let tag = ct.split_off(ct.len().saturating_sub(TAG));
    let mut key_material = key.to_vec();
    key_material.extend_from_slice(&tag);
    Ok(Sealed {
        key_material,
        iv: iv.to_vec(),
        payload: ct,
    })
}

/// Opens a payload with the key material a Signal session gave.
pub fn open(key_material: &[u8], iv: &[u8], payload: &[u8]) -> Result<Vec<u8>, PayloadError> {
    let shape = PayloadError::Shape {
        key: key_material.len(),
        iv: iv.len(),
    };
    let (key, data) = match key_material.len() {
        32 => {
            let (k, tag) = key_material.split_at(16);
            let mut d = payload.to_vec();
            d.extend_from_slice(tag);
            (k, d)
        }
        16 => (key_material, payload.to_vec()),
        _ => return Err(shape),
    };
    let out = match iv.len() {
        12 => Aes128Gcm::new(Key::<Aes128Gcm>::from_slice(key))
            .decrypt(Nonce::from_slice(iv), data.as_slice()),
        16 => {
            type Gcm16 = AesGcm<Aes128, U16>;
            Gcm16::new(Key::<Gcm16>::from_slice(key))
                .decrypt(aes_gcm::Nonce::<U16>::from_slice(iv), data.as_slice())
        }
        _ => return Err(shape),
    };
    out.map_err(|_| PayloadError::Tampered)
}

/// An OMEMO fingerprint as clients show it: the identity key's 32 bytes
/// (without the `0x05` type byte) in lowercase hex, in groups of 8.
pub fn fingerprint(identity_key: &[u8]) -> String {
    let raw = match identity_key {
        [0x05, rest @ ..] if rest.len() == 32 => rest,
        other => other,
    };
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    hex.as_bytes()
        .chunks(8)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_tamper() {
        let s = seal(b"hello").expect("seals");
        assert_eq!(s.key_material.len(), 32);
        assert_eq!(s.payload.len(), 5);
        assert_eq!(
            open(&s.key_material, &s.iv, &s.payload).expect("opens"),
            b"hello"
        );
        let mut bad = s.payload.clone();
        bad[0] ^= 1;
        assert_eq!(
            open(&s.key_material, &s.iv, &bad),
            Err(PayloadError::Tampered)
        );
        // The old form: a 16-byte key and the tag after the ciphertext.
        let mut old = s.payload.clone();
        old.extend_from_slice(&s.key_material[16..]);
        assert_eq!(
            open(&s.key_material[..16], &s.iv, &old).expect("opens"),
            b"hello"
        );
        assert!(matches!(
            open(&[0; 5], &s.iv, &old),
            Err(PayloadError::Shape { .. })
        ));
    }

    #[test]
    fn fingerprint_drops_type_byte() {
        let mut k = vec![5u8];
        k.extend([0xab; 32]);
        let f = fingerprint(&k);
        assert_eq!(f.split(' ').count(), 8);
        assert!(f.starts_with("abababab "));
    }
}
