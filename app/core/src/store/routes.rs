//! Route truth: the provisional routes of what is queued, and the report of
//! the routes a conversation's messages actually took.

use super::codec::{enum_str, opt_from_json};
use super::{Result, Store};
use crate::model::{ConversationId, MessageId};
use koine_api::{AccountId, Command, Direction, LocalId, Route, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// What a durable command carries: a message, or a change to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteSubject {
    /// A message (text, files).
    Message,
    /// A correction.
    Edit,
    /// A reaction, added or removed.
    Reaction,
    /// A deletion for everyone.
    Deletion,
}

impl RouteSubject {
    fn of(command: &Command) -> Option<Self> {
        match command {
            Command::SendMessage { .. } => Some(Self::Message),
            Command::EditMessage { .. } => Some(Self::Edit),
            Command::React { .. } => Some(Self::Reaction),
            Command::DeleteMessage { .. } => Some(Self::Deletion),
            _ => None,
        }
    }
}

/// The provisional route of a durable command the plugin has not reported
/// on yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisional {
    /// The message it is, or the message it changes (when known).
    pub message: Option<MessageId>,
    /// What the command carries.
    pub subject: RouteSubject,
    /// The route expected when it was queued (`None`: nothing was known).
    pub route: Option<Route>,
}

/// One distinct route of a conversation, with how many messages took it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteUse {
    /// The route; `None` for messages stored without one.
    pub route: Option<Route>,
    /// Whether it is only expected (queued messages, not yet sent).
    pub provisional: bool,
    /// Incoming or outgoing.
    pub direction: Direction,
    /// What went this way: messages, or changes to them.
    pub subject: RouteSubject,
    /// How many.
    pub count: u64,
    /// The earliest of them.
    pub first: Timestamp,
    /// The latest of them.
    pub last: Timestamp,
}

/// Keeps the provisional route of an edit, reaction or deletion: the route
/// its conversation has now.
pub(super) fn insert_change_route_on(
    conn: &Connection,
    account: &AccountId,
    command: &Command,
    at: Timestamp,
) -> Result<()> {
    let (local_id, conversation, target) = match command {
        Command::EditMessage {
            local_id,
            conversation,
            target,
            ..
        }
        | Command::React {
            local_id,
            conversation,
            target,
            ..
        }
        | Command::DeleteMessage {
            local_id,
            conversation,
            target,
        } => (local_id, conversation, target),
        _ => return Ok(()),
    };
    let Some(subject) = RouteSubject::of(command) else {
        return Ok(());
    };
    conn.execute(
        "INSERT OR IGNORE INTO change_routes (local_id, message_id, kind, route, provisional, created_at)
         SELECT ?1, (SELECT m.id FROM messages m WHERE m.conversation_id = c.id AND m.remote_id = ?4),
                ?5, c.route, 1, ?6
           FROM conversations c WHERE c.account_id = ?2 AND c.remote_key = ?3",
        params![
            local_id.as_str(),
            account.as_str(),
            conversation.as_str(),
            target.as_str(),
            enum_str(&subject)?,
            at.0
        ],
    )?;
    Ok(())
}

impl Store {
    /// The provisional route of a durable command of this account, if the
    /// plugin has not reported its actual route yet.
    pub fn provisional_route(
        &self,
        account: &AccountId,
        local_id: &LocalId,
    ) -> Result<Option<Provisional>> {
        let message: Option<(i64, Option<String>)> = self
            .conn
            .query_row(
                "SELECT m.id, m.route FROM messages m JOIN conversations c ON c.id = m.conversation_id
                 WHERE m.local_id = ?1 AND c.account_id = ?2 AND m.route_provisional = 1",
                params![local_id.as_str(), account.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((id, route)) = message {
            return Ok(Some(Provisional {
                message: Some(MessageId(id)),
                subject: RouteSubject::Message,
                route: opt_from_json(route)?,
            }));
        }
        let change: Option<(Option<i64>, String, Option<String>)> = self
            .conn
            .query_row(
                "SELECT message_id, kind, route FROM change_routes
                 WHERE local_id = ?1 AND provisional = 1
                   AND local_id IN (SELECT local_id FROM outbox WHERE account_id = ?2)",
                params![local_id.as_str(), account.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((message, kind, route)) = change else {
            return Ok(None);
        };
        Ok(Some(Provisional {
            message: message.map(MessageId),
            subject: super::codec::enum_from(&kind)?,
            route: opt_from_json(route)?,
        }))
    }

    /// Each distinct route the messages of a conversation took (and, for
    /// what was sent from here, its edits, reactions and deletions), with
    /// how many and when first and last, oldest first: a change of route
    /// shows as a new line.
    pub fn route_uses(&self, conversation: ConversationId) -> Result<Vec<RouteUse>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT route, provisional, direction, kind, COUNT(*), MIN(at), MAX(at) FROM (
               SELECT route, route_provisional AS provisional, direction, 'message' AS kind,
                      timestamp AS at
                 FROM messages WHERE conversation_id = ?1
               UNION ALL
               SELECT r.route, r.provisional, 'outgoing', r.kind, r.created_at
                 FROM change_routes r JOIN messages m ON m.id = r.message_id
                WHERE m.conversation_id = ?1)
             GROUP BY route, provisional, direction, kind
             ORDER BY MIN(at), kind",
        )?;
        let rows = stmt.query_map([conversation.0], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, bool>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, u64>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, i64>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (route, provisional, direction, kind, count, first, last) = row?;
            out.push(RouteUse {
                route: opt_from_json(route)?,
                provisional,
                direction: super::codec::enum_from(&direction)?,
                subject: super::codec::enum_from(&kind)?,
                count,
                first: Timestamp(first),
                last: Timestamp(last),
            });
        }
        Ok(out)
    }
}
