//! People and their addresses; identifiers for merge suggestions; a
//! person's conversations and combined history.

use super::codec::{from_json, opt_from_json, to_json};
use super::messages::{COLUMNS, raw};
use super::{Result, Store, StoreError};
use crate::model::{ConversationId, ConversationRecord, MessageId, StoredMessage};
use crate::people::{
    AddressSource, HintSource, Identifier, Person, PersonAddress, PersonHint, PersonId,
};
use koine_api::{AccountId, Address, ConversationKind, Route, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashSet;

impl Store {
    /// Gives every contact and every accepted direct conversation's peer a
    /// person of their own, if they have none yet. Returns whether any was
    /// created.
    pub fn adopt_unassigned(&mut self) -> Result<bool> {
        let mut found: Vec<(AccountId, Address, String)> = Vec::new();
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT c.account_id, c.address_json, COALESCE(c.name, c.address) FROM contacts c
                 WHERE NOT EXISTS (SELECT 1 FROM person_addresses pa
                                   WHERE pa.account_id = c.account_id AND pa.address = c.address)",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?;
            for row in rows {
                let (account, address, name) = row?;
                found.push((AccountId::new(account), from_json(&address)?, name));
            }
        }
        for c in self.conversations()? {
            if c.kind != ConversationKind::Direct || c.is_request {
                continue;
            }
            if let Some(peer) = c.peer
                && !matches!(peer, Address::Room(_))
                && self.person_of(&c.account, &peer)?.is_none()
                && !found.iter().any(|(a, p, _)| a == &c.account && p == &peer)
            {
                found.push((c.account, peer, c.title));
            }
        }
        if found.is_empty() {
            return Ok(false);
        }
        let tx = self.conn.transaction()?;
        for (account, address, name) in &found {
            let id = insert_person(&tx, name)?;
            put_address(&tx, id, Some(account), address, AddressSource::Seen)?;
        }
        tx.commit()?;
        Ok(true)
    }

    /// Creates a person with the given addresses (moved from whoever had them).
    pub fn create_person(
        &mut self,
        name: &str,
        addresses: &[(Option<AccountId>, Address)],
        source: AddressSource,
    ) -> Result<PersonId> {
        let tx = self.conn.transaction()?;
        let id = insert_person(&tx, name)?;
        for (account, address) in addresses {
            put_address(&tx, id, account.as_ref(), address, source)?;
        }
        tx.commit()?;
        Ok(id)
    }

    /// Creates a person with no address yet.
    pub fn new_person(&self, name: &str) -> Result<PersonId> {
        insert_person(&self.conn, name)
    }

    /// Gives `person` an address, taking it from whoever had it. An address
    /// already vouched for keeps its source when re-added as merely seen.
    pub fn add_person_address(
        &self,
        person: PersonId,
        account: Option<&AccountId>,
        address: &Address,
        source: AddressSource,
    ) -> Result<()> {
        self.person(person)?;
        put_address(&self.conn, person, account, address, source)
    }

    /// Records an identifier of a person.
    pub fn add_person_hint(&self, person: PersonId, hint: &PersonHint) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO person_hints (person_id, value, source) VALUES (?1, ?2, ?3)",
            params![person.0, to_json(&hint.identifier)?, hint.source.as_str()],
        )?;
        Ok(())
    }

    /// Renames a person.
    pub fn rename_person(&self, person: PersonId, name: &str) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE people SET name = ?2 WHERE id = ?1",
            params![person.0, name],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("person {person}")));
        }
        Ok(())
    }

    /// Every person, by name.
    pub fn people(&self) -> Result<Vec<Person>> {
        let ids: Vec<i64> = {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT id FROM people ORDER BY name COLLATE NOCASE, id")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        ids.into_iter()
            .map(|id| self.person(PersonId(id)))
            .collect()
    }

    /// One person with their addresses and identifiers.
    pub fn person(&self, id: PersonId) -> Result<Person> {
        read_person(&self.conn, id)?.ok_or_else(|| StoreError::NotFound(format!("person {id}")))
    }

    /// The person an address on an account belongs to.
    pub fn person_of(&self, account: &AccountId, address: &Address) -> Result<Option<PersonId>> {
        Ok(self
            .conn
            .query_row(
                "SELECT person_id FROM person_addresses WHERE account_id = ?1 AND address = ?2",
                params![account.as_str(), address.to_string()],
                |r| r.get(0),
            )
            .optional()?
            .map(PersonId))
    }

    /// Pairs of people the user said are different (as `(lower, higher)`).
    pub fn apart_pairs(&self) -> Result<HashSet<(PersonId, PersonId)>> {
        let mut stmt = self.conn.prepare_cached("SELECT a, b FROM people_apart")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
        let mut out = HashSet::new();
        for row in rows {
            let (a, b) = row?;
            out.insert((PersonId(a.min(b)), PersonId(a.max(b))));
        }
        Ok(out)
    }

    /// Records that two people are different (no more suggestions for them).
    pub fn set_apart(&self, a: PersonId, b: PersonId) -> Result<()> {
        set_apart_on(&self.conn, a, b)
    }

    /// The direct conversations with any of a person's addresses.
    pub fn person_conversations(&self, person: &Person) -> Result<Vec<ConversationRecord>> {
        Ok(self
            .conversations()?
            .into_iter()
            .filter(|c| {
                c.kind == ConversationKind::Direct
                    && person.addresses.iter().any(|a| {
                        a.account.as_ref() == Some(&c.account)
                            && (c.peer.as_ref() == Some(&a.address)
                                || c.key.as_str() == a.address.to_string())
                    })
            })
            .collect())
    }

    /// Messages of several conversations in one timeline, oldest first: the
    /// `limit` latest before `before` (a message id of that timeline).
    pub fn timeline(
        &self,
        conversations: &[ConversationId],
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<StoredMessage>> {
        if conversations.is_empty() {
            return Ok(Vec::new());
        }
        let list = conversations
            .iter()
            .map(|c| c.0.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let (ts, id) = match before {
            Some(m) => {
                let msg = self.message(m)?;
                (msg.timestamp.0, m.0)
            }
            None => (i64::MAX, i64::MAX),
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM messages m WHERE m.conversation_id IN ({list})
             AND (m.timestamp < ?1 OR (m.timestamp = ?1 AND m.id < ?2))
             ORDER BY m.timestamp DESC, m.id DESC LIMIT ?3"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let raws = stmt
            .query_map(params![ts, id, limit], raw)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out = raws
            .into_iter()
            .map(|r| r.decode(self))
            .collect::<Result<Vec<_>>>()?;
        out.reverse();
        Ok(out)
    }

    /// The route of the latest message of a conversation that has one.
    pub fn last_route(&self, conversation: ConversationId) -> Result<Option<Route>> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT route FROM messages WHERE conversation_id = ?1 AND route IS NOT NULL
                 ORDER BY timestamp DESC, id DESC LIMIT 1",
                [conversation.0],
                |r| r.get(0),
            )
            .optional()?;
        opt_from_json(text)
    }
}

pub(super) fn insert_person(conn: &Connection, name: &str) -> Result<PersonId> {
    Ok(PersonId(conn.query_row(
        "INSERT INTO people (name, created_at) VALUES (?1, ?2) RETURNING id",
        params![name, Timestamp::now().0],
        |r| r.get(0),
    )?))
}

pub(super) fn set_apart_on(conn: &Connection, a: PersonId, b: PersonId) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO people_apart (a, b)
         SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM people WHERE id = ?1)
                         AND EXISTS (SELECT 1 FROM people WHERE id = ?2)",
        params![a.0.min(b.0), a.0.max(b.0)],
    )?;
    Ok(())
}

/// Puts an address on a person, moving it from any other person.
pub(super) fn put_address(
    conn: &Connection,
    person: PersonId,
    account: Option<&AccountId>,
    address: &Address,
    source: AddressSource,
) -> Result<()> {
    let account = account.map(AccountId::as_str);
    let text = address.to_string();
    let old: Option<String> = conn
        .query_row(
            "SELECT source FROM person_addresses WHERE COALESCE(account_id, '') = COALESCE(?1, '') AND address = ?2",
            params![account, text],
            |r| r.get(0),
        )
        .optional()?;
    let source = match old.map(|s| AddressSource::parse(&s)) {
        Some(old) if old.is_vouched() && !source.is_vouched() => old,
        _ => source,
    };
    conn.execute(
        "DELETE FROM person_addresses WHERE COALESCE(account_id, '') = COALESCE(?1, '') AND address = ?2",
        params![account, text],
    )?;
    conn.execute(
        "INSERT INTO person_addresses (person_id, account_id, address, address_json, source)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![person.0, account, text, to_json(address)?, source.as_str()],
    )?;
    Ok(())
}

pub(super) fn read_person(conn: &Connection, id: PersonId) -> Result<Option<Person>> {
    let Some(name) = conn
        .query_row("SELECT name FROM people WHERE id = ?1", [id.0], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
    else {
        return Ok(None);
    };
    let mut addresses = Vec::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT account_id, address_json, source FROM person_addresses WHERE person_id = ?1
             ORDER BY address, account_id",
        )?;
        let rows = stmt.query_map([id.0], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (account, address, source) = row?;
            addresses.push(PersonAddress {
                account: account.map(AccountId::new),
                address: from_json(&address)?,
                source: AddressSource::parse(&source),
            });
        }
    }
    let mut hints = Vec::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT value, source FROM person_hints WHERE person_id = ?1 ORDER BY value",
        )?;
        let rows = stmt.query_map([id.0], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (value, source) = row?;
            hints.push(PersonHint {
                identifier: from_json::<Identifier>(&value)?,
                source: HintSource::parse(&source),
            });
        }
    }
    Ok(Some(Person {
        id,
        name,
        addresses,
        hints,
    }))
}
