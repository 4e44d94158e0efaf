//! The sealed store: an SQLite file of `(kind, key) → value` rows whose
//! values are AES-256-GCM sealed under a key kept in the OS keyring. The
//! row's kind and key are the associated data, so a value cannot be moved to
//! another row unnoticed.

use crate::error::E2eeError;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;
use zeroize::Zeroizing;

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS sealed (
    kind TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,
    PRIMARY KEY (kind, key)) WITHOUT ROWID;";

pub(crate) struct SealedStore {
    conn: std::sync::Mutex<Connection>,
    cipher: Aes256Gcm,
}

/// One pending change.
pub(crate) enum Change {
    Put(&'static str, String, Vec<u8>),
    Delete(&'static str, String),
}

fn aad(kind: &str, key: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(kind.len().saturating_add(key.len()).saturating_add(1));
    v.extend_from_slice(kind.as_bytes());
    v.push(0);
    v.extend_from_slice(key.as_bytes());
    v
}

impl SealedStore {
    fn c(&self) -> std::sync::MutexGuard<'_, Connection> {
        match self.conn.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    pub(crate) fn open(path: &Path, key: &Zeroizing<[u8; 32]>) -> Result<Self, E2eeError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)?;
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.as_slice()));
        Ok(Self {
            conn: std::sync::Mutex::new(conn),
            cipher,
        })
    }

    pub(crate) fn is_empty(&self) -> Result<bool, E2eeError> {
        let n: i64 = self
            .c()
            .query_row("SELECT COUNT(*) FROM sealed", [], |r| r.get(0))?;
        Ok(n == 0)
    }

    /// A short stable id of a store that holds rows, `None` when it is
    /// empty: a hash of its sealed identity row (written once per identity),
    /// else of its first row. Needs no key.
    pub(crate) fn id(&self) -> Result<Option<String>, E2eeError> {
        use sha2::{Digest, Sha256};
        let row: Option<(String, String, Vec<u8>)> = self
            .c()
            .query_row(
                "SELECT kind, key, value FROM sealed
                 ORDER BY (kind = 'meta' AND key = 'identity') DESC, kind, key LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(row.map(|(kind, key, value)| {
            let mut h = Sha256::new();
            h.update(aad(&kind, &key));
            h.update(&value);
            let digest = h.finalize();
            digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
        }))
    }

    pub(crate) fn wipe(&self) -> Result<(), E2eeError> {
        self.c().execute("DELETE FROM sealed", [])?;
        Ok(())
    }

    fn seal(&self, kind: &str, key: &str, value: &[u8]) -> Result<Vec<u8>, E2eeError> {
        let nonce: [u8; 12] = rand::random();
        let aad = aad(kind, key);
        let ct = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: value,
                    aad: &aad,
                },
            )
            .map_err(|_| E2eeError::Store("sealing failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend(ct);
        Ok(out)
    }

    fn open_value(&self, kind: &str, key: &str, sealed: &[u8]) -> Result<Vec<u8>, E2eeError> {
        if sealed.len() < 12 {
            return Err(E2eeError::Store("sealed value too short".into()));
        }
        let (nonce, ct) = sealed.split_at(12);
        let aad = aad(kind, key);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: &aad })
            .map_err(|_| {
                E2eeError::Store(format!(
                    "sealed {kind} {key} does not open with the keyring's key"
                ))
            })
    }

    pub(crate) fn load_all(&self) -> Result<Vec<(String, String, Vec<u8>)>, E2eeError> {
        let conn = self.c();
        let mut stmt = conn.prepare("SELECT kind, key, value FROM sealed")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (kind, key, sealed) = row?;
            let value = self.open_value(&kind, &key, &sealed)?;
            out.push((kind, key, value));
        }
        Ok(out)
    }

    pub(crate) fn apply(&mut self, changes: Vec<Change>) -> Result<(), E2eeError> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut sealed = Vec::with_capacity(changes.len());
        for c in changes {
            match c {
                Change::Put(kind, key, value) => {
                    let v = self.seal(kind, &key, &value)?;
                    sealed.push((kind, key, Some(v)));
                }
                Change::Delete(kind, key) => sealed.push((kind, key, None)),
            }
        }
        let mut conn = self.c();
        let tx = conn.transaction()?;
        for (kind, key, value) in sealed {
            match value {
                Some(v) => {
                    tx.execute(
                        "INSERT OR REPLACE INTO sealed (kind, key, value) VALUES (?1, ?2, ?3)",
                        params![kind, key, v],
                    )?;
                }
                None => {
                    tx.execute(
                        "DELETE FROM sealed WHERE kind = ?1 AND key = ?2",
                        params![kind, key],
                    )?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }
}
