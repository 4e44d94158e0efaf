//! A device: identity, prekeys and sessions, in memory with write-through to
//! the sealed store.

use crate::error::E2eeError;
use crate::store::{Change, SealedStore};
use crate::types::{
    Ciphertext, CiphertextKind, Decrypted, IdentityStatus, OneTimePreKey, PeerId, PreKeyBundle,
    SignedPreKey,
};
use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use koine_api::{Secret, SecretStore};
use std::collections::HashMap;
use std::path::Path;
use wacore_libsignal::protocol::{
    self as sig, CiphertextMessage, GenericSignedPreKey, IdentityChange, IdentityKey,
    IdentityKeyPair, KeyPair, PreKeyId, PreKeyRecord, PreKeySignalMessage, ProtocolAddress,
    SessionRecord, SignalMessage, SignalProtocolError, SignedPreKeyId, SignedPreKeyRecord,
    Timestamp, UsePQRatchet,
};
use zeroize::Zeroizing;

type SigResult<T> = Result<T, SignalProtocolError>;

/// The keyring entry that holds the sealed store's key.
pub const STORE_KEY_NAME: &str = "e2ee-store-key";

fn addr(peer: &PeerId) -> ProtocolAddress {
    ProtocolAddress::new(&peer.name, peer.device.into())
}

fn addr_key(a: &ProtocolAddress) -> String {
    format!("{}:{}", u32::from(a.device_id()), a.name())
}

fn parse_addr_key(k: &str) -> Option<ProtocolAddress> {
    let (d, name) = k.split_once(':')?;
    Some(ProtocolAddress::new(name, d.parse::<u32>().ok()?.into()))
}

fn rng() -> rand::rngs::StdRng {
    rand::make_rng::<rand::rngs::StdRng>()
}

#[derive(Default)]
struct Dirty(Vec<Change>);

struct Identities {
    pair: IdentityKeyPair,
    registration_id: u32,
    peers: HashMap<ProtocolAddress, IdentityKey>,
    dirty: Dirty,
}

#[async_trait]
impl sig::IdentityKeyStore for Identities {
    async fn get_identity_key_pair(&self) -> SigResult<IdentityKeyPair> {
        Ok(self.pair.clone())
    }
    async fn get_local_registration_id(&self) -> SigResult<u32> {
        Ok(self.registration_id)
    }
    async fn save_identity(
        &mut self,
        address: &ProtocolAddress,
        identity: &IdentityKey,
    ) -> SigResult<IdentityChange> {
        let changed = self.peers.get(address).is_some_and(|p| p != identity);
        if self.peers.get(address) != Some(identity) {
            self.peers.insert(address.clone(), *identity);
            self.dirty.0.push(Change::Put(
                "peer",
                addr_key(address),
                identity.serialize().to_vec(),
            ));
        }
        Ok(IdentityChange::from_changed(changed))
    }
    async fn is_trusted_identity(
        &self,
        _: &ProtocolAddress,
        _: &IdentityKey,
        _: sig::Direction,
    ) -> SigResult<bool> {
        // Trust on first use, and trust changes too: the change is reported
        // to the caller as IdentityStatus::Changed, which marks the chat
        // unverified and tells the user, rather than silently dropping
        // messages.
        Ok(true)
    }
    async fn get_identity(&self, address: &ProtocolAddress) -> SigResult<Option<IdentityKey>> {
        Ok(self.peers.get(address).copied())
    }
}

#[derive(Default)]
struct PreKeys {
    records: HashMap<u32, PreKeyRecord>,
    dirty: Dirty,
}

#[async_trait]
impl sig::PreKeyStore for PreKeys {
    async fn get_pre_key(&self, id: PreKeyId) -> SigResult<PreKeyRecord> {
        self.records
            .get(&u32::from(id))
            .cloned()
            .ok_or(SignalProtocolError::InvalidPreKeyId)
    }
    async fn save_pre_key(&mut self, id: PreKeyId, record: &PreKeyRecord) -> SigResult<()> {
        self.dirty.0.push(Change::Put(
            "prekey",
            u32::from(id).to_string(),
            record.serialize()?,
        ));
        self.records.insert(id.into(), record.clone());
        Ok(())
    }
    async fn remove_pre_key(&mut self, id: PreKeyId) -> SigResult<()> {
        self.records.remove(&u32::from(id));
        self.dirty
            .0
            .push(Change::Delete("prekey", u32::from(id).to_string()));
        Ok(())
    }
}

#[derive(Default)]
struct SignedPreKeys {
    records: HashMap<u32, SignedPreKeyRecord>,
}

#[async_trait]
impl sig::SignedPreKeyStore for SignedPreKeys {
    async fn get_signed_pre_key(&self, id: SignedPreKeyId) -> SigResult<SignedPreKeyRecord> {
        self.records
            .get(&u32::from(id))
            .cloned()
            .ok_or(SignalProtocolError::InvalidSignedPreKeyId)
    }
    async fn save_signed_pre_key(
        &mut self,
        id: SignedPreKeyId,
        record: &SignedPreKeyRecord,
    ) -> SigResult<()> {
        self.records.insert(id.into(), record.clone());
        Ok(())
    }
}

#[derive(Default)]
struct Sessions {
    records: HashMap<ProtocolAddress, SessionRecord>,
    dirty: Dirty,
}

#[async_trait]
impl sig::SessionStore for Sessions {
    async fn load_session(&self, address: &ProtocolAddress) -> SigResult<Option<SessionRecord>> {
        Ok(self.records.get(address).cloned())
    }
    async fn has_session(&self, address: &ProtocolAddress) -> SigResult<bool> {
        Ok(self.records.contains_key(address))
    }
    async fn store_session(
        &mut self,
        address: &ProtocolAddress,
        record: SessionRecord,
    ) -> SigResult<()> {
        self.dirty.0.push(Change::Put(
            "session",
            addr_key(address),
            record.serialize()?,
        ));
        self.records.insert(address.clone(), record);
        Ok(())
    }
}

/// One device's end-to-end state. See the crate docs.
pub struct Device {
    identities: Identities,
    prekeys: PreKeys,
    signed: SignedPreKeys,
    sessions: Sessions,
    signed_id: u32,
    next_prekey_id: u32,
    store: Option<SealedStore>,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("registration_id", &self.identities.registration_id)
            .field("sessions", &self.sessions.records.len())
            .finish_non_exhaustive()
    }
}

fn malformed(what: &'static str, e: impl std::fmt::Display) -> E2eeError {
    E2eeError::Malformed {
        what,
        detail: e.to_string(),
    }
}

/// How long a signed prekey stays current before it is rotated (a week).
pub const SIGNED_PRE_KEY_ROTATION_MS: i64 = 7 * 24 * 3600 * 1000;

/// How long a replaced signed prekey is kept, so that a peer who fetched a
/// bundle before the rotation (or whose first message waits on the server)
/// can still start a session: 30 days, long enough for a first message that
/// waited on a server while this device was away.
pub const SIGNED_PRE_KEY_GRACE_MS: i64 = 30 * 24 * 3600 * 1000;

/// When a signed prekey was made (zero when the record does not say).
fn stamp(r: &SignedPreKeyRecord) -> koine_api::Timestamp {
    let ms = r.timestamp().map(|t| t.epoch_millis()).unwrap_or(0);
    koine_api::Timestamp(i64::try_from(ms).unwrap_or(i64::MAX))
}

impl Device {
    /// A new device kept only in memory.
    pub fn ephemeral() -> Result<Self, E2eeError> {
        Self::generate(None)
    }

    fn generate(store: Option<SealedStore>) -> Result<Self, E2eeError> {
        let mut r = rng();
        let pair = IdentityKeyPair::generate(&mut r);
        let registration_id = (rand::random::<u32>() & 0x3FFF).max(1);
        let mut d = Self {
            identities: Identities {
                pair,
                registration_id,
                peers: HashMap::new(),
                dirty: Dirty::default(),
            },
            prekeys: PreKeys::default(),
            signed: SignedPreKeys::default(),
            sessions: Sessions::default(),
            signed_id: 0,
            next_prekey_id: 1,
            store,
        };
        d.rotate_signed_pre_key()?;
        d.identities.dirty.0.push(Change::Put(
            "meta",
            "identity".into(),
            d.identities.pair.serialize().to_vec(),
        ));
        d.identities.dirty.0.push(Change::Put(
            "meta",
            "registration".into(),
            registration_id.to_be_bytes().to_vec(),
        ));
        d.flush()?;
        Ok(d)
    }

    /// Discards the device kept at `path`, whatever the keyring holds, and
    /// creates a new identity there under a new keyring key. Peers see an
    /// identity change. Only for the user's explicit "start over" (see
    /// [`E2eeError::StoreKeyMissing`]); [`Device::open`] never does this.
    pub fn start_over(path: &Path, secrets: &dyn SecretStore) -> Result<Self, E2eeError> {
        let key = Zeroizing::new(rand::random::<[u8; 32]>());
        let store = SealedStore::open(path, &key)?;
        store.wipe()?;
        secrets.set(STORE_KEY_NAME, &Secret::new(B64.encode(key.as_slice())))?;
        Self::generate(Some(store))
    }

    /// Opens (or creates) the device kept in the sealed SQLite file at
    /// `path`, with the sealing key in `secrets` under `e2ee-store-key`.
    pub fn open(path: &Path, secrets: &dyn SecretStore) -> Result<Self, E2eeError> {
        let key = match secrets.get(STORE_KEY_NAME)? {
            Some(s) => {
                let raw = Zeroizing::new(
                    B64.decode(s.expose())
                        .map_err(|e| malformed("keyring store key", e))?,
                );
                let arr: [u8; 32] = raw
                    .as_slice()
                    .try_into()
                    .map_err(|_| malformed("keyring store key", "not 32 bytes"))?;
                Some(Zeroizing::new(arr))
            }
            None => None,
        };
        let key = match key {
            Some(k) => k,
            None => {
                // A key is made only for a store that holds nothing yet (the
                // first run). A store with rows sealed under a key the
                // keyring no longer has is refused and left as it is:
                // starting over is the caller's explicit choice.
                let k = Zeroizing::new(rand::random::<[u8; 32]>());
                let store = SealedStore::open(path, &k)?;
                if let Some(store_id) = store.id()? {
                    return Err(E2eeError::StoreKeyMissing {
                        path: path.to_path_buf(),
                        store_id,
                    });
                }
                secrets.set(STORE_KEY_NAME, &Secret::new(B64.encode(k.as_slice())))?;
                return Self::generate(Some(store));
            }
        };
        let store = SealedStore::open(path, &key)?;
        if store.is_empty()? {
            return Self::generate(Some(store));
        }
        Self::load(store)
    }

    fn load(store: SealedStore) -> Result<Self, E2eeError> {
        let rows = store.load_all()?;
        let mut pair = None;
        let mut registration_id = 0;
        let mut signed_id = 0;
        let mut next_prekey_id = 1;
        let mut peers = HashMap::new();
        let mut prekeys = HashMap::new();
        let mut signed = HashMap::new();
        let mut sessions = HashMap::new();
        let be = |v: &[u8]| -> Result<u32, E2eeError> {
            Ok(u32::from_be_bytes(
                v.try_into()
                    .map_err(|_| malformed("store counter", "not 4 bytes"))?,
            ))
        };
        for (kind, key, value) in rows {
            match (kind.as_str(), key.as_str()) {
                ("meta", "identity") => {
                    pair = Some(
                        IdentityKeyPair::try_from(value.as_slice())
                            .map_err(|e| malformed("stored identity", e))?,
                    )
                }
                ("meta", "registration") => registration_id = be(&value)?,
                ("meta", "signed-id") => signed_id = be(&value)?,
                ("meta", "next-prekey-id") => next_prekey_id = be(&value)?,
                ("peer", k) => {
                    if let Some(a) = parse_addr_key(k) {
                        peers.insert(
                            a,
                            IdentityKey::decode(&value).map_err(|e| malformed("stored peer", e))?,
                        );
                    }
                }
                ("prekey", k) => {
                    let id: u32 = k.parse().map_err(|e| malformed("stored prekey id", e))?;
                    prekeys.insert(
                        id,
                        PreKeyRecord::deserialize(&value)
                            .map_err(|e| malformed("stored prekey", e))?,
                    );
                }
                ("signed", k) => {
                    let id: u32 = k.parse().map_err(|e| malformed("stored signed id", e))?;
                    signed.insert(
                        id,
                        SignedPreKeyRecord::deserialize(&value)
                            .map_err(|e| malformed("stored signed prekey", e))?,
                    );
                }
                ("session", k) => {
                    if let Some(a) = parse_addr_key(k) {
                        sessions.insert(
                            a,
                            SessionRecord::deserialize(&value)
                                .map_err(|e| malformed("stored session", e))?,
                        );
                    }
                }
                _ => {}
            }
        }
        let pair = pair.ok_or_else(|| malformed("store", "no identity"))?;
        Ok(Self {
            identities: Identities {
                pair,
                registration_id,
                peers,
                dirty: Dirty::default(),
            },
            prekeys: PreKeys {
                records: prekeys,
                dirty: Dirty::default(),
            },
            signed: SignedPreKeys { records: signed },
            sessions: Sessions {
                records: sessions,
                dirty: Dirty::default(),
            },
            signed_id,
            next_prekey_id,
            store: Some(store),
        })
    }

    fn flush(&mut self) -> Result<(), E2eeError> {
        let mut changes = std::mem::take(&mut self.identities.dirty.0);
        changes.append(&mut self.prekeys.dirty.0);
        changes.append(&mut self.sessions.dirty.0);
        match &mut self.store {
            Some(s) => s.apply(changes),
            None => Ok(()),
        }
    }

    /// The identity public key (33 bytes).
    pub fn identity_key(&self) -> Vec<u8> {
        self.identities.pair.identity_key().serialize().to_vec()
    }

    /// The registration id.
    pub fn registration_id(&self) -> u32 {
        self.identities.registration_id
    }

    /// Makes a new signed prekey and keeps it (old ones stay, so sessions
    /// started from them still open, until [`Device::refresh_signed_pre_key`]
    /// drops those replaced more than [`SIGNED_PRE_KEY_GRACE_MS`] ago).
    pub fn rotate_signed_pre_key(&mut self) -> Result<SignedPreKey, E2eeError> {
        self.rotate_signed_pre_key_at(koine_api::Timestamp::now())
    }

    /// Rotates the signed prekey when the current one is older than
    /// [`SIGNED_PRE_KEY_ROTATION_MS`] at `now`, and drops the previous ones
    /// that were replaced more than [`SIGNED_PRE_KEY_GRACE_MS`] ago (a peer
    /// that fetched a bundle before the rotation can still start a session
    /// during the grace period). Returns the new key to publish, if any.
    pub fn refresh_signed_pre_key(
        &mut self,
        now: koine_api::Timestamp,
    ) -> Result<Option<SignedPreKey>, E2eeError> {
        let rotated = if self.signed_pre_key_due(now) {
            Some(self.rotate_signed_pre_key_at(now)?)
        } else {
            None
        };
        self.prune_signed_pre_keys(now)?;
        Ok(rotated)
    }

    /// Whether the current signed prekey is [`SIGNED_PRE_KEY_ROTATION_MS`]
    /// old at `now` (a session that outlives it publishes a new one).
    pub fn signed_pre_key_due(&self, now: koine_api::Timestamp) -> bool {
        self.signed_pre_key_created()
            .is_ok_and(|t| now.0.saturating_sub(t.0) >= SIGNED_PRE_KEY_ROTATION_MS)
    }

    /// When the current signed prekey was made.
    pub fn signed_pre_key_created(&self) -> Result<koine_api::Timestamp, E2eeError> {
        let r = self
            .signed
            .records
            .get(&self.signed_id)
            .ok_or_else(|| E2eeError::Store("no signed prekey".into()))?;
        Ok(stamp(r))
    }

    /// The ids of the signed prekeys kept (the current one and those still
    /// in their grace period), oldest first.
    pub fn kept_signed_pre_key_ids(&self) -> Vec<u32> {
        let mut ids: Vec<u32> = self.signed.records.keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// Drops every signed prekey whose successor was made more than the
    /// grace period before `now`. The current key is never dropped.
    fn prune_signed_pre_keys(&mut self, now: koine_api::Timestamp) -> Result<(), E2eeError> {
        let drop: Vec<u32> = self
            .signed
            .records
            .keys()
            .copied()
            .filter(|&id| id != self.signed_id)
            .filter(|&id| {
                // The successor is the next id kept (ids only grow).
                let successor = self
                    .signed
                    .records
                    .iter()
                    .filter(|(k, _)| **k > id)
                    .min_by_key(|(k, _)| **k)
                    .map(|(_, r)| stamp(r));
                successor.is_some_and(|t| now.0.saturating_sub(t.0) > SIGNED_PRE_KEY_GRACE_MS)
            })
            .collect();
        if drop.is_empty() {
            return Ok(());
        }
        for id in drop {
            self.signed.records.remove(&id);
            self.identities
                .dirty
                .0
                .push(Change::Delete("signed", id.to_string()));
        }
        self.flush()
    }

    /// [`Device::rotate_signed_pre_key`] as if made at `at` (tests age keys
    /// with it).
    #[doc(hidden)]
    pub fn rotate_signed_pre_key_at(
        &mut self,
        at: koine_api::Timestamp,
    ) -> Result<SignedPreKey, E2eeError> {
        let mut r = rng();
        let id = self
            .signed_id
            .checked_add(1)
            .ok_or_else(|| E2eeError::Store("signed prekey ids exhausted".into()))?;
        let kp = KeyPair::generate(&mut r);
        let sig = self
            .identities
            .pair
            .private_key()
            .calculate_signature(&kp.public_key.serialize(), &mut r)
            .map_err(|e| E2eeError::Store(e.to_string()))?;
        let record = SignedPreKeyRecord::new(
            id.into(),
            Timestamp::from_epoch_millis(u64::try_from(at.0).unwrap_or(0)),
            &kp,
            &sig,
        );
        let bytes = record.serialize()?;
        self.signed.records.insert(id, record);
        self.signed_id = id;
        self.identities
            .dirty
            .0
            .push(Change::Put("signed", id.to_string(), bytes));
        self.identities.dirty.0.push(Change::Put(
            "meta",
            "signed-id".into(),
            id.to_be_bytes().to_vec(),
        ));
        self.flush()?;
        self.signed_pre_key()
    }

    /// The current signed prekey, public part.
    pub fn signed_pre_key(&self) -> Result<SignedPreKey, E2eeError> {
        let r = self
            .signed
            .records
            .get(&self.signed_id)
            .ok_or_else(|| E2eeError::Store("no signed prekey".into()))?;
        Ok(SignedPreKey {
            id: self.signed_id,
            public_key: r.public_key()?.serialize().to_vec(),
            signature: r.signature()?.to_vec(),
        })
    }

    /// Makes `n` one-time prekeys, keeps their private parts and returns the
    /// public parts to publish.
    pub fn generate_one_time_pre_keys(&mut self, n: u32) -> Result<Vec<OneTimePreKey>, E2eeError> {
        let mut r = rng();
        let mut out = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let id = self.next_prekey_id;
            self.next_prekey_id = self.next_prekey_id.wrapping_add(1).max(1);
            let kp = KeyPair::generate(&mut r);
            let record = PreKeyRecord::new(id.into(), &kp);
            self.prekeys
                .dirty
                .0
                .push(Change::Put("prekey", id.to_string(), record.serialize()?));
            self.prekeys.records.insert(id, record);
            out.push(OneTimePreKey {
                id,
                public_key: kp.public_key.serialize().to_vec(),
            });
        }
        self.identities.dirty.0.push(Change::Put(
            "meta",
            "next-prekey-id".into(),
            self.next_prekey_id.to_be_bytes().to_vec(),
        ));
        self.flush()?;
        Ok(out)
    }

    /// How many one-time prekeys this device still holds.
    pub fn one_time_pre_key_count(&self) -> usize {
        self.prekeys.records.len()
    }

    /// The public parts of the one-time prekeys this device still holds, by
    /// id (what a network that publishes the whole set, such as OMEMO's
    /// bundle, republishes after some were consumed).
    pub fn one_time_pre_keys(&self) -> Result<Vec<OneTimePreKey>, E2eeError> {
        let mut out = Vec::with_capacity(self.prekeys.records.len());
        for (id, r) in &self.prekeys.records {
            out.push(OneTimePreKey {
                id: *id,
                public_key: r.public_key()?.serialize().to_vec(),
            });
        }
        out.sort_by_key(|k| k.id);
        Ok(out)
    }

    /// A complete bundle of this device with one fresh one-time prekey (for
    /// direct exchange and tests; servers assemble bundles from uploads).
    pub fn bundle(&mut self) -> Result<PreKeyBundle, E2eeError> {
        let otk = self.generate_one_time_pre_keys(1)?.pop();
        Ok(PreKeyBundle {
            identity_key: self.identity_key(),
            registration_id: self.registration_id(),
            device_id: 1,
            signed_pre_key: self.signed_pre_key()?,
            one_time_pre_key: otk,
        })
    }

    fn status(&self, a: &ProtocolAddress, before: Option<IdentityKey>) -> IdentityStatus {
        match (before, self.identities.peers.get(a)) {
            (None, _) => IdentityStatus::New,
            (Some(b), Some(now)) if b == *now => IdentityStatus::Unchanged,
            (Some(_), Some(_)) => IdentityStatus::Changed,
            (Some(_), None) => IdentityStatus::Unchanged,
        }
    }

    /// The identity key last seen for a peer.
    pub fn peer_identity(&self, peer: &PeerId) -> Option<Vec<u8>> {
        self.identities
            .peers
            .get(&addr(peer))
            .map(|k| k.serialize().to_vec())
    }

    /// Whether a session with the peer exists.
    pub fn has_session(&self, peer: &PeerId) -> bool {
        self.sessions.records.contains_key(&addr(peer))
    }

    /// Starts (or replaces) the session with a peer device from its bundle.
    /// Checks the signed prekey's signature; reports what the bundle says
    /// about the peer's identity.
    pub async fn start_session(
        &mut self,
        peer: &PeerId,
        bundle: &PreKeyBundle,
    ) -> Result<IdentityStatus, E2eeError> {
        let a = addr(peer);
        let before = self.identities.peers.get(&a).copied();
        let pk = |b: &[u8], what| sig::PublicKey::deserialize(b).map_err(|e| malformed(what, e));
        let identity = IdentityKey::decode(&bundle.identity_key)
            .map_err(|e| malformed("bundle identity key", e))?;
        let one_time = match &bundle.one_time_pre_key {
            Some(k) => Some((PreKeyId::from(k.id), pk(&k.public_key, "one-time prekey")?)),
            None => None,
        };
        let b = sig::PreKeyBundle::new(
            bundle.registration_id,
            bundle.device_id.into(),
            one_time,
            bundle.signed_pre_key.id.into(),
            pk(&bundle.signed_pre_key.public_key, "signed prekey")?,
            bundle.signed_pre_key.signature.clone(),
            identity,
        )?;
        let result = sig::process_prekey_bundle(
            &a,
            &mut self.sessions,
            &mut self.identities,
            &b,
            &mut rng(),
            UsePQRatchet::No,
        )
        .await;
        let flushed = self.flush();
        result?;
        flushed?;
        Ok(self.status(&a, before))
    }

    /// Encrypts for a peer device with an existing session.
    pub async fn encrypt(
        &mut self,
        peer: &PeerId,
        plaintext: &[u8],
    ) -> Result<Ciphertext, E2eeError> {
        let a = addr(peer);
        let result =
            sig::message_encrypt(plaintext, &a, &mut self.sessions, &mut self.identities).await;
        let flushed = self.flush();
        let m = result?;
        flushed?;
        let kind = match m {
            CiphertextMessage::PreKeySignalMessage(_) => CiphertextKind::PreKey,
            _ => CiphertextKind::Whisper,
        };
        Ok(Ciphertext {
            kind,
            bytes: m.serialize().to_vec(),
        })
    }

    /// Decrypts a message from a peer device, starting the session when it
    /// is a prekey message, and stores the advanced session at once.
    pub async fn decrypt(
        &mut self,
        peer: &PeerId,
        ct: &Ciphertext,
    ) -> Result<Decrypted, E2eeError> {
        let d = self.decrypt_uncommitted(peer, ct).await?;
        self.commit()?;
        Ok(d)
    }

    /// Stores every change made since the last store: advanced sessions,
    /// consumed prekeys, newly seen identities.
    pub fn commit(&mut self) -> Result<(), E2eeError> {
        self.flush()
    }

    /// Decrypts like [`Device::decrypt`] but keeps the advanced session in
    /// memory until [`Device::commit`] (or the next call that stores).
    ///
    /// This is for a caller that must hand the plaintext on before the
    /// message counts as consumed: if the process dies before the commit,
    /// the stored session can still decrypt the network's redelivery. Once
    /// committed, a redelivery fails with [`E2eeError::Duplicate`].
    pub async fn decrypt_uncommitted(
        &mut self,
        peer: &PeerId,
        ct: &Ciphertext,
    ) -> Result<Decrypted, E2eeError> {
        let a = addr(peer);
        let before = self.identities.peers.get(&a).copied();
        let msg = match ct.kind {
            CiphertextKind::PreKey => CiphertextMessage::PreKeySignalMessage(
                PreKeySignalMessage::try_from(ct.bytes.as_slice())?,
            ),
            CiphertextKind::Whisper => {
                CiphertextMessage::SignalMessage(SignalMessage::try_from(ct.bytes.as_slice())?)
            }
        };
        let result = sig::message_decrypt(
            &msg,
            &a,
            &mut self.sessions,
            &mut self.identities,
            &mut self.prekeys,
            &self.signed,
            &mut rng(),
            UsePQRatchet::No,
        )
        .await;
        if let Ok(r) = &result
            && let Some(id) = r.consumed_prekey_id
        {
            // Removed together with the session that consumed it.
            let id = u32::from(id);
            self.prekeys.records.remove(&id);
            self.prekeys
                .dirty
                .0
                .push(Change::Delete("prekey", id.to_string()));
        }
        let r = result?;
        Ok(Decrypted {
            plaintext: r.plaintext,
            identity: self.status(&a, before),
        })
    }
}

/// Checks that `signature` is the identity key's signature of a signed
/// prekey's public key (what a prekey server checks on upload).
pub fn verify_signed_pre_key(identity_key: &[u8], public_key: &[u8], signature: &[u8]) -> bool {
    match IdentityKey::decode(identity_key) {
        Ok(k) => k.public_key().verify_signature(public_key, signature),
        Err(_) => false,
    }
}
