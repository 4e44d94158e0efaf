//! Encoding of API values into SQLite columns (JSON for structures, bare
//! strings for enums).

use super::{Result, StoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A value as JSON text.
pub fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// JSON text back to a value.
pub fn from_json<T: DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{e}: {text:.80}")))
}

/// A unit enum as its bare serde name (`"queued"` → `queued`).
pub fn enum_str<T: Serialize>(value: &T) -> Result<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        Ok(other) => Err(StoreError::Corrupt(format!("not a unit enum: {other}"))),
        Err(e) => Err(StoreError::Corrupt(e.to_string())),
    }
}

/// A bare serde name back to a unit enum.
pub fn enum_from<T: DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|e| StoreError::Corrupt(format!("{e}: {text}")))
}

/// Optional JSON column.
pub fn opt_from_json<T: DeserializeOwned>(text: Option<String>) -> Result<Option<T>> {
    text.as_deref().map(from_json).transpose()
}
