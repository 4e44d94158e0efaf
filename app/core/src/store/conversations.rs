//! Conversations: the unified list across accounts and networks.

use super::codec::{enum_from, enum_str, opt_from_json, to_json};
use super::{Result, Store, StoreError};
use crate::model::{ConversationId, ConversationRecord, Preview};
use koine_api::{AccountId, Address, Conversation, ConversationKey, ConversationKind, Timestamp};
use rusqlite::{OptionalExtension, Row, params};

const COLUMNS: &str = "id, account_id, remote_key, title, kind, peer, route, read_only, is_request, pinned, unread, last_activity, draft, \
    (SELECT json_array(m.direction, m.sender_name, substr(m.body, 1, 200), m.attachments IS NOT NULL, m.deleted) \
     FROM messages m WHERE m.conversation_id = conversations.id \
     ORDER BY m.timestamp DESC, m.id DESC LIMIT 1)";

fn record(row: &Row<'_>) -> rusqlite::Result<RawConversation> {
    Ok(RawConversation {
        id: row.get(0)?,
        account: row.get(1)?,
        key: row.get(2)?,
        title: row.get(3)?,
        kind: row.get(4)?,
        peer: row.get(5)?,
        route: row.get(6)?,
        read_only: row.get(7)?,
        is_request: row.get(8)?,
        pinned: row.get(9)?,
        unread: row.get(10)?,
        last_activity: row.get(11)?,
        draft: row.get(12)?,
        preview: row.get(13)?,
    })
}

struct RawConversation {
    id: i64,
    account: String,
    key: String,
    title: String,
    kind: String,
    peer: Option<String>,
    route: Option<String>,
    read_only: bool,
    is_request: bool,
    pinned: bool,
    unread: u32,
    last_activity: i64,
    draft: Option<String>,
    preview: Option<String>,
}

impl RawConversation {
    fn decode(self) -> Result<ConversationRecord> {
        Ok(ConversationRecord {
            id: ConversationId(self.id),
            account: AccountId::new(self.account),
            key: ConversationKey::new(self.key),
            title: self.title,
            kind: enum_from(&self.kind)?,
            peer: opt_from_json(self.peer)?,
            route: opt_from_json(self.route)?,
            read_only: self.read_only,
            is_request: self.is_request,
            pinned: self.pinned,
            unread: self.unread,
            last_activity: Timestamp(self.last_activity),
            draft: self.draft,
            preview: self.preview.as_deref().map(preview).transpose()?,
        })
    }
}

/// Reads the `json_array` of the last message's columns.
fn preview(json: &str) -> Result<Preview> {
    let (direction, sender_name, text, attachments, deleted): (
        String,
        Option<String>,
        String,
        i64,
        i64,
    ) = serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("preview: {e}")))?;
    Ok(Preview {
        direction: enum_from(&direction)?,
        sender_name,
        text,
        attachments: attachments != 0,
        deleted: deleted != 0,
    })
}

impl Store {
    /// Records what a plugin reported about a conversation; keeps the
    /// engine's own fields (pinned, unread, draft, request state).
    pub fn upsert_conversation(
        &self,
        account: &AccountId,
        conversation: &Conversation,
    ) -> Result<ConversationId> {
        let peer = conversation.peer.as_ref().map(to_json).transpose()?;
        let id = self.conn.query_row(
            "INSERT INTO conversations (account_id, remote_key, title, kind, peer, route, read_only)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (account_id, remote_key) DO UPDATE SET
               title = excluded.title, kind = excluded.kind,
               peer = COALESCE(excluded.peer, peer), route = excluded.route,
               read_only = excluded.read_only
             RETURNING id",
            params![
                account.as_str(),
                conversation.key.as_str(),
                conversation.title,
                enum_str(&conversation.kind)?,
                peer,
                to_json(&conversation.route)?,
                conversation.read_only
            ],
            |r| r.get(0),
        )?;
        Ok(ConversationId(id))
    }

    /// Finds or creates the conversation for a key, for a message that arrived
    /// before (or without) a conversation report. Returns the id and whether
    /// it was created.
    pub fn ensure_conversation(
        &self,
        account: &AccountId,
        key: &ConversationKey,
        peer: Option<&Address>,
        is_request: bool,
    ) -> Result<(ConversationId, bool)> {
        if let Some(id) = self.conversation_id(account, key)? {
            return Ok((id, false));
        }
        let peer_json = peer.map(to_json).transpose()?;
        let title = peer.map_or_else(|| key.to_string(), ToString::to_string);
        let id = self.conn.query_row(
            "INSERT INTO conversations (account_id, remote_key, title, kind, peer, is_request)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
            params![
                account.as_str(),
                key.as_str(),
                title,
                enum_str(&ConversationKind::Direct)?,
                peer_json,
                is_request
            ],
            |r| r.get(0),
        )?;
        Ok((ConversationId(id), true))
    }

    /// The id of a conversation by its network key.
    pub fn conversation_id(
        &self,
        account: &AccountId,
        key: &ConversationKey,
    ) -> Result<Option<ConversationId>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM conversations WHERE account_id = ?1 AND remote_key = ?2",
                params![account.as_str(), key.as_str()],
                |r| r.get(0),
            )
            .optional()?
            .map(ConversationId))
    }

    /// One conversation.
    pub fn conversation(&self, id: ConversationId) -> Result<ConversationRecord> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM conversations WHERE id = ?1"),
                [id.0],
                record,
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("conversation {}", id.0)))?
            .decode()
    }

    /// The unified list: pinned first, then by last activity.
    pub fn conversations(&self) -> Result<Vec<ConversationRecord>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM conversations ORDER BY pinned DESC, last_activity DESC, id DESC"
        ))?;
        let rows = stmt.query_map([], record)?;
        rows.map(|r| r.map_err(Into::into).and_then(RawConversation::decode))
            .collect()
    }

    /// Pins or unpins.
    pub fn set_pinned(&self, id: ConversationId, pinned: bool) -> Result<()> {
        self.conn.execute(
            "UPDATE conversations SET pinned = ?2 WHERE id = ?1",
            params![id.0, pinned],
        )?;
        Ok(())
    }

    /// Keeps the unsent draft.
    pub fn set_draft(&self, id: ConversationId, draft: Option<&str>) -> Result<()> {
        self.conn.execute(
            "UPDATE conversations SET draft = ?2 WHERE id = ?1",
            params![id.0, draft.filter(|d| !d.is_empty())],
        )?;
        Ok(())
    }

    /// Deletes every message of a conversation, the queued sends among
    /// them and its draft, in one transaction; the conversation stays,
    /// empty. Returns how many messages went. With `secure_delete` the
    /// freed pages are overwritten; call [`Store::checkpoint`] after it to
    /// empty the WAL too.
    pub fn clear_history(&mut self, id: ConversationId) -> Result<u64> {
        let tx = self.conn.savepoint()?;
        tx.execute(
            "DELETE FROM outbox WHERE local_id IN \
             (SELECT local_id FROM messages WHERE conversation_id = ?1 AND local_id IS NOT NULL)",
            [id.0],
        )?;
        let removed = tx.execute("DELETE FROM messages WHERE conversation_id = ?1", [id.0])?;
        tx.execute(
            "UPDATE conversations SET unread = 0, draft = NULL WHERE id = ?1",
            [id.0],
        )?;
        tx.commit()?;
        Ok(u64::try_from(removed).unwrap_or(u64::MAX))
    }

    /// Clears the unread count.
    pub fn mark_read(&self, id: ConversationId) -> Result<()> {
        self.conn
            .execute("UPDATE conversations SET unread = 0 WHERE id = ?1", [id.0])?;
        Ok(())
    }

    /// The network id of the newest message received in a conversation
    /// (what a read marker names).
    pub fn newest_incoming(&self, id: ConversationId) -> Result<Option<koine_api::RemoteId>> {
        Ok(self
            .conn
            .query_row(
                "SELECT remote_id FROM messages
                 WHERE conversation_id = ?1 AND direction = 'incoming' AND remote_id IS NOT NULL
                 ORDER BY timestamp DESC, id DESC LIMIT 1",
                [id.0],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .map(koine_api::RemoteId::new))
    }

    /// Moves a conversation out of (or into) Requests.
    pub fn set_request(&self, id: ConversationId, is_request: bool) -> Result<()> {
        self.conn.execute(
            "UPDATE conversations SET is_request = ?2 WHERE id = ?1",
            params![id.0, is_request],
        )?;
        Ok(())
    }
}
