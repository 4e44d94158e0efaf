//! Received files, opened from their sealed copies.
//!
//! Plugins keep what they download sealed in the account's folder
//! ([`AttachmentSource::Sealed`], the `koine-vault` crate). Only the engine
//! opens them: into memory for a preview, to a file the user chose, or to a
//! private temporary file for the desktop to open, which is removed when the
//! engine shuts down (or, after a crash, when it next opens the profile).

use super::{Engine, EngineError};
use crate::model::MessageId;
use koine_api::{AttachmentSource, SecretStore};
use koine_keyring::KeyringSecrets;
use std::path::{Component, Path, PathBuf};
use zeroize::Zeroizing;

impl Engine {
    /// The content of file `index` of a message, opened in memory.
    pub async fn attachment_content(
        &self,
        message: MessageId,
        index: usize,
    ) -> Result<Zeroizing<Vec<u8>>, EngineError> {
        let (source, account_dir, scope) = self.attachment_source(message, index)?;
        let read = tokio::task::spawn_blocking(move || open_source(&source, &account_dir, &scope))
            .await
            .map_err(|e| EngineError::FileUnreadable(e.to_string()))??;
        Ok(read)
    }

    /// Writes file `index` of a message to `to`, created private to the
    /// user (it holds the plaintext); returns its size. An existing file is
    /// not overwritten.
    pub async fn save_attachment(
        &self,
        message: MessageId,
        index: usize,
        to: &Path,
    ) -> Result<u64, EngineError> {
        let content = self.attachment_content(message, index).await?;
        let size = content.len() as u64;
        let to = to.to_path_buf();
        tokio::task::spawn_blocking(move || write_new_private(&to, &content))
            .await
            .map_err(|e| EngineError::FileUnreadable(e.to_string()))??;
        Ok(size)
    }

    /// Opens file `index` of a message to a private temporary file under
    /// its own name, for the desktop's viewer; returns its path. The file
    /// is removed when the engine shuts down.
    pub async fn open_attachment(
        &self,
        message: MessageId,
        index: usize,
    ) -> Result<PathBuf, EngineError> {
        let name = self
            .message(message)?
            .content
            .attachments
            .get(index)
            .map(|a| safe_name(&a.name))
            .ok_or(EngineError::NoFile(message, index))?;
        let content = self.attachment_content(message, index).await?;
        let folder = self.opened_files_dir()?.join(random_name());
        let path = folder.join(name);
        let target = path.clone();
        tokio::task::spawn_blocking(move || {
            koine_vault::create_private_dir(&folder)?;
            write_new_private(&target, &content)
        })
        .await
        .map_err(|e| EngineError::FileUnreadable(e.to_string()))??;
        Ok(path)
    }

    /// Removes the temporary files opened for the desktop.
    pub fn remove_opened_files(&self) {
        if let Ok(dir) = self.opened_files_dir() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    /// The folder of files opened for the desktop: in the user's runtime
    /// folder (memory-backed, private) where there is one.
    pub(super) fn opened_files_dir(&self) -> Result<PathBuf, EngineError> {
        let base = std::env::var_os("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .filter(|d| d.is_dir())
            .unwrap_or_else(std::env::temp_dir);
        let scope = self.inner.profile.database_key_scope()?;
        Ok(base.join(format!("koine-{scope}-opened")))
    }

    /// Where file `index` is, the account's folder and keyring scope.
    fn attachment_source(
        &self,
        message: MessageId,
        index: usize,
    ) -> Result<(AttachmentSource, PathBuf, String), EngineError> {
        let m = self.message(message)?;
        let a = m
            .content
            .attachments
            .get(index)
            .ok_or(EngineError::NoFile(message, index))?;
        let account = self.store().conversation(m.conversation)?.account;
        Ok((
            a.source.clone(),
            self.inner.profile.account_dir(account.as_str()),
            account.as_str().to_owned(),
        ))
    }
}

fn open_source(
    source: &AttachmentSource,
    account_dir: &Path,
    scope: &str,
) -> Result<Zeroizing<Vec<u8>>, EngineError> {
    match source {
        AttachmentSource::Remote(_) => Err(EngineError::FileUnreadable(
            "the file was not downloaded to this computer".into(),
        )),
        AttachmentSource::LocalPath(path) => std::fs::read(path)
            .map(Zeroizing::new)
            .map_err(|e| EngineError::FileUnreadable(format!("{path}: {e}"))),
        AttachmentSource::Sealed(path) => {
            let path = Path::new(path);
            // The path was written by the account's own plugin; it is still
            // checked to lie in the account's folder.
            let inside = path.starts_with(account_dir)
                && !path.components().any(|c| matches!(c, Component::ParentDir));
            if !inside {
                return Err(EngineError::FileUnreadable(format!(
                    "{} is outside the account's folder",
                    path.display()
                )));
            }
            let secrets = KeyringSecrets::scoped(scope);
            let vault = koine_vault::Vault::existing(&secrets as &dyn SecretStore)
                .map_err(file_error)?
                .ok_or_else(|| {
                    EngineError::FileUnreadable("the account's file key is missing".into())
                })?;
            vault
                .read(path)
                .map_err(file_error)?
                .ok_or_else(|| EngineError::FileUnreadable(format!("{} is gone", path.display())))
        }
    }
}

fn file_error(e: koine_vault::VaultError) -> EngineError {
    match e {
        koine_vault::VaultError::Key(e) => EngineError::Secret(e),
        other => EngineError::FileUnreadable(other.to_string()),
    }
}

/// Creates `to` (which must not exist) private to the user, with `bytes`.
fn write_new_private(to: &Path, bytes: &[u8]) -> Result<(), EngineError> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(to)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

fn random_name() -> String {
    let id: [u8; 8] = rand::random();
    id.iter().map(|b| format!("{b:02x}")).collect()
}

/// A file name safe to create: the last component of what the sender
/// named it, without control characters or a leading dot.
fn safe_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !c.is_control()).take(120).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "file".into()
    } else {
        cleaned
    }
}
