//! Why an account is offline or stopped, in the user's language: one
//! sentence per [`StatusReason`] kind; a server's or a library's own words
//! stay in the log.

use crate::fl;
use koine_core::StatusReason;

/// The reason shown in "Offline: …" and "Stopped: …".
pub fn text(reason: &StatusReason) -> String {
    match reason {
        StatusReason::AuthFailed => fl!("status-reason-auth"),
        StatusReason::Network { .. } => fl!("status-reason-network"),
        StatusReason::Untrusted { .. } => fl!("status-reason-untrusted"),
        StatusReason::Protocol { .. } => fl!("status-reason-protocol"),
        StatusReason::Settings { .. } => fl!("status-reason-settings"),
        StatusReason::Keyring { .. } => fl!("status-reason-keyring"),
        StatusReason::PluginStorage { .. } => fl!("status-reason-plugin-storage"),
        StatusReason::StoreFailed { .. } => fl!("status-reason-store"),
        StatusReason::PluginFailed => fl!("status-reason-plugin-failed"),
        StatusReason::Closed => fl!("status-reason-closed"),
        StatusReason::Other { reason } => fl!("status-reason-other", reason = reason.clone()),
        other => fl!("status-reason-other", reason = other.to_string()),
    }
}
