//! Messages: outgoing (queued with the outbox in one transaction), incoming
//! (de-duplicated), delivery states, edits, reactions, deletions.

use super::codec::{enum_from, enum_str, from_json, opt_from_json, to_json};
use super::outbox::insert_outbox_on;
use super::{Result, Store};
use crate::model::{ConversationId, MessageId, StoredMessage};
use koine_api::{
    AccountId, Address, Author, Command, Content, ConversationKey, DeliveryState, Direction,
    LocalId, Message, MessageChange, RemoteId, Route, Timestamp,
};
use rusqlite::{OptionalExtension, Row, params};

pub(super) const COLUMNS: &str = "m.id, m.conversation_id, m.remote_id, m.local_id, m.sender, m.sender_name, m.direction, m.timestamp, m.body, m.attachments, m.reply_to, m.edited_at, m.deleted, m.state, m.error, m.route, m.route_provisional";

pub(super) struct RawMessage {
    id: i64,
    conversation: i64,
    remote_id: Option<String>,
    local_id: Option<String>,
    sender: String,
    sender_name: Option<String>,
    direction: String,
    timestamp: i64,
    body: String,
    attachments: Option<String>,
    reply_to: Option<String>,
    edited_at: Option<i64>,
    deleted: bool,
    state: String,
    error: Option<String>,
    route: Option<String>,
    route_provisional: bool,
}

pub(super) fn raw(row: &Row<'_>) -> rusqlite::Result<RawMessage> {
    Ok(RawMessage {
        id: row.get(0)?,
        conversation: row.get(1)?,
        remote_id: row.get(2)?,
        local_id: row.get(3)?,
        sender: row.get(4)?,
        sender_name: row.get(5)?,
        direction: row.get(6)?,
        timestamp: row.get(7)?,
        body: row.get(8)?,
        attachments: row.get(9)?,
        reply_to: row.get(10)?,
        edited_at: row.get(11)?,
        deleted: row.get(12)?,
        state: row.get(13)?,
        error: row.get(14)?,
        route: row.get(15)?,
        route_provisional: row.get(16)?,
    })
}

impl RawMessage {
    pub(super) fn decode(self, store: &Store) -> Result<StoredMessage> {
        let reactions = store.reactions(MessageId(self.id))?;
        Ok(StoredMessage {
            id: MessageId(self.id),
            conversation: ConversationId(self.conversation),
            remote_id: self.remote_id.map(RemoteId::new),
            local_id: self.local_id.map(LocalId::new),
            sender: from_json(&self.sender)?,
            sender_name: self.sender_name,
            direction: enum_from(&self.direction)?,
            timestamp: Timestamp(self.timestamp),
            content: Content {
                text: self.body,
                attachments: opt_from_json(self.attachments)?.unwrap_or_default(),
            },
            reply_to: self.reply_to.map(RemoteId::new),
            edited_at: self.edited_at.map(Timestamp),
            deleted: self.deleted,
            state: enum_from(&self.state)?,
            error: self.error,
            route: opt_from_json(self.route)?,
            route_provisional: self.route_provisional,
            reactions,
        })
    }
}

/// An outgoing message to queue.
pub struct Outgoing<'a> {
    /// The account sending it.
    pub account: &'a AccountId,
    /// Its conversation.
    pub conversation: ConversationId,
    /// The account's own address.
    pub sender: &'a Address,
    /// The command that will carry it (a `SendMessage`).
    pub command: &'a Command,
    /// When the user sent it.
    pub timestamp: Timestamp,
}

impl Store {
    /// Stores an outgoing message as queued and puts its command in the
    /// outbox, in one transaction: after this returns, a crash cannot lose it.
    /// Its route is the one its conversation has now, marked provisional
    /// until the plugin reports how it actually went ([`Store::ack`]).
    pub fn queue_message(&mut self, out: &Outgoing<'_>) -> Result<MessageId> {
        let Command::SendMessage {
            local_id,
            content,
            reply_to,
            ..
        } = out.command
        else {
            return Err(super::StoreError::Corrupt(
                "queue_message needs a SendMessage command".into(),
            ));
        };
        let tx = self.conn.savepoint()?;
        let attachments = if content.attachments.is_empty() {
            None
        } else {
            Some(to_json(&content.attachments)?)
        };
        let id: i64 = tx.query_row(
            "INSERT INTO messages (conversation_id, local_id, sender, direction, timestamp, body, attachments, reply_to, state, route, route_provisional)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, (SELECT route FROM conversations WHERE id = ?1), 1) RETURNING id",
            params![
                out.conversation.0,
                local_id.as_str(),
                to_json(out.sender)?,
                enum_str(&Direction::Outgoing)?,
                out.timestamp.0,
                content.text,
                attachments,
                reply_to.as_ref().map(RemoteId::as_str),
                enum_str(&DeliveryState::Queued)?
            ],
            |r| r.get(0),
        )?;
        insert_outbox_on(&tx, out.account, out.command, out.timestamp)?;
        tx.execute(
            "UPDATE conversations SET last_activity = MAX(last_activity, ?2) WHERE id = ?1",
            params![out.conversation.0, out.timestamp.0],
        )?;
        tx.commit()?;
        Ok(MessageId(id))
    }

    /// Stores a message a plugin reported. Returns the new row's id, or `None`
    /// when it was a duplicate (same remote id in the conversation) or the
    /// echo of a message sent from here (same local id: that row is updated).
    pub fn insert_message(
        &mut self,
        conversation: ConversationId,
        message: &Message,
    ) -> Result<Option<MessageId>> {
        let tx = self.conn.savepoint()?;
        let mut local_id = message.local_id.as_ref();
        if let Some(id) = local_id {
            // Only a message this account sent is its echo: another
            // account's server cannot touch it by reusing its local id.
            let updated = tx.execute(
                "UPDATE messages SET remote_id = COALESCE(remote_id, ?2), route = COALESCE(route, ?3),
                   state = CASE WHEN state = 'queued' THEN 'sent' ELSE state END
                 WHERE local_id = ?1 AND conversation_id IN (
                   SELECT id FROM conversations WHERE account_id =
                     (SELECT account_id FROM conversations WHERE id = ?4))",
                params![
                    id.as_str(),
                    message.remote_id.as_str(),
                    to_json(&message.route)?,
                    conversation.0
                ],
            )?;
            if updated > 0 {
                tx.execute("DELETE FROM outbox WHERE local_id = ?1", [id.as_str()])?;
                tx.commit()?;
                return Ok(None);
            }
            let taken: Option<i64> = tx
                .query_row(
                    "SELECT 1 FROM messages WHERE local_id = ?1",
                    [id.as_str()],
                    |r| r.get(0),
                )
                .optional()?;
            if taken.is_some() {
                local_id = None;
            }
        }
        let attachments = if message.content.attachments.is_empty() {
            None
        } else {
            Some(to_json(&message.content.attachments)?)
        };
        let state = match message.direction {
            Direction::Incoming => DeliveryState::Delivered,
            Direction::Outgoing => DeliveryState::Sent,
        };
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO messages (conversation_id, remote_id, local_id, sender, sender_name, direction, timestamp, body, attachments, reply_to, state, route)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                conversation.0,
                message.remote_id.as_str(),
                local_id.map(LocalId::as_str),
                to_json(&message.sender)?,
                message.sender_name,
                enum_str(&message.direction)?,
                message.timestamp.0,
                message.content.text,
                attachments,
                message.reply_to.as_ref().map(RemoteId::as_str),
                enum_str(&state)?,
                to_json(&message.route)?
            ],
        )?;
        if inserted == 0 {
            return Ok(None);
        }
        let id = tx.last_insert_rowid();
        let unread_bump = i64::from(message.direction == Direction::Incoming);
        tx.execute(
            "UPDATE conversations SET last_activity = MAX(last_activity, ?2), unread = unread + ?3 WHERE id = ?1",
            params![conversation.0, message.timestamp.0, unread_bump],
        )?;
        tx.commit()?;
        Ok(Some(MessageId(id)))
    }

    /// The plugin accepted a durable command: the message gets its remote id,
    /// state and route (the one the plugin reports replaces the provisional
    /// one), and the command leaves the outbox. For an edit, a reaction or a
    /// deletion, the route is kept with the change. Idempotent.
    pub fn ack(
        &mut self,
        local_id: &LocalId,
        remote_id: &RemoteId,
        route: &Route,
    ) -> Result<Option<MessageId>> {
        let tx = self.conn.savepoint()?;
        tx.execute(
            "DELETE FROM outbox WHERE local_id = ?1",
            [local_id.as_str()],
        )?;
        tx.execute(
            "UPDATE change_routes SET route = ?2, provisional = 0 WHERE local_id = ?1",
            params![local_id.as_str(), to_json(route)?],
        )?;
        let id: Option<i64> = tx
            .query_row(
                "SELECT id FROM messages WHERE local_id = ?1",
                [local_id.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = id {
            // An echo of this message stored under the same remote id would
            // collide with the unique index: drop it, this row is the original.
            tx.execute(
                "DELETE FROM messages WHERE remote_id = ?2 AND id != ?1
                   AND conversation_id = (SELECT conversation_id FROM messages WHERE id = ?1)",
                params![id, remote_id.as_str()],
            )?;
            tx.execute(
                "UPDATE messages SET remote_id = ?2, route = ?3, route_provisional = 0, error = NULL,
                   state = CASE WHEN state IN ('queued', 'handed', 'failed') THEN 'sent' ELSE state END
                 WHERE id = ?1",
                params![id, remote_id.as_str(), to_json(route)?],
            )?;
        }
        tx.commit()?;
        Ok(id.map(MessageId))
    }

    /// A message was handed to the next hop, which has not confirmed it:
    /// `handed` while it was `queued`. The outbox keeps it, so a later
    /// session hands it again.
    pub fn hand_over(
        &mut self,
        account: &AccountId,
        local_id: &LocalId,
    ) -> Result<Option<MessageId>> {
        let changed = self.conn.execute(
            "UPDATE messages SET state = 'handed' WHERE local_id = ?1 AND state = 'queued'
               AND conversation_id IN (SELECT id FROM conversations WHERE account_id = ?2)",
            params![local_id.as_str(), account.as_str()],
        )?;
        if changed == 0 {
            return Ok(None);
        }
        self.message_id_by_local(account, local_id)
    }

    /// A durable command failed. Retryable failures stay in the outbox;
    /// final ones leave it and mark the message failed.
    pub fn fail(
        &mut self,
        local_id: &LocalId,
        error: &str,
        retryable: bool,
    ) -> Result<Option<MessageId>> {
        let tx = self.conn.savepoint()?;
        if retryable {
            tx.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE local_id = ?1",
                params![local_id.as_str(), error],
            )?;
        } else {
            tx.execute(
                "DELETE FROM outbox WHERE local_id = ?1",
                [local_id.as_str()],
            )?;
            tx.execute(
                "UPDATE messages SET state = 'failed', error = ?2
                   WHERE local_id = ?1 AND state IN ('queued', 'handed')",
                params![local_id.as_str(), error],
            )?;
        }
        let id = tx
            .query_row(
                "SELECT id FROM messages WHERE local_id = ?1",
                [local_id.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        tx.commit()?;
        Ok(id.map(MessageId))
    }

    /// Advances a message's delivery state (never backwards).
    pub fn update_delivery(
        &self,
        account: &AccountId,
        key: &ConversationKey,
        remote_id: &RemoteId,
        state: DeliveryState,
    ) -> Result<Option<MessageId>> {
        let Some(conversation) = self.conversation_id(account, key)? else {
            return Ok(None);
        };
        let current: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT id, state FROM messages WHERE conversation_id = ?1 AND remote_id = ?2",
                params![conversation.0, remote_id.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((id, current)) = current else {
            return Ok(None);
        };
        let current: DeliveryState = enum_from(&current)?;
        if !current.advances_to(state) {
            return Ok(None);
        }
        self.conn.execute(
            "UPDATE messages SET state = ?2 WHERE id = ?1",
            params![id, enum_str(&state)?],
        )?;
        Ok(Some(MessageId(id)))
    }

    /// Applies an edit, reaction or deletion reported by a plugin. An edit
    /// or deletion whose author did not write the message is refused
    /// (`Ok(None)`), as is a reaction reported for someone other than its
    /// author: nobody rewrites or removes another person's words.
    pub fn apply_change(
        &self,
        account: &AccountId,
        key: &ConversationKey,
        remote_id: &RemoteId,
        change: &MessageChange,
        by: &Author,
        at: Timestamp,
    ) -> Result<Option<MessageId>> {
        let Some(conversation) = self.conversation_id(account, key)? else {
            return Ok(None);
        };
        let row: Option<(i64, String, String)> = self
            .conn
            .query_row(
                "SELECT id, sender, direction FROM messages WHERE conversation_id = ?1 AND remote_id = ?2",
                params![conversation.0, remote_id.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((id, sender, direction)) = row else {
            return Ok(None);
        };
        let wrote_it = match by {
            Author::Me => direction == enum_str(&Direction::Outgoing)?,
            Author::Other(address) => {
                direction == enum_str(&Direction::Incoming)? && sender == to_json(address)?
            }
            _ => false,
        };
        let allowed = match (change, by) {
            (
                MessageChange::Deleted | MessageChange::ReactionRemoved { .. },
                Author::Moderator(_),
            ) => true,
            (MessageChange::Edited { .. } | MessageChange::Deleted, _) => wrote_it,
            (
                MessageChange::ReactionAdded { by: reactor, .. }
                | MessageChange::ReactionRemoved { by: reactor, .. },
                Author::Other(author),
            ) => reactor == author,
            (_, Author::Me) => true,
            _ => false,
        };
        if !allowed {
            tracing::warn!(
                conversation = conversation.0,
                remote_id = remote_id.as_str(),
                "a change by someone other than the message's author was refused"
            );
            return Ok(None);
        }
        match change {
            MessageChange::Edited { text } => {
                self.conn.execute(
                    "UPDATE messages SET body = ?2, edited_at = ?3 WHERE id = ?1",
                    params![id, text, at.0],
                )?;
            }
            MessageChange::ReactionAdded { by, key } => {
                self.conn.execute(
                    "INSERT OR IGNORE INTO reactions (message_id, sender, key) VALUES (?1, ?2, ?3)",
                    params![id, by.to_string(), key],
                )?;
            }
            MessageChange::ReactionRemoved { by, key } => {
                self.conn.execute(
                    "DELETE FROM reactions WHERE message_id = ?1 AND sender = ?2 AND key = ?3",
                    params![id, by.to_string(), key],
                )?;
            }
            MessageChange::Deleted => {
                self.conn.execute(
                    "UPDATE messages SET deleted = 1, body = '', attachments = NULL WHERE id = ?1",
                    [id],
                )?;
            }
            _ => return Ok(None),
        }
        Ok(Some(MessageId(id)))
    }

    fn reactions(&self, id: MessageId) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT sender, key FROM reactions WHERE message_id = ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([id.0], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One message.
    pub fn message(&self, id: MessageId) -> Result<StoredMessage> {
        let raw = self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM messages m WHERE m.id = ?1"),
                [id.0],
                raw,
            )
            .optional()?
            .ok_or_else(|| super::StoreError::NotFound(format!("message {}", id.0)))?;
        raw.decode(self)
    }

    /// A page of a conversation's timeline, oldest first: the `limit` messages
    /// before `before` (or the newest ones).
    pub fn messages(
        &self,
        conversation: ConversationId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<StoredMessage>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM messages m
             WHERE m.conversation_id = ?1
               AND (?2 IS NULL OR (m.timestamp, m.id) < (SELECT timestamp, id FROM messages WHERE id = ?2))
             ORDER BY m.timestamp DESC, m.id DESC LIMIT ?3"
        ))?;
        let raws = stmt
            .query_map(params![conversation.0, before.map(|b| b.0), limit], raw)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out = raws
            .into_iter()
            .map(|r| r.decode(self))
            .collect::<Result<Vec<_>>>()?;
        out.reverse();
        Ok(out)
    }

    /// How many messages a conversation holds.
    pub fn message_count(&self, conversation: ConversationId) -> Result<u64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM messages WHERE conversation_id = ?1",
            [conversation.0],
            |r| r.get(0),
        )?)
    }
}

impl Store {
    /// The id of the message this account sent with this local id.
    pub fn message_id_by_local(
        &self,
        account: &AccountId,
        local_id: &LocalId,
    ) -> Result<Option<MessageId>> {
        Ok(self
            .conn
            .query_row(
                "SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id
                 WHERE m.local_id = ?1 AND c.account_id = ?2",
                params![local_id.as_str(), account.as_str()],
                |r| r.get(0),
            )
            .optional()?
            .map(MessageId))
    }
}
