//! The plain types of the API.

use std::fmt;

/// A peer device: a stable user name (an address string) and a device number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId {
    /// The user's stable name (`+4915112345678`, `koine:alice`, a bare JID).
    pub name: String,
    /// The device number (1 when the network has one device per account).
    pub device: u32,
}

impl PeerId {
    /// A peer device.
    pub fn new(name: impl Into<String>, device: u32) -> Self {
        Self {
            name: name.into(),
            device,
        }
    }
}

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.name, self.device)
    }
}

/// A signed prekey as published: id, 33-byte public key, 64-byte signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedPreKey {
    /// Its id.
    pub id: u32,
    /// The public key (`0x05` and 32 bytes).
    pub public_key: Vec<u8>,
    /// XEdDSA signature of `public_key` by the identity key.
    pub signature: Vec<u8>,
}

/// A one-time prekey as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneTimePreKey {
    /// Its id.
    pub id: u32,
    /// The public key (`0x05` and 32 bytes).
    pub public_key: Vec<u8>,
}

/// Everything needed to start a session with a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreKeyBundle {
    /// The identity public key (33 bytes).
    pub identity_key: Vec<u8>,
    /// The device's registration id.
    pub registration_id: u32,
    /// The device number.
    pub device_id: u32,
    /// The signed prekey.
    pub signed_pre_key: SignedPreKey,
    /// A one-time prekey, when the server had one left.
    pub one_time_pre_key: Option<OneTimePreKey>,
}

/// The two kinds of Signal messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CiphertextKind {
    /// A PreKeySignalMessage: starts the session on the receiving side.
    PreKey,
    /// A SignalMessage.
    Whisper,
}

/// An encrypted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ciphertext {
    /// Which kind.
    pub kind: CiphertextKind,
    /// The serialized Signal message.
    pub bytes: Vec<u8>,
}

/// What happened to a peer's identity key during an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityStatus {
    /// First time this peer's identity was seen (trusted on first use).
    New,
    /// The same identity as before.
    Unchanged,
    /// A different identity than before: warn the user, mark the chat
    /// unverified.
    Changed,
}

/// A decrypted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decrypted {
    /// The plaintext.
    pub plaintext: Vec<u8>,
    /// What the message said about the sender's identity.
    pub identity: IdentityStatus,
}
