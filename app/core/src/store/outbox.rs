//! The persisted outbox of durable commands.

use super::codec::{from_json, to_json};
use super::{Result, Store, StoreError};
use koine_api::{AccountId, Command, Timestamp};
use rusqlite::{Connection, params};

pub(super) fn insert_outbox_on(
    conn: &Connection,
    account: &AccountId,
    command: &Command,
    at: Timestamp,
) -> Result<()> {
    let local_id = command
        .local_id()
        .ok_or_else(|| StoreError::Corrupt("only durable commands go to the outbox".into()))?;
    conn.execute(
        "INSERT OR IGNORE INTO outbox (local_id, account_id, command, created_at, seq)
         VALUES (?1, ?2, ?3, ?4, (SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox))",
        params![local_id.as_str(), account.as_str(), to_json(command)?, at.0],
    )?;
    super::routes::insert_change_route_on(conn, account, command, at)?;
    Ok(())
}

impl Store {
    /// Puts a durable command (edit, reaction, deletion) in the outbox.
    pub fn enqueue(&self, account: &AccountId, command: &Command) -> Result<()> {
        insert_outbox_on(&self.conn, account, command, Timestamp::now())
    }

    /// The account's pending commands, in the order they were queued.
    pub fn pending(&self, account: &AccountId) -> Result<Vec<Command>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT command FROM outbox WHERE account_id = ?1 ORDER BY seq")?;
        let rows = stmt.query_map([account.as_str()], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(from_json(&row?)?);
        }
        Ok(out)
    }

    /// How many commands wait in all outboxes.
    pub fn outbox_len(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))?)
    }
}

impl Store {
    /// Applies the user's own change to a message and queues the command
    /// that sends it, in one transaction: both or neither.
    pub fn apply_own_change(
        &self,
        account: &AccountId,
        key: &koine_api::ConversationKey,
        target: &koine_api::RemoteId,
        change: &koine_api::MessageChange,
        command: &Command,
    ) -> Result<Option<crate::model::MessageId>> {
        let tx = self.conn.unchecked_transaction()?;
        let id = self.apply_change(
            account,
            key,
            target,
            change,
            &koine_api::Author::Me,
            Timestamp::now(),
        )?;
        insert_outbox_on(&tx, account, command, Timestamp::now())?;
        tx.commit()?;
        Ok(id)
    }
}
