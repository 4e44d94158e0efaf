//! What the person is told about the history on this computer: its
//! encryption while an older profile is encrypted, and why it cannot be
//! opened without its key.

use crate::fl;
use koine_core::{EngineError, StoreError};

/// The progress line while a history written before Koine encrypted it is
/// encrypted in place.
pub fn encrypting_text(done_bytes: u64, total_bytes: u64) -> String {
    let percent = done_bytes
        .saturating_mul(100)
        .checked_div(total_bytes)
        .unwrap_or(100);
    fl!("history-encrypting", percent = percent.min(100))
}

/// The translated reason a profile's history could not be opened, for the
/// failures that concern its encryption; `None` for any other error.
pub fn open_error_text(error: &EngineError) -> Option<String> {
    let EngineError::Store(error) = error else {
        return None;
    };
    Some(match error {
        StoreError::KeyUnavailable(reason) => {
            fl!("history-key-unavailable", reason = reason.to_string())
        }
        StoreError::KeyMissing => fl!("history-key-missing"),
        StoreError::KeyMalformed | StoreError::WrongKey => fl!("history-key-wrong"),
        StoreError::Encryption(reason) => {
            fl!("history-encryption-failed", reason = reason.clone())
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_history_key_failures_get_their_own_text() {
        for error in [
            StoreError::KeyMissing,
            StoreError::WrongKey,
            StoreError::KeyMalformed,
            StoreError::KeyUnavailable(koine_api::SecretError::Locked),
            StoreError::Encryption("disk full".into()),
        ] {
            let text = open_error_text(&EngineError::Store(error)).expect("a text");
            assert!(!text.is_empty() && !text.contains("history-"), "{text}");
        }
        assert!(open_error_text(&EngineError::Store(StoreError::NotFound("x".into()))).is_none());
        assert!(open_error_text(&EngineError::ProfileInUse).is_none());
    }

    #[test]
    fn progress_is_a_percentage_never_past_100() {
        // Whatever language another test chose, the number is the same.
        assert!(encrypting_text(0, 0).contains("100"));
        assert!(encrypting_text(1, 4).contains("25"));
        let past = encrypting_text(9, 4);
        assert!(past.contains("100") && !past.contains("225"), "{past}");
    }
}
