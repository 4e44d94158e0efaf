//! People (metacontacts): listing, manual merge, split and undo, merge
//! suggestions, and a person's history across all their networks.

use super::{Engine, EngineError};
use crate::model::{ConversationId, MessageId, StoredMessage};
use crate::people::{
    AddressSource, HintSource, Identifier, PeopleChange, Person, PersonHint, PersonId, Strength,
    Suggestion, SuggestionReason, address_key,
};
use koine_api::{AccountId, Address, ProtocolId};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

/// One message of a person's combined history, with where it travelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonMessage {
    /// The account it was sent or received on.
    pub account: AccountId,
    /// That account's network.
    pub protocol: ProtocolId,
    /// Its conversation.
    pub conversation: ConversationId,
    /// The message, with its route (`message.route`).
    pub message: StoredMessage,
}

impl Engine {
    /// Every person, by name. Contacts and accepted direct conversations
    /// that belong to no one yet get a person of their own first.
    pub fn people(&self) -> Result<Vec<Person>, EngineError> {
        Ok(self.store().people()?)
    }

    /// One person.
    pub fn person(&self, id: PersonId) -> Result<Person, EngineError> {
        Ok(self.store().person(id)?)
    }

    /// Finds a person by id, by name (unambiguous, case ignored) or by one
    /// of their addresses.
    pub fn find_person(&self, text: &str) -> Result<Person, EngineError> {
        let people = self.people()?;
        let text = text.trim();
        if let Ok(id) = text.parse::<i64>()
            && let Some(p) = people.iter().find(|p| p.id.0 == id)
        {
            return Ok(p.clone());
        }
        let by_name: Vec<&Person> = people
            .iter()
            .filter(|p| p.name.eq_ignore_ascii_case(text))
            .collect();
        match by_name.as_slice() {
            [one] => return Ok((*one).clone()),
            [_, _, ..] => return Err(EngineError::AmbiguousPerson(text.to_owned())),
            [] => {}
        }
        if let Ok(address) = Address::parse_any(text) {
            let key = address_key(&address);
            if let Some(p) = people
                .iter()
                .find(|p| p.addresses.iter().any(|a| address_key(&a.address) == key))
            {
                return Ok(p.clone());
            }
        }
        Err(EngineError::UnknownPerson(text.to_owned()))
    }

    /// The person an address on an account belongs to, if any.
    pub fn person_of(
        &self,
        account: &AccountId,
        address: &Address,
    ) -> Result<Option<PersonId>, EngineError> {
        Ok(self.store().person_of(account, address)?)
    }

    /// Creates a person from addresses the user typed (moved from whoever
    /// had them).
    pub fn create_person(
        &self,
        name: &str,
        addresses: &[(Option<AccountId>, Address)],
    ) -> Result<PersonId, EngineError> {
        let id = self
            .store()
            .create_person(name, addresses, AddressSource::Typed)?;
        self.people_changed()?;
        Ok(id)
    }

    /// Adds an address the user typed to a person (a strong signal: the
    /// same identifier elsewhere is suggested for merging).
    pub fn add_person_address(
        &self,
        person: PersonId,
        account: Option<&AccountId>,
        address: &Address,
    ) -> Result<(), EngineError> {
        let store = self.store();
        store.add_person_address(person, account, address, AddressSource::Typed)?;
        store.add_person_hint(
            person,
            &PersonHint {
                identifier: Identifier::Address(address.clone()),
                source: HintSource::Typed,
            },
        )?;
        drop(store);
        self.people_changed()?;
        Ok(())
    }

    /// Records an identifier of a person (an e-mail, a number) and where it
    /// came from.
    pub fn add_person_identifier(
        &self,
        person: PersonId,
        identifier: Identifier,
        source: HintSource,
    ) -> Result<(), EngineError> {
        self.store()
            .add_person_hint(person, &PersonHint { identifier, source })?;
        self.people_changed()?;
        Ok(())
    }

    /// Records that the profile of `address` on `account` (an XMPP vCard, a
    /// Matrix profile) names `identifier`: a weak merge signal, since
    /// anyone can write anything in their own profile.
    pub fn record_profile_identifier(
        &self,
        account: &AccountId,
        address: &Address,
        identifier: Identifier,
    ) -> Result<(), EngineError> {
        let person = match self.person_of(account, address)? {
            Some(p) => p,
            None => self.store().create_person(
                &address.to_string(),
                &[(Some(account.clone()), address.clone())],
                AddressSource::Seen,
            )?,
        };
        self.add_person_identifier(person, identifier, HintSource::Profile)
    }

    /// Records every phone number and e-mail address a contact's profile
    /// lists (see [`Self::record_profile_identifier`]). Malformed e-mail
    /// addresses are skipped.
    pub fn record_profile(
        &self,
        account: &AccountId,
        profile: &koine_api::Profile,
    ) -> Result<(), EngineError> {
        let phones = profile.phones.iter().cloned().map(Identifier::Phone);
        let emails = profile
            .emails
            .iter()
            .map(|e| e.trim().to_lowercase())
            .filter(|e| plausible_email(e))
            .map(Identifier::Email);
        for identifier in phones.chain(emails) {
            self.record_profile_identifier(account, &profile.address, identifier)?;
        }
        Ok(())
    }

    /// Renames a person.
    pub fn rename_person(&self, person: PersonId, name: &str) -> Result<(), EngineError> {
        self.store().rename_person(person, name)?;
        self.people_changed()?;
        Ok(())
    }

    /// Merges people into `into`. Nothing is ever merged without this call.
    pub fn merge_people(&self, into: PersonId, others: &[PersonId]) -> Result<(), EngineError> {
        self.store().merge_people(into, others)?;
        self.people_changed()?;
        Ok(())
    }

    /// Moves some addresses of a person to a new person (named after the
    /// first moved address unless `name` is given). The two are no longer
    /// suggested for merging.
    pub fn split_person(
        &self,
        person: PersonId,
        addresses: &[(Option<AccountId>, Address)],
        name: Option<&str>,
    ) -> Result<PersonId, EngineError> {
        let name = match (name, addresses.first()) {
            (Some(n), _) => n.to_owned(),
            (None, Some((_, a))) => a.to_string(),
            (None, None) => return Err(EngineError::NothingToSplit),
        };
        let id = self.store().split_person(person, addresses, &name)?;
        self.people_changed()?;
        Ok(id)
    }

    /// Undoes the latest merge or split.
    pub fn undo_people(&self) -> Result<Option<PeopleChange>, EngineError> {
        let change = self.store().undo_people()?;
        if change.is_some() {
            self.people_changed()?;
        }
        Ok(change)
    }

    /// Says two people are different: no more suggestions for the pair.
    pub fn dismiss_suggestion(&self, a: PersonId, b: PersonId) -> Result<(), EngineError> {
        Ok(self.store().set_apart(a, b)?)
    }

    /// Merge suggestions, strong first. Strong: the same phone number or
    /// address on two accounts, typed by the user or in an imported address
    /// book. Weak: the same display name, or an identifier that a contact's
    /// own profile claims (self-asserted). Dismissed and split pairs are
    /// left out.
    pub fn suggestions(&self) -> Result<Vec<Suggestion>, EngineError> {
        let people = self.people()?;
        let apart = self.store().apart_pairs()?;
        // identifier key → (person, how it is known)
        let mut by_key: BTreeMap<String, Vec<(PersonId, Known)>> = BTreeMap::new();
        for p in &people {
            for a in &p.addresses {
                let known = match a.source {
                    AddressSource::Typed => Known::Typed,
                    AddressSource::Imported => Known::AddressBook,
                    _ => Known::Address(a.address.clone()),
                };
                by_key
                    .entry(address_key(&a.address))
                    .or_default()
                    .push((p.id, known));
            }
            for h in &p.hints {
                let known = match h.source {
                    HintSource::Profile => Known::Profile,
                    HintSource::Typed => Known::Typed,
                    HintSource::Imported => Known::AddressBook,
                };
                by_key
                    .entry(h.identifier.key())
                    .or_default()
                    .push((p.id, known));
            }
        }
        // A profile is self-asserted: anyone can put your mother's number
        // in their vCard; so is an SMS sender name. What they name is a
        // weak signal, like a display name; only what the networks or the
        // user vouch for is strong.
        // Each pair keeps its strongest reason.
        let mut best: BTreeMap<(PersonId, PersonId), (Strength, SuggestionReason)> =
            BTreeMap::new();
        for (key, holders) in &by_key {
            for (i, (pa, ka)) in holders.iter().enumerate() {
                for (pb, kb) in &holders[i + 1..] {
                    let pair = ((*pa).min(*pb), (*pa).max(*pb));
                    if pa == pb || apart.contains(&pair) {
                        continue;
                    }
                    let strength = if ka.self_asserted() || kb.self_asserted() {
                        Strength::Weak
                    } else {
                        Strength::Strong
                    };
                    if best.get(&pair).is_none_or(|(s, _)| *s < strength) {
                        best.insert(pair, (strength, strong_reason(key, ka, kb)));
                    }
                }
            }
        }
        let mut seen: HashSet<(PersonId, PersonId)> = best.keys().copied().collect();
        let mut out: Vec<Suggestion> = best
            .into_iter()
            .map(|((a, b), (strength, reason))| Suggestion {
                a,
                b,
                strength,
                reason,
            })
            .collect();
        let mut by_name: BTreeMap<String, Vec<PersonId>> = BTreeMap::new();
        for p in &people {
            let name = p.name.trim().to_lowercase();
            if !name.is_empty() && Address::parse_any(&name).is_err() {
                by_name.entry(name).or_default().push(p.id);
            }
        }
        for (name, ids) in by_name {
            for (i, a) in ids.iter().enumerate() {
                for b in &ids[i + 1..] {
                    let pair = ((*a).min(*b), (*a).max(*b));
                    if apart.contains(&pair) || !seen.insert(pair) {
                        continue;
                    }
                    out.push(Suggestion {
                        a: pair.0,
                        b: pair.1,
                        strength: Strength::Weak,
                        reason: SuggestionReason::SameDisplayName(name.clone()),
                    });
                }
            }
        }
        out.sort_by(|x, y| y.strength.cmp(&x.strength).then(x.a.cmp(&y.a)));
        Ok(out)
    }

    /// A person's history across all their networks, oldest first: the
    /// `limit` latest messages before `before`, each with its account,
    /// network and route.
    pub fn person_history(
        &self,
        person: PersonId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<PersonMessage>, EngineError> {
        let store = self.store();
        let p = store.person(person)?;
        let conversations = store.person_conversations(&p)?;
        let ids: Vec<ConversationId> = conversations.iter().map(|c| c.id).collect();
        let accounts = store.accounts()?;
        let messages = store.timeline(&ids, before, limit)?;
        Ok(messages
            .into_iter()
            .filter_map(|message| {
                let c = conversations
                    .iter()
                    .find(|c| c.id == message.conversation)?;
                let protocol = accounts
                    .iter()
                    .find(|a| a.id == c.account)?
                    .protocol
                    .clone();
                Some(PersonMessage {
                    account: c.account.clone(),
                    protocol,
                    conversation: c.id,
                    message,
                })
            })
            .collect())
    }
}

/// How a person holds an identifier, for the reason of a suggestion.
enum Known {
    Address(Address),
    Profile,
    Typed,
    AddressBook,
}

impl Known {
    /// Whether nobody vouches for it: a contact's own profile, or an SMS
    /// sender name (any sender may put "MyBank" there).
    fn self_asserted(&self) -> bool {
        matches!(self, Known::Profile | Known::Address(Address::SmsSender(_)))
    }
}

fn strong_reason(key: &str, a: &Known, b: &Known) -> SuggestionReason {
    let value = key.split_once(':').map_or(key, |(_, v)| v).to_owned();
    match (a, b) {
        (Known::Profile, _) | (_, Known::Profile) => SuggestionReason::InProfile(value),
        (Known::Typed, _) | (_, Known::Typed) => SuggestionReason::TypedByYou(value),
        (Known::AddressBook, _) | (_, Known::AddressBook) => SuggestionReason::InAddressBook(value),
        (Known::Address(Address::Phone(_)), Known::Address(_)) => {
            SuggestionReason::SamePhoneNumber(value)
        }
        (Known::Address(_), Known::Address(_)) => SuggestionReason::SameAddress(value),
    }
}

/// `local@domain.tld`: one `@`, no spaces, at most 254 characters.
fn plausible_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    e.len() <= 254
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.chars().any(char::is_whitespace)
}
