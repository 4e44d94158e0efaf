//! History, accounts, contacts and the outbox in one SQLite file.
//!
//! Numbered migrations (`migrations/NNN_*.sql`) are applied in order, each in
//! its own transaction, with the schema version in `user_version`. The file is
//! opened in WAL mode so that readers (search, the UI) never block the writer.

mod accounts;
mod codec;
mod consent;
mod conversations;
pub mod messages;
mod outbox;
mod people;
mod people_log;
mod routes;
mod search;

pub use routes::{Provisional, RouteSubject, RouteUse};
pub use search::SearchHit;

use rusqlite::Connection;
use std::path::Path;
use thiserror::Error;

/// Migrations in order; the index + 1 is the schema version.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/001_init.sql"),
    include_str!("../../migrations/002_people.sql"),
    include_str!("../../migrations/003_route_truth.sql"),
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
}

/// Result alias of the store.
pub type Result<T> = std::result::Result<T, StoreError>;

/// The SQLite store.
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (or creates) the store at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        Self::setup(conn)
    }

    /// An in-memory store, for tests of code that needs one.
    pub fn open_in_memory() -> Result<Self> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(conn: Connection) -> Result<Self> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mut store = Self { conn };
        store.migrate()?;
        Ok(store)
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
mod routes_tests;
#[cfg(test)]
mod tests;
