//! Conversations of SMS: one per set of other addresses. A direct chat's
//! key is the other person's E.164 number (or, for a sender that is not a
//! number, the sender as the phone gives it: `Google`, `72975`); a group's
//! is the sorted addresses joined by commas.

use crate::phone::sms_address;
use koine_api::{Address, AddressError, Conversation, ConversationKey, ConversationKind, Route};

/// The key for a thread with these addresses (as the phone stores them).
pub fn key_for(numbers: &[String], region: &str) -> Result<ConversationKey, AddressError> {
    let mut normalized = numbers
        .iter()
        .map(|n| sms_address(n, region).map(|a| a.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    if normalized.is_empty() {
        return Err(AddressError::Empty);
    }
    normalized.sort();
    normalized.dedup();
    Ok(ConversationKey::new(normalized.join(",")))
}

/// The addresses of a conversation key (E.164 numbers, or senders as given).
pub fn addresses(key: &ConversationKey, region: &str) -> Result<Vec<Address>, AddressError> {
    let numbers = key
        .as_str()
        .split(',')
        .map(|n| sms_address(n, region))
        .collect::<Result<Vec<_>, _>>()?;
    if numbers.is_empty() {
        return Err(AddressError::Empty);
    }
    Ok(numbers)
}

/// The conversation for a key.
pub fn upsert(key: &ConversationKey, route: Route, region: &str) -> Conversation {
    let numbers = addresses(key, region).unwrap_or_default();
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
            numbers.into_iter().next()
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
        assert_eq!(addresses(&k, "FR").expect("addresses").len(), 2);
        assert!(key_for(&[" ".into()], "FR").is_err());
        let k = key_for(&["Google".into()], "FR").expect("key");
        assert_eq!(k.as_str(), "Google");
        assert_eq!(
            upsert(
                &k,
                crate::route::sms_route(crate::route::carrier_hop()),
                "FR"
            )
            .peer,
            Some(Address::SmsSender("Google".into()))
        );
    }
}
