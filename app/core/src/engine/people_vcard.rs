//! Address books in and out: people and their addresses as vCard.

use super::{Engine, EngineError};
use crate::people::{
    AddressSource, HintSource, Identifier, Person, PersonHint, PersonId, address_key,
};
use crate::vcard::{self, Card};
use koine_api::{AccountId, Address};
use serde::Serialize;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// People created.
    pub created: u32,
    /// Existing people that got addresses.
    pub updated: u32,
    /// Addresses recorded (one per account that can reach them).
    pub addresses: u32,
    /// Values that could not be used (national numbers, unknown schemes).
    pub skipped: Vec<String>,
}

impl Engine {
    /// Imports a vCard 3.0/4.0 address book. Each card becomes one person
    /// (an existing person holding one of its addresses is reused): its phone
    /// numbers and chat addresses go to every account whose network accepts
    /// them, or are kept unattached; e-mail addresses become identifiers.
    /// The user's own address book counts as vouching for these people.
    pub fn import_vcard(&self, text: &str) -> Result<ImportReport, EngineError> {
        let cards = vcard::parse(text)?;
        let accounts = self.accounts()?;
        let mut report = ImportReport::default();
        let _ = self.people()?; // adopt contacts first, so they are found
        for card in cards {
            report.skipped.extend(card.skipped.iter().cloned());
            let mut wanted: Vec<Address> =
                card.phones.iter().cloned().map(Address::Phone).collect();
            wanted.extend(card.addresses.iter().cloned());
            let mut placed: Vec<(Option<AccountId>, Address)> = Vec::new();
            for address in &wanted {
                let mut reached = false;
                for account in &accounts {
                    let Some(plugin) = self.inner.registry.get(&account.protocol) else {
                        continue;
                    };
                    if plugin.parse_address(&address.to_string()).ok().as_ref() == Some(address) {
                        placed.push((Some(account.id.clone()), address.clone()));
                        reached = true;
                    }
                }
                if !reached {
                    placed.push((None, address.clone()));
                }
            }
            let store = self.store();
            let mut existing: Option<PersonId> = None;
            for (account, address) in &placed {
                if let Some(account) = account
                    && let Some(p) = store.person_of(account, address)?
                {
                    existing = Some(p);
                    break;
                }
            }
            let name = if card.name.is_empty() {
                wanted.first().map(ToString::to_string).unwrap_or_default()
            } else {
                card.name.clone()
            };
            if name.is_empty() {
                continue;
            }
            let person = match existing {
                Some(p) => {
                    report.updated += 1;
                    p
                }
                None => {
                    report.created += 1;
                    store.new_person(&name)?
                }
            };
            for (account, address) in &placed {
                store.add_person_address(
                    person,
                    account.as_ref(),
                    address,
                    AddressSource::Imported,
                )?;
                report.addresses += 1;
            }
            for email in &card.emails {
                store.add_person_hint(
                    person,
                    &PersonHint {
                        identifier: Identifier::Email(email.clone()),
                        source: HintSource::Imported,
                    },
                )?;
            }
        }
        self.people_changed()?;
        Ok(report)
    }

    /// Exports people (all when `people` is `None`) as vCard 4.0.
    pub fn export_vcard(&self, people: Option<&[PersonId]>) -> Result<String, EngineError> {
        let all = self.people()?;
        let cards: Vec<Card> = all
            .iter()
            .filter(|p| people.is_none_or(|ids| ids.contains(&p.id)))
            .map(card_of)
            .collect();
        Ok(vcard::write(&cards))
    }
}

fn card_of(person: &Person) -> Card {
    let mut card = Card {
        name: person.name.clone(),
        ..Card::default()
    };
    let mut keys: Vec<String> = Vec::new();
    let identifiers = person
        .addresses
        .iter()
        .map(|a| Identifier::Address(a.address.clone()))
        .chain(person.hints.iter().map(|h| h.identifier.clone()));
    for identifier in identifiers {
        let key = identifier.key();
        if keys.contains(&key) {
            continue;
        }
        keys.push(key);
        match identifier {
            Identifier::Phone(p) | Identifier::Address(Address::Phone(p)) => card.phones.push(p),
            Identifier::Email(e) => card.emails.push(e),
            Identifier::Address(Address::Room(_)) => {}
            Identifier::Address(a) => {
                if !card
                    .addresses
                    .iter()
                    .any(|x| address_key(x) == address_key(&a))
                {
                    card.addresses.push(a);
                }
            }
        }
    }
    card
}
