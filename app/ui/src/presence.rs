//! Presence (XMPP, Matrix): who is online, shown as a dot on their direct
//! chat and as a word under the chat's title. Known only while the account
//! that reported it is online: when it goes offline, what it said is
//! forgotten rather than shown stale.

use crate::app::App;
use crate::fl;
use koine_api::{AccountId, Address, Availability, ConversationKind};
use koine_core::ConversationRecord;
use std::collections::HashMap;

/// The longest status text shown (a network may send any length).
pub const MAX_STATUS_CHARS: usize = 80;

/// The presences reported, per account and address.
#[derive(Debug, Default)]
pub struct Presences {
    by: HashMap<(AccountId, String), (Availability, Option<String>)>,
}

impl Presences {
    /// Records what an account reported of someone.
    pub fn set(
        &mut self,
        account: AccountId,
        address: &Address,
        availability: Availability,
        status: Option<String>,
    ) {
        let status = status.map(|s| clean(&s)).filter(|s| !s.is_empty());
        let key = (account, koine_core::people::address_key(address));
        self.by.insert(key, (availability, status));
    }

    /// Forgets what an account reported (it went offline).
    pub fn forget_account(&mut self, account: &AccountId) {
        self.by.retain(|(a, _), _| a != account);
    }

    fn get(
        &self,
        account: &AccountId,
        address: &Address,
    ) -> Option<&(Availability, Option<String>)> {
        self.by
            .get(&(account.clone(), koine_core::people::address_key(address)))
    }
}

/// One line of a status text: control characters and bidirectional
/// overrides dropped (a status must not turn the header's text around),
/// whitespace collapsed, at most [`MAX_STATUS_CHARS`] characters.
fn clean(text: &str) -> String {
    let kept: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .filter(|c| !is_bidi_control(*c))
        .collect();
    let line = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = line.chars().take(MAX_STATUS_CHARS).collect();
    if line.chars().count() > MAX_STATUS_CHARS {
        cut.push('…');
    }
    cut
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

impl App {
    /// The presence of a direct chat's peer, as its account last reported
    /// it; `None` for groups, unknown peers, or an account offline.
    pub fn presence_of(&self, c: &ConversationRecord) -> Option<(Availability, Option<&str>)> {
        if c.kind != ConversationKind::Direct {
            return None;
        }
        let peer = c.peer.as_ref()?;
        self.presences
            .get(&c.account, peer)
            .map(|(a, s)| (*a, s.as_deref()))
    }
}

/// The dot drawn on a direct chat's row, and its colour's meaning.
pub fn dot(availability: Availability) -> Option<(&'static str, iced::Color)> {
    match availability {
        Availability::Online => Some(("●", iced::Color::from_rgb8(0x2e, 0xa0, 0x43))),
        Availability::Away => Some(("●", iced::Color::from_rgb8(0xd9, 0x8e, 0x04))),
        Availability::Busy => Some(("●", iced::Color::from_rgb8(0xcf, 0x22, 0x2e))),
        Availability::Offline => None,
    }
}

/// "Online", "Away: in a meeting", … for the chat's header.
pub fn label(availability: Availability, status: Option<&str>) -> String {
    let word = match availability {
        Availability::Online => fl!("presence-online"),
        Availability::Away => fl!("presence-away"),
        Availability::Busy => fl!("presence-busy"),
        Availability::Offline => fl!("presence-offline"),
    };
    match status {
        Some(status) => fl!("presence-with-status", presence = word, status = status),
        None => word,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_is_one_short_line() {
        assert_eq!(clean("  out\nfor\tlunch \u{7} "), "out for lunch");
        let long = "x".repeat(500);
        assert_eq!(clean(&long).chars().count(), MAX_STATUS_CHARS + 1);
        assert_eq!(clean("\u{202e}olleh é"), "olleh é", "no bidi override");
    }
}
