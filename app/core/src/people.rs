//! People (metacontacts): one person groups addresses from any network.
//!
//! These are the records the store keeps and the engine hands to the UI.
//! Merges are never silent: the engine only *suggests* them
//! ([`Suggestion`]), strong ones from identifiers that match exactly, weak
//! ones from a shared display name; the user merges, splits and undoes.

use koine_api::{AccountId, Address, PhoneNumber};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The store's id of a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonId(pub i64);

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// How an address came to belong to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressSource {
    /// Seen in a contact list or a conversation.
    Seen,
    /// The user typed it for this person.
    Typed,
    /// Read from an address book (vCard).
    Imported,
    /// The user accepted a request from it.
    Accepted,
}

impl AddressSource {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Seen => "seen",
            Self::Typed => "typed",
            Self::Imported => "imported",
            Self::Accepted => "accepted",
        }
    }

    /// Parses a stored name; unknown names read as `Seen`.
    pub fn parse(text: &str) -> Self {
        match text {
            "typed" => Self::Typed,
            "imported" => Self::Imported,
            "accepted" => Self::Accepted,
            _ => Self::Seen,
        }
    }

    /// Whether the user vouched for this address (typed, imported, accepted).
    pub fn is_vouched(self) -> bool {
        !matches!(self, Self::Seen)
    }
}

/// One address of a person, on one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonAddress {
    /// The account that reaches it; `None` for an address-book entry no
    /// configured account can reach.
    pub account: Option<AccountId>,
    /// The address.
    pub address: Address,
    /// How it got here.
    pub source: AddressSource,
}

/// An identifier that is not a route of its own (an e-mail address), or an
/// address read from someone's profile. Used for merge suggestions and vCard
/// export.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Identifier {
    /// A phone number.
    Phone(PhoneNumber),
    /// An e-mail address (lowercased).
    Email(String),
    /// An address on a network.
    Address(Address),
}

impl Identifier {
    /// The key two identifiers are compared on (`tel:+33…`, `email:…`,
    /// `xmpp:…`, `matrix:…`, `provider:…`). A phone number address and a
    /// phone number identifier share one key.
    pub fn key(&self) -> String {
        match self {
            Self::Phone(p) => format!("tel:{}", p.as_str()),
            Self::Email(e) => format!("email:{}", e.trim().to_lowercase()),
            Self::Address(a) => address_key(a),
        }
    }
}

/// The comparison key of an address (see [`Identifier::key`]).
pub fn address_key(address: &Address) -> String {
    match address {
        Address::Phone(p) => format!("tel:{}", p.as_str()),
        Address::Jid(j) => format!("xmpp:{}", j.bare().as_str()),
        Address::Mxid(m) => format!("matrix:{}", m.as_str()),
        Address::Provider(p) => format!("provider:{p}"),
        Address::Room(r) => format!("room:{r}"),
        other => format!("other:{other}"),
    }
}

/// Where an identifier of a person came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HintSource {
    /// The person's profile on a network (XMPP vCard, Matrix profile).
    Profile,
    /// The user typed it.
    Typed,
    /// An imported address book.
    Imported,
}

impl HintSource {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Profile => "profile",
            Self::Typed => "typed",
            Self::Imported => "imported",
        }
    }

    /// Parses a stored name; unknown names read as `Profile`.
    pub fn parse(text: &str) -> Self {
        match text {
            "typed" => Self::Typed,
            "imported" => Self::Imported,
            _ => Self::Profile,
        }
    }
}

/// An identifier known to belong to a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonHint {
    /// The identifier.
    pub identifier: Identifier,
    /// Where it came from.
    pub source: HintSource,
}

/// A person with all their addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// The store's id.
    pub id: PersonId,
    /// The name shown.
    pub name: String,
    /// Their addresses, on any network.
    pub addresses: Vec<PersonAddress>,
    /// Other identifiers (e-mail, numbers from profiles).
    pub hints: Vec<PersonHint>,
}

/// How sure a merge suggestion is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strength {
    /// Only a hint (the same display name, or an identifier a contact's
    /// own profile claims): shown, never merged alone.
    Weak,
    /// An identifier matches exactly (the same number or address on two
    /// accounts, an address the user typed or imported).
    Strong,
}

/// Why two people may be one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", content = "value", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SuggestionReason {
    /// The same phone number on two networks (gatekeeper and SMS).
    SamePhoneNumber(String),
    /// The same address on two accounts.
    SameAddress(String),
    /// One's profile names the other's address or e-mail.
    InProfile(String),
    /// The user typed this identifier for one of them.
    TypedByYou(String),
    /// An imported address book names this identifier for one of them.
    InAddressBook(String),
    /// Only the same display name.
    SameDisplayName(String),
}

/// A suggestion to merge two people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    /// One person (the lower id).
    pub a: PersonId,
    /// The other.
    pub b: PersonId,
    /// How sure.
    pub strength: Strength,
    /// Why.
    pub reason: SuggestionReason,
}

/// A merge or split the user can undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeopleChange {
    /// People were merged into one.
    Merge,
    /// Addresses were split off into a new person.
    Split,
}

/// Who may reach the user directly (not through Requests), per network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StrangerPolicy {
    /// Only contacts (roster, people the user added or accepted).
    #[default]
    Contacts,
    /// Contacts and people the user shares a group conversation with.
    SharedRoom,
    /// Anyone.
    Anyone,
}

impl StrangerPolicy {
    /// The stored and command-line name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Contacts => "contacts",
            Self::SharedRoom => "shared-room",
            Self::Anyone => "anyone",
        }
    }

    /// Parses `contacts`, `shared-room` or `anyone`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "contacts" => Some(Self::Contacts),
            "shared-room" | "shared_room" => Some(Self::SharedRoom),
            "anyone" => Some(Self::Anyone),
            _ => None,
        }
    }
}
