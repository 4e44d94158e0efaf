//! Requests from people the user does not know yet, and prompts that need an
//! answer from the user.

use crate::account::Secret;
use crate::address::Address;
use crate::ids::{ConversationKey, PromptId, RequestId};
use crate::message::Timestamp;
use serde::{Deserialize, Serialize};

/// A request waiting for the user's decision. Requests are kept apart from the
/// inbox until accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Plugin-scoped id, used to answer.
    pub id: RequestId,
    /// What is asked.
    pub kind: RequestKind,
    /// Who asks.
    pub from: Address,
    /// Their display name, when known.
    pub display_name: Option<String>,
    /// The conversation the request concerns, if there is one already.
    pub conversation: Option<ConversationKey>,
    /// A short preview of the first message or the invite reason.
    pub preview: Option<String>,
    /// When it arrived.
    pub received: Timestamp,
}

/// Kinds of requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RequestKind {
    /// A contact / presence subscription request (XMPP).
    ContactRequest,
    /// An invitation to a room (Matrix, MUC).
    RoomInvite {
        /// The room's name, if given.
        room_name: Option<String>,
    },
    /// A first message from someone not in the contact list.
    FirstMessage,
    /// A third-party user who opted in to reach you through the gatekeeper.
    ThirdPartyOptIn {
        /// The third party's provider name.
        provider: String,
    },
}

/// The user's answer to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Accept: add the contact, join the room, move the chat to the inbox.
    Accept,
    /// Decline without blocking.
    Decline,
    /// Decline and block the sender with the network's own mechanism.
    Block,
    /// Block and report as spam or abuse to the operator, where offered.
    Report,
}

/// A question a plugin needs the user to answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    /// Id used in the answer.
    pub id: PromptId,
    /// What is asked.
    pub kind: PromptKind,
}

/// Kinds of prompts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum PromptKind {
    /// A server presented a certificate that is not trusted: pin it?
    PinCertificate {
        /// The host.
        host: String,
        /// SHA-256 of the certificate, hex with colons.
        fingerprint: String,
        /// Why it is not trusted.
        reason: String,
    },
    /// Compare these emoji with the other device (Matrix SAS).
    CompareEmoji {
        /// The other user.
        with: Address,
        /// The emoji and their English names, in order.
        emoji: Vec<(String, String)>,
    },
    /// Compare a safety number or fingerprint (Signal, OMEMO).
    CompareSafetyNumber {
        /// The other user.
        with: Address,
        /// The number or fingerprint, formatted for reading.
        number: String,
    },
    /// A device wants to pair; check the key shown on both screens.
    PairDevice {
        /// The device's name.
        device: String,
        /// The verification key shown on both devices.
        key: String,
    },
    /// A contact's identity key changed: accept the new key?
    IdentityChanged {
        /// Whose key changed.
        with: Address,
        /// The new fingerprint.
        new_fingerprint: String,
    },
    /// A message to `to` cannot be end-to-end encrypted as their earlier
    /// ones were (their keys cannot be found now): send this one message
    /// unencrypted? `Reject` leaves it unsent (failed). Koine never sends
    /// in plaintext to someone who used encryption without this answer.
    SendUnencrypted {
        /// The recipient.
        to: Address,
        /// Why it cannot be encrypted, for the details.
        reason: String,
    },
    /// Key backup was just set up: show the recovery key once so the user
    /// can copy or save it somewhere safe (it restores the encrypted history
    /// on a new device, even if this computer and its keyring are lost).
    /// `Confirm` means "I have saved it"; until then the question comes back
    /// at each login. The engine keeps prompts in memory only: the key is
    /// never written to the store or a log.
    SaveRecoveryKey {
        /// The account whose key it is.
        account: Address,
        /// The recovery key, formatted for reading.
        #[serde(with = "crate::account::secret_text")]
        key: Secret,
    },
    /// Sign in on the server's web page: open `url` in a browser. The
    /// plugin learns the outcome from the page itself; `Reject` cancels.
    SignInInBrowser {
        /// The server asking (its name, for the prompt's title).
        server: String,
        /// The page to open.
        url: String,
    },
}

/// The answer to a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptAnswer {
    /// Yes: pin, they match, pair, trust.
    Confirm,
    /// No: do not pin, they differ, refuse.
    Reject,
}
