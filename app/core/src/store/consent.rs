//! Consent: the stranger policy per network, local blocks, and the routes a
//! user allowed for a person although a better one exists.

use super::Result;
use super::Store;
use crate::model::ConversationId;
use crate::people::{PersonId, StrangerPolicy};
use koine_api::{AccountId, Address, ProtocolId, Timestamp};
use rusqlite::{OptionalExtension, params};

impl Store {
    /// The stranger policy of a network (default: contacts only).
    pub fn stranger_policy(&self, protocol: &ProtocolId) -> Result<StrangerPolicy> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT policy FROM stranger_policy WHERE protocol = ?1",
                [protocol.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(text
            .as_deref()
            .and_then(StrangerPolicy::parse)
            .unwrap_or_default())
    }

    /// Sets the stranger policy of a network.
    pub fn set_stranger_policy(&self, protocol: &ProtocolId, policy: StrangerPolicy) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO stranger_policy (protocol, policy) VALUES (?1, ?2)",
            params![protocol.as_str(), policy.as_str()],
        )?;
        Ok(())
    }

    /// Whether `address` counts as a contact of `account`: in its roster, or
    /// the same address belongs to a person the user vouched for (typed,
    /// imported, accepted) or who is in some roster.
    pub fn is_known(&self, account: &AccountId, address: &Address) -> Result<bool> {
        let text = address.to_string();
        if self.is_contact(account, &text)? {
            return Ok(true);
        }
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM person_addresses pa
                 JOIN person_addresses other ON other.person_id = pa.person_id
                 WHERE pa.address = ?1 AND (
                   other.source IN ('typed', 'imported', 'accepted')
                   OR EXISTS (SELECT 1 FROM contacts c
                              WHERE c.account_id = other.account_id AND c.address = other.address))
                 LIMIT 1",
                [text],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Whether `address` wrote in a group conversation of `account`.
    pub fn shares_room(&self, account: &AccountId, address: &Address) -> Result<bool> {
        let sender = serde_json::to_string(address)
            .map_err(|e| super::StoreError::Corrupt(e.to_string()))?;
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM messages m JOIN conversations c ON c.id = m.conversation_id
                 WHERE c.account_id = ?1 AND c.kind = 'group' AND m.sender = ?2 LIMIT 1",
                params![account.as_str(), sender],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Blocks an address on an account locally.
    pub fn block(&self, account: &AccountId, address: &Address) -> Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO blocked (account_id, address, at) VALUES (?1, ?2, ?3)",
            params![account.as_str(), address.to_string(), Timestamp::now().0],
        )?;
        Ok(())
    }

    /// Lifts a local block; returns whether there was one.
    pub fn unblock(&self, account: &AccountId, address: &Address) -> Result<bool> {
        Ok(self.conn.execute(
            "DELETE FROM blocked WHERE account_id = ?1 AND address = ?2",
            params![account.as_str(), address.to_string()],
        )? > 0)
    }

    /// Whether an address is blocked locally on an account.
    pub fn is_blocked(&self, account: &AccountId, address: &Address) -> Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM blocked WHERE account_id = ?1 AND address = ?2",
                params![account.as_str(), address.to_string()],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Every local block as (account, address text), newest first.
    pub fn blocked(&self) -> Result<Vec<(AccountId, String)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT account_id, address FROM blocked ORDER BY at DESC")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        rows.map(|r| r.map(|(a, b)| (AccountId::new(a), b)).map_err(Into::into))
            .collect()
    }

    /// Lets `account`'s route be used for `person` without asking.
    pub fn allow_downgrade(&self, person: PersonId, account: &AccountId) -> Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO downgrade_allowances (person_id, account_id) VALUES (?1, ?2)",
            params![person.0, account.as_str()],
        )?;
        Ok(())
    }

    /// Withdraws that permission.
    pub fn forbid_downgrade(&self, person: PersonId, account: &AccountId) -> Result<()> {
        self.conn.execute(
            "DELETE FROM downgrade_allowances WHERE person_id = ?1 AND account_id = ?2",
            params![person.0, account.as_str()],
        )?;
        Ok(())
    }

    /// The accounts whose routes the user allowed for a person.
    pub fn downgrade_allowances(&self, person: PersonId) -> Result<Vec<AccountId>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT account_id FROM downgrade_allowances WHERE person_id = ?1")?;
        let rows = stmt.query_map([person.0], |r| r.get::<_, String>(0))?;
        rows.map(|r| r.map(AccountId::new).map_err(Into::into))
            .collect()
    }

    /// Deletes a conversation with its messages.
    pub fn delete_conversation(&self, id: ConversationId) -> Result<()> {
        self.conn
            .execute("DELETE FROM conversations WHERE id = ?1", [id.0])?;
        Ok(())
    }
}
