//! Koine's engine, with no GUI code: accounts (several per network), one task
//! per account owning its plugin session, the unified model of conversations
//! across networks, history in SQLite with full-text search, the persisted
//! outbox, and secrets in the OS keyring.
//!
//! The GUI and the headless CLI drive an [`Engine`] and listen to its
//! [`EngineEvent`]s; neither ever touches a plugin or the database directly.

#![deny(missing_docs)]

pub mod engine;
pub mod model;
pub mod paths;
pub mod store;

pub use engine::{AccountStatus, Engine, EngineConfig, EngineError, EngineEvent, Registry};

pub use model::{AccountRecord, ConversationId, ConversationRecord, MessageId, StoredMessage};
pub use paths::Profile;
pub use store::{SearchHit, Store, StoreError};
