use super::*;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
struct Memory(Mutex<HashMap<String, String>>);

impl SecretStore for Memory {
    fn get(&self, name: &str) -> Result<Option<Secret>, SecretError> {
        Ok(self
            .0
            .lock()
            .expect("lock")
            .get(name)
            .map(|v| Secret::new(v.clone())))
    }
    fn set(&self, name: &str, value: &Secret) -> Result<(), SecretError> {
        self.0
            .lock()
            .expect("lock")
            .insert(name.to_owned(), value.expose().to_owned());
        Ok(())
    }
    fn delete(&self, name: &str) -> Result<(), SecretError> {
        self.0.lock().expect("lock").remove(name);
        Ok(())
    }
}

const CANARY: &[u8] = b"meet me at the old mill at nine";

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_sealed_file_reads_back_and_holds_no_plaintext() {
    let dir = tempfile::tempdir().expect("tmp");
    let secrets = Memory::default();
    let vault = Vault::open(&secrets).expect("open");
    let path = vault.put(dir.path(), CANARY).expect("put");
    assert!(path.to_string_lossy().ends_with(SEALED_SUFFIX));
    let raw = std::fs::read(&path).expect("raw");
    assert!(!contains(&raw, CANARY), "the file holds the plaintext");
    assert!(is_sealed(&path));
    // The key was kept: a vault opened again reads it.
    let again = Vault::open(&secrets).expect("reopen");
    assert_eq!(
        again
            .read(&path)
            .expect("read")
            .as_deref()
            .map(Vec::as_slice),
        Some(CANARY)
    );
    assert!(
        Vault::existing(&secrets).expect("existing").is_some(),
        "the key exists"
    );
    assert!(Vault::existing(&Memory::default()).expect("none").is_none());
}

#[cfg(unix)]
#[test]
fn files_are_private_to_the_user() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tmp");
    let vault = Vault::with_key(&[7; 32]);
    let nested = dir.path().join("media").join("from");
    let path = vault.put(&nested, CANARY).expect("put");
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&nested), 0o700);
    assert_eq!(mode(&dir.path().join("media")), 0o700);
}

#[test]
fn a_swapped_or_tampered_file_does_not_open() {
    let dir = tempfile::tempdir().expect("tmp");
    let vault = Vault::with_key(&[1; 32]);
    let a = dir.path().join("sent.json");
    let b = dir.path().join("trust.json");
    vault.write(&a, b"a").expect("a");
    vault.write(&b, b"b").expect("b");
    // Moved over another file: the name is part of what was sealed.
    std::fs::copy(&a, &b).expect("copy");
    assert!(matches!(vault.read(&b), Err(VaultError::Damaged(_))));
    // Flipped bit.
    let mut raw = std::fs::read(&a).expect("raw");
    let last = raw.len() - 1;
    raw[last] ^= 1;
    std::fs::write(&a, &raw).expect("write");
    assert!(matches!(vault.read(&a), Err(VaultError::Damaged(_))));
    // Another account's key.
    let c = dir.path().join("c");
    Vault::with_key(&[2; 32]).write(&c, b"c").expect("c");
    assert!(matches!(vault.read(&c), Err(VaultError::Damaged(_))));
    // Truncated to the header.
    std::fs::write(&c, MAGIC).expect("short");
    assert!(matches!(vault.read(&c), Err(VaultError::Damaged(_))));
    // Missing.
    assert!(
        vault
            .read(&dir.path().join("none"))
            .expect("missing")
            .is_none()
    );
}

#[test]
fn a_plaintext_file_from_an_older_version_is_sealed_in_place() {
    let dir = tempfile::tempdir().expect("tmp");
    let vault = Vault::with_key(&[3; 32]);
    let path = dir.path().join("kdeconnect-sent.json");
    std::fs::write(&path, CANARY).expect("legacy");
    assert!(matches!(vault.read(&path), Err(VaultError::NotSealed(_))));
    let plain = vault.read_or_seal(&path).expect("migrated").expect("some");
    assert_eq!(plain.as_slice(), CANARY);
    assert!(!contains(&std::fs::read(&path).expect("raw"), CANARY));
    assert_eq!(
        vault
            .read(&path)
            .expect("read")
            .as_deref()
            .map(Vec::as_slice),
        Some(CANARY)
    );
}

#[test]
fn a_damaged_key_is_an_error_not_a_new_key() {
    let secrets = Memory::default();
    secrets
        .set(KEY_NAME, &Secret::new("not base64 at all!"))
        .expect("set");
    assert!(matches!(Vault::open(&secrets), Err(VaultError::DamagedKey)));
    secrets
        .set(KEY_NAME, &Secret::new(B64.encode([0u8; 31])))
        .expect("set");
    assert!(matches!(Vault::open(&secrets), Err(VaultError::DamagedKey)));
    assert_eq!(
        secrets
            .get(KEY_NAME)
            .expect("get")
            .map(|s| s.expose().to_owned()),
        Some(B64.encode([0u8; 31])),
        "the damaged key is left for the user to inspect"
    );
}

#[test]
fn an_oversized_file_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("huge");
    let file = std::fs::File::create(&path).expect("create");
    file.set_len(MAX_SEALED_BYTES + 1024).expect("sparse");
    let vault = Vault::with_key(&[4; 32]);
    assert!(matches!(vault.read(&path), Err(VaultError::TooLarge(_))));
}

#[tokio::test]
async fn the_async_calls_do_the_same() {
    let dir = tempfile::tempdir().expect("tmp");
    let secrets: Arc<dyn SecretStore> = Arc::new(Memory::default());
    let vault = Vault::open_async(secrets).await.expect("open");
    let path = vault
        .put_async(dir.path().to_path_buf(), CANARY.to_vec())
        .await
        .expect("put");
    let back = vault.read_async(path.clone()).await.expect("read");
    assert_eq!(back.as_deref().map(Vec::as_slice), Some(CANARY));
    vault
        .write_async(path.clone(), b"other".to_vec())
        .await
        .expect("write");
    let back = vault.read_async(path).await.expect("read");
    assert_eq!(back.as_deref().map(Vec::as_slice), Some(&b"other"[..]));
}
