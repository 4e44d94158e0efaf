//! Outgoing attachments from files the user picked (window or CLI).

use koine_api::{Attachment, AttachmentSource};
use std::path::Path;
use thiserror::Error;

/// Why a file cannot be attached.
#[derive(Debug, Error)]
pub enum AttachmentError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not a regular file.
    #[error("{0} is not a file")]
    NotAFile(String),
}

/// The MIME type of a file, from its extension.
pub fn mime_of(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "txt" => "text/plain",
        "pdf" => "application/pdf",
        "ogg" | "opus" => "audio/ogg",
        "mp4" => "video/mp4",
        _ => "application/octet-stream",
    }
}

/// An attachment for the file at `path`: its name, type, size and absolute
/// path (the plugin reads it when it sends).
pub fn from_path(path: &Path) -> Result<Attachment, AttachmentError> {
    let shown = path.display().to_string();
    let unreadable = |source| AttachmentError::Unreadable {
        path: shown.clone(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if !meta.is_file() {
        return Err(AttachmentError::NotAFile(shown));
    }
    let absolute = std::fs::canonicalize(path).map_err(unreadable)?;
    Ok(Attachment {
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into()),
        mime: mime_of(path).to_owned(),
        size: meta.len(),
        source: AttachmentSource::LocalPath(absolute.to_string_lossy().into_owned()),
        sha256: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_picked_file_becomes_an_attachment_and_a_folder_does_not() {
        let dir = tempfile::tempdir().expect("tmp");
        let photo = dir.path().join("Photo.JPG");
        std::fs::write(&photo, [0u8; 1234]).expect("write");
        let a = from_path(&photo).expect("attachment");
        assert_eq!(
            (a.name.as_str(), a.mime.as_str(), a.size),
            ("Photo.JPG", "image/jpeg", 1234)
        );
        assert!(matches!(a.source, AttachmentSource::LocalPath(p) if Path::new(&p).is_absolute()));
        assert!(matches!(
            from_path(dir.path()),
            Err(AttachmentError::NotAFile(_))
        ));
        assert!(matches!(
            from_path(&dir.path().join("gone")),
            Err(AttachmentError::Unreadable { .. })
        ));
    }
}
