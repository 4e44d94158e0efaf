//! History, accounts, contacts and the outbox in one SQLite file.
//!
//! Numbered migrations (`migrations/NNN_*.sql`) are applied in order, each in
//! its own transaction, with the schema version in `user_version`. The file is
//! opened in WAL mode so that readers (search, the UI) never block the writer.
//!
//! At rest the file is encrypted with SQLCipher under a random key kept in
//! the OS keyring ([`StoreKey`]); [`Store::open_profile`] finds or makes that
//! key and encrypts a plaintext profile in place on its first open. Deleted
//! rows are overwritten (`secure_delete`, FTS5 `secure-delete`), and the
//! commits after which a network is told it may forget what it sent reach
//! the disk before they return ([`Store::hold_durable`]).

mod accounts;
mod codec;
mod consent;
mod conversations;
mod encrypt;
mod key;
pub mod messages;
mod outbox;
mod people;
mod people_log;
mod routes;
mod search;

pub use encrypt::EncryptProgress;
pub use key::{KEY_NAME, StoreKey};
pub use routes::{Provisional, RouteSubject, RouteUse};
pub use search::SearchHit;

use encrypt::FileState;
use koine_api::{SecretError, SecretStore};
use rusqlite::Connection;
use std::path::Path;
use thiserror::Error;

/// Migrations in order; the index + 1 is the schema version.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/001_init.sql"),
    include_str!("../../migrations/002_people.sql"),
    include_str!("../../migrations/003_route_truth.sql"),
    include_str!("../../migrations/004_secure_delete.sql"),
];

/// Errors of the store.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored value could not be decoded (a newer or damaged profile).
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    /// The profile was written by a newer Koine.
    #[error("the profile has schema version {found}, newer than this Koine ({supported})")]
    TooNew {
        /// Version in the file.
        found: u32,
        /// Newest version this build knows.
        supported: u32,
    },
    /// A referenced row does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The keyring refused the history's key or could not be reached; the
    /// history stays closed (never opened, nor written, unencrypted).
    #[error("the keyring did not give the key of the history: {0}")]
    KeyUnavailable(#[source] SecretError),
    /// The history is encrypted and the keyring holds no key for it.
    #[error("the history is encrypted and its key is not in the keyring")]
    KeyMissing,
    /// The keyring's entry for the history's key is not a key.
    #[error("the keyring's entry for the history's key is not a key")]
    KeyMalformed,
    /// The key does not open the file (another key's file, or damaged).
    #[error(
        "the history's key does not open it: the file is damaged or was encrypted with another key"
    )]
    WrongKey,
    /// Encrypting a plaintext history failed; the plaintext file is kept.
    #[error("encrypting the history failed ({0}); the unencrypted file was kept as it was")]
    Encryption(String),
    /// A file of the profile could not be read or written.
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
}

/// Result alias of the store.
pub type Result<T> = std::result::Result<T, StoreError>;

/// The SQLite store.
pub struct Store {
    conn: Connection,
    encrypted: bool,
    /// How many callers asked that commits reach the disk before they
    /// return ([`Store::hold_durable`]).
    durable_holds: u32,
}

impl Store {
    /// Opens (or creates) the encrypted store at `path` with `key`, and
    /// migrates it. A file the key does not open is refused
    /// ([`StoreError::WrongKey`]); so is a plaintext file: see
    /// [`Store::open_profile`], which encrypts it first.
    pub fn open(path: &Path, key: &StoreKey) -> Result<Self> {
        let conn = Connection::open(path)?;
        key.unlock(&conn)?;
        // The first read of the file is where a wrong key shows.
        match conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(())) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::NotADatabase =>
            {
                return Err(StoreError::WrongKey);
            }
            other => other?,
        }
        Self::setup(conn, true)
    }

    /// Opens the profile database at `path` with its key from `secrets` (the
    /// profile's keyring scope): makes the key for a new profile, encrypts
    /// a plaintext one in place first (reporting `progress`), and refuses
    /// to open anything without its key.
    pub fn open_profile(
        path: &Path,
        secrets: &dyn SecretStore,
        progress: &mut dyn FnMut(EncryptProgress),
    ) -> Result<Self> {
        encrypt::recover(path)?;
        let key = match encrypt::file_state(path)? {
            FileState::Encrypted => StoreKey::load(secrets)?,
            FileState::Missing => StoreKey::load_or_create(secrets)?,
            FileState::Plaintext => {
                let key = StoreKey::load_or_create(secrets)?;
                encrypt::encrypt_in_place(path, &key, progress)?;
                key
            }
        };
        Self::open(path, &key)
    }

    /// Opens a profile's database with its key from the OS keyring, as the
    /// engine does (for tools and examples that write a profile for the
    /// window); a plaintext one is encrypted first, with no progress shown.
    pub fn open_with_keyring(profile: &crate::Profile) -> Result<Self> {
        let secrets = koine_keyring::KeyringSecrets::scoped(profile.database_key_scope()?);
        Self::open_profile(&profile.database(), &secrets, &mut |_| {})
    }

    /// An unencrypted in-memory store, for tests of code that needs one.
    pub fn open_in_memory() -> Result<Self> {
        Self::setup(Connection::open_in_memory()?, false)
    }

    /// An unencrypted file, as Koine wrote before it encrypted: for tests
    /// of the encryption of such profiles and of what deletion overwrites.
    #[cfg(test)]
    pub(crate) fn open_plaintext(path: &Path) -> Result<Self> {
        Self::setup(Connection::open(path)?, false)
    }

    fn setup(conn: Connection, encrypted: bool) -> Result<Self> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // NORMAL: a commit is atomic and survives a crash of Koine; only a
        // power loss may roll back the last ones. Commits that precede an
        // acknowledgement to a network are made under `hold_durable`.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut store = Self {
            conn,
            encrypted,
            durable_holds: 0,
        };
        store.migrate()?;
        Ok(store)
    }

    /// Whether the file is encrypted at rest (only in-memory test stores
    /// are not).
    pub fn is_encrypted(&self) -> bool {
        self.encrypted
    }

    /// From now until the matching [`Store::release_durable`], every commit
    /// reaches the disk before it returns (`synchronous = FULL`): for the
    /// commits after which a plugin acknowledges to its network, which
    /// forgets what it was told is stored. Holds nest.
    pub fn hold_durable(&mut self) -> Result<()> {
        if self.durable_holds == 0 {
            self.conn.pragma_update(None, "synchronous", "FULL")?;
        }
        self.durable_holds = self.durable_holds.saturating_add(1);
        Ok(())
    }

    /// Ends one [`Store::hold_durable`]; the last one goes back to
    /// `synchronous = NORMAL`.
    pub fn release_durable(&mut self) -> Result<()> {
        self.durable_holds = self.durable_holds.saturating_sub(1);
        if self.durable_holds == 0 {
            self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        }
        Ok(())
    }

    /// Moves everything committed into the main file and empties the WAL,
    /// so that what a deletion overwrote is not left in an older frame.
    /// Best effort: a reader holding an old snapshot makes it wait for the
    /// next checkpoint.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<u32> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    fn migrate(&mut self) -> Result<()> {
        let current = self.schema_version()?;
        let supported = u32::try_from(MIGRATIONS.len()).unwrap_or(u32::MAX);
        if current > supported {
            return Err(StoreError::TooNew {
                found: current,
                supported,
            });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", index + 1)?;
            tx.commit()?;
        }
        Ok(())
    }
}

impl Store {
    /// Makes every later write fail (as a full disk or a locked file would)
    /// until called with `false`: the tests of what the engine does when
    /// the store refuses a write.
    #[cfg(test)]
    pub(crate) fn refuse_writes(&self, refuse: bool) -> Result<()> {
        self.conn.pragma_update(None, "query_only", refuse)?;
        Ok(())
    }

    /// Runs `f` in one transaction: everything it wrote, or nothing. Many
    /// messages stored in one transaction cost one commit instead of one
    /// each (the methods it calls nest as savepoints).
    pub fn batch<T>(&mut self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        match f(self) {
            Ok(value) => {
                self.conn.execute_batch("COMMIT")?;
                Ok(value)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod at_rest_tests;
#[cfg(test)]
mod routes_tests;
#[cfg(test)]
mod tests;
