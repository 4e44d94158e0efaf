//! The signed prekey rotates weekly; a replaced one keeps working for the
//! grace period (a peer may have fetched the old bundle) and is then gone,
//! also from the sealed store.

use koine_api::{Secret, SecretError, SecretStore, Timestamp};
use koine_e2ee::{
    Device, PeerId, SIGNED_PRE_KEY_GRACE_MS, SIGNED_PRE_KEY_ROTATION_MS, STORE_KEY_NAME,
};
use std::collections::HashMap;
use std::sync::Mutex;

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

const DAY: i64 = 24 * 3600 * 1000;

#[tokio::test]
async fn the_signed_prekey_rotates_weekly_and_the_old_one_lasts_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e2ee.sqlite");
    let secrets = MemorySecrets::default();
    let now = Timestamp::now();

    let mut bob = Device::open(&path, &secrets).unwrap();
    // Bob's signed prekey was made eight days ago.
    let old = bob
        .rotate_signed_pre_key_at(Timestamp(now.0 - 8 * DAY))
        .unwrap();
    // A peer fetched the bundle holding it before the rotation.
    let stale_bundle = bob.bundle().unwrap();
    assert_eq!(stale_bundle.signed_pre_key.id, old.id);
    // A second one, fetched as late, used only after the grace period.
    let late_bundle = bob.bundle().unwrap();

    // A key younger than a week stays.
    assert!(
        bob.refresh_signed_pre_key(Timestamp(now.0 - 2 * DAY))
            .unwrap()
            .is_none()
    );
    // At a week it rotates, and the new key is what Bob publishes now.
    let new = bob
        .refresh_signed_pre_key(now)
        .unwrap()
        .expect("a week-old signed prekey is rotated");
    assert!(new.id > old.id);
    assert_eq!(bob.signed_pre_key().unwrap().id, new.id);
    assert!(bob.bundle().unwrap().signed_pre_key.id == new.id);
    assert!(now.0 - bob.signed_pre_key_created().unwrap().0 < DAY);

    // Inside the grace period, a session from the stale bundle still opens.
    let (a, b) = (PeerId::new("alice", 1), PeerId::new("bob", 1));
    let mut alice = Device::ephemeral().unwrap();
    alice.start_session(&b, &stale_bundle).await.unwrap();
    let ct = alice.encrypt(&b, b"from the old bundle").await.unwrap();
    assert_eq!(
        bob.decrypt(&a, &ct).await.unwrap().plaintext,
        b"from the old bundle"
    );
    assert!(bob.kept_signed_pre_key_ids().contains(&old.id));

    // Past the grace period (counted from the replacement), the old key is
    // gone, after a restart too; the current one stays.
    let later = Timestamp(now.0 + SIGNED_PRE_KEY_GRACE_MS + DAY);
    const { assert!(SIGNED_PRE_KEY_GRACE_MS > SIGNED_PRE_KEY_ROTATION_MS) };
    let rotated_again = bob.refresh_signed_pre_key(later).unwrap();
    assert!(rotated_again.is_some(), "a month later it rotates again");
    let kept = bob.kept_signed_pre_key_ids();
    assert!(!kept.contains(&old.id), "kept {kept:?}");
    assert!(
        kept.contains(&new.id),
        "the last replaced key is in its grace"
    );
    drop(bob);
    assert!(secrets.get(STORE_KEY_NAME).unwrap().is_some());
    let mut bob = Device::open(&path, &secrets).unwrap();
    assert_eq!(bob.kept_signed_pre_key_ids(), kept);

    // A session from the dropped key can no longer start.
    let mut carol = Device::ephemeral().unwrap();
    carol.start_session(&b, &late_bundle).await.unwrap();
    let ct = carol.encrypt(&b, b"too late").await.unwrap();
    assert!(
        bob.decrypt(&PeerId::new("carol", 1), &ct).await.is_err(),
        "a prekey message to a dropped signed prekey is refused"
    );
}
