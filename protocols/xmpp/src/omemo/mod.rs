//! OMEMO in its legacy namespace (`eu.siacs.conversations.axolotl`), on
//! Koine's E2EE module (`koine-e2ee`, the Signal protocol).
//!
//! - [`wire`]: the PEP items (device list, bundle) and `<encrypted/>`.
//! - [`payload`]: the AES-128-GCM body and fingerprints.
//! - [`trust`]: blind trust before verification, verification, changes.
//! - [`Omemo`]: this account's device (id, identity, prekeys, sessions) and
//!   what the session learned about device lists.
//!
//! - [`aesgcm`]: sealed files (`aesgcm://` links).
//! - [`protect`]: the end-to-end layer of routes.
//!
//! The session's side: `flow` (login publish, fetching lists and bundles,
//! sending), `receive` (opening, store before commit), `decisions` (trust
//! prompts and `SetVerified`).

pub mod aesgcm;
mod decisions;
mod layer;
pub use layer::protect;
pub(crate) mod flow;
pub mod payload;
pub(crate) mod receive;
pub use receive::file_links;
pub mod trust;
pub mod wire;

use koine_api::{E2eScheme, EndToEnd, LocalId};
use koine_e2ee::{Ciphertext, CiphertextKind, Device, E2eeError, IdentityStatus, PeerId};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use tokio_xmpp::jid::BareJid;
use tokio_xmpp::parsers::message::Message;

/// How long a message waits for device lists and bundles; then a contact
/// whose list never came counts as having no OMEMO device (the message then
/// fails if they ever used OMEMO, see `TrustStore::used_omemo`) and a device
/// whose bundle never came is skipped.
pub const FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// How many one-time prekeys the bundle offers.
pub const PREKEYS: usize = 100;

/// What can go wrong with OMEMO.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OmemoError {
    /// The Signal layer failed.
    #[error(transparent)]
    E2ee(#[from] E2eeError),
    /// The body did not open.
    #[error(transparent)]
    Payload(#[from] payload::PayloadError),
}

/// The device id, kept in `omemo.json` (not secret).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Local {
    /// This installation's OMEMO device id (0: not chosen yet).
    pub device_id: u32,
}

impl Local {
    /// The file name.
    pub const FILE: &'static str = "omemo.json";
}

/// What an iq about OMEMO is for.
#[derive(Debug, Clone)]
pub(crate) enum Pending {
    /// Our own device list.
    OwnList,
    /// A contact's device list.
    List(String),
    /// A device's bundle.
    Bundle(String, u32),
    /// Our device list (`bundle: false`) or bundle was published.
    Published { bundle: bool, options: bool },
}

/// A message waiting for device lists or bundles.
#[derive(Debug)]
pub(crate) struct Queued {
    pub since: std::time::Instant,
    pub local_id: LocalId,
    pub to: BareJid,
    pub message: Message,
}

/// What a received `<encrypted/>` gave.
#[derive(Debug)]
pub(crate) enum Opened {
    /// The body.
    Body(String),
    /// A key transport message: a session was set up or advanced, no content.
    KeyTransport,
}

/// This account's OMEMO state for one session.
pub(crate) struct Omemo {
    pub device: Device,
    pub id: u32,
    pub own: String,
    /// Device lists known this session, by bare JID.
    pub lists: HashMap<String, Vec<u32>>,
    /// Devices that sent us a message this session, by bare JID.
    pub senders: HashMap<String, Vec<u32>>,
    pub fetching_lists: HashSet<String>,
    pub fetching_bundles: HashSet<(String, u32)>,
    /// Devices whose bundle could not be fetched or used this session.
    pub broken: HashSet<(String, u32)>,
    pub queue: Vec<Queued>,
    /// The end-to-end layer of sent messages, until the server acknowledges.
    pub sent: HashMap<String, EndToEnd>,
    pub trust: trust::TrustStore,
    /// A decryption waits for its message to be stored before it is committed.
    pub uncommitted: bool,
    /// A one-time prekey was consumed: republish the bundle after the commit.
    pub prekey_used: bool,
    /// Messages that could not be encrypted to a contact who used OMEMO,
    /// by the id of the prompt that asks whether to send them in plaintext.
    pub plaintext_asked: HashMap<String, (LocalId, Message)>,
}

impl std::fmt::Debug for Omemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Omemo")
            .field("id", &self.id)
            .field("lists", &self.lists)
            .finish_non_exhaustive()
    }
}

impl Omemo {
    /// Opens the device kept in `dir` (sealed, key in the keyring).
    pub fn open(
        dir: &Path,
        own: String,
        secrets: &dyn koine_api::SecretStore,
    ) -> Result<Self, OmemoError> {
        let mut device = Device::open(&dir.join("omemo.sqlite"), secrets)?;
        let mut local: Local = crate::store::load(dir, Local::FILE);
        if local.device_id == 0 {
            local.device_id = rand::random_range(1..=0x7FFF_FFFF);
            if let Err(e) = crate::store::save(dir, Local::FILE, &local) {
                tracing::warn!(error = %e, "could not save the OMEMO device id");
            }
        }
        let have = device.one_time_pre_key_count();
        if have < PREKEYS {
            device.generate_one_time_pre_keys(PREKEYS.saturating_sub(have) as u32)?;
        }
        let trust = crate::store::load(dir, trust::TrustStore::FILE);
        Ok(Self::with_device(device, local.device_id, own, trust))
    }

    /// The state around an open device.
    pub fn with_device(device: Device, id: u32, own: String, trust: trust::TrustStore) -> Self {
        Self {
            device,
            id,
            own,
            lists: HashMap::new(),
            senders: HashMap::new(),
            fetching_lists: HashSet::new(),
            fetching_bundles: HashSet::new(),
            broken: HashSet::new(),
            queue: Vec::new(),
            sent: HashMap::new(),
            trust,
            uncommitted: false,
            prekey_used: false,
            plaintext_asked: HashMap::new(),
        }
    }

    /// Our bundle as published now.
    pub fn bundle(&self) -> Result<tokio_xmpp::minidom::Element, OmemoError> {
        Ok(wire::bundle(
            &self.device.identity_key(),
            &self.device.signed_pre_key()?,
            &self.device.one_time_pre_keys()?,
        ))
    }

    /// Whether the signed prekey is a week old: the bundle is then published
    /// again with a new one (a session may last longer than a week).
    pub fn signed_pre_key_due(&self) -> bool {
        self.device.signed_pre_key_due(koine_api::Timestamp::now())
    }

    /// Tops the one-time prekeys up to [`PREKEYS`].
    pub fn replenish(&mut self) -> Result<(), OmemoError> {
        let have = self.device.one_time_pre_key_count();
        if have < PREKEYS {
            self.device
                .generate_one_time_pre_keys(PREKEYS.saturating_sub(have) as u32)?;
        }
        Ok(())
    }

    /// The devices to encrypt for: the peer's and our own other ones, each
    /// with a session, not broken, and not with a changed identity the user
    /// has not accepted yet.
    pub fn targets(&self, jid: &str) -> (Vec<PeerId>, Vec<PeerId>) {
        let usable = |owner: &str, d: u32| {
            let ours = owner == self.own && d == self.id;
            let broken = self.broken.contains(&(owner.to_owned(), d));
            !ours
                && !broken
                && !self.trust.is_changed(owner, d)
                && self.device.has_session(&PeerId::new(owner, d))
        };
        let pick = |owner: &str| -> Vec<PeerId> {
            self.lists
                .get(owner)
                .map(|l| {
                    l.iter()
                        .filter(|d| usable(owner, **d))
                        .map(|d| PeerId::new(owner, *d))
                        .collect()
                })
                .unwrap_or_default()
        };
        (pick(jid), pick(&self.own))
    }

    /// The devices of `owner` whose bundle is still needed.
    pub fn missing_bundles(&self, owner: &str) -> Vec<u32> {
        self.lists
            .get(owner)
            .map(|l| {
                l.iter()
                    .copied()
                    .filter(|d| !(owner == self.own && *d == self.id))
                    .filter(|d| !self.broken.contains(&(owner.to_owned(), *d)))
                    .filter(|d| !self.device.has_session(&PeerId::new(owner, *d)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Encrypts `body` for `peers`.
    pub async fn encrypt(
        &mut self,
        body: &str,
        peers: &[PeerId],
    ) -> Result<wire::Encrypted, OmemoError> {
        let sealed = payload::seal(body.as_bytes())?;
        let mut keys = Vec::with_capacity(peers.len());
        for p in peers {
            let ct = self.device.encrypt(p, &sealed.key_material).await?;
            keys.push(wire::Key {
                rid: p.device,
                prekey: ct.kind == CiphertextKind::PreKey,
                data: ct.bytes,
            });
        }
        Ok(wire::Encrypted {
            sid: self.id,
            keys,
            iv: sealed.iv,
            payload: Some(sealed.payload),
        })
    }

    /// Decrypts our key of `e` from `sender` without committing the session
    /// (see [`Device::decrypt_uncommitted`]). `Ok(None)`: no key for us.
    pub async fn decrypt(
        &mut self,
        sender: &str,
        e: &wire::Encrypted,
    ) -> Result<Option<(Opened, IdentityStatus)>, OmemoError> {
        let Some(key) = e.keys.iter().find(|k| k.rid == self.id) else {
            return Ok(None);
        };
        let ct = Ciphertext {
            kind: if key.prekey {
                CiphertextKind::PreKey
            } else {
                CiphertextKind::Whisper
            },
            bytes: key.data.clone(),
        };
        let d = self
            .device
            .decrypt_uncommitted(&PeerId::new(sender, e.sid), &ct)
            .await?;
        self.uncommitted = true;
        self.prekey_used |= key.prekey;
        let seen = self.senders.entry(sender.to_owned()).or_default();
        if !seen.contains(&e.sid) {
            seen.push(e.sid);
        }
        let opened = match &e.payload {
            None => Opened::KeyTransport,
            Some(p) => {
                let plain = payload::open(&d.plaintext, &e.iv, p)?;
                Opened::Body(String::from_utf8_lossy(&plain).into_owned())
            }
        };
        Ok(Some((opened, d.identity)))
    }

    /// The end-to-end layer of a conversation with `jid` on `route`, when
    /// the contact has OMEMO devices.
    pub fn e2e(&self, jid: &str, route: &koine_api::Route) -> Option<EndToEnd> {
        let mut devices = self.lists.get(jid).cloned().unwrap_or_default();
        for d in self.senders.get(jid).into_iter().flatten() {
            if !devices.contains(d) {
                devices.push(*d);
            }
        }
        if devices.is_empty() {
            return None;
        }
        let devices = devices.as_slice();
        Some(EndToEnd {
            scheme: E2eScheme::Omemo,
            ends: crate::route::Routes::e2e_end(route),
            verification: self.trust.verification(jid, devices),
            fingerprint: self.trust.fingerprints(jid, devices),
        })
    }

    /// When the oldest queued message stops waiting.
    pub fn deadline(&self) -> Option<std::time::Instant> {
        self.queue
            .iter()
            .filter_map(|q| q.since.checked_add(FETCH_TIMEOUT))
            .min()
    }

    /// Gives up on the queries the messages queued before `now -
    /// FETCH_TIMEOUT` wait for.
    pub fn expire(&mut self, now: std::time::Instant) {
        let late: Vec<String> = self
            .queue
            .iter()
            .filter(|q| q.since.checked_add(FETCH_TIMEOUT).is_none_or(|d| d <= now))
            .map(|q| q.to.to_string())
            .collect();
        for jid in late {
            for owner in [jid.as_str(), self.own.as_str()] {
                if self.fetching_lists.remove(owner) || !self.lists.contains_key(owner) {
                    self.lists.insert(owner.to_owned(), Vec::new());
                }
                let stuck: Vec<(String, u32)> = self
                    .fetching_bundles
                    .iter()
                    .filter(|(j, _)| j == owner)
                    .cloned()
                    .collect();
                for k in stuck {
                    self.fetching_bundles.remove(&k);
                    self.broken.insert(k);
                }
            }
        }
    }

    /// Puts the OMEMO layer of the conversation with `jid` on `route`.
    pub fn protect(&self, jid: &str, route: &mut koine_api::Route) {
        if let Some(e2e) = self.e2e(jid, route) {
            protect(route, e2e);
        }
    }

    /// Records the identity a device showed; true when it changed.
    pub fn identity_seen(&mut self, jid: &str, device: u32) -> bool {
        match self.device.peer_identity(&PeerId::new(jid, device)) {
            Some(k) => self.trust.seen(jid, device, payload::fingerprint(&k)),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests;
