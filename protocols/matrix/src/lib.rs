//! Koine plugin for Matrix, on matrix-sdk 0.18.
//!
//! [`Matrix`] implements [`koine_api::Protocol`]: password login, or
//! single sign-on on the homeserver's web page when no password is given
//! (the session then restored from the keyring; [`flows::login_flows`] tells
//! what a server offers), the classic `/sync` loop with the
//! resume token in the SDK's encrypted SQLite store, room list and direct
//! chats, messages with replies, edits, reactions, redactions, receipts,
//! typing and media, invites as requests, Megolm end-to-end encryption (on by
//! default in new direct chats), and the route of every room: your
//! homeserver, federation to the other members' servers, and any bridge that
//! announces itself in room state.
//!
//! Account settings: [`account::USER_ID`] (required) and
//! [`account::HOMESERVER`] (optional base URL; `https`, or `http` on loopback
//! only). The secret is the account password. See `README.md` for the
//! decisions behind the design.

#![deny(missing_docs)]
#![warn(
    clippy::string_slice,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

pub mod account;
mod backfill;
mod commands;
mod crypto;
mod error;
pub mod flows;
#[doc(hidden)]
pub mod fuzzing;
mod invites;
mod landing_page;
mod media;
mod mxc;
pub mod route;
mod session;
mod sso;
pub mod timeline;
mod transport;
mod unstored;

pub use error::MatrixError;

use koine_api::{
    AccountField, Address, AddressError, Capabilities, E2eScheme, FieldKind, ForgetContext,
    ForgetFuture, Label, Mxid, Protocol, ProtocolId, ProtocolInfo, SessionContext, SessionError,
    SessionFuture,
};

/// The Matrix protocol plugin.
#[derive(Debug, Default, Clone, Copy)]
pub struct Matrix;

impl Matrix {
    /// The plugin.
    pub fn new() -> Self {
        Self
    }
}

/// Largest attachment offered to the homeserver (Synapse's default upload limit).
const MAX_UPLOAD: u64 = 50 * 1024 * 1024;

impl Protocol for Matrix {
    fn info(&self) -> ProtocolInfo {
        let mut capabilities = Capabilities::text_only();
        capabilities.group_chats = true;
        capabilities.edits = true;
        capabilities.reactions = true;
        capabilities.replies = true;
        capabilities.deletes = true;
        capabilities.read_receipts = true;
        capabilities.typing = true;
        capabilities.history = true;
        capabilities.max_attachment_bytes = Some(MAX_UPLOAD);
        capabilities.e2e = vec![E2eScheme::Megolm];
        capabilities.blocking = true;
        capabilities.reporting = true;
        ProtocolInfo {
            id: ProtocolId::new("matrix"),
            name: "Matrix".into(),
            capabilities,
            account_fields: vec![
                AccountField {
                    key: account::USER_ID.into(),
                    label: Label::new("matrix-field-user-id", "Matrix ID"),
                    kind: FieldKind::Text,
                    required: true,
                    default: None,
                },
                // Without a password, the user signs in on the homeserver's
                // web page (single sign-on), where the server offers it.
                AccountField {
                    key: "password".into(),
                    label: Label::new("matrix-field-password", "Password"),
                    kind: FieldKind::Secret,
                    required: false,
                    default: None,
                },
                AccountField {
                    key: account::HOMESERVER.into(),
                    label: Label::new("matrix-field-homeserver", "Homeserver URL"),
                    kind: FieldKind::Text,
                    required: false,
                    default: None,
                },
                // Only for when the keyring lost the key of this device's
                // encrypted store: without it the account refuses to open
                // (the old identity and message keys stay on disk).
                AccountField {
                    key: account::START_OVER.into(),
                    label: Label::new(
                        "matrix-field-start-over",
                        "Start over with a new identity: the store id from the error (the encrypted history on this device is lost)",
                    ),
                    kind: FieldKind::Text,
                    required: false,
                    default: None,
                },
            ],
            account_label: Label::new("matrix-field-user-id", "Matrix ID"),
            face: koine_api::Face {
                badge: Some(std::borrow::Cow::Borrowed(include_bytes!(
                    "../../../assets/badges/matrix.svg"
                ))),
                about: Some(Label::new(
                    "matrix-about",
                    "A Matrix account on any homeserver; encrypted rooms stay end-to-end encrypted on this computer too.",
                )),
                translations: vec![
                    koine_api::Translation::embedded(
                        "en",
                        include_str!("../../../i18n/en/koine-matrix.ftl"),
                    ),
                    koine_api::Translation::embedded(
                        "fr",
                        include_str!("../../../i18n/fr/koine-matrix.ftl"),
                    ),
                ],
            },
        }
    }

    fn parse_address(&self, input: &str) -> Result<Address, AddressError> {
        Mxid::parse(input).map(Address::Mxid)
    }

    fn run(&self, context: SessionContext) -> SessionFuture {
        Box::pin(session::run(context))
    }

    /// Logs the account's device out on the homeserver, so its access token
    /// is refused from then on, and drops the session, store passphrase and
    /// store files (see [`account::logout`]).
    fn forget(&self, context: ForgetContext) -> ForgetFuture {
        Box::pin(async move {
            account::logout(&context.settings, context.secrets, &context.data_dir)
                .await
                .map_err(SessionError::from)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_user_ids_only() {
        assert!(Matrix.parse_address("@alice:Example.org").is_ok());
        assert!(Matrix.parse_address("alice@example.org").is_err());
        assert!(Matrix.parse_address("").is_err());
    }

    // Room keys go to other devices only through key backup and the
    // sender's own sharing, never on request (the 2022 key-forwarding
    // attacks).
    #[tokio::test]
    async fn room_keys_are_neither_requested_nor_forwarded_automatically() {
        use matrix_sdk::ruma::{device_id, user_id};
        let machine =
            matrix_sdk_crypto::OlmMachine::new(user_id!("@a:koine.test"), device_id!("KOINE"))
                .await;
        assert!(!machine.is_room_key_forwarding_enabled());
        assert!(!machine.are_room_key_requests_enabled());
    }

    #[test]
    fn declares_megolm_and_no_roster() {
        let info = Matrix.info();
        assert_eq!(info.capabilities.e2e, vec![E2eScheme::Megolm]);
        assert!(!info.capabilities.roster);
    }
}
