//! Encrypted files (`aesgcm://`, as XEP-0454 describes): the file is sealed
//! with AES-256-GCM under a fresh key and 12-byte IV, the ciphertext with
//! its 16-byte tag appended is uploaded as usual, and the link sent inside
//! the OMEMO message is the download URL with `aesgcm` as its scheme and
//! the IV then the key, in hex, as its fragment. The upload host stores
//! ciphertext only.

use aes_gcm::aead::consts::U16;
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::aes::Aes256;
use aes_gcm::{Aes256Gcm, AesGcm, Key, Nonce};

/// The key of one file.
#[derive(Clone, PartialEq, Eq)]
pub struct FileKey {
    /// The IV (12 bytes sent; 16 read too).
    pub iv: Vec<u8>,
    /// The AES-256 key.
    pub key: [u8; 32],
}

impl std::fmt::Debug for FileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FileKey(..)")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let pairs = s.as_bytes().chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return None;
    }
    pairs
        .map(|pair| {
            let pair = std::str::from_utf8(pair).ok()?;
            // from_str_radix takes a sign ("+f"): only hex digits here.
            pair.bytes()
                .all(|b| b.is_ascii_hexdigit())
                .then(|| u8::from_str_radix(pair, 16).ok())?
        })
        .collect()
}

/// Seals a file: the ciphertext with its tag, and the key.
pub fn seal(plain: &[u8]) -> Option<(Vec<u8>, FileKey)> {
    let key: [u8; 32] = rand::random();
    let iv: [u8; 12] = rand::random();
    let ct = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key))
        .encrypt(Nonce::from_slice(&iv), plain)
        .ok()?;
    Some((
        ct,
        FileKey {
            iv: iv.to_vec(),
            key,
        },
    ))
}

/// Opens a downloaded file.
pub fn open(data: &[u8], k: &FileKey) -> Option<Vec<u8>> {
    match k.iv.len() {
        12 => Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&k.key))
            .decrypt(Nonce::from_slice(&k.iv), data)
            .ok(),
        16 => {
            type Gcm16 = AesGcm<Aes256, U16>;
            Gcm16::new(Key::<Gcm16>::from_slice(&k.key))
                .decrypt(aes_gcm::Nonce::<U16>::from_slice(&k.iv), data)
                .ok()
        }
        _ => None,
    }
}

/// The `aesgcm://` link of a file uploaded to the `https://` URL `get`.
pub fn link(get: &str, k: &FileKey) -> Option<String> {
    let rest = get
        .get(..8)
        .filter(|s| s.eq_ignore_ascii_case("https://"))
        .and_then(|_| get.get(8..))?;
    let rest = rest.split('#').next().unwrap_or(rest);
    Some(format!("aesgcm://{rest}#{}{}", hex(&k.iv), hex(&k.key)))
}

/// The `https://` URL to download an `aesgcm://` link from, and its key.
pub fn parse(link: &str) -> Option<(String, FileKey)> {
    let rest = link
        .get(..9)
        .filter(|s| s.eq_ignore_ascii_case("aesgcm://"))
        .and_then(|_| link.get(9..))?;
    let (path, fragment) = rest.split_once('#')?;
    let bytes = unhex(fragment)?;
    let iv_len = match bytes.len() {
        44 => 12,
        48 => 16,
        _ => return None,
    };
    let (iv, key) = bytes.split_at(iv_len);
    Some((
        format!("https://{path}"),
        FileKey {
            iv: iv.to_vec(),
            key: key.try_into().ok()?,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_round_trip_and_open() {
        let (ct, k) = seal(b"file bytes").expect("seals");
        assert_eq!(ct.len(), 10 + 16, "ciphertext then tag");
        let l = link("https://up.example:5281/share/ab/photo.jpg", &k).expect("link");
        assert!(l.starts_with("aesgcm://up.example:5281/share/ab/photo.jpg#"));
        assert_eq!(l.split('#').nth(1).map(str::len), Some(88));
        let (https, k2) = parse(&l).expect("parses");
        assert_eq!(https, "https://up.example:5281/share/ab/photo.jpg");
        assert_eq!(open(&ct, &k2).as_deref(), Some(&b"file bytes"[..]));
        let mut bad = ct.clone();
        bad[0] ^= 1;
        assert_eq!(open(&bad, &k2), None);
        assert!(parse("https://up.example/x#00").is_none());
        assert!(parse("aesgcm://up.example/x#zz").is_none());
        let signed = format!("aesgcm://up.example/x#{}", "+f".repeat(44));
        assert!(parse(&signed).is_none(), "hex digits only");
        assert!(parse("aesgcm://é#ééé").is_none());
        assert!(link("http://up.example/x", &k).is_none());
    }
}
