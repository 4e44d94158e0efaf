//! Koine plugin for XMPP.
//!
//! [`Xmpp`] implements [`koine_api::Protocol`] on top of tokio-xmpp's XML
//! stream and SASL code and xmpp-parsers' stanza types. The plugin does its own
//! TLS (to trust an extra CA file and user-pinned certificates, and to report
//! the negotiated TLS version in the route), its own resource binding and its
//! own stream management (so resumption state survives an app restart).
//!
//! Modules, one per protocol feature:
//! - [`config`]: the account settings.
//! - [`tls`]: certificate verification (system roots + `extra_ca_file` + pins).
//! - [`connect`]: TCP, STARTTLS or direct TLS, SCRAM.
//! - [`sm`]: XEP-0198 state, persisted in the data directory.
//! - [`handoff`]: events to the engine; acknowledgements wait for its store.
//! - [`chat`]: messages, receipts, markers, chat states, corrections, carbons.
//! - [`ids`]: the remote id of a message whose sender reused an id.
//! - [`roster`]: contacts and subscription requests.
//! - [`mam`]: archive paging and the catch-up replay.
//! - [`muc`]: group chats.
//! - [`route`]: routes from the negotiated link and disco#info.
//! - [`upload`], [`http`], [`oob`]: attachments through HTTP upload.
//! - [`omemo`]: end-to-end encryption (legacy OMEMO) on `koine-e2ee`.
//!
//! The session itself (`session` and the private modules `setup`, `inbound`,
//! `outbound`, `iq`, `presence`, `commands`) ties them together.
//!
//! See `README.md` in this crate for what is done and the decisions taken.

#![deny(missing_docs)]
// Everything here reads what peers and servers send: no index, slice or
// arithmetic that can panic on their input.
#![warn(
    clippy::string_slice,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
// Tests index what they built themselves; a panic there is a failed test.
#![cfg_attr(
    test,
    allow(
        clippy::string_slice,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

pub mod blocking;
pub mod caps;
pub mod chat;
mod commands;
pub mod config;
pub mod connect;
pub mod discovery;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod handoff;
pub mod http;
pub mod ids;
mod inbound;
mod iq;
pub mod mam;
pub mod muc;
pub mod ns;
pub mod omemo;
pub mod oob;
mod outbound;
pub mod pep;
mod presence;
pub mod roster;
pub mod route;
mod session;
mod setup;
pub mod sm;
pub mod store;
pub mod tls;
pub mod upload;
mod upload_service;
pub mod vcard;

pub use error::XmppError;

use koine_api::{
    AccountField, Address, AddressError, Capabilities, FieldKind, Jid, Label, Protocol, ProtocolId,
    ProtocolInfo, SessionContext, SessionFuture,
};

/// The XMPP protocol plugin. Register it with the engine; every XMPP account
/// then runs one [`Protocol::run`] session.
#[derive(Debug, Clone, Copy, Default)]
pub struct Xmpp;

impl Xmpp {
    /// The plugin.
    pub fn new() -> Self {
        Self
    }
}

fn field(
    key: &str,
    label: &str,
    kind: FieldKind,
    required: bool,
    default: Option<&str>,
) -> AccountField {
    AccountField {
        key: key.into(),
        label: Label::new(format!("xmpp-field-{}", key.replace('_', "-")), label),
        kind,
        required,
        default: default.map(str::to_owned),
    }
}

impl Protocol for Xmpp {
    fn info(&self) -> ProtocolInfo {
        let mut capabilities = Capabilities::text_only();
        capabilities.edits = true;
        capabilities.group_chats = true;
        capabilities.delivery_receipts = true;
        capabilities.read_receipts = true;
        capabilities.typing = true;
        capabilities.presence = true;
        capabilities.history = true;
        capabilities.blocking = true;
        capabilities.reporting = true;
        capabilities.roster = true;
        // The upload service sets the real limit (found at send time); this is
        // the most the plugin will try.
        capabilities.max_attachment_bytes = Some(crate::upload::MAX_FILE);
        ProtocolInfo {
            id: ProtocolId::new("xmpp"),
            name: "XMPP".into(),
            capabilities,
            account_fields: vec![
                field("jid", "Address (user@server)", FieldKind::Text, true, None),
                field("password", "Password", FieldKind::Secret, true, None),
                field(
                    "server_host",
                    "Server host (optional)",
                    FieldKind::Text,
                    false,
                    None,
                ),
                field(
                    "server_port",
                    "Server port (optional)",
                    FieldKind::Number,
                    false,
                    None,
                ),
                field(
                    "tls",
                    "TLS",
                    FieldKind::Choice(vec!["starttls".into(), "direct".into()]),
                    false,
                    Some("starttls"),
                ),
                field(
                    "extra_ca_file",
                    "Extra trusted CA certificate file (optional)",
                    FieldKind::Text,
                    false,
                    None,
                ),
                field(
                    "omemo",
                    "Encrypt chats end to end (OMEMO) when the contact can",
                    FieldKind::Toggle,
                    false,
                    Some("true"),
                ),
            ],
            account_label: Label::new("xmpp-field-jid", "Address (user@server)"),
            face: koine_api::Face {
                badge: Some(std::borrow::Cow::Borrowed(include_bytes!(
                    "../../../assets/badges/xmpp.svg"
                ))),
                about: Some(Label::new(
                    "xmpp-about",
                    "An XMPP account (user@server) and its password; chats are end-to-end encrypted with OMEMO when the contact’s app can.",
                )),
                translations: vec![
                    koine_api::Translation::embedded(
                        "en",
                        include_str!("../../../i18n/en/koine-xmpp.ftl"),
                    ),
                    koine_api::Translation::embedded(
                        "fr",
                        include_str!("../../../i18n/fr/koine-xmpp.ftl"),
                    ),
                ],
            },
        }
    }

    fn parse_address(&self, input: &str) -> Result<Address, AddressError> {
        let input = input.trim();
        let input = input.strip_prefix("xmpp:").unwrap_or(input);
        let jid = Jid::parse(input)?;
        // A contact is a bare `user@domain` JID, also valid for xmpp-rs's
        // stricter (stringprep) parser.
        let strict = tokio_xmpp::jid::BareJid::new(jid.bare().as_str())
            .map_err(|_| AddressError::InvalidJid(input.to_owned()))?;
        if strict.node().is_none() {
            return Err(AddressError::InvalidJid(input.to_owned()));
        }
        Ok(Address::Jid(jid.bare()))
    }

    fn run(&self, context: SessionContext) -> SessionFuture {
        Box::pin(async move { session::run(context).await.map_err(Into::into) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_bare_jids() {
        let p = Xmpp::new();
        assert_eq!(
            p.parse_address("xmpp:Bob@Example.org/phone")
                .expect("valid"),
            Address::Jid(Jid::parse("bob@example.org").expect("jid"))
        );
        assert!(p.parse_address("not a jid").is_err());
        assert!(p.parse_address("+33612345678").is_err());
        assert_eq!(p.info().id.as_str(), "xmpp");
    }
}
