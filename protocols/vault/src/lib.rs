//! Sealed files: what a plugin writes to disk from the network, sealed at
//! rest.
//!
//! A received attachment, an MMS part, or a state file that holds message
//! text (stream-management queues, sent-message logs) must not lie in
//! plaintext in the profile, where a lost laptop or a backup would give it
//! away. A [`Vault`] seals such files with AES-256-GCM under a random key
//! kept in the account's keyring scope (the secret [`KEY_NAME`]), so that:
//!
//! - nothing under the profile reads as the message it came from;
//! - a sealed file cannot be swapped for another one unnoticed (its file
//!   name is part of the associated data);
//! - removing the account, which empties its keyring scope, leaves every
//!   one of its files unreadable even where the disk keeps their blocks.
//!
//! The engine opens sealed attachments for the window (to preview, or to a
//! private temporary file to open); plugins seal what they write. Files are
//! created `0600` and folders `0700` on Unix, written to a temporary name,
//! flushed and renamed, so a crash leaves the old file or the new one.
//!
//! The format, for other implementations: the 8 bytes `KSEAL1\0\0`, a
//! 12-byte random nonce, then the AES-256-GCM ciphertext and tag of the
//! content, with the associated data `KSEAL1\0\0` followed by the file's
//! name in UTF-8. The key is the 32 bytes whose standard base64 is the
//! secret [`KEY_NAME`].

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use koine_api::{Secret, SecretError, SecretStore};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zeroize::Zeroizing;

/// The name of the key's secret in an account's keyring scope.
pub const KEY_NAME: &str = "file-key";

/// The suffix of a sealed attachment's file name.
pub const SEALED_SUFFIX: &str = ".sealed";

/// The largest content a vault seals or opens; a larger file is refused
/// rather than read into memory.
pub const MAX_SEALED_BYTES: u64 = 256 * 1024 * 1024;

const MAGIC: &[u8; 8] = b"KSEAL1\0\0";
const NONCE_LEN: usize = 12;
const TAG_LEN: u64 = 16;

/// Why a vault could not seal or open a file.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The key could not be read from or written to the keyring.
    #[error("the file key in the keyring: {0}")]
    Key(#[from] SecretError),
    /// The key in the keyring is not 32 bytes of base64.
    #[error("the file key in the keyring is damaged")]
    DamagedKey,
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a sealed file (a plaintext file from an older
    /// version, or something else).
    #[error("{0} is not a sealed file")]
    NotSealed(String),
    /// The file does not open with this key: damaged, swapped, or sealed
    /// for another account.
    #[error("{0} does not open with its account's file key")]
    Damaged(String),
    /// The content is larger than [`MAX_SEALED_BYTES`].
    #[error("{0} is too large to seal")]
    TooLarge(String),
}

impl From<VaultError> for koine_api::SessionError {
    fn from(e: VaultError) -> Self {
        match e {
            VaultError::Key(e) => Self::Secret(e),
            other => Self::Storage(other.to_string()),
        }
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> VaultError + '_ {
    move |source| VaultError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Seals and opens one account's files. Cheap to clone.
#[derive(Clone)]
pub struct Vault {
    cipher: Arc<Aes256Gcm>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(..)")
    }
}

impl Vault {
    /// The vault of a keyring scope, its key made on first use. This talks
    /// to the keyring: call it off the async runtime (see
    /// [`Vault::open_async`]).
    pub fn open(secrets: &dyn SecretStore) -> Result<Self, VaultError> {
        let key = match secrets.get(KEY_NAME)? {
            Some(secret) => decode_key(secret.expose())?,
            None => {
                let key = Zeroizing::new(rand::random::<[u8; 32]>());
                secrets.set(KEY_NAME, &Secret::new(B64.encode(key.as_slice())))?;
                key
            }
        };
        Ok(Self::with_key(&key))
    }

    /// [`Vault::open`] on a blocking thread.
    pub async fn open_async(secrets: Arc<dyn SecretStore>) -> Result<Self, VaultError> {
        tokio::task::spawn_blocking(move || Self::open(secrets.as_ref()))
            .await
            .map_err(|e| VaultError::Key(SecretError::Other(e.to_string())))?
    }

    /// The vault of an existing key only: `None` when the scope has no key
    /// yet (so nothing was ever sealed in it). For readers such as the
    /// engine, which must not make a key a plugin never used.
    pub fn existing(secrets: &dyn SecretStore) -> Result<Option<Self>, VaultError> {
        match secrets.get(KEY_NAME)? {
            Some(secret) => Ok(Some(Self::with_key(&*decode_key(secret.expose())?))),
            None => Ok(None),
        }
    }

    /// A vault over a known key (tests, tools).
    pub fn with_key(key: &[u8; 32]) -> Self {
        Self {
            cipher: Arc::new(Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key))),
        }
    }

    /// Seals `plain` into the file `path`, replacing it atomically.
    pub fn write(&self, path: &Path, plain: &[u8]) -> Result<(), VaultError> {
        if plain.len() as u64 > MAX_SEALED_BYTES {
            return Err(VaultError::TooLarge(path.display().to_string()));
        }
        let name = file_name(path)?;
        let nonce: [u8; NONCE_LEN] = rand::random();
        let aad = aad(name);
        let ct = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::TooLarge(path.display().to_string()))?;
        let mut sealed = Vec::with_capacity(MAGIC.len() + NONCE_LEN + ct.len());
        sealed.extend_from_slice(MAGIC);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ct);
        write_private(path, &sealed)
    }

    /// Seals `plain` as a new file in `dir`, under a random name ending in
    /// [`SEALED_SUFFIX`]; returns its path.
    pub fn put(&self, dir: &Path, plain: &[u8]) -> Result<PathBuf, VaultError> {
        let id: [u8; 16] = rand::random();
        let name: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let path = dir.join(format!("{name}{SEALED_SUFFIX}"));
        self.write(&path, plain)?;
        Ok(path)
    }

    /// Opens the sealed file `path`; `None` when it does not exist.
    pub fn read(&self, path: &Path) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
        let Some(bytes) = read_capped(path)? else {
            return Ok(None);
        };
        let Some(body) = bytes.strip_prefix(MAGIC.as_slice()) else {
            return Err(VaultError::NotSealed(path.display().to_string()));
        };
        if body.len() < NONCE_LEN {
            return Err(VaultError::Damaged(path.display().to_string()));
        }
        let (nonce, ct) = body.split_at(NONCE_LEN);
        let aad = aad(file_name(path)?);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: &aad })
            .map(|plain| Some(Zeroizing::new(plain)))
            .map_err(|_| VaultError::Damaged(path.display().to_string()))
    }

    /// Opens `path` like [`Vault::read`]; a plaintext file left by an
    /// older version is read as it is and sealed in place, so that it is
    /// plaintext on disk no longer.
    pub fn read_or_seal(&self, path: &Path) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
        match self.read(path) {
            Err(VaultError::NotSealed(_)) => {
                let Some(plain) = read_capped(path)? else {
                    return Ok(None);
                };
                let plain = Zeroizing::new(plain);
                self.write(path, &plain)?;
                Ok(Some(plain))
            }
            other => other,
        }
    }

    /// [`Vault::write`] on a blocking thread.
    pub async fn write_async(&self, path: PathBuf, plain: Vec<u8>) -> Result<(), VaultError> {
        let vault = self.clone();
        let plain = Zeroizing::new(plain);
        blocking(move || vault.write(&path, &plain)).await
    }

    /// [`Vault::put`] on a blocking thread.
    pub async fn put_async(&self, dir: PathBuf, plain: Vec<u8>) -> Result<PathBuf, VaultError> {
        let vault = self.clone();
        let plain = Zeroizing::new(plain);
        blocking(move || vault.put(&dir, &plain)).await
    }

    /// [`Vault::read`] on a blocking thread.
    pub async fn read_async(
        &self,
        path: PathBuf,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
        let vault = self.clone();
        blocking(move || vault.read(&path)).await
    }
}

/// Whether `path` starts like a sealed file (it says nothing of its key).
pub fn is_sealed(path: &Path) -> bool {
    let mut head = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && &head == MAGIC
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, VaultError> + Send + 'static,
) -> Result<T, VaultError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| VaultError::Io {
            path: String::new(),
            source: std::io::Error::other(e.to_string()),
        })?
}

fn decode_key(text: &str) -> Result<Zeroizing<[u8; 32]>, VaultError> {
    let bytes = Zeroizing::new(
        B64.decode(text.trim())
            .map_err(|_| VaultError::DamagedKey)?,
    );
    let mut key = Zeroizing::new([0u8; 32]);
    if bytes.len() != key.len() {
        return Err(VaultError::DamagedKey);
    }
    key.copy_from_slice(&bytes);
    Ok(key)
}

fn aad(name: &str) -> Vec<u8> {
    let mut v = MAGIC.to_vec();
    v.extend_from_slice(name.as_bytes());
    v
}

fn file_name(path: &Path) -> Result<&str, VaultError> {
    path.file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| VaultError::Io {
            path: path.display().to_string(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "no UTF-8 file name"),
        })
}

fn read_capped(path: &Path) -> Result<Option<Vec<u8>>, VaultError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(path)(e)),
    };
    let overhead = (MAGIC.len() + NONCE_LEN) as u64 + TAG_LEN;
    if meta.len() > MAX_SEALED_BYTES.saturating_add(overhead) {
        return Err(VaultError::TooLarge(path.display().to_string()));
    }
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path)(e)),
    }
}

/// Creates `dir` and its missing parents, private to the user on Unix.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Writes `bytes` to `path` atomically: a private temporary file in the
/// same folder, flushed, renamed over `path`, and the folder flushed.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), VaultError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir).map_err(io_error(dir))?;
    let name = file_name(path)?;
    let tmp = dir.join(format!(".{name}.tmp-{:08x}", rand::random::<u32>()));
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        #[cfg(unix)]
        std::fs::File::open(dir)?.sync_all()?;
        Ok(())
    })();
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_error(path)(e)
    })
}

#[cfg(test)]
mod tests;
