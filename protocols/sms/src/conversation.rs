//! Conversations of SMS: one per set of other numbers. A direct chat's key
//! is the other person's E.164 number; a group's is the sorted numbers
//! joined by commas.

use crate::phone::normalize;
use koine_api::{
    Address, AddressError, Conversation, ConversationKey, ConversationKind, PhoneNumber, Route,
};

/// The key for a thread with these numbers (as the phone stores them).
pub fn key_for(numbers: &[String], region: &str) -> Result<ConversationKey, AddressError> {
    let mut normalized = numbers
        .iter()
        .map(|n| normalize(n, region).map(|p| p.as_str().to_owned()))
        .collect::<Result<Vec<_>, _>>()?;
    if normalized.is_empty() {
        return Err(AddressError::Empty);
    }
    normalized.sort();
    normalized.dedup();
    Ok(ConversationKey::new(normalized.join(",")))
}

/// The numbers of a conversation key.
pub fn numbers(key: &ConversationKey, region: &str) -> Result<Vec<PhoneNumber>, AddressError> {
    let numbers = key
        .as_str()
        .split(',')
        .map(|n| normalize(n, region))
        .collect::<Result<Vec<_>, _>>()?;
    if numbers.is_empty() {
        return Err(AddressError::Empty);
    }
    Ok(numbers)
}

/// The conversation for a key.
pub fn upsert(key: &ConversationKey, route: Route, region: &str) -> Conversation {
    let numbers = numbers(key, region).unwrap_or_default();
    let group = numbers.len() > 1;
    Conversation {
        key: key.clone(),
        title: key.as_str().replace(',', ", "),
        kind: if group {
            ConversationKind::Group
        } else {
            ConversationKind::Direct
        },
        peer: if group {
            None
        } else {
            numbers.into_iter().next().map(Address::Phone)
        },
        route,
        read_only: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_normalised_and_sorted() {
        let k = key_for(&["06 12 34 56 02".into(), "+33600000001".into()], "FR").expect("key");
        assert_eq!(k.as_str(), "+33600000001,+33612345602");
        assert_eq!(numbers(&k, "FR").expect("numbers").len(), 2);
        assert!(key_for(&["nope".into()], "FR").is_err());
    }
}
