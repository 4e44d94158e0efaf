//! Typed identifiers.
//!
//! Every id is a newtype so that a conversation id can never be passed where a
//! message id is expected. Ids are opaque strings on the wire.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// Wraps a string as this id.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }
    };
}

string_id!(
    /// The engine's id of one configured account. Stable across restarts.
    AccountId
);
string_id!(
    /// A protocol's stable machine name: `"xmpp"`, `"matrix"`, `"gatekeeper"`, `"sms"`.
    ProtocolId
);
string_id!(
    /// A conversation as the network knows it, scoped to one account: a bare
    /// JID, a Matrix room id, an E.164 number, a `provider:id`.
    ConversationKey
);
string_id!(
    /// The id the engine chose for a message it sends, before any server saw it.
    ///
    /// Plugins must carry it on the wire wherever the protocol allows (XMPP
    /// `origin-id`, Matrix transaction id, gatekeeper message id) so that a retry
    /// with the same local id is recognised as a duplicate by the server or peer.
    LocalId
);
string_id!(
    /// A message id assigned by the network (stanza-id, event id, server id).
    RemoteId
);
string_id!(
    /// A pending request (contact request, invite, first message from a stranger).
    RequestId
);
string_id!(
    /// A prompt the plugin asks the user to answer (pin a certificate, compare emoji).
    PromptId
);
