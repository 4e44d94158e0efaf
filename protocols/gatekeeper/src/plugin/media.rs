//! Media (PROTOCOL.md §7): a fresh AES-256-GCM key per file, the ciphertext
//! uploaded to the sender's media host, fetched by the recipient through the
//! gatekeeper's proxy, hashes checked on both sides.

use crate::wire::http::percent_encode;
use crate::wire::http_client;
use crate::wire::proto::Media;
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// The largest file.
pub const MAX_FILE: u64 = 16 * 1024 * 1024;

/// The most files one received message brings; the rest are left out.
pub const MAX_FILES_PER_MESSAGE: usize = 10;

/// The folder, under the account's `media`, for files from `sender` (a
/// direct chat's conversation is its peer): readable, and unique per sender
/// even where two senders' names clean up alike.
pub fn sender_dir(sender: &str) -> String {
    let digest = Sha256::digest(sender.as_bytes());
    let tag: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("{}-{tag}", safe_name(sender))
}

/// Media failures.
#[derive(Debug, Error)]
pub enum MediaError {
    /// Over the size limit.
    #[error("file too large")]
    TooLarge,
    /// The host or proxy refused or failed.
    #[error("http: {0}")]
    Http(String),
    /// Hash, size or decryption check failed.
    #[error("media integrity: {0}")]
    Integrity(&'static str),
}

fn sha(b: &[u8]) -> Vec<u8> {
    Sha256::digest(b).to_vec()
}

/// Encrypts and uploads a file; returns the `Media` entry for the content.
pub async fn upload(
    client: &http_client::Client,
    host: &str,
    bearer: &str,
    bytes: &[u8],
    name: &str,
    mime: &str,
) -> Result<Media, MediaError> {
    if bytes.len() as u64 > MAX_FILE {
        return Err(MediaError::TooLarge);
    }
    let key: [u8; 32] = rand::random();
    let nonce: [u8; 12] = rand::random();
    let ct = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key))
        .encrypt(Nonce::from_slice(&nonce), bytes)
        .map_err(|_| MediaError::Integrity("encryption failed"))?;
    let r = client
        .request("PUT", &format!("{host}/v1/media"), Some(bearer), &ct, 4096)
        .await
        .map_err(|e| MediaError::Http(e.to_string()))?;
    if r.status != 201 {
        return Err(MediaError::Http(format!("upload answered {}", r.status)));
    }
    let url = String::from_utf8(r.body).map_err(|_| MediaError::Http("bad url".into()))?;
    Ok(Media {
        url,
        key: key.to_vec(),
        nonce: nonce.to_vec(),
        ciphertext_sha256: sha(&ct),
        plaintext_sha256: sha(bytes),
        size: bytes.len() as u64,
        mime: mime.to_owned(),
        name: name.to_owned(),
    })
}

/// Fetches through the proxy, checks and decrypts.
pub async fn download(
    client: &http_client::Client,
    proxy: &str,
    session: &str,
    m: &Media,
) -> Result<Vec<u8>, MediaError> {
    if m.size > MAX_FILE {
        return Err(MediaError::TooLarge);
    }
    let url = format!("{proxy}/v1/proxy?url={}", percent_encode(&m.url));
    let r = client
        .request(
            "GET",
            &url,
            Some(session),
            &[],
            usize::try_from(MAX_FILE)
                .unwrap_or(usize::MAX)
                .saturating_add(64),
        )
        .await
        .map_err(|e| MediaError::Http(e.to_string()))?;
    if r.status != 200 {
        return Err(MediaError::Http(format!("proxy answered {}", r.status)));
    }
    if sha(&r.body) != m.ciphertext_sha256 {
        return Err(MediaError::Integrity("ciphertext hash mismatch"));
    }
    if m.key.len() != 32 || m.nonce.len() != 12 {
        return Err(MediaError::Integrity("bad key or nonce length"));
    }
    let pt = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&m.key))
        .decrypt(Nonce::from_slice(&m.nonce), r.body.as_slice())
        .map_err(|_| MediaError::Integrity("decryption failed"))?;
    if pt.len() as u64 != m.size || sha(&pt) != m.plaintext_sha256 {
        return Err(MediaError::Integrity("plaintext hash or size mismatch"));
    }
    Ok(pt)
}

/// A file name safe to create in the media directory.
pub fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let trimmed = cleaned.trim_start_matches('.');
    if trimmed.is_empty() {
        "file".into()
    } else {
        trimmed.to_owned()
    }
}
