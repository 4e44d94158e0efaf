//! Encrypting a plaintext profile database in place, once, on the first
//! open by a Koine that encrypts (SQLCipher's `sqlcipher_export`).
//!
//! The order keeps a working database at `path` at every moment:
//!
//! 1. the plaintext file is exported, under an exclusive lock, to
//!    `path.encrypting`;
//! 2. the copy is checked with the key (SQLCipher's page HMACs, SQLite's
//!    structure check, the rows of every table, the schema version) and
//!    synced to disk;
//! 3. the plaintext file gets a second name, `path.plaintext` (a hard link;
//!    a rename where links are not supported), the copy is renamed over
//!    `path` and the folder synced;
//! 4. `path.plaintext` is overwritten with zeros, synced and removed.
//!
//! A crash at any step leaves either the plaintext database (the export
//! starts again) or the encrypted one with a `.plaintext` left to remove,
//! which [`recover`] finishes on the next open.

use super::key::StoreKey;
use super::{Result, StoreError};
use rusqlite::{Connection, OpenFlags};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How far an encryption has gone, in bytes of the plaintext file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncryptProgress {
    /// Bytes written to the encrypted copy so far (about as many as read).
    pub done_bytes: u64,
    /// Size of the plaintext database.
    pub total_bytes: u64,
}

/// How often progress is reported while the export runs.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Where the encrypted copy is written before it replaces the original.
pub(super) fn encrypting_path(path: &Path) -> PathBuf {
    sibling(path, ".encrypting")
}

/// The plaintext original's second name while it waits to be removed.
pub(super) fn plaintext_path(path: &Path) -> PathBuf {
    sibling(path, ".plaintext")
}

/// What the file at `path` holds, from its first 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FileState {
    /// No file, or an empty one: a new database.
    Missing,
    /// An unencrypted SQLite database.
    Plaintext,
    /// Anything else: SQLCipher's random salt opens an encrypted file.
    Encrypted,
}

pub(super) fn file_state(path: &Path) -> Result<FileState> {
    const HEADER: &[u8; 16] = b"SQLite format 3\0";
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(FileState::Missing),
        Err(e) => return Err(e.into()),
    };
    let mut head = Vec::with_capacity(16);
    (&mut file).take(16).read_to_end(&mut head)?;
    Ok(match head.as_slice() {
        [] => FileState::Missing,
        h if h == HEADER => FileState::Plaintext,
        _ => FileState::Encrypted,
    })
}

/// Finishes or undoes an encryption a crash interrupted.
pub(super) fn recover(path: &Path) -> Result<()> {
    let copy = encrypting_path(path);
    for leftover in [sibling(&copy, "-journal"), copy] {
        match fs::remove_file(&leftover) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    let old = plaintext_path(path);
    if !old.exists() {
        return Ok(());
    }
    match file_state(path)? {
        // Stopped between the two names: the original is whole.
        FileState::Missing => fs::rename(&old, path)?,
        // Stopped before the copy replaced it: both names are one file.
        FileState::Plaintext if same_file(&old, path) => fs::remove_file(&old)?,
        FileState::Plaintext | FileState::Encrypted => remove_securely(&old)?,
    }
    sync_dir(path)
}

/// Encrypts the plaintext database at `path` in place with `key`.
pub(super) fn encrypt_in_place(
    path: &Path,
    key: &StoreKey,
    progress: &mut dyn FnMut(EncryptProgress),
) -> Result<()> {
    recover(path)?;
    let copy = encrypting_path(path);
    let total_bytes = fs::metadata(path)?.len();
    let (version, counts) = export(path, &copy, key, total_bytes, progress).inspect_err(|_| {
        let _ = fs::remove_file(&copy);
    })?;
    verify(&copy, key, version, &counts).inspect_err(|_| {
        let _ = fs::remove_file(&copy);
    })?;
    File::open(&copy)?.sync_all()?;
    // The plaintext file's own WAL and index were emptied by the export's
    // checkpoint; left under `path` they would be replayed onto the copy.
    for side in ["-wal", "-shm", "-journal"] {
        let side = sibling(path, side);
        if side.exists() {
            remove_securely(&side)?;
        }
    }
    let old = plaintext_path(path);
    if fs::hard_link(path, &old).is_err() {
        fs::rename(path, &old)?;
    }
    sync_dir(path)?;
    fs::rename(&copy, path)?;
    sync_dir(path)?;
    progress(EncryptProgress {
        done_bytes: total_bytes,
        total_bytes,
    });
    remove_securely(&old)?;
    sync_dir(path)
}

/// Row counts of every table, to compare the copy with the original.
fn table_counts(conn: &Connection, schema: &str) -> Result<Vec<(String, i64)>> {
    let names: Vec<String> = conn
        .prepare(&format!(
            "SELECT name FROM {schema}.sqlite_master WHERE type = 'table' \
             AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name"
        ))?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    names
        .into_iter()
        .map(|name| {
            let quoted = name.replace('"', "\"\"");
            let count = conn.query_row(
                &format!("SELECT count(*) FROM {schema}.\"{quoted}\""),
                [],
                |r| r.get(0),
            )?;
            Ok((name, count))
        })
        .collect()
}

type Counts = Vec<(String, i64)>;

fn export(
    path: &Path,
    copy: &Path,
    key: &StoreKey,
    total_bytes: u64,
    progress: &mut dyn FnMut(EncryptProgress),
) -> Result<(u32, Counts)> {
    // Default flags: ATTACH creates the copy with the same flags.
    let conn = Connection::open(path)?;
    // No other process reads or writes the plaintext file meanwhile.
    conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    let version: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let counts = table_counts(&conn, "main")?;
    let copy_text = copy
        .to_str()
        .ok_or_else(|| StoreError::Encryption("the profile path is not UTF-8".into()))?;
    conn.execute(
        "ATTACH DATABASE ?1 AS encrypted KEY ?2",
        rusqlite::params![copy_text, key.sql_value().as_str()],
    )?;
    conn.pragma_update(Some("encrypted"), "journal_mode", "DELETE")?;
    progress(EncryptProgress {
        done_bytes: 0,
        total_bytes,
    });
    // The export runs on its own thread (with the connection, which is
    // not shareable) while this one watches the copy grow.
    let exported = std::thread::scope(|scope| {
        let job = scope.spawn(move || {
            let done = conn
                .query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))
                .and_then(|()| conn.pragma_update(Some("encrypted"), "user_version", version))
                .and_then(|()| conn.execute_batch("DETACH DATABASE encrypted"));
            done.map(|()| conn)
        });
        let mut last = Instant::now();
        let mut reported = 0;
        while !job.is_finished() {
            std::thread::sleep(Duration::from_millis(10));
            let done_bytes = fs::metadata(copy).map_or(0, |m| m.len()).min(total_bytes);
            // Every quarter second, and at each eighth of the way: a fast
            // disk still shows the bar move.
            let step = done_bytes.saturating_sub(reported) >= total_bytes / 8;
            if (last.elapsed() >= PROGRESS_EVERY || step) && done_bytes > reported {
                last = Instant::now();
                reported = done_bytes;
                progress(EncryptProgress {
                    done_bytes,
                    total_bytes,
                });
            }
        }
        job.join()
    });
    let conn = match exported {
        Ok(result) => result?,
        Err(_) => return Err(StoreError::Encryption("the export stopped".into())),
    };
    drop(conn);
    Ok((version, counts))
}

fn verify(copy: &Path, key: &StoreKey, version: u32, counts: &Counts) -> Result<()> {
    let conn = Connection::open_with_flags(copy, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    key.unlock(&conn)?;
    let failure = |what: &str| Err(StoreError::Encryption(what.to_owned()));
    // One row per page whose HMAC does not match; none when all is well.
    let bad_pages: Vec<String> = conn
        .prepare("PRAGMA cipher_integrity_check")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if !bad_pages.is_empty() {
        return failure("the encrypted copy failed its page check");
    }
    let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if check != "ok" {
        return failure("the encrypted copy failed SQLite's structure check");
    }
    let copied: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if copied != version {
        return failure("the encrypted copy has another schema version");
    }
    if &table_counts(&conn, "main")? != counts {
        return failure("the encrypted copy does not hold the same rows");
    }
    Ok(())
}

/// Whether two paths name the same file (a hard link).
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (fs::metadata(a), fs::metadata(b)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (a, b);
        false
    }
}

/// Overwrites a file with zeros, syncs it, then removes it. On an SSD or a
/// copy-on-write file system the old blocks may survive elsewhere: this
/// removes what the file system shows, not what the flash keeps.
pub(super) fn remove_securely(path: &Path) -> Result<()> {
    let mut file = match OpenOptions::new().write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let mut left = file.metadata()?.len();
    let zeros = vec![0u8; 1 << 20];
    while left > 0 {
        let n = usize::try_from(left).unwrap_or(usize::MAX).min(zeros.len());
        file.write_all(zeros.get(..n).unwrap_or_default())?;
        left = left.saturating_sub(n as u64);
    }
    file.sync_all()?;
    drop(file);
    fs::remove_file(path)?;
    Ok(())
}

/// Makes a rename in the folder of `path` durable.
pub(super) fn sync_dir(path: &Path) -> Result<()> {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
