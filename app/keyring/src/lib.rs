//! Koine's secrets in the OS keyring.
//!
//! Passwords, tokens and keys live only here: the Secret Service on Linux
//! (gnome-keyring, KWallet; the Secret portal inside Flatpak), the Credential
//! Manager on Windows. Each entry is stored under the service
//! [`SERVICE`] with the user name `<scope>/<name>`, where the scope is an
//! account id, so that removing an account removes exactly its secrets.

use koine_api::{Secret, SecretError, SecretStore};

/// The keyring service name of every Koine entry (the application id).
pub const SERVICE: &str = "im.koine.Koine";

/// A [`SecretStore`] over the OS keyring, scoped to one account (or to the
/// engine itself).
#[derive(Debug, Clone)]
pub struct KeyringSecrets {
    scope: String,
}

impl KeyringSecrets {
    /// Secrets of one scope (an account id).
    pub fn scoped(scope: impl Into<String>) -> Self {
        Self {
            scope: scope.into(),
        }
    }

    /// Checks that a keyring is reachable, with a clear error when not.
    pub fn probe() -> Result<(), SecretError> {
        keyring::Entry::store_status()
            .as_ref()
            .map(|_| ())
            .map_err(map_error)
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(SERVICE, &format!("{}/{name}", self.scope)).map_err(|e| map_error(&e))
    }
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

impl SecretStore for KeyringSecrets {
    fn get(&self, name: &str) -> Result<Option<Secret>, SecretError> {
        match self.entry(name)?.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(&e)),
        }
    }

    fn set(&self, name: &str, value: &Secret) -> Result<(), SecretError> {
        self.entry(name)?
            .set_password(value.expose())
            .map_err(|e| map_error(&e))
    }

    fn delete(&self, name: &str) -> Result<(), SecretError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_error(&e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // These tests talk to the real Secret Service: run them through
    // `scripts/test`, which starts gnome-keyring on a private session bus.

    #[test]
    fn round_trip_and_scope_isolation() {
        let a = KeyringSecrets::scoped(format!("test-{}", std::process::id()));
        let b = KeyringSecrets::scoped(format!("other-{}", std::process::id()));
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
    }
}
