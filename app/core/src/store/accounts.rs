//! Accounts, contacts and requests.

use super::codec::{from_json, to_json};
use super::{Result, Store, StoreError};
use crate::model::AccountRecord;
use koine_api::{AccountId, Contact, ProtocolId, Request, RequestId, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};

impl Store {
    /// Adds an account.
    pub fn insert_account(&self, account: &AccountRecord) -> Result<()> {
        self.conn.execute(
            "INSERT INTO accounts (id, protocol, label, settings, enabled, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                account.id.as_str(),
                account.protocol.as_str(),
                account.label,
                to_json(&account.settings)?,
                account.enabled,
                account.created_at.0
            ],
        )?;
        Ok(())
    }

    /// All accounts, oldest first.
    pub fn accounts(&self) -> Result<Vec<AccountRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, protocol, label, settings, enabled, created_at FROM accounts ORDER BY created_at, id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, bool>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, protocol, label, settings, enabled, created) = row?;
            out.push(AccountRecord {
                id: AccountId::new(id),
                protocol: ProtocolId::new(protocol),
                label,
                settings: from_json(&settings)?,
                enabled,
                created_at: Timestamp(created),
            });
        }
        Ok(out)
    }

    /// One account.
    pub fn account(&self, id: &AccountId) -> Result<AccountRecord> {
        self.accounts()?
            .into_iter()
            .find(|a| &a.id == id)
            .ok_or_else(|| StoreError::NotFound(format!("account {id}")))
    }

    /// Removes an account and, by cascade, its conversations, messages,
    /// contacts, requests and outbox.
    pub fn remove_account(&self, id: &AccountId) -> Result<bool> {
        Ok(self
            .conn
            .execute("DELETE FROM accounts WHERE id = ?1", [id.as_str()])?
            > 0)
    }

    /// Adds or updates a contact.
    pub fn upsert_contact(&self, account: &AccountId, contact: &Contact) -> Result<()> {
        upsert_contact_on(&self.conn, account, contact)
    }

    /// Replaces an account's whole contact list.
    pub fn replace_roster(&mut self, account: &AccountId, contacts: &[Contact]) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM contacts WHERE account_id = ?1",
            [account.as_str()],
        )?;
        for c in contacts {
            upsert_contact_on(&tx, account, c)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Removes a contact.
    pub fn remove_contact(&self, account: &AccountId, address: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM contacts WHERE account_id = ?1 AND address = ?2",
            params![account.as_str(), address],
        )?;
        Ok(())
    }

    /// An account's contacts.
    pub fn contacts(&self, account: &AccountId) -> Result<Vec<Contact>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT address_json, name, groups, mutual FROM contacts WHERE account_id = ?1 ORDER BY address",
        )?;
        let rows = stmt.query_map([account.as_str()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, bool>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (address, name, groups, mutual) = row?;
            out.push(Contact {
                address: from_json(&address)?,
                name,
                groups: groups
                    .as_deref()
                    .map(from_json)
                    .transpose()?
                    .unwrap_or_default(),
                mutual,
            });
        }
        Ok(out)
    }

    /// Whether `address` is in the account's contact list.
    pub fn is_contact(&self, account: &AccountId, address: &str) -> Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM contacts WHERE account_id = ?1 AND address = ?2",
                params![account.as_str(), address],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Keeps a pending request.
    pub fn insert_request(&self, account: &AccountId, request: &Request) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO requests (account_id, request_id, body, received) VALUES (?1, ?2, ?3, ?4)",
            params![account.as_str(), request.id.as_str(), to_json(request)?, request.received.0],
        )?;
        Ok(())
    }

    /// Forgets a request (answered or withdrawn).
    pub fn remove_request(&self, account: &AccountId, id: &RequestId) -> Result<()> {
        self.conn.execute(
            "DELETE FROM requests WHERE account_id = ?1 AND request_id = ?2",
            params![account.as_str(), id.as_str()],
        )?;
        Ok(())
    }

    /// Pending requests of every account, newest first.
    pub fn requests(&self) -> Result<Vec<(AccountId, Request)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT account_id, body FROM requests ORDER BY received DESC")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (account, body) = row?;
            out.push((AccountId::new(account), from_json(&body)?));
        }
        Ok(out)
    }
}

fn upsert_contact_on(conn: &Connection, account: &AccountId, contact: &Contact) -> Result<()> {
    conn.execute(
        "INSERT INTO contacts (account_id, address, address_json, name, groups, mutual)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (account_id, address) DO UPDATE SET
           address_json = excluded.address_json, name = excluded.name,
           groups = excluded.groups, mutual = excluded.mutual",
        params![
            account.as_str(),
            contact.address.to_string(),
            to_json(&contact.address)?,
            contact.name,
            to_json(&contact.groups)?,
            contact.mutual
        ],
    )?;
    Ok(())
}

impl Store {
    /// Changes one setting of an account.
    pub fn set_account_setting(&self, id: &AccountId, key: &str, value: &str) -> Result<()> {
        let mut account = self.account(id)?;
        account.settings.set(key, value);
        self.conn.execute(
            "UPDATE accounts SET settings = ?2 WHERE id = ?1",
            params![id.as_str(), to_json(&account.settings)?],
        )?;
        Ok(())
    }
}
