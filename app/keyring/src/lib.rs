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

/// The per-scope entry listing the names written (it holds no secret), so
/// that [`KeyringSecrets::delete_all`] can find them: keyrings cannot be
/// listed portably.
const INDEX: &str = ".names";

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

    /// Deletes every secret ever written through this scope (the account's
    /// password and whatever its plugin kept: tokens, key-store keys), so that
    /// removing an account leaves nothing of it in the keyring.
    pub fn delete_all(&self) -> Result<(), SecretError> {
        for name in self.names()? {
            self.delete(&name)?;
        }
        match self.entry(INDEX)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_error(&e)),
        }
    }

    /// The names written through this scope, from its index entry.
    fn names(&self) -> Result<Vec<String>, SecretError> {
        match self.entry(INDEX)?.get_password() {
            Ok(list) => Ok(list
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()),
            Err(keyring::Error::NoEntry) => Ok(Vec::new()),
            Err(e) => Err(map_error(&e)),
        }
    }

    fn remember(&self, name: &str) -> Result<(), SecretError> {
        let mut names = self.names()?;
        if names.iter().any(|n| n == name) {
            return Ok(());
        }
        names.push(name.to_owned());
        self.entry(INDEX)?
            .set_password(&names.join("\n"))
            .map_err(|e| map_error(&e))
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
        self.remember(name)?;
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

    #[test]
    fn delete_all_removes_every_name_written_in_the_scope_only() {
        let a = KeyringSecrets::scoped(format!("all-{}", std::process::id()));
        let b = KeyringSecrets::scoped(format!("keep-{}", std::process::id()));
        for name in ["password", "matrix-store-passphrase", "e2ee-key"] {
            a.set(name, &Secret::new(format!("v-{name}"))).expect("set");
        }
        b.set("password", &Secret::new("other")).expect("set b");
        a.delete_all().expect("delete all");
        for name in ["password", "matrix-store-passphrase", "e2ee-key"] {
            assert_eq!(a.get(name).expect("get"), None, "{name} is gone");
        }
        assert_eq!(a.names().expect("index"), Vec::<String>::new());
        assert!(
            b.get("password").expect("get b").is_some(),
            "other scopes are untouched"
        );
        b.delete_all().expect("clean up");
    }
}
