//! Two devices establish sessions from bundles and talk; persistence through
//! the sealed store; identity changes are detected.

use koine_api::{Secret, SecretError, SecretStore};
use koine_e2ee::{
    CiphertextKind, Device, E2eeError, IdentityStatus, PeerId, PreKeyBundle, STORE_KEY_NAME,
    safety_number,
};
use std::collections::HashMap;
use std::sync::Mutex;

/// A SecretStore in memory: the crate's own tests check the sealing logic;
/// the plugins' tests run it against the real keyring.
#[derive(Default)]
struct MemorySecrets(Mutex<HashMap<String, String>>);

impl SecretStore for MemorySecrets {
    fn get(&self, name: &str) -> Result<Option<Secret>, SecretError> {
        let m = self.0.lock().map_err(|_| SecretError::Locked)?;
        Ok(m.get(name).map(|v| Secret::new(v.clone())))
    }
    fn set(&self, name: &str, value: &Secret) -> Result<(), SecretError> {
        let mut m = self.0.lock().map_err(|_| SecretError::Locked)?;
        m.insert(name.into(), value.expose().into());
        Ok(())
    }
    fn delete(&self, name: &str) -> Result<(), SecretError> {
        let mut m = self.0.lock().map_err(|_| SecretError::Locked)?;
        m.remove(name);
        Ok(())
    }
}

fn ids() -> (PeerId, PeerId) {
    (
        PeerId::new("koine:alice", 1),
        PeerId::new("+4915112345678", 1),
    )
}

#[tokio::test]
async fn both_ways_and_out_of_order() {
    let (a_id, b_id) = ids();
    let mut alice = Device::ephemeral().expect("alice");
    let mut bob = Device::ephemeral().expect("bob");
    let bundle = bob.bundle().expect("bundle");
    assert_eq!(
        alice.start_session(&b_id, &bundle).await.expect("session"),
        IdentityStatus::New
    );

    let first = alice.encrypt(&b_id, b"one").await.expect("enc");
    assert_eq!(first.kind, CiphertextKind::PreKey);
    let d = bob.decrypt(&a_id, &first).await.expect("dec");
    assert_eq!(d.plaintext, b"one");
    assert_eq!(d.identity, IdentityStatus::New);
    assert_eq!(
        bob.one_time_pre_key_count(),
        0,
        "the one-time prekey is consumed"
    );

    // Bob answers; Alice's next messages are plain Signal messages.
    let reply = bob.encrypt(&a_id, b"two").await.expect("enc");
    assert_eq!(
        alice.decrypt(&b_id, &reply).await.expect("dec").plaintext,
        b"two"
    );
    let m3 = alice.encrypt(&b_id, b"three").await.expect("enc");
    let m4 = alice.encrypt(&b_id, b"four").await.expect("enc");
    let m5 = alice.encrypt(&b_id, b"five").await.expect("enc");
    assert_eq!(m5.kind, CiphertextKind::Whisper);
    // Out of order: 5, 3, 4.
    assert_eq!(
        bob.decrypt(&a_id, &m5).await.expect("dec").plaintext,
        b"five"
    );
    assert_eq!(
        bob.decrypt(&a_id, &m3).await.expect("dec").plaintext,
        b"three"
    );
    assert_eq!(
        bob.decrypt(&a_id, &m4).await.expect("dec").plaintext,
        b"four"
    );
    // A replay is refused.
    assert!(matches!(
        bob.decrypt(&a_id, &m4).await,
        Err(E2eeError::Duplicate)
    ));
}

#[tokio::test]
async fn garbage_and_tampering_are_typed_errors() {
    let (a_id, b_id) = ids();
    let mut alice = Device::ephemeral().expect("alice");
    let mut bob = Device::ephemeral().expect("bob");
    let bundle = bob.bundle().expect("bundle");
    alice.start_session(&b_id, &bundle).await.expect("session");
    let mut ct = alice.encrypt(&b_id, b"secret").await.expect("enc");
    let n = ct.bytes.len();
    ct.bytes[n - 12] ^= 0x40;
    assert!(bob.decrypt(&a_id, &ct).await.is_err());
    for junk in [vec![], vec![0x33], vec![0xff; 50]] {
        let ct = koine_e2ee::Ciphertext {
            kind: CiphertextKind::PreKey,
            bytes: junk,
        };
        assert!(bob.decrypt(&a_id, &ct).await.is_err());
    }
    // A bundle whose signature does not match its identity.
    let mut forged = bob.bundle().expect("bundle");
    forged.signed_pre_key.signature[0] ^= 1;
    assert!(matches!(
        alice.start_session(&b_id, &forged).await,
        Err(E2eeError::BadSignature)
    ));
    let broken = PreKeyBundle {
        identity_key: vec![1, 2, 3],
        ..forged
    };
    assert!(matches!(
        alice.start_session(&b_id, &broken).await,
        Err(E2eeError::Malformed { .. })
    ));
}

#[tokio::test]
async fn identity_change_is_detected() {
    let (a_id, b_id) = ids();
    let mut alice = Device::ephemeral().expect("alice");
    let mut bob = Device::ephemeral().expect("bob");
    let bundle = bob.bundle().expect("bundle");
    alice.start_session(&b_id, &bundle).await.expect("session");
    let ct = alice.encrypt(&b_id, b"hi").await.expect("enc");
    bob.decrypt(&a_id, &ct).await.expect("dec");

    // Bob reinstalls: a new identity. Alice sees the change from the bundle.
    let mut bob2 = Device::ephemeral().expect("bob2");
    let bundle2 = bob2.bundle().expect("bundle");
    assert_eq!(
        alice.start_session(&b_id, &bundle2).await.expect("session"),
        IdentityStatus::Changed
    );
    let ct = alice.encrypt(&b_id, b"again").await.expect("enc");
    assert_eq!(
        bob2.decrypt(&a_id, &ct).await.expect("dec").plaintext,
        b"again"
    );

    // Alice reinstalls: Bob sees the change on her prekey message.
    let mut alice2 = Device::ephemeral().expect("alice2");
    let bundle3 = bob2.bundle().expect("bundle");
    alice2
        .start_session(&b_id, &bundle3)
        .await
        .expect("session");
    let ct = alice2.encrypt(&b_id, b"new phone").await.expect("enc");
    let d = bob2.decrypt(&a_id, &ct).await.expect("dec");
    assert_eq!(d.plaintext, b"new phone");
    assert_eq!(d.identity, IdentityStatus::Changed);

    // Safety numbers agree on both sides and change with the key.
    let n_alice = safety_number(
        &a_id.name,
        &alice2.identity_key(),
        &b_id.name,
        &alice2.peer_identity(&b_id).expect("known"),
    );
    let n_bob = safety_number(
        &b_id.name,
        &bob2.identity_key(),
        &a_id.name,
        &bob2.peer_identity(&a_id).expect("known"),
    );
    assert_eq!(n_alice, n_bob);
    let old = safety_number(
        &a_id.name,
        &alice.identity_key(),
        &b_id.name,
        &bob.identity_key(),
    );
    assert_ne!(old, n_alice);
}

#[tokio::test]
async fn the_sealed_store_survives_a_restart_and_reveals_no_key() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("e2ee.sqlite");
    let secrets = MemorySecrets::default();
    let (a_id, b_id) = ids();
    let mut bob = Device::ephemeral().expect("bob");
    let identity;
    {
        let mut alice = Device::open(&path, &secrets).expect("open");
        identity = alice.identity_key();
        let bundle = bob.bundle().expect("bundle");
        alice.start_session(&b_id, &bundle).await.expect("session");
        let ct = alice.encrypt(&b_id, b"before restart").await.expect("enc");
        bob.decrypt(&a_id, &ct).await.expect("dec");
        alice.generate_one_time_pre_keys(5).expect("prekeys");
    }
    // The file holds no private key in the clear: the identity's private
    // part must not appear in it.
    let raw = std::fs::read(&path).expect("read");
    assert!(
        !raw.windows(identity.len())
            .any(|w| w == identity.as_slice()),
        "even the public identity is sealed"
    );
    let mut alice = Device::open(&path, &secrets).expect("reopen");
    assert_eq!(alice.identity_key(), identity);
    assert_eq!(alice.one_time_pre_key_count(), 5);
    let reply = bob.encrypt(&a_id, b"after restart").await.expect("enc");
    assert_eq!(
        alice.decrypt(&b_id, &reply).await.expect("dec").plaintext,
        b"after restart"
    );
    let ct = alice.encrypt(&b_id, b"still going").await.expect("enc");
    assert_eq!(
        bob.decrypt(&a_id, &ct).await.expect("dec").plaintext,
        b"still going"
    );

    // Without the keyring's key the file cannot be read, and it is not
    // replaced by a new identity behind the user's back.
    secrets.delete("e2ee-store-key").expect("delete");
    assert!(matches!(
        Device::open(&path, &secrets),
        Err(E2eeError::StoreKeyMissing { .. })
    ));
}

/// Every row of the sealed file, as stored.
fn raw_rows(path: &std::path::Path) -> Vec<(String, String, Vec<u8>)> {
    let c = rusqlite::Connection::open(path).expect("open raw");
    let mut stmt = c
        .prepare("SELECT kind, key, value FROM sealed ORDER BY kind, key")
        .expect("prepare");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[tokio::test]
async fn a_store_whose_key_the_keyring_lost_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("e2ee.sqlite");
    let secrets = MemorySecrets::default();
    let (_, b_id) = ids();
    let mut bob = Device::ephemeral().expect("bob");
    let identity = {
        let mut alice = Device::open(&path, &secrets).expect("first run creates");
        let bundle = bob.bundle().expect("bundle");
        alice.start_session(&b_id, &bundle).await.expect("session");
        alice.generate_one_time_pre_keys(3).expect("prekeys");
        alice.identity_key()
    };
    let key = secrets
        .get(STORE_KEY_NAME)
        .expect("get")
        .expect("the first run wrote a key");
    let before = raw_rows(&path);
    assert!(!before.is_empty());

    // Another keyring, a restored profile: the key is gone.
    secrets.delete(STORE_KEY_NAME).expect("delete");
    let store_id = match Device::open(&path, &secrets) {
        Err(E2eeError::StoreKeyMissing { store_id, .. }) => store_id,
        other => panic!("expected StoreKeyMissing, got {other:?}"),
    };
    assert!(!store_id.is_empty());
    assert!(
        secrets.get(STORE_KEY_NAME).expect("get").is_none(),
        "no new key replaces the lost one"
    );
    assert_eq!(raw_rows(&path), before, "identity, sessions, prekeys kept");
    // Asking again gives the same answer (and the same store id).
    match Device::open(&path, &secrets) {
        Err(E2eeError::StoreKeyMissing {
            store_id: again, ..
        }) => assert_eq!(again, store_id),
        other => panic!("expected StoreKeyMissing, got {other:?}"),
    }

    // The key comes back: everything is there.
    secrets.set(STORE_KEY_NAME, &key).expect("restore");
    let alice = Device::open(&path, &secrets).expect("reopen");
    assert_eq!(alice.identity_key(), identity);
    assert_eq!(alice.one_time_pre_key_count(), 3);
    assert!(alice.has_session(&b_id));
    drop(alice);

    // Starting over is the caller's explicit choice.
    secrets.delete(STORE_KEY_NAME).expect("delete");
    let fresh = Device::start_over(&path, &secrets).expect("start over");
    let new_identity = fresh.identity_key();
    assert_ne!(new_identity, identity);
    assert!(!fresh.has_session(&b_id));
    assert_eq!(fresh.one_time_pre_key_count(), 0);
    drop(fresh);
    let again = Device::open(&path, &secrets).expect("the new identity is kept");
    assert_eq!(again.identity_key(), new_identity);
}

#[tokio::test]
async fn an_uncommitted_decrypt_can_be_repeated_after_a_crash_a_committed_one_cannot() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("e2ee.sqlite");
    let secrets = MemorySecrets::default();
    let (a_id, b_id) = ids();
    let mut alice = Device::ephemeral().expect("alice");
    let bundle = {
        let mut bob = Device::open(&path, &secrets).expect("open");
        bob.bundle().expect("bundle")
    };
    alice.start_session(&b_id, &bundle).await.expect("session");
    let first = alice.encrypt(&b_id, b"first").await.expect("enc");
    {
        // Decrypted, then the process dies before the commit.
        let mut bob = Device::open(&path, &secrets).expect("open");
        let d = bob.decrypt_uncommitted(&a_id, &first).await.expect("dec");
        assert_eq!(d.plaintext, b"first");
    }
    // The redelivery still opens, and this time it is committed.
    {
        let mut bob = Device::open(&path, &secrets).expect("reopen");
        let d = bob.decrypt_uncommitted(&a_id, &first).await.expect("again");
        assert_eq!(d.plaintext, b"first");
        bob.commit().expect("commit");
    }
    let mut bob = Device::open(&path, &secrets).expect("reopen");
    assert!(matches!(
        bob.decrypt_uncommitted(&a_id, &first).await,
        Err(E2eeError::Duplicate)
    ));
}
