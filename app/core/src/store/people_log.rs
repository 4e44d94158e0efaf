//! Merge, split and undo. Each merge or split first writes the people it
//! touches, as they were, to `people_log`; undo restores the latest entry.

use super::codec::{from_json, to_json};
use super::people::{insert_person, put_address, read_person, set_apart_on};
use super::{Result, Store, StoreError};
use crate::people::{PeopleChange, Person, PersonId};
use koine_api::{AccountId, Address, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// A person as it was before a change.
#[derive(Serialize, Deserialize)]
struct Snapshot {
    person: Person,
    allowances: Vec<String>,
    apart: Vec<i64>,
}

fn snapshot(conn: &Connection, id: PersonId) -> Result<Snapshot> {
    let person =
        read_person(conn, id)?.ok_or_else(|| StoreError::NotFound(format!("person {id}")))?;
    let allowances = conn
        .prepare_cached("SELECT account_id FROM downgrade_allowances WHERE person_id = ?1")?
        .query_map([id.0], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let apart = conn
        .prepare_cached(
            "SELECT CASE WHEN a = ?1 THEN b ELSE a END FROM people_apart WHERE a = ?1 OR b = ?1",
        )?
        .query_map([id.0], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Snapshot {
        person,
        allowances,
        apart,
    })
}

fn log(
    conn: &Connection,
    change: PeopleChange,
    before: &[Snapshot],
    created: &[PersonId],
) -> Result<()> {
    conn.execute(
        "INSERT INTO people_log (at, action, before, created) VALUES (?1, ?2, ?3, ?4)",
        params![
            Timestamp::now().0,
            to_json(&change)?,
            to_json(&before)?,
            to_json(&created)?
        ],
    )?;
    Ok(())
}

impl Store {
    /// Merges `others` into `into`: their addresses, identifiers and
    /// downgrade allowances move over and they disappear. Undoable.
    pub fn merge_people(&mut self, into: PersonId, others: &[PersonId]) -> Result<()> {
        let others: Vec<PersonId> = others.iter().copied().filter(|o| *o != into).collect();
        let tx = self.conn.transaction()?;
        let mut before = vec![snapshot(&tx, into)?];
        for other in &others {
            before.push(snapshot(&tx, *other)?);
        }
        for other in &others {
            tx.execute(
                "UPDATE person_addresses SET person_id = ?1 WHERE person_id = ?2",
                params![into.0, other.0],
            )?;
            tx.execute(
                "INSERT OR IGNORE INTO person_hints (person_id, value, source)
                 SELECT ?1, value, source FROM person_hints WHERE person_id = ?2",
                params![into.0, other.0],
            )?;
            tx.execute(
                "INSERT OR IGNORE INTO downgrade_allowances (person_id, account_id)
                 SELECT ?1, account_id FROM downgrade_allowances WHERE person_id = ?2",
                params![into.0, other.0],
            )?;
            tx.execute("DELETE FROM people WHERE id = ?1", [other.0])?;
        }
        log(&tx, PeopleChange::Merge, &before, &[])?;
        tx.commit()?;
        Ok(())
    }

    /// Moves some of a person's addresses to a new person named `name`, and
    /// remembers that the two are different. Undoable.
    pub fn split_person(
        &mut self,
        person: PersonId,
        addresses: &[(Option<AccountId>, Address)],
        name: &str,
    ) -> Result<PersonId> {
        let tx = self.conn.transaction()?;
        let before = snapshot(&tx, person)?;
        for (account, address) in addresses {
            let owned = before
                .person
                .addresses
                .iter()
                .any(|a| &a.account == account && &a.address == address);
            if !owned {
                return Err(StoreError::NotFound(format!(
                    "address {address} of person {person}"
                )));
            }
        }
        let new = insert_person(&tx, name)?;
        for (account, address) in addresses {
            let source = before
                .person
                .addresses
                .iter()
                .find(|a| &a.account == account && &a.address == address)
                .map(|a| a.source)
                .unwrap_or(crate::people::AddressSource::Seen);
            put_address(&tx, new, account.as_ref(), address, source)?;
        }
        set_apart_on(&tx, person, new)?;
        log(&tx, PeopleChange::Split, &[before], &[new])?;
        tx.commit()?;
        Ok(new)
    }

    /// Undoes the latest merge or split; `None` when there is nothing to undo.
    pub fn undo_people(&mut self) -> Result<Option<PeopleChange>> {
        let tx = self.conn.transaction()?;
        let Some((id, action, before, created)) = tx
            .query_row(
                "SELECT id, action, before, created FROM people_log ORDER BY id DESC LIMIT 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                },
            )
            .optional()?
        else {
            return Ok(None);
        };
        let change: PeopleChange = from_json(&action)?;
        let before: Vec<Snapshot> = from_json(&before)?;
        let created: Vec<PersonId> = from_json(&created)?;
        for s in &before {
            tx.execute(
                "INSERT INTO people (id, name, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name",
                params![s.person.id.0, s.person.name, Timestamp::now().0],
            )?;
        }
        for s in &before {
            let p = &s.person;
            for a in &p.addresses {
                put_address(&tx, p.id, a.account.as_ref(), &a.address, a.source)?;
            }
            tx.execute("DELETE FROM person_hints WHERE person_id = ?1", [p.id.0])?;
            tx.execute(
                "DELETE FROM downgrade_allowances WHERE person_id = ?1",
                [p.id.0],
            )?;
            for h in &p.hints {
                tx.execute(
                    "INSERT OR IGNORE INTO person_hints (person_id, value, source) VALUES (?1, ?2, ?3)",
                    params![p.id.0, to_json(&h.identifier)?, h.source.as_str()],
                )?;
            }
            for account in &s.allowances {
                tx.execute(
                    "INSERT OR IGNORE INTO downgrade_allowances (person_id, account_id)
                     SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM accounts WHERE id = ?2)",
                    params![p.id.0, account],
                )?;
            }
            for other in &s.apart {
                set_apart_on(&tx, p.id, PersonId(*other))?;
            }
        }
        // People the change created go, unless new addresses arrived since.
        for c in &created {
            if before.iter().any(|s| s.person.id == *c) {
                continue;
            }
            tx.execute(
                "DELETE FROM people WHERE id = ?1
                 AND NOT EXISTS (SELECT 1 FROM person_addresses WHERE person_id = ?1)",
                [c.0],
            )?;
        }
        tx.execute("DELETE FROM people_log WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(Some(change))
    }
}
