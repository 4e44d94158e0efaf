//! The two address forms of the interop model: E.164 numbers for the
//! gatekeeper's own users and `provider:id` for third-party users.

use koine_api::{Address, PhoneNumber, ProviderAddress};
use std::fmt;

/// A user as the gatekeeper addresses them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Peer {
    /// A gatekeeper user.
    Gatekeeper(PhoneNumber),
    /// A third-party user.
    ThirdParty(ProviderAddress),
}

impl Peer {
    /// Parses `+E164` or `provider:id`.
    pub fn parse(input: &str) -> Result<Self, koine_api::AddressError> {
        let t = input.trim();
        if t.starts_with('+') {
            PhoneNumber::parse(t).map(Peer::Gatekeeper)
        } else {
            ProviderAddress::parse(t).map(Peer::ThirdParty)
        }
    }

    /// From an API address, if it is one of the two forms.
    pub fn from_address(a: &Address) -> Option<Self> {
        match a {
            Address::Phone(p) => Some(Peer::Gatekeeper(p.clone())),
            Address::Provider(p) => Some(Peer::ThirdParty(p.clone())),
            _ => None,
        }
    }

    /// As an API address.
    pub fn to_address(&self) -> Address {
        match self {
            Peer::Gatekeeper(p) => Address::Phone(p.clone()),
            Peer::ThirdParty(p) => Address::Provider(p.clone()),
        }
    }

    /// The provider of a third-party user.
    pub fn provider(&self) -> Option<&str> {
        match self {
            Peer::Gatekeeper(_) => None,
            Peer::ThirdParty(p) => Some(p.provider()),
        }
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Gatekeeper(p) => f.write_str(p.as_str()),
            Peer::ThirdParty(p) => p.fmt(f),
        }
    }
}
