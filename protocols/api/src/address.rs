//! Addresses of people and rooms on each network, with parsing and normalisation.
//!
//! Parsing is strict and returns a typed [`AddressError`]; normalising is
//! deterministic, so two spellings of one address compare equal after parsing
//! (`Alice@Example.org` and `alice@example.org`; `+33 6 12-34-56-78` and
//! `+33612345678`).

use serde::{Deserialize, Serialize};
use std::fmt;
use thiserror::Error;

/// Why a string is not a valid address.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AddressError {
    /// The input was empty or only whitespace.
    #[error("the address is empty")]
    Empty,
    /// A phone number not in international E.164 form.
    #[error("not an international phone number (E.164): {0}")]
    NotE164(String),
    /// A malformed Jabber ID.
    #[error("not a valid JID: {0}")]
    InvalidJid(String),
    /// A malformed Matrix user id.
    #[error("not a valid Matrix user id: {0}")]
    InvalidMxid(String),
    /// A malformed provider-scoped id.
    #[error("not a valid provider-scoped id (provider:id): {0}")]
    InvalidProviderId(String),
    /// None of the known address forms matched.
    #[error("unrecognised address: {0}")]
    Unrecognised(String),
}

/// A phone number in E.164 form: `+` then 8 to 15 digits, no leading zero.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses an international number, dropping spaces, dots, dashes and
    /// parentheses, and accepting `00` as the international prefix.
    ///
    /// National numbers (no country code) need a region: plugins that accept
    /// them (SMS) resolve them with their own region setting first.
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(AddressError::Empty);
        }
        let compact: String = trimmed
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')' | '\u{a0}'))
            .collect();
        let digits = if let Some(rest) = compact.strip_prefix('+') {
            rest
        } else if let Some(rest) = compact.strip_prefix("00") {
            rest
        } else {
            return Err(AddressError::NotE164(trimmed.to_owned()));
        };
        let valid = (8..=15).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0');
        if valid {
            Ok(Self(format!("+{digits}")))
        } else {
            Err(AddressError::NotE164(trimmed.to_owned()))
        }
    }

    /// The number as `+` and digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = AddressError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PhoneNumber> for String {
    fn from(value: PhoneNumber) -> Self {
        value.0
    }
}

/// A Jabber ID, bare (`user@host`) or full (`user@host/resource`).
///
/// Normalisation lowercases the domain and the local part (a simplified
/// nodeprep that covers ASCII and Unicode case folding) and keeps the resource.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Jid(String);

impl Jid {
    /// Parses and normalises a JID.
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(AddressError::Empty);
        }
        let bad = || AddressError::InvalidJid(trimmed.to_owned());
        let (bare, resource) = match trimmed.split_once('/') {
            Some((bare, resource)) if !resource.is_empty() => (bare, Some(resource)),
            Some(_) => return Err(bad()),
            None => (trimmed, None),
        };
        let (local, domain) = match bare.rsplit_once('@') {
            Some((local, domain)) => (Some(local), domain),
            None => (None, bare),
        };
        let domain_ok = !domain.is_empty()
            && domain.len() <= 1023
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| !c.is_whitespace() && !matches!(c, '@' | '/' | '"' | '<' | '>'));
        if !domain_ok {
            return Err(bad());
        }
        if let Some(local) = local {
            let local_ok = !local.is_empty()
                && local.len() <= 1023
                && local.chars().all(|c| {
                    !c.is_whitespace()
                        && !matches!(c, '"' | '&' | '\'' | '/' | ':' | '<' | '>' | '@')
                });
            if !local_ok {
                return Err(bad());
            }
        }
        if resource.is_some_and(|r| r.len() > 1023) {
            return Err(bad());
        }
        let mut out = String::with_capacity(trimmed.len());
        if let Some(local) = local {
            out.push_str(&local.to_lowercase());
            out.push('@');
        }
        out.push_str(&domain.to_lowercase());
        if let Some(resource) = resource {
            out.push('/');
            out.push_str(resource);
        }
        Ok(Self(out))
    }

    /// The JID without its resource.
    pub fn bare(&self) -> Jid {
        match self.0.split_once('/') {
            Some((bare, _)) => Jid(bare.to_owned()),
            None => self.clone(),
        }
    }

    /// The domain part (the server).
    pub fn domain(&self) -> &str {
        let bare = self.0.split_once('/').map_or(self.0.as_str(), |(b, _)| b);
        bare.rsplit_once('@').map_or(bare, |(_, d)| d)
    }

    /// The normalised JID.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Jid {
    type Error = AddressError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Jid> for String {
    fn from(value: Jid) -> Self {
        value.0
    }
}

/// A Matrix user id, `@localpart:server.name[:port]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Mxid(String);

impl Mxid {
    /// Parses a Matrix user id. The server name is lowercased; the localpart is
    /// kept as written (historical ids may contain capitals).
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(AddressError::Empty);
        }
        let bad = || AddressError::InvalidMxid(trimmed.to_owned());
        let rest = trimmed.strip_prefix('@').ok_or_else(bad)?;
        let (local, server) = rest.split_once(':').ok_or_else(bad)?;
        let local_ok = !local.is_empty() && local.chars().all(|c| c.is_ascii_graphic() && c != ':');
        let server_ok = !server.is_empty()
            && server.len() <= 255
            && server
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
        if !local_ok || !server_ok || trimmed.len() > 255 {
            return Err(bad());
        }
        Ok(Self(format!("@{local}:{}", server.to_ascii_lowercase())))
    }

    /// The server name (with port, if any).
    pub fn server_name(&self) -> &str {
        self.0.split_once(':').map_or("", |(_, s)| s)
    }

    /// The full id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Mxid {
    type Error = AddressError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Mxid> for String {
    fn from(value: Mxid) -> Self {
        value.0
    }
}

/// A user of a third-party provider, as the gatekeeper addresses them:
/// `provider:id` (provider is lowercase letters, digits, dots and dashes).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProviderAddress {
    provider: String,
    id: String,
}

impl ProviderAddress {
    /// Parses `provider:id`.
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(AddressError::Empty);
        }
        let bad = || AddressError::InvalidProviderId(trimmed.to_owned());
        let (provider, id) = trimmed.split_once(':').ok_or_else(bad)?;
        let provider = provider.to_ascii_lowercase();
        let provider_ok = !provider.is_empty()
            && provider.len() <= 64
            && provider
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
        let id_ok = !id.is_empty() && id.len() <= 128 && id.chars().all(|c| c.is_ascii_graphic());
        if !provider_ok || !id_ok {
            return Err(bad());
        }
        Ok(Self {
            provider,
            id: id.to_owned(),
        })
    }

    /// The provider's name.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The user's id at that provider.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Display for ProviderAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.provider, self.id)
    }
}

impl TryFrom<String> for ProviderAddress {
    type Error = AddressError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ProviderAddress> for String {
    fn from(value: ProviderAddress) -> Self {
        value.to_string()
    }
}

/// An address of a person (or a room) on some network.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Address {
    /// An E.164 phone number (gatekeeper users, SMS).
    Phone(PhoneNumber),
    /// A Jabber ID (XMPP).
    Jid(Jid),
    /// A Matrix user id.
    Mxid(Mxid),
    /// A third-party provider's user (`provider:id`).
    Provider(ProviderAddress),
    /// A room or group on a network that has no person address for it
    /// (a Matrix room id, a MUC JID is a [`Address::Jid`]).
    Room(String),
    /// An SMS sender that is not a phone number: an alphanumeric sender id
    /// (`Google`, a bank's name) or a short code (`72975`), as the phone
    /// gives it.
    SmsSender(String),
}

impl Address {
    /// Guesses the form from the text: `+`/`00` → phone, `@x:y` → Matrix,
    /// `x@y` → JID, `p:id` → provider-scoped. Plugins should prefer their own
    /// `parse_address`, which knows which forms their network accepts.
    pub fn parse_any(input: &str) -> Result<Self, AddressError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(AddressError::Empty);
        }
        if trimmed.starts_with('+') || trimmed.starts_with("00") {
            return PhoneNumber::parse(trimmed).map(Address::Phone);
        }
        if trimmed.starts_with('@') {
            return Mxid::parse(trimmed).map(Address::Mxid);
        }
        if trimmed.contains('@') {
            return Jid::parse(trimmed).map(Address::Jid);
        }
        if trimmed.contains(':') {
            return ProviderAddress::parse(trimmed).map(Address::Provider);
        }
        Err(AddressError::Unrecognised(trimmed.to_owned()))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Phone(p) => f.write_str(p.as_str()),
            Address::Jid(j) => f.write_str(j.as_str()),
            Address::Mxid(m) => f.write_str(m.as_str()),
            Address::Provider(p) => p.fmt(f),
            Address::Room(r) => f.write_str(r),
            Address::SmsSender(s) => f.write_str(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sms_senders_show_as_given_and_round_trip() {
        let a = Address::SmsSender("Google".into());
        assert_eq!(a.to_string(), "Google");
        let json = serde_json::to_string(&a).expect("json");
        assert_eq!(json, r#"{"kind":"sms_sender","value":"Google"}"#);
        assert_eq!(serde_json::from_str::<Address>(&json).expect("back"), a);
    }

    #[test]
    fn phone_numbers_normalise_to_e164() {
        let a = PhoneNumber::parse("+33 6 12-34-56-78").expect("valid");
        let b = PhoneNumber::parse("0033 (6) 12.34.56.78").expect("valid");
        assert_eq!(a.as_str(), "+33612345678");
        assert_eq!(a, b);
    }

    #[test]
    fn phone_numbers_reject_national_and_garbage() {
        assert!(matches!(
            PhoneNumber::parse("06 12 34 56 78"),
            Err(AddressError::NotE164(_))
        ));
        assert!(matches!(
            PhoneNumber::parse("+0612345678"),
            Err(AddressError::NotE164(_))
        ));
        assert!(matches!(
            PhoneNumber::parse("+33abc45678"),
            Err(AddressError::NotE164(_))
        ));
        assert!(matches!(
            PhoneNumber::parse("+1234567"),
            Err(AddressError::NotE164(_))
        ));
        assert!(matches!(
            PhoneNumber::parse("+1234567890123456"),
            Err(AddressError::NotE164(_))
        ));
        assert_eq!(PhoneNumber::parse("  "), Err(AddressError::Empty));
    }

    #[test]
    fn jids_lowercase_local_and_domain_but_keep_resource() {
        let j = Jid::parse("Alice@Example.ORG/Laptop").expect("valid");
        assert_eq!(j.as_str(), "alice@example.org/Laptop");
        assert_eq!(j.bare().as_str(), "alice@example.org");
        assert_eq!(j.domain(), "example.org");
        assert_eq!(
            Jid::parse("conference.example.org")
                .expect("valid")
                .domain(),
            "conference.example.org"
        );
    }

    #[test]
    fn jids_reject_malformed() {
        for bad in [
            "@example.org",
            "a b@example.org",
            "alice@",
            "alice@example.org/",
            "al<ice@x.org",
            "a@.x",
        ] {
            assert!(
                matches!(Jid::parse(bad), Err(AddressError::InvalidJid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn mxids_parse_and_lowercase_server() {
        let m = Mxid::parse("@bob:Matrix.Example:8448").expect("valid");
        assert_eq!(m.as_str(), "@bob:matrix.example:8448");
        assert_eq!(m.server_name(), "matrix.example:8448");
        for bad in [
            "bob:example.org",
            "@bob",
            "@:example.org",
            "@bob:",
            "@bo b:x.org",
        ] {
            assert!(
                matches!(Mxid::parse(bad), Err(AddressError::InvalidMxid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn provider_addresses_round_trip() {
        let p = ProviderAddress::parse("BirdyChat:u-8f3a").expect("valid");
        assert_eq!(p.to_string(), "birdychat:u-8f3a");
        assert_eq!(p.provider(), "birdychat");
        assert_eq!(p.id(), "u-8f3a");
        assert!(ProviderAddress::parse(":x").is_err());
        assert!(ProviderAddress::parse("p:").is_err());
        assert!(ProviderAddress::parse("p q:x").is_err());
    }

    #[test]
    fn parse_any_detects_the_form() {
        assert!(matches!(
            Address::parse_any("+4915112345678"),
            Ok(Address::Phone(_))
        ));
        assert!(matches!(Address::parse_any("@a:b.c"), Ok(Address::Mxid(_))));
        assert!(matches!(Address::parse_any("a@b.c"), Ok(Address::Jid(_))));
        assert!(matches!(
            Address::parse_any("prov:1"),
            Ok(Address::Provider(_))
        ));
        assert!(matches!(
            Address::parse_any("hello"),
            Err(AddressError::Unrecognised(_))
        ));
    }

    #[test]
    fn addresses_serialise_with_their_kind() {
        let a = Address::parse_any("Alice@Example.org").expect("valid");
        let json = serde_json::to_string(&a).expect("serialise");
        assert_eq!(json, r#"{"kind":"jid","value":"alice@example.org"}"#);
        let back: Address = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, a);
        let bad: Result<Address, _> = serde_json::from_str(r#"{"kind":"jid","value":"a b@c"}"#);
        assert!(bad.is_err());
    }
}
