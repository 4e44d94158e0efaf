//! Koine's small end-to-end encryption module: Signal-protocol identities,
//! prekeys and sessions behind an API of plain bytes and structs.
//!
//! The gatekeeper plugin uses it now and the XMPP plugin will use it for
//! OMEMO (whose legacy namespace is the Signal wire format). The engine
//! underneath is `wacore-libsignal` (X3DH and the Double Ratchet); nothing of
//! its types leaks through this API, so it can be swapped for another
//! implementation of the same protocol.
//!
//! # What it offers
//!
//! - A [`Device`]: one identity key pair, a signed prekey, a pool of one-time
//!   prekeys, and the sessions with peer devices.
//! - Publishing: [`Device::signed_pre_key`], [`Device::generate_one_time_pre_keys`]
//!   and [`Device::identity_key`] give what a prekey server stores; a
//!   [`PreKeyBundle`] is a plain struct the caller carries in its own format.
//!   [`Device::refresh_signed_pre_key`] rotates the signed prekey weekly and
//!   keeps replaced ones for a 30-day grace period; callers run it at login
//!   and daily, and publish the new key when it returns one.
//! - Post-quantum prekeys: `wacore-libsignal` 0.7 speaks X3DH only. Its
//!   bundles have no Kyber prekey and its session setup has no PQXDH key
//!   agreement (Kyber fields appear only in its session records, for reading
//!   other clients' state), so post-quantum sessions cannot be offered yet;
//!   the gatekeeper protocol reserves the fields for them (its `PROTOCOL.md`).
//! - Sessions: [`Device::start_session`] from a peer's bundle, then
//!   [`Device::encrypt`] / [`Device::decrypt`]. Out-of-order and lost
//!   messages are handled by the ratchet.
//! - Trust: identities are trusted on first use, and every call that meets a
//!   peer's identity says whether it is new, unchanged or **changed**
//!   ([`IdentityStatus`]); the caller marks the chat unverified and tells the
//!   user. [`safety_number`] gives the 60-digit number both users compare.
//!
//! # Keeping private keys safe
//!
//! [`Device::open`] keeps the state in an SQLite file whose every value is
//! sealed with AES-256-GCM under a random 256-bit key that lives only in the
//! OS keyring (through [`koine_api::SecretStore`]). The file alone reveals no
//! key. When the keyring has lost the entry (another keyring, a restored
//! profile) while the file holds an identity, [`Device::open`] refuses with
//! [`E2eeError::StoreKeyMissing`] and leaves the file untouched; only the
//! caller's explicit [`Device::start_over`] replaces it with a new identity
//! (which peers see as an identity change). A first run, with no file or an
//! empty one, creates the key.
//! [`Device::ephemeral`] keeps everything in memory (tests, benchmarks).
//!
//! ```
//! use koine_e2ee::{Device, PeerId};
//! # futures::executor::block_on(async {
//! let mut alice = Device::ephemeral().unwrap();
//! let mut bob = Device::ephemeral().unwrap();
//! let bob_bundle = bob.bundle().unwrap();
//! let (a, b) = (PeerId::new("alice", 1), PeerId::new("bob", 1));
//! alice.start_session(&b, &bob_bundle).await.unwrap();
//! let ct = alice.encrypt(&b, b"hi").await.unwrap();
//! assert_eq!(bob.decrypt(&a, &ct).await.unwrap().plaintext, b"hi");
//! # });
//! ```

#![deny(missing_docs)]
// Prekey bundles and ciphertexts come from peers: no index, slice or
// arithmetic that can panic on their input.
#![warn(
    clippy::string_slice,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
// Tests index what they built themselves; a panic there is a failed test.
#![cfg_attr(
    test,
    allow(
        clippy::string_slice,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

mod device;
mod error;
mod safety;
mod store;
mod types;

pub use device::{
    Device, SIGNED_PRE_KEY_GRACE_MS, SIGNED_PRE_KEY_ROTATION_MS, STORE_KEY_NAME,
    verify_signed_pre_key,
};
pub use error::E2eeError;
pub use safety::{SafetyNumber, safety_number};
pub use types::{
    Ciphertext, CiphertextKind, Decrypted, IdentityStatus, OneTimePreKey, PeerId, PreKeyBundle,
    SignedPreKey,
};
