//! Account configuration as plugins declare it, and secrets.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use thiserror::Error;
use zeroize::Zeroizing;

/// Text the UI shows, named by a Fluent message id, with an English fallback
/// for UIs that do not carry the plugin's translations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// Fluent message id, e.g. `xmpp-field-jid`.
    pub id: String,
    /// English text used when no translation is found.
    pub fallback: String,
}

impl Label {
    /// A label from an id and its English text.
    pub fn new(id: impl Into<String>, fallback: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            fallback: fallback.into(),
        }
    }
}

/// One field of the account setup form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountField {
    /// The settings key the value is stored under.
    pub key: String,
    /// What the user sees.
    pub label: Label,
    /// The kind of input.
    pub kind: FieldKind,
    /// Whether the form can be submitted without it.
    pub required: bool,
    /// Default value, if any.
    pub default: Option<String>,
}

/// Kinds of setup fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "choices", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FieldKind {
    /// Free text.
    Text,
    /// A secret (password, token): stored only in the OS keyring, never in settings.
    Secret,
    /// A port number or other integer.
    Number,
    /// On or off (`"true"` / `"false"`).
    Toggle,
    /// One of the given values.
    Choice(Vec<String>),
}

/// Non-secret settings of one account (`key = value`), as declared by the
/// plugin's [`AccountField`]s. Secrets never go here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Settings(pub BTreeMap<String, String>);

impl Settings {
    /// The value for `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// The value for `key`, or a [`SettingsError::Missing`].
    pub fn require(&self, key: &str) -> Result<&str, SettingsError> {
        self.get(key)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| SettingsError::Missing(key.to_owned()))
    }

    /// Sets `key` to `value`.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.0.insert(key.into(), value.into());
    }
}

/// A setting is missing or invalid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// A required key has no value.
    #[error("missing setting: {0}")]
    Missing(String),
    /// A key has a value the plugin cannot use.
    #[error("invalid value for setting {key}: {reason}")]
    Invalid {
        /// The key.
        key: String,
        /// Why the value is refused.
        reason: String,
    },
}

/// A password, token or key. Its `Debug` and `Display` never show the value,
/// and the memory is wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The value. Hand it to the network or the keyring only; never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A [`Secret`] as plain text in serialized form, for the one place that
/// must carry it to the user (a recovery key shown once). Use only with
/// `#[serde(with)]` on a field the user asked to see.
pub(crate) mod secret_text {
    use super::Secret;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(s: &Secret, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(s.expose())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Secret, D::Error> {
        String::deserialize(de).map(Secret::new)
    }
}

/// Errors of a [`SecretStore`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SecretError {
    /// No keyring service is reachable (no Secret Service on the session bus).
    #[error("no keyring is available: {0}")]
    Unavailable(String),
    /// The keyring is locked and could not be unlocked.
    #[error("the keyring is locked")]
    Locked,
    /// Any other keyring failure.
    #[error("keyring error: {0}")]
    Other(String),
}

/// Where a plugin keeps its secrets: the OS keyring, scoped to one account by
/// the engine. Calls may block on D-Bus; call them from a blocking context
/// (`tokio::task::spawn_blocking`) when latency matters.
pub trait SecretStore: Send + Sync {
    /// Reads a secret by name, `None` when absent.
    fn get(&self, name: &str) -> Result<Option<Secret>, SecretError>;
    /// Writes a secret by name.
    fn set(&self, name: &str, value: &Secret) -> Result<(), SecretError>;
    /// Deletes a secret by name; deleting an absent one is not an error.
    fn delete(&self, name: &str) -> Result<(), SecretError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn require_reports_missing_keys() {
        let mut s = Settings::default();
        assert_eq!(s.require("jid"), Err(SettingsError::Missing("jid".into())));
        s.set("jid", "");
        assert!(s.require("jid").is_err());
        s.set("jid", "a@b.c");
        assert_eq!(s.require("jid"), Ok("a@b.c"));
    }
}
