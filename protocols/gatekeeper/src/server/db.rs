//! The reference server's SQLite store. It holds accounts, public keys,
//! opt-ins, blocks, the store-and-forward queue (Signal ciphertext only) and
//! media (AES-GCM ciphertext only): nothing in it is plaintext content.

use crate::wire::Peer;
use crate::wire::stanza::{ErrorCode, Folder};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS server (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS providers (name TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS users (address TEXT PRIMARY KEY, salt BLOB NOT NULL, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (token TEXT PRIMARY KEY, address TEXT NOT NULL, expires INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS keys (address TEXT PRIMARY KEY, identity BLOB NOT NULL,
    registration_id INTEGER NOT NULL, device_id INTEGER NOT NULL,
    signed_id INTEGER NOT NULL, signed_pub BLOB NOT NULL, signed_sig BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS prekeys (address TEXT NOT NULL, id INTEGER NOT NULL, pub BLOB NOT NULL,
    PRIMARY KEY (address, id));
CREATE TABLE IF NOT EXISTS optins (address TEXT NOT NULL, provider TEXT NOT NULL,
    folder TEXT NOT NULL, opted_in INTEGER NOT NULL, PRIMARY KEY (address, provider));
CREATE TABLE IF NOT EXISTS blocks (blocker TEXT NOT NULL, blocked TEXT NOT NULL,
    PRIMARY KEY (blocker, blocked));
CREATE TABLE IF NOT EXISTS reports (seq INTEGER PRIMARY KEY, reporter TEXT NOT NULL,
    reported TEXT NOT NULL, message_id TEXT, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS seen (sender TEXT NOT NULL, id TEXT NOT NULL, ts INTEGER NOT NULL,
    PRIMARY KEY (sender, id));
CREATE TABLE IF NOT EXISTS queue (seq INTEGER PRIMARY KEY AUTOINCREMENT, recipient TEXT NOT NULL,
    sender TEXT NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL, body BLOB, ts INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS queue_by_recipient ON queue (recipient, seq);
CREATE TABLE IF NOT EXISTS media (id TEXT PRIMARY KEY, host TEXT NOT NULL, owner TEXT NOT NULL,
    bytes BLOB NOT NULL);
";

/// Store failures (reported to clients as `internal`).
#[derive(Debug, thiserror::Error)]
#[error("store: {0}")]
pub struct DbError(String);

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError(e.to_string())
    }
}

/// A queued item for one recipient.
#[derive(Debug, Clone)]
pub struct Queued {
    /// Queue position.
    pub seq: i64,
    /// Who sent it.
    pub sender: String,
    /// Message id.
    pub id: String,
    /// `pkmsg`, `msg`, `delivered`, `read`.
    pub kind: String,
    /// Signal ciphertext (messages only).
    pub body: Option<Vec<u8>>,
    /// Server time.
    pub ts: i64,
}

/// Public keys of one account.
#[derive(Debug, Clone)]
pub struct StoredKeys {
    /// Identity key.
    pub identity: Vec<u8>,
    /// Registration id.
    pub registration_id: u32,
    /// Device id.
    pub device_id: u32,
    /// Signed prekey id, public key, signature.
    pub signed: (u32, Vec<u8>, Vec<u8>),
}

/// The store.
pub struct Db(Mutex<Connection>);

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    koine_api::Timestamp::now().0
}

fn hash_password(salt: &[u8], password: &str) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(password.as_bytes());
    h.finalize().to_vec()
}

impl Db {
    /// Opens or creates the store.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self(Mutex::new(conn)))
    }

    fn c(&self) -> MutexGuard<'_, Connection> {
        match self.0.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The server's Noise static key pair (private, public), created on
    /// first use.
    pub fn server_key(&self) -> Result<(Vec<u8>, Vec<u8>), DbError> {
        let c = self.c();
        let get = |k: &str| -> Result<Option<Vec<u8>>, DbError> {
            Ok(
                c.query_row("SELECT value FROM server WHERE key = ?1", params![k], |r| {
                    r.get(0)
                })
                .optional()?,
            )
        };
        if let (Some(private), Some(public)) = (get("noise")?, get("noise-public")?) {
            return Ok((private, public));
        }
        let (private, public) =
            crate::wire::noise::generate_static_key().map_err(|e| DbError(e.to_string()))?;
        c.execute(
            "INSERT OR REPLACE INTO server (key, value) VALUES ('noise', ?1), ('noise-public', ?2)",
            params![private, public],
        )?;
        Ok((private, public))
    }

    /// Registers a provider.
    pub fn add_provider(&self, name: &str) -> Result<(), DbError> {
        self.c().execute(
            "INSERT OR IGNORE INTO providers (name) VALUES (?1)",
            params![name],
        )?;
        Ok(())
    }

    /// Whether a provider is registered.
    pub fn provider_exists(&self, name: &str) -> Result<bool, DbError> {
        Ok(self
            .c()
            .query_row(
                "SELECT 1 FROM providers WHERE name = ?1",
                params![name],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Creates or updates an account.
    pub fn add_user(&self, who: &Peer, password: &str) -> Result<(), DbError> {
        if let Some(p) = who.provider() {
            self.add_provider(p)?;
        }
        let salt: [u8; 16] = rand::random();
        self.c().execute(
            "INSERT OR REPLACE INTO users (address, salt, hash) VALUES (?1, ?2, ?3)",
            params![
                who.to_string(),
                salt.to_vec(),
                hash_password(&salt, password)
            ],
        )?;
        Ok(())
    }

    /// Whether an account exists.
    pub fn user_exists(&self, who: &Peer) -> Result<bool, DbError> {
        Ok(self
            .c()
            .query_row(
                "SELECT 1 FROM users WHERE address = ?1",
                params![who.to_string()],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Checks a password.
    pub fn check_password(&self, who: &Peer, password: &str) -> Result<bool, DbError> {
        let row: Option<(Vec<u8>, Vec<u8>)> = self
            .c()
            .query_row(
                "SELECT salt, hash FROM users WHERE address = ?1",
                params![who.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(row.is_some_and(|(salt, hash)| hash_password(&salt, password) == hash))
    }

    /// Issues a provider token valid for 24 hours.
    pub fn issue_token(&self, who: &Peer) -> Result<String, DbError> {
        let token = hex::encode(rand::random::<[u8; 32]>());
        self.c().execute(
            "INSERT INTO tokens (token, address, expires) VALUES (?1, ?2, ?3)",
            params![
                token,
                who.to_string(),
                now_ms().saturating_add(24 * 3600 * 1000)
            ],
        )?;
        Ok(token)
    }

    /// The account a valid token belongs to.
    pub fn token_owner(&self, token: &str) -> Result<Option<String>, DbError> {
        Ok(self
            .c()
            .query_row(
                "SELECT address FROM tokens WHERE token = ?1 AND expires > ?2",
                params![token, now_ms()],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Opts a gatekeeper user in or out for a provider.
    pub fn set_optin(
        &self,
        who: &Peer,
        provider: &str,
        folder: Folder,
        on: bool,
    ) -> Result<(), DbError> {
        self.c().execute(
            "INSERT OR REPLACE INTO optins (address, provider, folder, opted_in) VALUES (?1, ?2, ?3, ?4)",
            params![who.to_string(), provider, folder.as_str(), on],
        )?;
        Ok(())
    }

    /// The opt-in state: `None` never opted in, `Some(true)` in, `Some(false)` out.
    pub fn optin(&self, who: &Peer, provider: &str) -> Result<Option<bool>, DbError> {
        Ok(self
            .c()
            .query_row(
                "SELECT opted_in FROM optins WHERE address = ?1 AND provider = ?2",
                params![who.to_string(), provider],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// All opt-ins of a user.
    pub fn optins(&self, who: &Peer) -> Result<Vec<(String, Folder, bool)>, DbError> {
        let c = self.c();
        let mut s =
            c.prepare("SELECT provider, folder, opted_in FROM optins WHERE address = ?1")?;
        let rows = s.query_map(params![who.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (p, f, on) = row?;
            out.push((p, f.parse().unwrap_or(Folder::Separate), on));
        }
        Ok(out)
    }

    /// Blocks or unblocks.
    pub fn set_block(&self, blocker: &Peer, blocked: &Peer, on: bool) -> Result<(), DbError> {
        let c = self.c();
        if on {
            c.execute(
                "INSERT OR IGNORE INTO blocks (blocker, blocked) VALUES (?1, ?2)",
                params![blocker.to_string(), blocked.to_string()],
            )?;
        } else {
            c.execute(
                "DELETE FROM blocks WHERE blocker = ?1 AND blocked = ?2",
                params![blocker.to_string(), blocked.to_string()],
            )?;
        }
        Ok(())
    }

    fn blocked_either_way(&self, a: &Peer, b: &Peer) -> Result<bool, DbError> {
        Ok(self
            .c()
            .query_row(
                "SELECT 1 FROM blocks WHERE (blocker = ?1 AND blocked = ?2) OR (blocker = ?2 AND blocked = ?1)",
                params![a.to_string(), b.to_string()],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Records a report (metadata only).
    pub fn report(
        &self,
        reporter: &Peer,
        reported: &Peer,
        id: Option<&str>,
    ) -> Result<(), DbError> {
        self.c().execute(
            "INSERT INTO reports (reporter, reported, message_id, at) VALUES (?1, ?2, ?3, ?4)",
            params![reporter.to_string(), reported.to_string(), id, now_ms()],
        )?;
        Ok(())
    }

    /// The interop rules of PROTOCOL.md §6 for `from` writing to `to`.
    pub fn may_write(&self, from: &Peer, to: &Peer) -> Result<Result<(), ErrorCode>, DbError> {
        if from == to {
            return Ok(Err(ErrorCode::NotAllowed));
        }
        if !self.user_exists(to)? {
            return Ok(Err(ErrorCode::ItemNotFound));
        }
        if self.blocked_either_way(from, to)? {
            return Ok(Err(ErrorCode::Blocked));
        }
        let (gk, provider) = match (from, to) {
            (Peer::Gatekeeper(_), Peer::Gatekeeper(_)) => return Ok(Ok(())),
            (Peer::ThirdParty(_), Peer::ThirdParty(_)) => return Ok(Err(ErrorCode::NotAllowed)),
            (Peer::Gatekeeper(_), Peer::ThirdParty(p)) => (from, p.provider()),
            (Peer::ThirdParty(p), Peer::Gatekeeper(_)) => (to, p.provider()),
        };
        Ok(match self.optin(gk, provider)? {
            Some(true) => Ok(()),
            Some(false) => Err(ErrorCode::ReadOnly),
            None => Err(ErrorCode::NotOptedIn),
        })
    }

    /// Publishes keys; returns the one-time prekey count.
    pub fn put_keys(
        &self,
        who: &Peer,
        keys: &StoredKeys,
        one_time: &[(u32, Vec<u8>)],
    ) -> Result<u32, DbError> {
        let mut c = self.c();
        let tx = c.transaction()?;
        let a = who.to_string();
        let old: Option<Vec<u8>> = tx
            .query_row(
                "SELECT identity FROM keys WHERE address = ?1",
                params![a],
                |r| r.get(0),
            )
            .optional()?;
        if old.as_ref().is_some_and(|o| *o != keys.identity) {
            // A new identity (reinstall): the old one-time prekeys are useless.
            tx.execute("DELETE FROM prekeys WHERE address = ?1", params![a])?;
        }
        tx.execute(
            "INSERT OR REPLACE INTO keys (address, identity, registration_id, device_id, signed_id, signed_pub, signed_sig)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![a, keys.identity, keys.registration_id, keys.device_id, keys.signed.0, keys.signed.1, keys.signed.2],
        )?;
        for (id, public) in one_time {
            tx.execute(
                "INSERT OR REPLACE INTO prekeys (address, id, pub) VALUES (?1, ?2, ?3)",
                params![a, id, public],
            )?;
        }
        tx.commit()?;
        drop(c);
        self.prekey_count(who)
    }

    /// One-time prekeys held for an account.
    pub fn prekey_count(&self, who: &Peer) -> Result<u32, DbError> {
        Ok(self.c().query_row(
            "SELECT COUNT(*) FROM prekeys WHERE address = ?1",
            params![who.to_string()],
            |r| r.get(0),
        )?)
    }

    /// A bundle's parts, consuming one one-time prekey when `one_time`.
    #[allow(clippy::type_complexity)]
    pub fn take_bundle(
        &self,
        who: &Peer,
        one_time: bool,
    ) -> Result<Option<(StoredKeys, Option<(u32, Vec<u8>)>)>, DbError> {
        let mut c = self.c();
        let tx = c.transaction()?;
        let a = who.to_string();
        let keys = tx
            .query_row(
                "SELECT identity, registration_id, device_id, signed_id, signed_pub, signed_sig FROM keys WHERE address = ?1",
                params![a],
                |r| {
                    Ok(StoredKeys {
                        identity: r.get(0)?,
                        registration_id: r.get(1)?,
                        device_id: r.get(2)?,
                        signed: (r.get(3)?, r.get(4)?, r.get(5)?),
                    })
                },
            )
            .optional()?;
        let Some(keys) = keys else {
            return Ok(None);
        };
        let otk: Option<(u32, Vec<u8>)> = if one_time {
            tx.query_row(
                "SELECT id, pub FROM prekeys WHERE address = ?1 ORDER BY id LIMIT 1",
                params![a],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
        } else {
            None
        };
        if let Some((id, _)) = &otk {
            tx.execute(
                "DELETE FROM prekeys WHERE address = ?1 AND id = ?2",
                params![a, id],
            )?;
        }
        tx.commit()?;
        Ok(Some((keys, otk)))
    }

    /// The stored time of an already accepted message, for duplicates.
    pub fn seen(&self, sender: &Peer, id: &str) -> Result<Option<i64>, DbError> {
        Ok(self
            .c()
            .query_row(
                "SELECT ts FROM seen WHERE sender = ?1 AND id = ?2",
                params![sender.to_string(), id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Items queued for a recipient.
    pub fn queue_len(&self, recipient: &Peer) -> Result<u32, DbError> {
        Ok(self.c().query_row(
            "SELECT COUNT(*) FROM queue WHERE recipient = ?1",
            params![recipient.to_string()],
            |r| r.get(0),
        )?)
    }

    /// Stores a message for its recipient (and remembers its id); returns
    /// the server time. A message already seen returns its first time.
    pub fn enqueue_message(
        &self,
        sender: &Peer,
        recipient: &Peer,
        id: &str,
        kind: &str,
        body: &[u8],
    ) -> Result<i64, DbError> {
        let mut c = self.c();
        let tx = c.transaction()?;
        let s = sender.to_string();
        if let Some(ts) = tx
            .query_row(
                "SELECT ts FROM seen WHERE sender = ?1 AND id = ?2",
                params![s, id],
                |r| r.get(0),
            )
            .optional()?
        {
            return Ok(ts);
        }
        let ts = now_ms();
        tx.execute(
            "INSERT INTO seen (sender, id, ts) VALUES (?1, ?2, ?3)",
            params![s, id, ts],
        )?;
        tx.execute(
            "INSERT INTO queue (recipient, sender, id, kind, body, ts) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![recipient.to_string(), s, id, kind, body, ts],
        )?;
        tx.commit()?;
        Ok(ts)
    }

    /// Stores a receipt for its recipient.
    pub fn enqueue_receipt(
        &self,
        sender: &Peer,
        recipient: &Peer,
        id: &str,
        kind: &str,
    ) -> Result<(), DbError> {
        self.c().execute(
            "INSERT INTO queue (recipient, sender, id, kind, body, ts) VALUES (?1, ?2, ?3, ?4, NULL, ?5)",
            params![recipient.to_string(), sender.to_string(), id, kind, now_ms()],
        )?;
        Ok(())
    }

    /// Queue items after `after`, oldest first.
    pub fn pending(
        &self,
        recipient: &Peer,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Queued>, DbError> {
        let c = self.c();
        let mut s = c.prepare(
            "SELECT seq, sender, id, kind, body, ts FROM queue WHERE recipient = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )?;
        let rows = s.query_map(params![recipient.to_string(), after, limit], |r| {
            Ok(Queued {
                seq: r.get(0)?,
                sender: r.get(1)?,
                id: r.get(2)?,
                kind: r.get(3)?,
                body: r.get(4)?,
                ts: r.get(5)?,
            })
        })?;
        rows.collect::<Result<_, _>>().map_err(Into::into)
    }

    /// Removes a message the recipient acknowledged.
    pub fn ack(&self, recipient: &Peer, sender: &str, id: &str) -> Result<(), DbError> {
        self.c().execute(
            "DELETE FROM queue WHERE recipient = ?1 AND sender = ?2 AND id = ?3 AND body IS NOT NULL",
            params![recipient.to_string(), sender, id],
        )?;
        Ok(())
    }

    /// Removes one queue item (receipts, once written).
    pub fn remove(&self, seq: i64) -> Result<(), DbError> {
        self.c()
            .execute("DELETE FROM queue WHERE seq = ?1", params![seq])?;
        Ok(())
    }

    /// Stores a media object.
    pub fn put_media(
        &self,
        id: &str,
        host: &str,
        owner: &str,
        bytes: &[u8],
    ) -> Result<(), DbError> {
        self.c().execute(
            "INSERT INTO media (id, host, owner, bytes) VALUES (?1, ?2, ?3, ?4)",
            params![id, host, owner, bytes],
        )?;
        Ok(())
    }

    /// Reads a media object of a host.
    pub fn media(&self, id: &str, host: &str) -> Result<Option<Vec<u8>>, DbError> {
        Ok(self
            .c()
            .query_row(
                "SELECT bytes FROM media WHERE id = ?1 AND host = ?2",
                params![id, host],
                |r| r.get(0),
            )
            .optional()?)
    }
}
