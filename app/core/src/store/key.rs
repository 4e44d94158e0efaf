//! The profile database's key: 256 random bits, made once per profile and
//! kept only in the OS keyring (never in a file of the profile, the settings
//! or a log).

use super::{Result, StoreError};
use koine_api::{Secret, SecretStore};
use std::fmt;
use zeroize::Zeroizing;

/// The keyring name of the database key, in the profile's own scope.
pub const KEY_NAME: &str = "database-key";

/// A raw SQLCipher key (AES-256; SQLCipher derives the page HMAC key from
/// it). Zeroed when dropped; its `Debug` shows nothing of it.
pub struct StoreKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreKey(…)")
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl StoreKey {
    /// A new random key.
    pub fn generate() -> Self {
        Self(Zeroizing::new(rand::random::<[u8; 32]>()))
    }

    /// The key as kept in the keyring: 64 hexadecimal digits.
    pub fn to_secret(&self) -> Secret {
        let mut text = Zeroizing::new(String::with_capacity(64));
        for byte in self.0.iter() {
            text.push(char::from(HEX[usize::from(byte >> 4)]));
            text.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        Secret::new(text.as_str())
    }

    /// Reads a key kept by [`StoreKey::to_secret`]. Anything else in the
    /// keyring (edited by hand, another program's entry) is refused.
    pub fn from_secret(secret: &Secret) -> Result<Self> {
        let text = secret.expose().as_bytes();
        if text.len() != 64 {
            return Err(StoreError::KeyMalformed);
        }
        let digit = |c: u8| {
            HEX.iter()
                .position(|h| *h == c.to_ascii_lowercase())
                .and_then(|d| u8::try_from(d).ok())
        };
        let mut key = Zeroizing::new([0u8; 32]);
        for (byte, pair) in key.iter_mut().zip(text.chunks_exact(2)) {
            match pair {
                [hi, lo] => match (digit(*hi), digit(*lo)) {
                    (Some(hi), Some(lo)) => *byte = (hi << 4) | lo,
                    _ => return Err(StoreError::KeyMalformed),
                },
                _ => return Err(StoreError::KeyMalformed),
            }
        }
        Ok(Self(key))
    }

    /// The value of `PRAGMA key` (and of `ATTACH … KEY`) for this raw key:
    /// `x'…'`, which SQLCipher takes as the key itself, with no password
    /// derivation.
    pub(crate) fn sql_value(&self) -> Zeroizing<String> {
        let hex = self.to_secret();
        Zeroizing::new(format!("x'{}'", hex.expose()))
    }

    /// Unlocks a raw connection to an encrypted profile database (tools and
    /// tests that open the file themselves). Must come before any other
    /// statement on `conn`.
    pub fn unlock(&self, conn: &rusqlite::Connection) -> rusqlite::Result<()> {
        // A wrong key is reported as a typed error; SQLCipher's own lines
        // on stderr would only repeat it in the terminal.
        conn.pragma_update(None, "cipher_log_level", "NONE")?;
        conn.pragma_update(None, "key", self.sql_value().as_str())
    }

    /// The profile's key from the keyring. A keyring that refuses or cannot
    /// be reached is an error, and so is a missing key: never a reason to
    /// use the file without encryption.
    pub fn load(secrets: &dyn SecretStore) -> Result<Self> {
        match secrets.get(KEY_NAME) {
            Ok(Some(secret)) => Self::from_secret(&secret),
            Ok(None) => Err(StoreError::KeyMissing),
            Err(e) => Err(StoreError::KeyUnavailable(e)),
        }
    }

    /// A profile's key from the OS keyring (tools and tests that open the
    /// file themselves, with [`StoreKey::unlock`]).
    pub fn from_keyring(profile: &crate::Profile) -> Result<Self> {
        Self::load(&koine_keyring::KeyringSecrets::scoped(
            profile.database_key_scope()?,
        ))
    }

    /// The profile's key, made and kept in the keyring if there is none yet
    /// (a new profile, or one still in plaintext).
    pub fn load_or_create(secrets: &dyn SecretStore) -> Result<Self> {
        match Self::load(secrets) {
            Err(StoreError::KeyMissing) => {
                let key = Self::generate();
                secrets
                    .set(KEY_NAME, &key.to_secret())
                    .map_err(StoreError::KeyUnavailable)?;
                Ok(key)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_survives_the_keyring_form_and_shows_nothing() {
        let key = StoreKey::generate();
        let back = StoreKey::from_secret(&key.to_secret()).expect("reads back");
        assert_eq!(key.0.as_slice(), back.0.as_slice());
        assert_eq!(format!("{key:?}"), "StoreKey(…)");
        assert_ne!(key.0.as_slice(), StoreKey::generate().0.as_slice());
    }

    #[test]
    fn anything_but_64_hex_digits_is_refused() {
        for bad in ["", "abc", &"g".repeat(64), &"a".repeat(63), &"é".repeat(32)] {
            assert!(matches!(
                StoreKey::from_secret(&Secret::new(bad)),
                Err(StoreError::KeyMalformed)
            ));
        }
    }
}
