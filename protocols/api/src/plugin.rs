//! The trait a network plugin implements, and the context a session runs in.

use crate::account::{AccountField, Label, Secret, SecretStore, Settings};
use crate::address::{Address, AddressError};
use crate::capabilities::Capabilities;
use crate::command::Command;
use crate::error::SessionError;
use crate::ids::{AccountId, ProtocolId};
use std::borrow::Cow;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::mpsc;

/// A session's future, as the engine spawns it.
pub type SessionFuture = Pin<Box<dyn Future<Output = Result<(), SessionError>> + Send + 'static>>;

/// Static facts about a protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolInfo {
    /// Machine name, stable forever (`"xmpp"`).
    pub id: ProtocolId,
    /// The network's name as shown to users (`"XMPP"`); not translated.
    pub name: String,
    /// What the protocol can do.
    pub capabilities: Capabilities,
    /// The fields of the account setup form, in order.
    pub account_fields: Vec<AccountField>,
    /// The label of the field that names the account (its user id), shown in lists.
    pub account_label: Label,
    /// How the window shows the network: badge and translated labels.
    pub face: Face,
}

/// How the window shows a network. The window knows nothing of any plugin:
/// it draws this badge beside the network's accounts and chats, and looks
/// every [`Label`] id the plugin uses (account fields, account label) up in
/// these translations, falling back to the label's own English text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Face {
    /// A square SVG image, drawn 16 to 24 pixels wide. Without one, the
    /// window shows the network name's first letters.
    pub badge: Option<Cow<'static, [u8]>>,
    /// Fluent sources, one per language tag (`"en"`, `"fr"`), each with one
    /// message per label id. Ids start with the protocol id (`xmpp-field-jid`)
    /// so that plugins never collide.
    pub translations: Vec<Translation>,
    /// One sentence for the welcome screen: what the user needs for an
    /// account on this network, and how it protects messages.
    pub about: Option<Label>,
}

/// One language's texts of a plugin, as Fluent source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation {
    /// The language tag (`"fr"`).
    pub lang: Cow<'static, str>,
    /// The Fluent source.
    pub ftl: Cow<'static, str>,
}

impl Translation {
    /// A translation built into the plugin (`include_str!`).
    pub const fn embedded(lang: &'static str, ftl: &'static str) -> Self {
        Self {
            lang: Cow::Borrowed(lang),
            ftl: Cow::Borrowed(ftl),
        }
    }
}

/// A network plugin: the one trait to implement.
///
/// The required core is small: describe yourself, parse addresses, and run a
/// session. Everything else (sending, history, requests, prompts) flows
/// through [`Command`]s in and [`Event`]s out of the session, so a plugin adds
/// features without the trait growing.
pub trait Protocol: Send + Sync + 'static {
    /// Describes the protocol.
    fn info(&self) -> ProtocolInfo;

    /// Parses and normalises a contact address typed by the user or read from
    /// a file, accepting only the forms this network uses.
    fn parse_address(&self, input: &str) -> Result<Address, AddressError>;

    /// Runs one session of one account until it ends.
    ///
    /// The engine calls this in its own task, one per account. The future owns
    /// the network client: it connects, reports
    /// [`crate::ConnectionState::Online`], then serves commands from
    /// [`SessionContext::commands`] and reports what happens through
    /// [`SessionContext::events`]. It returns `Ok(())` when the command channel
    /// closes (the engine stopped the account) and an error when the
    /// connection is lost or refused; the engine decides about reconnecting
    /// ([`SessionError::is_retryable`]) and starts a new session with a fresh
    /// context. It must never panic on input from the network.
    fn run(&self, context: SessionContext) -> SessionFuture;

    /// Lets the server forget the account, when the user removes it.
    ///
    /// The engine calls this once, after stopping the account's session and
    /// before deleting its keyring scope and data directory, so the plugin
    /// can still read the tokens it kept there: a plugin whose server holds
    /// a login (an access token, a registered device) ends it here, so what
    /// stays behind on the user's disk or in backups is worthless. The
    /// engine bounds the call with a timeout and removes the account
    /// whatever the outcome: an error or a timeout only means the server was
    /// not told, which the engine reports. The default does nothing and
    /// returns [`Forgotten::NothingToDo`].
    fn forget(&self, context: ForgetContext) -> ForgetFuture {
        let _ = context;
        Box::pin(async { Ok(Forgotten::NothingToDo) })
    }
}

/// The future of [`Protocol::forget`].
pub type ForgetFuture =
    Pin<Box<dyn Future<Output = Result<Forgotten, SessionError>> + Send + 'static>>;

/// What [`Protocol::forget`] gets: the account as its sessions saw it.
pub struct ForgetContext {
    /// The account being removed.
    pub account: AccountId,
    /// Its settings.
    pub settings: Settings,
    /// Its password or token from the keyring, if it had one.
    pub secret: Option<Secret>,
    /// Its keyring scope, still intact (the engine empties it afterwards).
    pub secrets: Arc<dyn SecretStore>,
    /// Its data directory, still intact (the engine deletes it afterwards).
    pub data_dir: PathBuf,
}

/// What [`Protocol::forget`] did on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forgotten {
    /// The server held nothing to end (or the plugin never logs in).
    NothingToDo,
    /// The server ended the account's login; its tokens are now refused.
    SignedOut,
}

/// Everything a session gets from the engine.
pub struct SessionContext {
    /// The account this session serves.
    pub account: AccountId,
    /// The account's settings (never secrets).
    pub settings: Settings,
    /// The account's password or token, read from the keyring by the engine.
    pub secret: Option<Secret>,
    /// The account's own keyring scope, for keys and tokens the plugin makes.
    pub secrets: Arc<dyn SecretStore>,
    /// A private directory for the plugin's own state (sync tokens, key
    /// stores). It exists when the session starts.
    pub data_dir: PathBuf,
    /// Commands from the engine.
    pub commands: mpsc::Receiver<Command>,
    /// Where to report events.
    pub events: EventSink,
}

pub use crate::events::{EngineGone, EventReceiver, EventSink};

impl From<EngineGone> for SessionError {
    fn from(_: EngineGone) -> Self {
        SessionError::Network("engine stopped".into())
    }
}
