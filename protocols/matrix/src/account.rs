//! Account settings, the secrets kept in the keyring, and building a logged-in
//! client: password login, session restore, logout.
//!
//! Secrets never touch a file: the access token and device id (the
//! [`MatrixSession`]) and the passphrase that encrypts the SDK's SQLite state
//! and crypto stores live in the account's keyring scope. The store files in
//! the data directory are useless without that passphrase.

use crate::error::MatrixError;
use koine_api::{Forgotten, Secret, SecretStore, Settings, SettingsError};
use matrix_sdk::Client;
use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::config::RequestConfig;
use matrix_sdk::ruma::api::error::ErrorKind;
use matrix_sdk::ruma::{OwnedUserId, UserId};
use matrix_sdk::store::RoomLoadSettings;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Settings key: the user id, `@alice:example.org`.
pub const USER_ID: &str = "user_id";
/// Settings key: the homeserver's client-server API base URL. Optional: when
/// absent the server name's `.well-known` is asked.
pub const HOMESERVER: &str = "homeserver";

/// Settings key: `"true"` to start over with a new identity when the key of
/// the encrypted store is missing from the keyring (the old store is then
/// wiped). Without it such a store is never touched and the session ends
/// with [`MatrixError::StoreKeyMissing`].
pub const START_OVER: &str = "start_over";

/// Keyring entry holding the serialized [`MatrixSession`].
const SESSION_SECRET: &str = "matrix-session";
/// Keyring entry holding the passphrase of the encrypted SQLite stores.
const STORE_SECRET: &str = "matrix-store-passphrase";
/// Longest pause between two tries of the crypto store's lock: a session
/// that just ended lets its lease run out (the SDK's lease is 500 ms), so a
/// restart waits a little; a session still running keeps it.
const DEVICE_LOCK_MAX_BACKOFF_MS: u32 = 2000;
/// How many times a logout request is tried.
const LOGOUT_TRIES: usize = 3;
/// How long one logout request may take.
const LOGOUT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Device display name shown in other clients' device lists.
pub(crate) const DEVICE_NAME: &str = "Koine";

/// The parsed account settings.
#[derive(Debug, Clone)]
pub struct AccountSettings {
    /// Who logs in.
    pub user_id: OwnedUserId,
    /// Where, when given explicitly.
    pub homeserver: Option<Url>,
    /// The user chose to start over with a new identity when the store's
    /// key is missing ([`START_OVER`]): the id of the store to discard, as
    /// the error named it. A stale id (from an earlier start-over) does
    /// nothing, so a later loss of the key is refused again.
    pub start_over: Option<String>,
}

impl AccountSettings {
    /// Reads and checks the settings.
    pub fn parse(settings: &Settings) -> Result<Self, SettingsError> {
        let raw = settings.require(USER_ID)?;
        let user_id = UserId::parse(raw.trim()).map_err(|e| SettingsError::Invalid {
            key: USER_ID.into(),
            reason: e.to_string(),
        })?;
        let homeserver = match settings
            .get(HOMESERVER)
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(s) => {
                let url = Url::parse(s).map_err(|e| SettingsError::Invalid {
                    key: HOMESERVER.into(),
                    reason: e.to_string(),
                })?;
                if !matches!(url.scheme(), "https" | "http") {
                    return Err(SettingsError::Invalid {
                        key: HOMESERVER.into(),
                        reason: "the scheme must be https (or http on loopback)".into(),
                    });
                }
                if url.scheme() == "http" && !is_loopback(&url) {
                    return Err(SettingsError::Invalid {
                        key: HOMESERVER.into(),
                        reason: "plain http is only accepted on loopback".into(),
                    });
                }
                Some(url)
            }
        };
        Ok(Self {
            user_id,
            homeserver,
            start_over: settings
                .get(START_OVER)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
        })
    }
}

/// Whether a URL points at this machine.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
        None => false,
    }
}

/// Runs a keyring call off the async threads (D-Bus may block).
pub(crate) async fn keyring<T: Send + 'static>(
    secrets: &Arc<dyn SecretStore>,
    f: impl FnOnce(&dyn SecretStore) -> Result<T, koine_api::SecretError> + Send + 'static,
) -> Result<T, MatrixError> {
    let secrets = Arc::clone(secrets);
    tokio::task::spawn_blocking(move || f(secrets.as_ref()))
        .await
        .map_err(|e| MatrixError::Storage(format!("keyring task: {e}")))?
        .map_err(MatrixError::from)
}

/// The store passphrase, created (32 random bytes, hex) on first use.
/// Returns `(passphrase, created_now)`.
async fn store_passphrase(secrets: &Arc<dyn SecretStore>) -> Result<(Secret, bool), MatrixError> {
    if let Some(existing) = keyring(secrets, |s| s.get(STORE_SECRET)).await? {
        return Ok((existing, false));
    }
    let bytes: [u8; 32] = rand::random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let secret = Secret::new(hex);
    let stored = secret.clone();
    keyring(secrets, move |s| s.set(STORE_SECRET, &stored)).await?;
    Ok((secret, true))
}

async fn saved_session(
    secrets: &Arc<dyn SecretStore>,
) -> Result<Option<MatrixSession>, MatrixError> {
    let Some(raw) = keyring(secrets, |s| s.get(SESSION_SECRET)).await? else {
        return Ok(None);
    };
    // A session we cannot read is treated as absent: log in again.
    Ok(serde_json::from_str(raw.expose()).ok())
}

async fn save_session(
    secrets: &Arc<dyn SecretStore>,
    session: &MatrixSession,
) -> Result<(), MatrixError> {
    let json = serde_json::to_string(session).map_err(|e| MatrixError::Storage(e.to_string()))?;
    let secret = Secret::new(json);
    keyring(secrets, move |s| s.set(SESSION_SECRET, &secret)).await
}

fn store_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("matrix-store")
}

/// Whether the data dir holds a store (anything in its folder).
async fn store_exists(data_dir: &Path) -> bool {
    match tokio::fs::read_dir(store_dir(data_dir)).await {
        Ok(mut entries) => !matches!(entries.next_entry().await, Ok(None)),
        Err(e) => e.kind() != std::io::ErrorKind::NotFound,
    }
}

/// The store's id: named in the error when its key is missing, and what
/// the user writes in [`START_OVER`] to discard that store (and no other).
fn store_id_file(data_dir: &Path) -> PathBuf {
    data_dir.join("matrix-store.id")
}

/// The id of the store in `data_dir`, made now for a store from before ids.
async fn store_id(data_dir: &Path) -> Result<String, MatrixError> {
    match tokio::fs::read_to_string(store_id_file(data_dir)).await {
        Ok(id) if !id.trim().is_empty() => Ok(id.trim().to_owned()),
        _ => new_store_id(data_dir).await,
    }
}

/// A new id for a new store.
async fn new_store_id(data_dir: &Path) -> Result<String, MatrixError> {
    let id = format!("store-{}", uuid::Uuid::new_v4().simple());
    tokio::fs::write(store_id_file(data_dir), &id)
        .await
        .map_err(|e| MatrixError::Storage(e.to_string()))?;
    Ok(id)
}

async fn wipe_store(data_dir: &Path) -> Result<(), MatrixError> {
    match tokio::fs::remove_dir_all(store_dir(data_dir)).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(MatrixError::Storage(e.to_string())),
    }
}

async fn build_client(
    account: &AccountSettings,
    data_dir: &Path,
    passphrase: &Secret,
) -> Result<Client, MatrixError> {
    build_client_with(account, data_dir, passphrase, RequestConfig::default()).await
}

async fn build_client_with(
    account: &AccountSettings,
    data_dir: &Path,
    passphrase: &Secret,
    requests: RequestConfig,
) -> Result<Client, MatrixError> {
    let builder = Client::builder()
        .sqlite_store(store_dir(data_dir), Some(passphrase.expose()))
        .request_config(requests);
    let builder = match &account.homeserver {
        Some(url) => builder.homeserver_url(url.as_str()),
        None => builder.server_name(account.user_id.server_name()),
    };
    Ok(builder.build().await?)
}

/// How the client got its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginKind {
    /// A new device from a password login.
    Password,
    /// The device restored from the keyring.
    Restored,
    /// A new device from a sign-in on the homeserver's web page.
    Browser,
}

/// Builds a logged-in client: restores the session from the keyring when one
/// is there and the server still accepts it, else logs in with the password
/// (a new device, and a fresh store). Without a password, the user signs in
/// on the homeserver's web page (`m.login.sso`) through `login_ui`'s prompt,
/// where the server offers it.
pub(crate) async fn connect(
    account: &AccountSettings,
    password: Option<&Secret>,
    secrets: &Arc<dyn SecretStore>,
    data_dir: &Path,
    login_ui: Option<&mut crate::sso::LoginUi<'_>>,
) -> Result<(Client, LoginKind), MatrixError> {
    // A store without its key in the keyring (another keyring, a restored
    // profile) holds this device's identity and message keys: it is wiped
    // only when the user chose to start over.
    if keyring(secrets, |s| s.get(STORE_SECRET)).await?.is_none() && store_exists(data_dir).await {
        let store_id = store_id(data_dir).await?;
        if account.start_over.as_deref() != Some(store_id.as_str()) {
            return Err(MatrixError::StoreKeyMissing { store_id });
        }
    }
    let (passphrase, new_passphrase) = store_passphrase(secrets).await?;
    if new_passphrase {
        // A store from an earlier passphrase cannot be opened any more.
        wipe_store(data_dir).await?;
        new_store_id(data_dir).await?;
    }
    if let Some(session) = saved_session(secrets).await? {
        if session.meta.user_id == account.user_id {
            let client = build_client(account, data_dir, &passphrase).await?;
            client
                .matrix_auth()
                .restore_session(session, RoomLoadSettings::default())
                .await?;
            match client.whoami().await {
                Ok(_) => return Ok((client, LoginKind::Restored)),
                Err(e)
                    if matches!(
                        e.client_api_error_kind(),
                        Some(ErrorKind::UnknownToken { .. } | ErrorKind::Forbidden)
                    ) =>
                {
                    // The token was revoked (logged out elsewhere): start over.
                    keyring(secrets, |s| s.delete(SESSION_SECRET)).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        drop_store_for_new_device(data_dir).await?;
    }
    let client = build_client(account, data_dir, &passphrase).await?;
    let Some(password) = password else {
        // No password: sign in on the homeserver's web page, where offered.
        let flows = crate::flows::flows_of(&client).await?;
        tracing::debug!(?flows, "login flows offered");
        let (Some(ui), true) = (login_ui, flows.browser_sign_in()) else {
            return Err(MatrixError::NoSignInMethod);
        };
        let server = account.user_id.server_name().as_str().to_owned();
        let response = crate::sso::sign_in(&client, &flows, &server, ui).await?;
        if response.user_id != account.user_id {
            // Someone else signed in in the browser: end that login at once.
            let _ = client.matrix_auth().logout().await;
            return Err(MatrixError::WrongAccount {
                expected: account.user_id.to_string(),
                got: response.user_id.to_string(),
            });
        }
        save_session(secrets, &MatrixSession::from(&response)).await?;
        return Ok((client, LoginKind::Browser));
    };
    let response = client
        .matrix_auth()
        .login_username(account.user_id.as_str(), password.expose())
        .initial_device_display_name(DEVICE_NAME)
        .send()
        .await;
    let response = match response {
        Ok(r) => r,
        Err(e) => {
            if matches!(
                e.client_api_error_kind(),
                Some(ErrorKind::Forbidden | ErrorKind::InvalidParam | ErrorKind::UserDeactivated)
            ) {
                return Err(MatrixError::AuthFailed);
            }
            return Err(e.into());
        }
    };
    let session = MatrixSession::from(&response);
    save_session(secrets, &session).await?;
    Ok((client, LoginKind::Password))
}

async fn drop_store_for_new_device(data_dir: &Path) -> Result<(), MatrixError> {
    // The crypto store belongs to one device: a new login needs a new store.
    wipe_store(data_dir).await
}

/// Takes the crypto store's cross-process lock (matrix-sdk's, on the SQLite
/// store) for as long as the returned guard lives: one session at a time
/// drives this device, so a second Koine process on the same profile does
/// not fork its Olm and Megolm state. Fails with
/// [`MatrixError::DeviceInUse`] while another session holds it.
pub(crate) async fn lock_device(
    client: &Client,
) -> Result<matrix_sdk::cross_process_lock::CrossProcessLockGuard, MatrixError> {
    use matrix_sdk::cross_process_lock::CrossProcessLockError;
    let holder = format!(
        "koine-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    );
    let encryption = client.encryption();
    encryption.enable_cross_process_store_lock(holder).await?;
    match encryption
        .spin_lock_store(Some(DEVICE_LOCK_MAX_BACKOFF_MS))
        .await
    {
        Ok(Some(guard)) => Ok(guard),
        Ok(None) => Err(MatrixError::Storage(
            "the crypto store's lock was not set up".into(),
        )),
        Err(matrix_sdk::Error::CrossProcessLockError(e))
            if matches!(*e, CrossProcessLockError::Unobtained(_)) =>
        {
            Err(MatrixError::DeviceInUse)
        }
        Err(e) => Err(e.into()),
    }
}

/// Logs the account's device out on the server and forgets everything the
/// plugin kept for it: the session and store passphrase in the keyring and
/// the store files. Call it when the user removes the account.
///
/// Returns [`Forgotten::SignedOut`] once the server ended the device's login
/// (or had already ended it), [`Forgotten::NothingToDo`] when no session was
/// kept. When the server cannot be reached it fails and keeps everything,
/// so a later call can try again; each request is tried a few times only.
pub async fn logout(
    settings: &Settings,
    secrets: Arc<dyn SecretStore>,
    data_dir: &Path,
) -> Result<Forgotten, MatrixError> {
    let account = AccountSettings::parse(settings)?;
    let mut outcome = Forgotten::NothingToDo;
    if let Some(session) = saved_session(&secrets).await? {
        let (passphrase, _) = store_passphrase(&secrets).await?;
        let requests = RequestConfig::new()
            .retry_limit(LOGOUT_TRIES)
            .timeout(LOGOUT_REQUEST_TIMEOUT);
        let client = build_client_with(&account, data_dir, &passphrase, requests).await?;
        client
            .matrix_auth()
            .restore_session(session, RoomLoadSettings::default())
            .await?;
        match client.matrix_auth().logout().await {
            Ok(_) => {}
            // Already gone on the server: nothing more to do there.
            Err(e)
                if matches!(
                    e.client_api_error_kind(),
                    Some(ErrorKind::UnknownToken { .. })
                ) => {}
            Err(e) => return Err(e.into()),
        }
        outcome = Forgotten::SignedOut;
    }
    keyring(&secrets, |s| s.delete(SESSION_SECRET)).await?;
    keyring(&secrets, |s| s.delete(STORE_SECRET)).await?;
    wipe_store(data_dir).await?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use koine_api::{SecretError, SessionError};
    use std::collections::HashMap;
    use std::sync::Mutex;

    #[derive(Default)]
    struct MemorySecrets(Mutex<HashMap<String, Secret>>);

    impl SecretStore for MemorySecrets {
        fn get(&self, name: &str) -> Result<Option<Secret>, SecretError> {
            Ok(self.0.lock().expect("lock").get(name).cloned())
        }
        fn set(&self, name: &str, value: &Secret) -> Result<(), SecretError> {
            self.0
                .lock()
                .expect("lock")
                .insert(name.to_owned(), value.clone());
            Ok(())
        }
        fn delete(&self, name: &str) -> Result<(), SecretError> {
            self.0.lock().expect("lock").remove(name);
            Ok(())
        }
    }

    /// An account whose homeserver is a closed loopback port: nothing is
    /// ever asked of a server before the store is opened.
    fn account(start_over: Option<&str>) -> AccountSettings {
        let mut settings = Settings::default();
        settings.set(USER_ID, "@alice:koine.test");
        settings.set(HOMESERVER, "http://127.0.0.1:9");
        if let Some(id) = start_over {
            settings.set(START_OVER, id);
        }
        AccountSettings::parse(&settings).expect("settings")
    }

    /// A data dir holding a store (a stand-in file) whose key is not in the
    /// (empty) keyring.
    fn orphaned_store() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(store_dir(dir.path())).expect("store dir");
        // Not a name the SDK creates: only the old store holds it.
        let file = store_dir(dir.path()).join("old-device.marker");
        std::fs::write(&file, b"this device's identity").expect("store file");
        (dir, file)
    }

    #[tokio::test]
    async fn a_store_whose_key_is_missing_is_refused_not_wiped() {
        let (dir, file) = orphaned_store();
        let secrets: Arc<dyn SecretStore> = Arc::new(MemorySecrets::default());
        let password = Secret::new("pw");
        let result = connect(&account(None), Some(&password), &secrets, dir.path(), None).await;
        assert!(file.exists(), "the store was wiped");
        assert!(
            matches!(result, Err(MatrixError::StoreKeyMissing { .. })),
            "{:?}",
            result.map(|_| ())
        );
        assert!(
            secrets.get(STORE_SECRET).expect("keyring").is_none(),
            "a new key was made for the old store"
        );
        let error = SessionError::from(MatrixError::StoreKeyMissing {
            store_id: "store-1".into(),
        });
        assert!(!error.is_retryable());
    }

    #[tokio::test]
    async fn starting_over_is_an_explicit_choice_for_one_store() {
        let (dir, file) = orphaned_store();
        let secrets: Arc<dyn SecretStore> = Arc::new(MemorySecrets::default());
        let password = Secret::new("pw");
        // The error names the store; a wrong id (or "true") discards nothing.
        let refused = connect(&account(None), Some(&password), &secrets, dir.path(), None).await;
        let Err(MatrixError::StoreKeyMissing { store_id }) = refused else {
            panic!("not refused: {:?}", refused.map(|_| ()));
        };
        let wrong = connect(
            &account(Some("true")),
            Some(&password),
            &secrets,
            dir.path(),
            None,
        )
        .await;
        assert!(matches!(wrong, Err(MatrixError::StoreKeyMissing { .. })));
        assert!(file.exists());
        // The closed port fails the login; the start-over happened before.
        let result = connect(
            &account(Some(&store_id)),
            Some(&password),
            &secrets,
            dir.path(),
            None,
        )
        .await;
        assert!(result.is_err());
        assert!(!file.exists(), "the old store was kept");
        assert!(secrets.get(STORE_SECRET).expect("keyring").is_some());
        // The key of the new store is lost too, later: the setting still
        // names the old store, so nothing is wiped without a new choice.
        std::fs::create_dir_all(store_dir(dir.path())).expect("store dir");
        let new_file = store_dir(dir.path()).join("new-device.marker");
        std::fs::write(&new_file, b"the new identity").expect("store file");
        secrets.delete(STORE_SECRET).expect("forget the key");
        let again = connect(
            &account(Some(&store_id)),
            Some(&password),
            &secrets,
            dir.path(),
            None,
        )
        .await;
        assert!(
            matches!(&again, Err(MatrixError::StoreKeyMissing { store_id: new }) if new != &store_id),
            "{:?}",
            again.map(|_| ())
        );
        assert!(new_file.exists(), "a stale choice wiped the new store");
    }

    #[tokio::test]
    async fn a_first_start_needs_no_choice() {
        let dir = tempfile::tempdir().expect("temp dir");
        let secrets: Arc<dyn SecretStore> = Arc::new(MemorySecrets::default());
        let password = Secret::new("pw");
        let result = connect(&account(None), Some(&password), &secrets, dir.path(), None).await;
        assert!(!matches!(result, Err(MatrixError::StoreKeyMissing { .. })));
        assert!(secrets.get(STORE_SECRET).expect("keyring").is_some());
    }
}
