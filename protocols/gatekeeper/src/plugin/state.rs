//! The plugin's own small store (`gatekeeper.sqlite` in the account's data
//! directory): the pinned server key, peers the user knows (wrote to or
//! accepted), and verification states. No secrets: private keys are in the
//! E2EE module's sealed store, its key and the Noise key in the keyring.

use koine_api::SessionError;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;

/// Verification state of a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// Trusted on first use.
    Unverified,
    /// The user compared safety numbers.
    Verified,
    /// The identity key changed since last seen (the user had not
    /// verified it): a notice, sends go on.
    Changed,
    /// The identity key changed after the user verified it: sends wait
    /// until the user accepts the new key.
    ChangedVerified,
}

/// The store.
pub struct State(std::sync::Mutex<Connection>);

fn err(e: rusqlite::Error) -> SessionError {
    SessionError::Storage(e.to_string())
}

impl State {
    fn c(&self) -> std::sync::MutexGuard<'_, Connection> {
        match self.0.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Opens it.
    pub fn open(dir: &Path) -> Result<Self, SessionError> {
        let c = Connection::open(dir.join("gatekeeper.sqlite")).map_err(err)?;
        c.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
             CREATE TABLE IF NOT EXISTS peers (peer TEXT PRIMARY KEY, known INTEGER NOT NULL DEFAULT 0,
                 trust TEXT NOT NULL DEFAULT 'unverified');",
        )
        .map_err(err)?;
        Ok(Self(std::sync::Mutex::new(c)))
    }

    /// The pinned server key learned by trust on first use.
    pub fn pinned_key(&self) -> Result<Option<Vec<u8>>, SessionError> {
        self.c()
            .query_row("SELECT value FROM meta WHERE key = 'server-key'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(err)
    }

    /// Pins a server key.
    pub fn pin_key(&self, key: &[u8]) -> Result<(), SessionError> {
        self.c()
            .execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('server-key', ?1)",
                params![key],
            )
            .map_err(err)?;
        Ok(())
    }

    /// Whether the user knows this peer (wrote to them or accepted them).
    pub fn is_known(&self, peer: &str) -> Result<bool, SessionError> {
        Ok(self
            .c()
            .query_row(
                "SELECT known FROM peers WHERE peer = ?1",
                params![peer],
                |r| r.get::<_, bool>(0),
            )
            .optional()
            .map_err(err)?
            .unwrap_or(false))
    }

    /// Marks a peer as known.
    pub fn set_known(&self, peer: &str) -> Result<(), SessionError> {
        self.c()
            .execute(
                "INSERT INTO peers (peer, known) VALUES (?1, 1) ON CONFLICT(peer) DO UPDATE SET known = 1",
                params![peer],
            )
            .map_err(err)?;
        Ok(())
    }

    /// The trust state of a peer.
    pub fn trust(&self, peer: &str) -> Result<Trust, SessionError> {
        let t: Option<String> = self
            .c()
            .query_row(
                "SELECT trust FROM peers WHERE peer = ?1",
                params![peer],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        Ok(match t.as_deref() {
            Some("verified") => Trust::Verified,
            Some("changed") => Trust::Changed,
            Some("changed-verified") => Trust::ChangedVerified,
            _ => Trust::Unverified,
        })
    }

    /// Sets the trust state of a peer.
    pub fn set_trust(&self, peer: &str, trust: Trust) -> Result<(), SessionError> {
        let t = match trust {
            Trust::Unverified => "unverified",
            Trust::Verified => "verified",
            Trust::Changed => "changed",
            Trust::ChangedVerified => "changed-verified",
        };
        self.c()
            .execute(
                "INSERT INTO peers (peer, trust) VALUES (?1, ?2) ON CONFLICT(peer) DO UPDATE SET trust = ?2",
                params![peer, t],
            )
            .map_err(err)?;
        Ok(())
    }
}
