//! Small JSON files in the plugin's data directory: stream-management state,
//! pinned certificates, acknowledged local ids and the last archive id seen.
//!
//! Writes go to a temporary file that is renamed over the old one, so a crash
//! leaves either the old or the new state, never half of one. A file that
//! holds message text (the stream-management queue keeps the stanzas the
//! server has not acknowledged) is sealed with the account's file key
//! ([`load_sealed`], [`save_sealed`]).

use crate::error::XmppError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// Reads `name` from `dir`; absent → default; unreadable → default (the file
/// is local state, losing it costs a resumption, never correctness).
pub fn load<T: DeserializeOwned + Default>(dir: &Path, name: &str) -> T {
    let path = dir.join(name);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            tracing::warn!(file = %path.display(), error = %e, "ignoring unreadable state file");
            T::default()
        }),
        Err(_) => T::default(),
    }
}

/// Writes `value` to `dir/name` atomically and durably: the new file is
/// synced before it replaces the old one, and the folder after, so a power
/// loss leaves the old state or the new one (stream-management counts are
/// acknowledged to the server from here).
pub fn save<T: Serialize>(dir: &Path, name: &str, value: &T) -> Result<(), XmppError> {
    let path: PathBuf = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let storage = |e: std::io::Error| XmppError::Storage(e.to_string());
    let bytes = serde_json::to_vec(value).map_err(|e| XmppError::Storage(e.to_string()))?;
    let mut file = std::fs::File::create(&tmp).map_err(storage)?;
    std::io::Write::write_all(&mut file, &bytes).map_err(storage)?;
    file.sync_all().map_err(storage)?;
    drop(file);
    std::fs::rename(&tmp, &path).map_err(storage)?;
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(storage)?;
    Ok(())
}

/// Like [`load`], for a file sealed with the account's file key. A
/// plaintext file left by an older version is read, and sealed in place.
pub fn load_sealed<T: DeserializeOwned + Default>(
    vault: &koine_vault::Vault,
    dir: &Path,
    name: &str,
) -> T {
    let path = dir.join(name);
    match vault.read_or_seal(&path) {
        Ok(Some(bytes)) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            tracing::warn!(file = %path.display(), error = %e, "ignoring unreadable state file");
            T::default()
        }),
        Ok(None) => T::default(),
        Err(e) => {
            tracing::warn!(file = %path.display(), error = %e, "ignoring unreadable state file");
            T::default()
        }
    }
}

/// Like [`save`], sealed with the account's file key (atomic and durable
/// the same way).
pub fn save_sealed<T: Serialize>(
    vault: &koine_vault::Vault,
    dir: &Path,
    name: &str,
    value: &T,
) -> Result<(), XmppError> {
    let bytes = zeroize::Zeroizing::new(
        serde_json::to_vec(value).map_err(|e| XmppError::Storage(e.to_string()))?,
    );
    vault.write(&dir.join(name), &bytes)?;
    Ok(())
}

/// Certificates the user pinned, per host.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Pins {
    /// `(host, SHA-256 fingerprint)` pairs.
    pub pins: Vec<(String, String)>,
}

impl Pins {
    /// The file name.
    pub const FILE: &'static str = "pinned-certificates.json";

    /// The fingerprints pinned for `host`.
    pub fn for_host(&self, host: &str) -> Vec<String> {
        self.pins
            .iter()
            .filter(|(h, _)| h == host)
            .map(|(_, f)| f.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_with_message_text_is_sealed_and_an_old_plaintext_file_gets_sealed() {
        use crate::sm::SmState;
        let dir = tempfile::tempdir().expect("tmp");
        let vault = koine_vault::Vault::with_key(&[9; 32]);
        let mut sm = SmState::default();
        sm.record_sent(
            "<message><body>the safe is behind the painting</body></message>".into(),
            None,
            None,
        );
        let canary = b"behind the painting";
        let has_canary = |path: &Path| {
            std::fs::read(path)
                .expect("raw")
                .windows(canary.len())
                .any(|w| w == canary)
        };
        save_sealed(&vault, dir.path(), SmState::FILE, &sm).expect("save");
        let path = dir.path().join(SmState::FILE);
        assert!(!has_canary(&path), "the queued stanza is sealed");
        let back: SmState = load_sealed(&vault, dir.path(), SmState::FILE);
        assert_eq!(back, sm);
        // A file written by a version that did not seal it.
        save(dir.path(), SmState::FILE, &sm).expect("plaintext");
        assert!(has_canary(&path));
        let back: SmState = load_sealed(&vault, dir.path(), SmState::FILE);
        assert_eq!(back, sm);
        assert!(!has_canary(&path), "sealed in place when read");
    }

    #[test]
    fn round_trips_and_tolerates_garbage() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut p = Pins::default();
        p.pins.push(("a.example".into(), "AB:CD".into()));
        save(dir.path(), Pins::FILE, &p).expect("save");
        let back: Pins = load(dir.path(), Pins::FILE);
        assert_eq!(back.for_host("a.example"), vec!["AB:CD".to_owned()]);
        assert!(back.for_host("b.example").is_empty());
        std::fs::write(dir.path().join(Pins::FILE), "{not json").expect("write");
        let garbage: Pins = load(dir.path(), Pins::FILE);
        assert!(garbage.pins.is_empty());
    }
}
