//! Typed notices: things the user should see, which the UI translates.
//! Plugins never produce sentences.

use crate::address::Address;
use serde::{Deserialize, Serialize};

/// Where bad input came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputSource {
    /// The server.
    Server,
    /// Another user or their device.
    Peer,
    /// The relay phone.
    Device,
    /// A local file.
    File,
}

/// Something the user should know about, as data. The UI maps each variant to
/// a Fluent message (`notice-<variant>`), with the fields as arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Notice {
    /// Input that could not be understood was dropped; the session goes on.
    MalformedInput {
        /// Who sent it.
        source: InputSource,
        /// A technical description for logs and the details pane (no secrets).
        detail: String,
    },
    /// The plugin itself failed (it panicked, which a plugin must never do);
    /// the engine restarts its session after a pause and the other accounts
    /// go on. Reported by the engine, not by plugins.
    PluginFailed {
        /// What failed, for logs and the details pane.
        detail: String,
    },
    /// A contact's identity key changed; their chat is no longer verified.
    IdentityKeyChanged {
        /// Whose key changed.
        contact: Address,
    },
    /// The recipient has not opted in to messages from this network or provider.
    RecipientNotOptedIn {
        /// Who refused.
        contact: Address,
    },
    /// The recipient opted out; the chat is now read-only.
    ChatReadOnly {
        /// The contact.
        contact: Address,
    },
    /// The server asked us to slow down.
    RateLimited {
        /// How long to wait, in milliseconds, when the server said.
        retry_after_ms: Option<u64>,
    },
    /// The server's certificate was not accepted.
    CertificateRejected {
        /// The host.
        host: String,
        /// Why (expired, wrong name, unknown issuer, changed pin).
        reason: String,
    },
    /// Few one-time prekeys remain on the server; the plugin is uploading more.
    PrekeysLow {
        /// How many remain.
        remaining: u32,
    },
    /// The paired device (phone) is not reachable.
    DeviceUnreachable {
        /// The device's name.
        device: String,
    },
    /// An attachment is larger than the network accepts.
    AttachmentTooLarge {
        /// The largest accepted size in bytes.
        max_bytes: u64,
    },
    /// A feature the user asked for is not offered by this server.
    Unsupported {
        /// A short machine name for the feature (`spam-reporting`, `mam`).
        feature: String,
    },
    /// History sync or another long task progressed.
    Progress {
        /// What is progressing (`history-sync`, `upload`).
        task: String,
        /// Done so far.
        done: u64,
        /// Total, when known.
        total: Option<u64>,
    },
}
