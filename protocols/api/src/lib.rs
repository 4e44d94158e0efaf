//! The plugin API of Koine.
//!
//! Koine joins several chat networks in one window and shows, for every chat
//! and message, the **route** it travels. Each network is a plugin: a type
//! that implements [`Protocol`]. The engine runs one session per account in
//! its own task; the session owns the network client, takes [`Command`]s in
//! and reports [`Event`]s out. Plugins never touch the UI or the store.
//!
//! The crate is permissively licensed (MIT OR Apache-2.0) so that plugins of
//! any license can implement it.
//!
//! # The parts
//!
//! - [`Protocol`]: describe the protocol ([`ProtocolInfo`], [`Capabilities`],
//!   [`AccountField`]s), parse addresses, [`run`](Protocol::run) a session.
//! - [`Address`] and its forms ([`PhoneNumber`], [`Jid`], [`Mxid`],
//!   [`ProviderAddress`]) with strict parsing and normalisation.
//! - [`Route`]: ordered [`Hop`]s with host, operator, [`HopKind`],
//!   [`TransportSecurity`] and [`Visibility`], plus the [`EndToEnd`] layer.
//!   [`Route::protection`] derives what the route really gives.
//! - [`Message`], [`Content`], [`Attachment`], [`DeliveryState`],
//!   [`MessageChange`] (edits, reactions, deletions).
//! - Consent: [`Request`]s from strangers, answered with a [`Decision`];
//!   [`Prompt`]s (pin a certificate, compare emoji) answered with a
//!   [`PromptAnswer`].
//! - Typed errors ([`SessionError`], [`ProtocolError`], [`SendError`]) and
//!   typed [`Notice`]s that the UI translates.
//!
//! # A minimal plugin
//!
//! An "echo" network that answers every message with the same text. It shows
//! the whole contract: report the connection with its real link, acknowledge
//! each durable command by its local id (a repeated id is the same message),
//! report incoming messages with their route, end when the command channel
//! closes.
//!
//! ```
//! use koine_api::*;
//!
//! struct Echo;
//!
//! fn route() -> Route {
//!     Route {
//!         hops: vec![Hop::new("echo.invalid", HopKind::ClientLink, TransportSecurity::Plaintext)
//!             .reading(Visibility::Content)],
//!         end_to_end: EndToEnd::none(),
//!     }
//! }
//!
//! impl Protocol for Echo {
//!     fn info(&self) -> ProtocolInfo {
//!         ProtocolInfo {
//!             id: ProtocolId::new("echo"),
//!             name: "Echo".into(),
//!             capabilities: Capabilities::text_only(),
//!             account_fields: vec![],
//!             account_label: Label::new("echo-account", "Echo"),
//!             face: Default::default(),
//!         }
//!     }
//!
//!     fn parse_address(&self, input: &str) -> Result<Address, AddressError> {
//!         Jid::parse(input).map(Address::Jid)
//!     }
//!
//!     fn run(&self, mut cx: SessionContext) -> SessionFuture {
//!         Box::pin(async move {
//!             let link = route().hops[0].clone();
//!             cx.events.emit(Event::ConnectionChanged(ConnectionState::Online { link })).await?;
//!             let mut seen = std::collections::HashSet::new();
//!             while let Some(command) = cx.commands.recv().await {
//!                 if let Command::SendMessage { local_id, conversation, content, .. } = command {
//!                     let remote_id = RemoteId::new(format!("echo-{local_id}"));
//!                     cx.events.emit(Event::SendAcked {
//!                         local_id: local_id.clone(),
//!                         remote_id: remote_id.clone(),
//!                         route: route(),
//!                     }).await?;
//!                     if !seen.insert(local_id) {
//!                         continue; // a retry: acknowledged again, not echoed twice
//!                     }
//!                     cx.events.emit(Event::MessageReceived(Message {
//!                         conversation: conversation.clone(),
//!                         remote_id: RemoteId::new(format!("{remote_id}-reply")),
//!                         local_id: None,
//!                         sender: Address::Jid(Jid::parse(conversation.as_str())?),
//!                         sender_name: None,
//!                         direction: Direction::Incoming,
//!                         timestamp: Timestamp::now(),
//!                         content,
//!                         reply_to: Some(remote_id),
//!                         route: route(),
//!                     })).await?;
//!                 }
//!             }
//!             Ok(())
//!         })
//!     }
//! }
//! # let _ = Echo.info();
//! ```
//!
//! See `README.md` in this crate for the full guide, and the
//! `koine-conformance` crate for the test suite every plugin must pass.

#![deny(missing_docs)]
// Addresses and settings come from users, peers and servers: no index,
// slice or arithmetic that can panic on their input.
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

mod account;
mod address;
mod capabilities;
mod command;
mod consent;
mod error;
mod event;
mod events;
mod ids;
mod message;
mod notice;
mod plugin;
mod route;

pub use account::{
    AccountField, FieldKind, Label, Secret, SecretError, SecretStore, Settings, SettingsError,
};
pub use address::{Address, AddressError, Jid, Mxid, PhoneNumber, ProviderAddress};
pub use capabilities::Capabilities;
pub use command::Command;
pub use consent::{Decision, Prompt, PromptAnswer, PromptKind, Request, RequestKind};
pub use error::{ProtocolError, SendError, SessionError};
pub use event::{
    Availability, ConnectionState, Contact, Conversation, ConversationKind, Event, Profile,
};
pub use ids::{AccountId, ConversationKey, LocalId, PromptId, ProtocolId, RemoteId, RequestId};
pub use message::{
    Attachment, AttachmentSource, Author, ChatState, Content, DeliveryState, Direction, Message,
    MessageChange, Timestamp,
};
pub use notice::{InputSource, Notice};
pub use plugin::{
    EngineGone, EventReceiver, EventSink, Face, ForgetContext, ForgetFuture, Forgotten, Protocol,
    ProtocolInfo, SessionContext, SessionFuture, Translation,
};
pub use route::{
    E2eEnd, E2eScheme, EndToEnd, Hop, HopKind, Protection, Route, RouteError, TlsVersion,
    TransportSecurity, Verification, Visibility,
};
