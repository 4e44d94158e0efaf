//! Downloading incoming media into the account's data directory.
//!
//! A message with files (`m.image`, `m.file`, `m.audio`, `m.video`) is held
//! back while its files download in a background task, so a large file never
//! stalls the sync loop or the commands. The held message is recorded in the
//! SDK's encrypted state store (custom value `koine.media-pending`) before
//! the sync position moves past it, and only dropped from there once the
//! engine stored the finished message; a session that ends mid-download
//! resumes the download on the next start.
//!
//! A file is downloaded into memory (at most [`MAX_DOWNLOAD`] bytes,
//! announced or actual; a larger one is not kept: the message keeps its
//! remote reference and a [`Notice::AttachmentTooLarge`] tells the user),
//! hashed on the way; encrypted media (the key and the ciphertext's hash
//! travel in the locator, see [`crate::timeline::message_content`]) are
//! decrypted there once the ciphertext's hash checked out. The plaintext
//! never touches the disk: it is sealed with the account's file key
//! (`koine-vault`) into `media/<sha256>.sealed`, and the attachment becomes
//! an [`AttachmentSource::Sealed`] with its exact size and SHA-256.

use crate::error::MatrixError;
use koine_api::{
    Attachment, AttachmentSource, Event, EventSink, InputSource, Message, Notice, RemoteId,
};
use matrix_sdk::Client;
use matrix_sdk::ruma::OwnedMxcUri;
use matrix_sdk::ruma::events::room::{EncryptedFile, MediaSource};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::task::JoinSet;
use zeroize::Zeroizing;

/// Largest file downloaded (Synapse's default upload limit).
pub(crate) const MAX_DOWNLOAD: u64 = 50 * 1024 * 1024;
/// Custom-value key of the messages waiting for their files.
const PENDING_KEY: &[u8] = b"koine.media-pending";
/// A progress notice every this many bytes (files smaller get none).
const PROGRESS_STEP: u64 = 1024 * 1024;
/// Prefix of the locator of an encrypted file (followed by its JSON).
pub(crate) const ENCRYPTED_PREFIX: &str = "mxc-encrypted:";

/// The account's downloads.
#[derive(Clone)]
pub(crate) struct Downloads {
    client: Client,
    events: EventSink,
    dir: PathBuf,
    vault: koine_vault::Vault,
    max: u64,
    /// Serialises the read-modify-write of the pending list.
    pending: Arc<tokio::sync::Mutex<()>>,
    tasks: Arc<Mutex<JoinSet<()>>>,
}

/// Why a file was not kept.
#[derive(Debug)]
enum FetchError {
    TooLarge,
    Failed(String),
}

impl Downloads {
    pub(crate) fn new(
        client: Client,
        events: EventSink,
        data_dir: &Path,
        vault: koine_vault::Vault,
    ) -> Self {
        Self {
            client,
            events,
            dir: data_dir.join("media"),
            vault,
            max: MAX_DOWNLOAD,
            pending: Arc::default(),
            tasks: Arc::default(),
        }
    }

    /// Whether the message has a file to download: not the echo of one
    /// this device sent (the engine has the file already).
    pub(crate) fn wants(message: &Message) -> bool {
        message.local_id.is_none()
            && message
                .content
                .attachments
                .iter()
                .any(|a| source_of(a).is_some())
    }

    /// Holds the message back until its files are on disk.
    pub(crate) async fn hold(&self, message: Message) -> Result<(), MatrixError> {
        {
            let _guard = self.pending.lock().await;
            let mut pending = self.load().await?;
            if !pending.iter().any(|m| m.remote_id == message.remote_id) {
                pending.push(message.clone());
                self.save(&pending).await?;
            }
        }
        self.spawn(message);
        Ok(())
    }

    /// Restarts the downloads an earlier session left unfinished.
    pub(crate) async fn resume(&self) -> Result<(), MatrixError> {
        let pending = {
            let _guard = self.pending.lock().await;
            self.load().await?
        };
        for message in pending {
            self.spawn(message);
        }
        Ok(())
    }

    /// Stops every running download (the session ends).
    pub(crate) fn abort_all(&self) {
        if let Ok(mut tasks) = self.tasks.lock() {
            tasks.abort_all();
        }
    }

    fn spawn(&self, message: Message) {
        let this = self.clone();
        if let Ok(mut tasks) = self.tasks.lock() {
            // Reap what finished, so the set does not grow for ever.
            while tasks.try_join_next().is_some() {}
            tasks.spawn(async move { this.complete(message).await });
        }
    }

    async fn complete(self, mut message: Message) {
        for attachment in &mut message.content.attachments {
            let Some(source) = source_of(attachment) else {
                continue;
            };
            let notice = match self.fetch(attachment, &source).await {
                Ok(()) => None,
                Err(FetchError::TooLarge) => Some(Notice::AttachmentTooLarge {
                    max_bytes: self.max,
                }),
                Err(FetchError::Failed(detail)) => Some(Notice::MalformedInput {
                    source: InputSource::Server,
                    detail: format!("download of {:?}: {detail}", attachment.name),
                }),
            };
            if let Some(notice) = notice
                && self.events.emit(Event::Notice(notice)).await.is_err()
            {
                return;
            }
        }
        let id = message.remote_id.clone();
        if self
            .events
            .emit_handled(Event::MessageReceived(message))
            .await
            .is_err()
        {
            return;
        }
        if let Err(e) = self.forget(&id).await {
            tracing::warn!("could not drop a finished download from the queue: {e}");
        }
    }

    async fn forget(&self, id: &RemoteId) -> Result<(), MatrixError> {
        let _guard = self.pending.lock().await;
        let mut pending = self.load().await?;
        pending.retain(|m| m.remote_id != *id);
        self.save(&pending).await
    }

    async fn load(&self) -> Result<Vec<Message>, MatrixError> {
        let raw = self
            .client
            .state_store()
            .get_custom_value(PENDING_KEY)
            .await
            .map_err(|e| MatrixError::Storage(e.to_string()))?;
        // An unreadable list is dropped: its messages arrive again with the
        // next full sync or history fetch, with remote references.
        Ok(raw
            .and_then(|v| serde_json::from_slice(&v).ok())
            .unwrap_or_default())
    }

    async fn save(&self, pending: &[Message]) -> Result<(), MatrixError> {
        let raw = serde_json::to_vec(pending).map_err(|e| MatrixError::Storage(e.to_string()))?;
        self.client
            .state_store()
            .set_custom_value(PENDING_KEY, raw)
            .await
            .map_err(|e| MatrixError::Storage(e.to_string()))?;
        Ok(())
    }

    /// Downloads one file, seals it in the account's folder and points
    /// the attachment at it.
    async fn fetch(
        &self,
        attachment: &mut Attachment,
        source: &MediaSource,
    ) -> Result<(), FetchError> {
        if attachment.size > self.max {
            return Err(FetchError::TooLarge);
        }
        let uri = match source {
            MediaSource::Plain(uri) => uri,
            MediaSource::Encrypted(file) => &file.url,
        };
        let (bytes, plain_hash) = self.download(uri, attachment.size).await?;
        let (plain, (size, sha256)) = match source {
            MediaSource::Plain(_) => {
                let size = bytes.len() as u64;
                (bytes, (size, plain_hash))
            }
            MediaSource::Encrypted(file) => decrypt(bytes, (**file).clone()).await?,
        };
        // Named by content, so that a file received twice is sealed once.
        let target = self
            .dir
            .join(format!("{sha256}{}", koine_vault::SEALED_SUFFIX));
        self.vault
            .write_async(target.clone(), plain.to_vec())
            .await
            .map_err(|e| FetchError::Failed(e.to_string()))?;
        attachment.size = size;
        attachment.sha256 = Some(sha256);
        attachment.source = AttachmentSource::Sealed(target.to_string_lossy().into_owned());
        Ok(())
    }

    /// Downloads the content at `uri` into memory, within the size cap;
    /// returns it with its SHA-256.
    async fn download(
        &self,
        uri: &OwnedMxcUri,
        announced: u64,
    ) -> Result<(Zeroizing<Vec<u8>>, String), FetchError> {
        let failed = |e: &dyn std::fmt::Display| FetchError::Failed(e.to_string());
        let (server, media_id) = download_path(uri)?;
        let token = self
            .client
            .access_token()
            .ok_or_else(|| FetchError::Failed("no access token".into()))?;
        let base = self.client.homeserver();
        let http = self.client.http_client();
        let mut response = None;
        for prefix in [
            "_matrix/client/v1/media/download",
            "_matrix/media/v3/download",
        ] {
            let url = base
                .join(&format!("{prefix}/{server}/{media_id}"))
                .map_err(|e| failed(&e))?;
            let r = http
                .get(url)
                .bearer_auth(&token)
                .send()
                .await
                .map_err(|e| failed(&e))?;
            // A server without authenticated media answers the new path
            // with "unrecognised": try the old one.
            if matches!(r.status().as_u16(), 404 | 405) && prefix.contains("v1") {
                continue;
            }
            response = Some(r);
            break;
        }
        let mut response = response.ok_or_else(|| failed(&"media not found"))?;
        if !response.status().is_success() {
            return Err(failed(&format!("HTTP {}", response.status())));
        }
        let total = response
            .content_length()
            .or(Some(announced).filter(|n| *n > 0));
        if total.is_some_and(|n| n > self.max) {
            return Err(FetchError::TooLarge);
        }
        // Never more than the cap, whatever the server announced.
        let capacity = total.unwrap_or(0).min(self.max);
        let mut bytes = Zeroizing::new(Vec::with_capacity(
            usize::try_from(capacity).unwrap_or_default(),
        ));
        let mut hash = Sha256::new();
        let mut reported = 0u64;
        while let Some(chunk) = response.chunk().await.map_err(|e| failed(&e))? {
            let done = (bytes.len() as u64).saturating_add(chunk.len() as u64);
            if done > self.max {
                return Err(FetchError::TooLarge);
            }
            hash.update(&chunk);
            bytes.extend_from_slice(&chunk);
            if done.saturating_sub(reported) >= PROGRESS_STEP {
                reported = done;
                self.progress(done, total).await;
            }
        }
        if reported > 0 {
            self.progress(bytes.len() as u64, total).await;
        }
        Ok((bytes, hex::encode(hash.finalize())))
    }

    async fn progress(&self, done: u64, total: Option<u64>) {
        let _ = self
            .events
            .emit(Event::Notice(Notice::Progress {
                task: "download".into(),
                done,
                total,
            }))
            .await;
    }
}

/// A file's plaintext, with its size and SHA-256.
type Opened = (Zeroizing<Vec<u8>>, (u64, String));

/// Decrypts the downloaded ciphertext in memory; returns the plaintext
/// with its size and SHA-256. Fails when the ciphertext's hash does not
/// match the one the sender announced.
async fn decrypt(
    ciphertext: Zeroizing<Vec<u8>>,
    file: EncryptedFile,
) -> Result<Opened, FetchError> {
    let result = tokio::task::spawn_blocking(move || -> std::io::Result<Opened> {
        let mut input = std::io::Cursor::new(ciphertext.as_slice());
        let mut reader = matrix_sdk_crypto::AttachmentDecryptor::new(&mut input, file.into())
            .map_err(std::io::Error::other)?;
        let mut plain = Zeroizing::new(Vec::with_capacity(ciphertext.len()));
        reader.read_to_end(&mut plain)?;
        let sha256 = hex::encode(Sha256::digest(plain.as_slice()));
        let size = plain.len() as u64;
        Ok((plain, (size, sha256)))
    })
    .await
    .map_err(|e| FetchError::Failed(e.to_string()))?;
    result.map_err(|e| FetchError::Failed(format!("decryption: {e}")))
}

/// The server name and media id of the content at `uri`, for the download URL.
/// Checked by [`crate::mxc`], never by ruma's `MxcUri::parts` (which panics
/// on some valid server names).
fn download_path(uri: &OwnedMxcUri) -> Result<(String, String), FetchError> {
    let parsed = crate::mxc::parse(uri.as_str())
        .ok_or_else(|| FetchError::Failed("not a valid mxc:// URI".into()))?;
    Ok((parsed.server.to_owned(), parsed.media_id.to_owned()))
}

/// The media source behind an attachment's remote locator, if it is one.
pub(crate) fn source_of(attachment: &Attachment) -> Option<MediaSource> {
    let AttachmentSource::Remote(locator) = &attachment.source else {
        return None;
    };
    if let Some(json) = locator.strip_prefix(ENCRYPTED_PREFIX) {
        let file: EncryptedFile = serde_json::from_str(json).ok()?;
        return crate::mxc::is_valid(file.url.as_str())
            .then(|| MediaSource::Encrypted(Box::new(file)));
    }
    // ruma's `is_valid` panics on some server names: checked here instead.
    crate::mxc::is_valid(locator).then(|| MediaSource::Plain(OwnedMxcUri::from(locator.as_str())))
}

/// A file name safe to create: the last path component of what the sender
/// named it, without control characters or a leading dot.
pub(crate) fn safe_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !c.is_control()).take(120).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "file".into()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(locator: &str) -> Attachment {
        Attachment {
            name: "x".into(),
            mime: "image/png".into(),
            size: 1,
            source: AttachmentSource::Remote(locator.into()),
            sha256: None,
        }
    }

    #[test]
    fn names_cannot_escape_the_folder() {
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name("..\\x.png"), "x.png");
        assert_eq!(safe_name(".hidden"), "hidden");
        assert_eq!(safe_name(""), "file");
        assert_eq!(safe_name(".."), "file");
        assert_eq!(safe_name("a\u{0}b.txt"), "ab.txt");
    }

    /// `mxc://` + a server name of `n` characters (a spec-valid DNS name up
    /// to 255) + `/abc`.
    fn long_mxc(n: usize) -> String {
        format!("mxc://{}/abc", "a".repeat(n))
    }

    /// The lengths among `lengths` for which `f` panics.
    fn panics_for(lengths: &[usize], f: impl Fn(usize) + std::panic::RefUnwindSafe) -> Vec<usize> {
        lengths
            .iter()
            .copied()
            .filter(|&n| std::panic::catch_unwind(|| f(n)).is_err())
            .collect()
    }

    // ruma 0.12's own mxc validation panics on a 250-character server name
    // and slices out of range on 251 to 255: these must come out whole.
    #[test]
    fn long_server_names_are_downloaded_from_without_a_panic() {
        let lengths = [1, 249, 250, 251, 252, 253, 254, 255];
        let panicked = panics_for(&lengths, |n| {
            let uri = OwnedMxcUri::from(long_mxc(n));
            let (server, media_id) = download_path(&uri).expect("a valid mxc URI");
            assert_eq!(server, "a".repeat(n), "server name of {n} characters");
            assert_eq!(media_id, "abc");
        });
        assert_eq!(panicked, Vec::<usize>::new());
    }

    #[test]
    fn long_server_names_in_locators_do_not_panic() {
        let panicked = panics_for(&[249, 250, 251, 252, 253, 254, 255], |n| {
            assert!(
                matches!(
                    source_of(&remote(&long_mxc(n))),
                    Some(MediaSource::Plain(_))
                ),
                "server name of {n} characters"
            );
        });
        assert_eq!(panicked, Vec::<usize>::new());
        // Past the spec's limit: no source, no panic.
        for n in [256, 262, 300, 511, 512] {
            assert!(source_of(&remote(&long_mxc(n))).is_none(), "{n}");
        }
    }

    #[test]
    fn encrypted_locators_with_a_bad_url_are_refused() {
        let file = |url: &str| {
            let json = serde_json::json!({
                "url": url, "v": "v2",
                "key": {"kty": "oct", "key_ops": ["encrypt", "decrypt"], "alg": "A256CTR",
                        "k": "qcHVMSgYg-71CauWBezXI5qkaRb0LuIy-Wx5kIaHMIA", "ext": true},
                "iv": "X85+XgHN+HEAAAAAAAAAAA",
                "hashes": {"sha256": "5qG4fFnbbVdlAW5TqNK5RERoqyJwHGJtw5uT6G64QUg"}
            });
            remote(&format!("{ENCRYPTED_PREFIX}{json}"))
        };
        assert!(matches!(
            source_of(&file("mxc://koine.test/abc")),
            Some(MediaSource::Encrypted(_))
        ));
        assert!(matches!(
            source_of(&file(&long_mxc(250))),
            Some(MediaSource::Encrypted(_))
        ));
        assert!(source_of(&file("mxc://koine.test/../etc")).is_none());
        assert!(source_of(&file(&long_mxc(256))).is_none());
        assert!(source_of(&file("https://example.org/abc")).is_none());
    }

    #[test]
    fn locators_back_to_sources() {
        assert!(matches!(
            source_of(&remote("mxc://koine.test/abc")),
            Some(MediaSource::Plain(_))
        ));
        assert!(source_of(&remote("https://example.org/x")).is_none());
        assert!(source_of(&remote("mxc-encrypted:{not json")).is_none());
        let local = Attachment {
            source: AttachmentSource::LocalPath("/tmp/x".into()),
            ..remote("")
        };
        assert!(source_of(&local).is_none());
    }
}
