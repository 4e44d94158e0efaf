//! Koine's engine, with no GUI code: accounts (several per network), one task
//! per account owning its plugin session, the unified model of conversations
//! across networks, history in SQLite with full-text search, the persisted
//! outbox, and secrets in the OS keyring.
//!
//! The GUI and the headless CLI drive an [`Engine`] and listen to its
//! [`EngineEvent`]s; neither ever touches a plugin or the database directly.

#![deny(missing_docs)]

pub mod attachment;
pub mod engine;
pub mod model;
pub mod paths;
pub mod people;
pub mod store;
// The vCard reader reads files from anywhere: no slicing or arithmetic
// that could panic on what it is given.
#[warn(
    clippy::string_slice,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
pub mod vcard;

pub use engine::{
    AccountStatus, AnswerOutcome, DowngradeConsent, Engine, EngineConfig, EngineError, EngineEvent,
    ImportReport, InboxRequest, OwnChange, PersonMessage, PersonSend, Registry, RouteChoice,
    RouteOption, RouteSelection, ServerSignOut, StatusReason,
};
pub use people::{Person, PersonId, StrangerPolicy, Strength, Suggestion};

pub use model::{
    AccountRecord, ConversationId, ConversationRecord, MessageId, Preview, StoredMessage,
};
pub use paths::Profile;
pub use store::{RouteSubject, RouteUse, SearchHit, Store, StoreError};
