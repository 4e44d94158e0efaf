//! A hostile peer after login: a second account on the same server sends
//! well-formed messages built to crash, spoof or confuse the account under
//! test, each followed by a plain message that must still arrive once.

use std::future::Future;
use std::pin::Pin;

use koine_api::{Address, RemoteId};

/// A boxed future, for the object-safe [`HostilePeer`].
pub type PeerFuture<'a> = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + 'a>>;

/// What the account under test (the victim) has that a peer may target.
#[derive(Debug, Clone)]
pub struct Victim {
    /// The victim's address, as the peer writes to it.
    pub address: Address,
    /// The network id of a message the victim sent to the peer: the target
    /// of spoofed edits, retractions and reactions.
    pub own_message: RemoteId,
}

/// One well-formed hostile message of a plugin's catalogue.
#[derive(Debug, Clone)]
pub struct HostileCase {
    /// What it tries, shown when the check fails.
    pub name: String,
    /// The message in the network's own form, for [`HostilePeer::send_raw`].
    pub payload: Vec<u8>,
    /// Texts that must never reach the victim's events (a spoofed edit's
    /// new text, say): nothing the case carries may be stored as it claims.
    pub never_shown: Vec<String>,
}

impl HostileCase {
    /// A case sending `payload`, with no text that must stay unseen.
    pub fn new(name: impl Into<String>, payload: impl Into<Vec<u8>>) -> Self {
        Self {
            name: name.into(),
            payload: payload.into(),
            never_shown: Vec::new(),
        }
    }

    /// Adds a text that must never be shown.
    pub fn never_showing(mut self, text: impl Into<String>) -> Self {
        self.never_shown.push(text.into());
        self
    }
}

/// A second client on account 1 of the test server, speaking the network's
/// wire format directly (not through the plugin), so it can send what no
/// Koine command would.
pub trait HostilePeer: Send {
    /// The plugin's catalogue against `victim`: non-ASCII and oversized
    /// links, edits, retractions and reactions of the victim's message, id
    /// reuse, dates in the future and the past, huge and deeply nested
    /// payloads, unknown message types, floods.
    fn catalogue(&self, victim: &Victim) -> Vec<HostileCase>;

    /// Sends one case's payload to `victim`.
    fn send_raw<'a>(&'a mut self, victim: &'a Victim, payload: &'a [u8]) -> PeerFuture<'a>;

    /// Sends an ordinary message `text` to `victim`.
    fn send_plain<'a>(&'a mut self, victim: &'a Victim, text: &'a str) -> PeerFuture<'a>;
}
