//! Koine's secrets in the OS keyring.
//!
//! Passwords, tokens and keys live only here:
//!
//! - on Linux outside Flatpak, the Secret Service (`org.freedesktop.secrets`:
//!   gnome-keyring, KWallet, KeePassXC), through the `keyring` crate;
//! - inside Flatpak (`/.flatpak-info` exists), where the sandbox may not talk
//!   to the Secret Service, a keyring file in the app's own data directory
//!   (`$XDG_DATA_HOME/keyrings/default.keyring`), encrypted with the
//!   per-application secret that the Secret portal
//!   (`org.freedesktop.portal.Secret`) hands out: oo7's file backend, the
//!   format libsecret also uses inside a sandbox (see `portal.rs`);
//! - on Windows, the Credential Manager, through the `keyring` crate.
//!
//! Each entry is stored under the service [`SERVICE`] with the user name
//! `<scope>/<name>`, where the scope is an account id, so that removing an
//! account removes exactly its secrets. Entries written by earlier versions
//! (keyring crate, same service and user names) are read unchanged.

use koine_api::{Secret, SecretError, SecretStore};

#[cfg(target_os = "linux")]
mod portal;

/// The keyring service name of every Koine entry (the application id).
pub const SERVICE: &str = "im.koine.Koine";

/// The per-scope entry listing the names written (it holds no secret), so
/// that [`KeyringSecrets::delete_all`] can find them: keyrings cannot be
/// listed portably.
const INDEX: &str = ".names";

/// A [`SecretStore`] over the OS keyring, scoped to one account (or to the
/// engine itself).
#[derive(Debug, Clone)]
pub struct KeyringSecrets {
    scope: String,
    backend: Backend,
}

/// Where the entries go.
#[derive(Debug, Clone)]
enum Backend {
    /// The `keyring` crate: Secret Service, Credential Manager.
    Os,
    /// Inside Flatpak: the file keyring opened with the Secret portal's
    /// secret.
    #[cfg(target_os = "linux")]
    Portal(std::sync::Arc<portal::PortalKeyring>),
}

impl Backend {
    /// The backend of this process: the Secret portal's inside Flatpak, the
    /// OS keyring everywhere else. Decided once; every scope shares it.
    fn of_this_process() -> Self {
        #[cfg(target_os = "linux")]
        {
            use std::sync::{Arc, OnceLock};
            static PORTAL: OnceLock<Option<Arc<portal::PortalKeyring>>> = OnceLock::new();
            let portal = PORTAL.get_or_init(|| {
                portal::in_flatpak().then(|| Arc::new(portal::PortalKeyring::in_app_data()))
            });
            if let Some(portal) = portal {
                return Self::Portal(Arc::clone(portal));
            }
        }
        Self::Os
    }

    fn probe(&self) -> Result<(), SecretError> {
        match self {
            Self::Os => os::probe(),
            #[cfg(target_os = "linux")]
            Self::Portal(keyring) => keyring.probe(),
        }
    }

    fn get(&self, user: &str) -> Result<Option<Secret>, SecretError> {
        match self {
            Self::Os => os::get(user),
            #[cfg(target_os = "linux")]
            Self::Portal(keyring) => keyring.get(user),
        }
    }

    fn set(&self, user: &str, value: &Secret) -> Result<(), SecretError> {
        match self {
            Self::Os => os::set(user, value),
            #[cfg(target_os = "linux")]
            Self::Portal(keyring) => keyring.set(user, value),
        }
    }

    fn delete(&self, user: &str) -> Result<(), SecretError> {
        match self {
            Self::Os => os::delete(user),
            #[cfg(target_os = "linux")]
            Self::Portal(keyring) => keyring.delete(user),
        }
    }
}

impl KeyringSecrets {
    /// Secrets of one scope (an account id).
    pub fn scoped(scope: impl Into<String>) -> Self {
        Self {
            scope: scope.into(),
            backend: Backend::of_this_process(),
        }
    }

    /// Checks that a keyring is reachable, with a clear error when not.
    pub fn probe() -> Result<(), SecretError> {
        Backend::of_this_process().probe()
    }

    /// Deletes every secret ever written through this scope (the account's
    /// password and whatever its plugin kept: tokens, key-store keys), so that
    /// removing an account leaves nothing of it in the keyring.
    pub fn delete_all(&self) -> Result<(), SecretError> {
        for name in self.names()? {
            self.delete(&name)?;
        }
        self.backend.delete(&self.user(INDEX))
    }

    /// The names written through this scope, from its index entry.
    fn names(&self) -> Result<Vec<String>, SecretError> {
        Ok(self
            .backend
            .get(&self.user(INDEX))?
            .map(|list| {
                list.expose()
                    .lines()
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default())
    }

    fn remember(&self, name: &str) -> Result<(), SecretError> {
        let mut names = self.names()?;
        if names.iter().any(|n| n == name) {
            return Ok(());
        }
        names.push(name.to_owned());
        self.backend
            .set(&self.user(INDEX), &Secret::new(names.join("\n")))
    }

    /// The keyring user name of one entry of this scope.
    fn user(&self, name: &str) -> String {
        format!("{}/{name}", self.scope)
    }
}

impl SecretStore for KeyringSecrets {
    fn get(&self, name: &str) -> Result<Option<Secret>, SecretError> {
        self.backend.get(&self.user(name))
    }

    fn set(&self, name: &str, value: &Secret) -> Result<(), SecretError> {
        self.remember(name)?;
        self.backend.set(&self.user(name), value)
    }

    fn delete(&self, name: &str) -> Result<(), SecretError> {
        self.backend.delete(&self.user(name))
    }
}

/// The OS keyring through the `keyring` crate (service [`SERVICE`], user
/// `<scope>/<name>`): what every version of Koine has written outside
/// Flatpak.
mod os {
    use super::SERVICE;
    use koine_api::{Secret, SecretError};

    pub(super) fn probe() -> Result<(), SecretError> {
        keyring::Entry::store_status()
            .as_ref()
            .map(|_| ())
            .map_err(map_error)
    }

    pub(super) fn get(user: &str) -> Result<Option<Secret>, SecretError> {
        match entry(user)?.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(&e)),
        }
    }

    pub(super) fn set(user: &str, value: &Secret) -> Result<(), SecretError> {
        entry(user)?
            .set_password(value.expose())
            .map_err(|e| map_error(&e))
    }

    pub(super) fn delete(user: &str) -> Result<(), SecretError> {
        match entry(user)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_error(&e)),
        }
    }

    fn entry(user: &str) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(SERVICE, user).map_err(|e| map_error(&e))
    }

    fn map_error(e: &keyring::Error) -> SecretError {
        match e {
            keyring::Error::NoDefaultStore => {
                SecretError::Unavailable("no Secret Service on the session bus".into())
            }
            keyring::Error::NoStorageAccess(inner) => {
                let text = inner.to_string();
                if text.to_ascii_lowercase().contains("lock") {
                    SecretError::Locked
                } else {
                    SecretError::Unavailable(text)
                }
            }
            other => SecretError::Other(other.to_string()),
        }
    }
}

/// The checks every backend must pass, run against each of them.
#[cfg(test)]
pub(crate) mod suite {
    use super::*;

    /// Values round-trip, overwrite, delete (twice), and stay in their scope.
    pub(crate) fn round_trip_and_scope_isolation(make: impl Fn(String) -> KeyringSecrets) {
        let a = make(format!("test-{}", std::process::id()));
        let b = make(format!("other-{}", std::process::id()));
        a.set("password", &Secret::new("correct horse"))
            .expect("set");
        assert_eq!(
            a.get("password")
                .expect("get")
                .map(|s| s.expose().to_owned()),
            Some("correct horse".to_owned())
        );
        assert_eq!(b.get("password").expect("get other"), None);
        a.set("password", &Secret::new("battery staple"))
            .expect("overwrite");
        assert_eq!(
            a.get("password")
                .expect("get")
                .map(|s| s.expose().to_owned()),
            Some("battery staple".to_owned())
        );
        a.delete("password").expect("delete");
        assert_eq!(a.get("password").expect("get after delete"), None);
        a.delete("password").expect("deleting twice is fine");
        a.delete_all().expect("clean up");
    }

    /// `delete_all` removes every name written in the scope, its index too,
    /// and nothing of another scope.
    pub(crate) fn delete_all_removes_every_name_of_the_scope_only(
        make: impl Fn(String) -> KeyringSecrets,
    ) {
        let a = make(format!("all-{}", std::process::id()));
        let b = make(format!("keep-{}", std::process::id()));
        for name in ["password", "matrix-store-passphrase", "e2ee-key"] {
            a.set(name, &Secret::new(format!("v-{name}"))).expect("set");
        }
        b.set("password", &Secret::new("other")).expect("set b");
        assert_eq!(
            a.names().expect("index"),
            ["password", "matrix-store-passphrase", "e2ee-key"]
        );
        a.delete_all().expect("delete all");
        for name in ["password", "matrix-store-passphrase", "e2ee-key"] {
            assert_eq!(a.get(name).expect("get"), None, "{name} is gone");
        }
        assert_eq!(a.names().expect("index"), Vec::<String>::new());
        assert_eq!(a.get(INDEX).expect("index entry"), None);
        assert!(
            b.get("password").expect("get b").is_some(),
            "other scopes are untouched"
        );
        b.delete_all().expect("clean up");
    }

    /// The store works when called from inside a tokio runtime, as the
    /// engine does (current-thread and multi-thread).
    pub(crate) fn works_inside_tokio_runtimes(make: impl Fn(String) -> KeyringSecrets) {
        let current = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let multi = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .expect("runtime");
        for (kind, runtime) in [("current", current), ("multi", multi)] {
            let secrets = make(format!("tokio-{kind}-{}", std::process::id()));
            runtime.block_on(async {
                secrets
                    .set("password", &Secret::new("inside"))
                    .expect("set");
                assert_eq!(
                    secrets
                        .get("password")
                        .expect("get")
                        .map(|s| s.expose().to_owned()),
                    Some("inside".to_owned())
                );
                secrets.delete_all().expect("delete all");
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // These tests talk to the real Secret Service: run them through
    // `scripts/with-keyring`, which starts gnome-keyring on a private session
    // bus. Outside Flatpak, `scoped` picks the Secret Service.

    #[test]
    fn the_os_keyring_is_used_outside_flatpak() {
        assert!(!std::path::Path::new("/.flatpak-info").exists());
        assert!(matches!(KeyringSecrets::scoped("x").backend, Backend::Os));
        KeyringSecrets::probe().expect("the Secret Service answers");
    }

    #[test]
    fn round_trip_and_scope_isolation() {
        suite::round_trip_and_scope_isolation(KeyringSecrets::scoped);
    }

    #[test]
    fn delete_all_removes_every_name_written_in_the_scope_only() {
        suite::delete_all_removes_every_name_of_the_scope_only(KeyringSecrets::scoped);
    }

    #[test]
    fn the_secret_service_works_inside_tokio_runtimes() {
        suite::works_inside_tokio_runtimes(KeyringSecrets::scoped);
    }

    /// What earlier versions wrote (keyring crate, service `im.koine.Koine`,
    /// user `<scope>/<name>`, index `<scope>/.names`) is read and deleted by
    /// this one.
    #[test]
    fn entries_written_by_earlier_versions_are_read_and_deleted() {
        let scope = format!("earlier-{}", std::process::id());
        let old = |name: &str| keyring::Entry::new(SERVICE, &format!("{scope}/{name}")).unwrap();
        old("password").set_password("from before").unwrap();
        old(".names").set_password("password").unwrap();
        let secrets = KeyringSecrets::scoped(&scope);
        assert_eq!(
            secrets
                .get("password")
                .unwrap()
                .map(|s| s.expose().to_owned()),
            Some("from before".to_owned())
        );
        secrets.delete_all().unwrap();
        assert!(matches!(
            old("password").get_password(),
            Err(keyring::Error::NoEntry)
        ));
        assert!(matches!(
            old(".names").get_password(),
            Err(keyring::Error::NoEntry)
        ));
    }
}
