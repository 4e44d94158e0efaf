//! The engine: accounts, their tasks, and the one store.

mod account_task;
mod changes;
mod consent;
mod events;
mod export;
mod files;
mod owner;
mod people;
mod people_vcard;
mod route_choice;

pub use changes::OwnChange;
pub use consent::{AnswerOutcome, InboxRequest};
pub use events::{AccountStatus, EngineEvent, StatusReason};
pub use export::{Export, ExportedConversation};
pub use people::PersonMessage;
pub use people_vcard::ImportReport;
pub use route_choice::{DowngradeConsent, PersonSend, RouteChoice, RouteOption, RouteSelection};

use crate::model::{AccountRecord, ConversationId, ConversationRecord, MessageId, StoredMessage};
use crate::paths::Profile;
use crate::people::PersonId;
use crate::store::messages::Outgoing;
use crate::store::{SearchHit, Store, StoreError};
use account_task::AccountShared;
#[cfg(test)]
use koine_api::Address;
use koine_api::{
    AccountId, Command, Content, ConversationKey, FieldKind, LocalId, Protocol, ProtocolId,
    RemoteId, Secret, SecretError, SecretStore, Settings, Timestamp,
};
use koine_keyring::KeyringSecrets;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use thiserror::Error;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

/// The keyring entry name of an account's password or token.
pub const PASSWORD_SECRET: &str = "password";

/// The plugins this build knows. Only the binary names concrete plugins.
#[derive(Clone, Default)]
pub struct Registry {
    protocols: BTreeMap<ProtocolId, Arc<dyn Protocol>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a plugin.
    pub fn with(mut self, protocol: Arc<dyn Protocol>) -> Self {
        self.protocols.insert(protocol.info().id, protocol);
        self
    }

    /// A plugin by id.
    pub fn get(&self, id: &ProtocolId) -> Option<&Arc<dyn Protocol>> {
        self.protocols.get(id)
    }

    /// All plugins.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Protocol>> {
        self.protocols.values()
    }
}

/// Tunables of the engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// First wait before reconnecting.
    pub backoff_initial: Duration,
    /// Longest wait between reconnects.
    pub backoff_max: Duration,
    /// Capacity of each account's command and event channels.
    pub channel_capacity: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            channel_capacity: 256,
        }
    }
}

/// How long removing an account waits for its server to end its login.
pub const FORGET_TIMEOUT: Duration = Duration::from_secs(15);

/// What became of an account's login on its server when it was removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerSignOut {
    /// There was nothing to end there.
    NotNeeded,
    /// The server ended the login: its tokens are refused from now on.
    Done,
    /// The server could not be told (offline, refused, too slow); the
    /// account was removed from this machine all the same.
    Failed(String),
}

/// Errors of the engine.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The keyring failed.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The profile directory could not be created.
    #[error("profile directory: {0}")]
    Io(#[from] std::io::Error),
    /// Another process (the window, `koine tail`) runs this profile's
    /// sessions; this one must not start a second set.
    #[error("another Koine process is running this profile")]
    ProfileInUse,
    /// The process that owns the profile could not take the work.
    #[error("the running Koine did not take the command: {0}")]
    HandOff(String),
    /// No plugin of that name in this build.
    #[error("unknown network: {0}")]
    UnknownProtocol(String),
    /// No account matches.
    #[error("no account matches {0:?}")]
    UnknownAccount(String),
    /// More than one account matches.
    #[error("{0:?} matches several accounts; use the account id")]
    AmbiguousAccount(String),
    /// A required setting is missing, or a secret was put in the settings.
    #[error("invalid account settings: {0}")]
    Settings(String),
    /// An address the network does not accept.
    #[error(transparent)]
    Address(#[from] koine_api::AddressError),
    /// No person matches.
    #[error("no person matches {0:?}")]
    UnknownPerson(String),
    /// More than one person matches.
    #[error("{0:?} matches several people; use the person's number")]
    AmbiguousPerson(String),
    /// A split needs at least one address to move.
    #[error("nothing to split off")]
    NothingToSplit,
    /// None of the person's addresses is reachable by a configured account.
    #[error("no account can reach person {0}")]
    NoRoute(PersonId),
    /// The requested route (account or reply) is not one of the person's.
    #[error("that route does not lead to person {0}")]
    NotARouteOf(PersonId),
    /// The chosen route is less protected than the best one and the user
    /// has not allowed it: ask, then send again with consent.
    #[error(
        "sending to person {person} through {account} would downgrade the route to {protection:?}; consent needed"
    )]
    DowngradeNeedsConsent {
        /// The person.
        person: PersonId,
        /// The account of the chosen route.
        account: AccountId,
        /// Its protection.
        protection: koine_api::Protection,
    },
    /// No request matches.
    #[error("no request matches {0:?}")]
    UnknownRequest(String),
    /// The account must be online to answer through its network.
    #[error("account {0} is not online")]
    Offline(AccountId),
    /// The message cannot be changed (not sent yet, not one's own).
    #[error("this message cannot be changed: {0}")]
    CannotChange(String),
    /// An address book file could not be read.
    #[error(transparent)]
    Vcard(#[from] crate::vcard::VcardError),
    /// The message has no file at that place.
    #[error("message {} has no file {}", .0.0, .1)]
    NoFile(MessageId, usize),
    /// A received file could not be opened (not downloaded, damaged, its
    /// key missing).
    #[error("the file cannot be opened: {0}")]
    FileUnreadable(String),
}

struct Inner {
    profile: Profile,
    store: Mutex<Store>,
    registry: Registry,
    config: EngineConfig,
    events: broadcast::Sender<EngineEvent>,
    running: Mutex<HashMap<AccountId, Running>>,
    /// The last status of each account, for a window that subscribes late.
    statuses: Mutex<HashMap<AccountId, AccountStatus>>,
    /// This process's hold on the profile, once it claimed it, and
    /// whether it serves other processes' hand-offs.
    owner: Mutex<Option<(Arc<owner::OwnerLock>, bool)>>,
    /// Questions the sessions asked and nobody answered yet, oldest first.
    prompts: Mutex<Vec<(AccountId, koine_api::Prompt)>>,
    /// The last read marker handed to a session, per conversation.
    read_markers: Mutex<HashMap<ConversationId, RemoteId>>,
}

struct Running {
    shared: Arc<AccountShared>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// A handle to the engine; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl Engine {
    /// Opens the profile (creating it if needed) with the given plugins.
    /// The history's key comes from the OS keyring; a profile still in
    /// plaintext is encrypted first (its progress goes to the log: see
    /// [`Engine::open_reporting`]).
    pub fn open(
        profile: Profile,
        registry: Registry,
        config: EngineConfig,
    ) -> Result<Self, EngineError> {
        Self::open_reporting(profile, registry, config, &mut |event| {
            if let EngineEvent::HistoryEncrypting {
                done_bytes,
                total_bytes,
            } = event
            {
                tracing::info!(done_bytes, total_bytes, "encrypting the history");
            }
        })
    }

    /// Like [`Engine::open`], and reports the encryption of a plaintext
    /// history (a profile written before Koine encrypted it) as
    /// [`EngineEvent::HistoryEncrypting`] while it runs, about four times
    /// a second, the last one with all bytes done.
    pub fn open_reporting(
        profile: Profile,
        registry: Registry,
        config: EngineConfig,
        report: &mut dyn FnMut(EngineEvent),
    ) -> Result<Self, EngineError> {
        profile.ensure()?;
        let secrets = KeyringSecrets::scoped(profile.database_key_scope()?);
        let mut store = Store::open_profile(&profile.database(), &secrets, &mut |p| {
            report(EngineEvent::HistoryEncrypting {
                done_bytes: p.done_bytes,
                total_bytes: p.total_bytes,
            });
        })?;
        // Contacts and chats stored by a version that adopted them only
        // when people were listed.
        store.adopt_unassigned()?;
        let (events, _) = broadcast::channel(4096);
        let engine = Self {
            inner: Arc::new(Inner {
                profile,
                store: Mutex::new(store),
                registry,
                config,
                events,
                running: Mutex::new(HashMap::new()),
                statuses: Mutex::new(HashMap::new()),
                owner: Mutex::new(None),
                prompts: Mutex::new(Vec::new()),
                read_markers: Mutex::new(HashMap::new()),
            }),
        };
        // Files a crashed run opened for the desktop.
        engine.remove_opened_files();
        Ok(engine)
    }

    /// The profile in use.
    pub fn profile(&self) -> &Profile {
        &self.inner.profile
    }

    /// Whether the history is encrypted on this computer (it is, for every
    /// profile the engine opens; the route inspector says so only then).
    pub fn history_encrypted(&self) -> bool {
        self.store().is_encrypted()
    }

    /// Deletes every message of a conversation (the conversation stays,
    /// empty), and checkpoints, so that nothing of them is left readable
    /// in the file, its WAL or the search index.
    pub fn clear_history(&self, conversation: ConversationId) -> Result<u64, EngineError> {
        let mut store = self.store();
        let removed = store.clear_history(conversation)?;
        store.checkpoint()?;
        Ok(removed)
    }

    /// The plugins.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// Listens to engine events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.inner.events.subscribe()
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.inner.store)
    }

    /// Adds an account: settings in the store, the secret in the keyring.
    pub async fn add_account(
        &self,
        protocol: &ProtocolId,
        label: &str,
        settings: Settings,
        secret: Option<Secret>,
    ) -> Result<AccountRecord, EngineError> {
        let plugin = self
            .inner
            .registry
            .get(protocol)
            .ok_or_else(|| EngineError::UnknownProtocol(protocol.to_string()))?;
        let info = plugin.info();
        for field in &info.account_fields {
            let value = settings.get(&field.key);
            if field.kind == FieldKind::Secret {
                if value.is_some() {
                    return Err(EngineError::Settings(format!(
                        "{} is a secret: pass it through the keyring prompt, not the settings",
                        field.key
                    )));
                }
                if field.required && secret.is_none() {
                    return Err(EngineError::Settings(format!("{} is required", field.key)));
                }
            } else if field.required && value.is_none_or(str::is_empty) && field.default.is_none() {
                return Err(EngineError::Settings(format!("{} is required", field.key)));
            }
        }
        let mut settings = settings;
        for field in &info.account_fields {
            if let (None, Some(default)) = (settings.get(&field.key), &field.default) {
                settings.set(field.key.clone(), default.clone());
            }
        }
        let record = AccountRecord {
            id: AccountId::new(format!(
                "acct-{}",
                &uuid::Uuid::new_v4().simple().to_string()[..12]
            )),
            protocol: protocol.clone(),
            label: label.to_owned(),
            settings,
            enabled: true,
            created_at: Timestamp::now(),
        };
        if let Some(secret) = secret {
            let secrets = KeyringSecrets::scoped(record.id.as_str());
            tokio::task::spawn_blocking(move || secrets.set(PASSWORD_SECRET, &secret))
                .await
                .map_err(|e| SecretError::Other(e.to_string()))??;
        }
        self.store().insert_account(&record)?;
        Ok(record)
    }

    /// All accounts.
    pub fn accounts(&self) -> Result<Vec<AccountRecord>, EngineError> {
        Ok(self.store().accounts()?)
    }

    /// Finds an account by id or by its label (which must be unambiguous).
    pub fn find_account(&self, id_or_label: &str) -> Result<AccountRecord, EngineError> {
        let accounts = self.accounts()?;
        if let Some(a) = accounts.iter().find(|a| a.id.as_str() == id_or_label) {
            return Ok(a.clone());
        }
        let mut matching = accounts.into_iter().filter(|a| a.label == id_or_label);
        match (matching.next(), matching.next()) {
            (Some(a), None) => Ok(a),
            (Some(_), Some(_)) => Err(EngineError::AmbiguousAccount(id_or_label.to_owned())),
            (None, _) => Err(EngineError::UnknownAccount(id_or_label.to_owned())),
        }
    }

    /// Stops and removes an account with its history, its plugin data and
    /// every secret it kept in the keyring (password, tokens, keys), after
    /// asking its server to end its login (see
    /// [`Engine::remove_account_reporting`], which also says whether the
    /// server was told).
    pub async fn remove_account(&self, id: &AccountId) -> Result<(), EngineError> {
        self.remove_account_reporting(id).await.map(|_| ())
    }

    /// Like [`Engine::remove_account`], and says what became of the
    /// account's login on its server. The plugin gets
    /// [`FORGET_TIMEOUT`] to end it ([`Protocol::forget`]); offline, refused
    /// or too slow, the account is removed all the same and the answer is
    /// [`ServerSignOut::Failed`].
    pub async fn remove_account_reporting(
        &self,
        id: &AccountId,
    ) -> Result<ServerSignOut, EngineError> {
        self.stop(id).await;
        let sign_out = self.forget_on_server(id).await;
        if let ServerSignOut::Failed(reason) = &sign_out {
            tracing::warn!("account {id} removed without signing out on its server: {reason}");
        }
        let secrets = KeyringSecrets::scoped(id.as_str());
        tokio::task::spawn_blocking(move || secrets.delete_all())
            .await
            .map_err(|e| SecretError::Other(e.to_string()))??;
        if !self.store().remove_account(id)? {
            return Err(EngineError::UnknownAccount(id.to_string()));
        }
        self.store().checkpoint()?;
        lock(&self.inner.statuses).remove(id);
        let dir = self.inner.profile.account_dir(id.as_str());
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        Ok(sign_out)
    }

    /// Runs the plugin's [`Protocol::forget`] for an account about to be
    /// removed, bounded by [`FORGET_TIMEOUT`]; never fails.
    async fn forget_on_server(&self, id: &AccountId) -> ServerSignOut {
        let account = match self.store().account(id) {
            Ok(account) => account,
            Err(e) => return ServerSignOut::Failed(e.to_string()),
        };
        let Some(protocol) = self.inner.registry.get(&account.protocol).cloned() else {
            return ServerSignOut::NotNeeded;
        };
        let secrets = KeyringSecrets::scoped(id.as_str());
        let lookup = secrets.clone();
        let secret = tokio::task::spawn_blocking(move || lookup.get(PASSWORD_SECRET))
            .await
            .ok()
            .and_then(Result::ok)
            .flatten();
        let context = koine_api::ForgetContext {
            account: id.clone(),
            settings: account.settings,
            secret,
            secrets: Arc::new(secrets),
            data_dir: self.inner.profile.account_dir(id.as_str()),
        };
        // In its own task: a plugin that panics cannot stop the removal.
        let task = tokio::spawn(protocol.forget(context));
        let abort = task.abort_handle();
        match tokio::time::timeout(FORGET_TIMEOUT, task).await {
            Ok(Ok(Ok(koine_api::Forgotten::SignedOut))) => ServerSignOut::Done,
            Ok(Ok(Ok(_))) => ServerSignOut::NotNeeded,
            Ok(Ok(Err(e))) => ServerSignOut::Failed(e.to_string()),
            Ok(Err(e)) => ServerSignOut::Failed(e.to_string()),
            Err(_) => {
                abort.abort();
                ServerSignOut::Failed("the server did not answer in time".into())
            }
        }
    }

    /// Starts every enabled account.
    pub fn start_all(&self) -> Result<(), EngineError> {
        for account in self.accounts()? {
            if account.enabled {
                self.start(&account.id)?;
            }
        }
        Ok(())
    }

    /// Starts one account's task (no-op when running).
    /// Fails with [`EngineError::ProfileInUse`] when another process owns
    /// the profile's sessions (see [`Engine::hand_off`]).
    pub fn start(&self, id: &AccountId) -> Result<(), EngineError> {
        let account = self.store().account(id)?;
        self.claim()?;
        let protocol = self
            .inner
            .registry
            .get(&account.protocol)
            .cloned()
            .ok_or_else(|| EngineError::UnknownProtocol(account.protocol.to_string()))?;
        let mut running = lock(&self.inner.running);
        if running.get(id).is_some_and(|r| !r.task.is_finished()) {
            return Ok(());
        }
        let shared = Arc::new(AccountShared::default());
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(account_task::supervise(
            self.clone(),
            account,
            protocol,
            shared.clone(),
            stop_rx,
        ));
        running.insert(id.clone(), Running { shared, stop, task });
        Ok(())
    }

    /// Hands what waits in an account's outbox to its live session.
    pub(super) async fn replay(&self, id: &AccountId) {
        let shared = lock(&self.inner.running).get(id).map(|r| r.shared.clone());
        if let Some(shared) = shared
            && shared.is_online()
        {
            account_task::replay_outbox(self, id, &shared).await;
        }
    }

    /// Stops one account's task and waits for it.
    pub async fn stop(&self, id: &AccountId) {
        let running = lock(&self.inner.running).remove(id);
        if let Some(running) = running {
            let _ = running.stop.send(true);
            let _ = running.task.await;
        }
    }

    /// Stops every account.
    pub async fn shutdown(&self) {
        let ids: Vec<AccountId> = lock(&self.inner.running).keys().cloned().collect();
        for id in ids {
            self.stop(&id).await;
        }
        self.remove_opened_files();
    }

    /// Sends a message. It is committed to the store and the outbox before
    /// any plugin sees it; it goes out now if the account is online, or when it
    /// next connects.
    pub async fn send(
        &self,
        account: &AccountId,
        to: &ConversationKey,
        content: Content,
        reply_to: Option<RemoteId>,
    ) -> Result<(LocalId, MessageId), EngineError> {
        let record = self.store().account(account)?;
        let protocol = self
            .inner
            .registry
            .get(&record.protocol)
            .ok_or_else(|| EngineError::UnknownProtocol(record.protocol.to_string()))?;
        let me = self.own_address(account)?;
        let local_id = LocalId::new(uuid::Uuid::new_v4().to_string());
        let command = Command::SendMessage {
            local_id: local_id.clone(),
            conversation: to.clone(),
            content,
            reply_to,
        };
        let (message_id, queued, created) = {
            let mut store = self.store();
            let peer = protocol.parse_address(to.as_str()).ok();
            let (conversation, created) =
                store.ensure_conversation(account, to, peer.as_ref(), false)?;
            let id = store.queue_message(&Outgoing {
                account,
                conversation,
                sender: &me,
                command: &command,
                timestamp: Timestamp::now(),
            })?;
            (id, store.message(id)?, (conversation, created))
        };
        // The events carry the chat's record (its new last message) and the
        // queued row: the window shows both without reading anything again.
        let (conversation, created) = created;
        self.announce_conversations(account, &[conversation])?;
        if created {
            self.adopt_people()?;
        }
        self.emit(EngineEvent::MessageUpdated {
            account: account.clone(),
            message: queued,
        });
        self.dispatch(account, command).await;
        Ok((local_id, message_id))
    }

    /// Sends any other command. Durable ones (edit, reaction, deletion) go
    /// through the outbox like messages.
    pub async fn command(&self, account: &AccountId, command: Command) -> Result<(), EngineError> {
        if let Command::AnswerPrompt { prompt, .. } = &command {
            lock(&self.inner.prompts).retain(|(a, p)| !(a == account && &p.id == prompt));
        }
        if command.local_id().is_some() {
            self.store().enqueue(account, &command)?;
        }
        self.dispatch(account, command).await;
        Ok(())
    }

    /// Hands a command to the account's live session, if there is one.
    async fn dispatch(&self, account: &AccountId, command: Command) {
        let shared = lock(&self.inner.running)
            .get(account)
            .map(|r| r.shared.clone());
        if let Some(shared) = shared {
            shared.dispatch(command).await;
        }
    }

    /// The unified conversation list.
    pub fn conversations(&self) -> Result<Vec<ConversationRecord>, EngineError> {
        Ok(self.store().conversations()?)
    }

    /// A page of a conversation, oldest first.
    pub fn messages(
        &self,
        conversation: ConversationId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<StoredMessage>, EngineError> {
        Ok(self.store().messages(conversation, before, limit)?)
    }

    /// The questions the running sessions asked and nobody answered yet
    /// (pair this phone, pin this certificate, compare these numbers),
    /// oldest first. Answer with [`Command::AnswerPrompt`].
    pub fn open_prompts(&self) -> Vec<(AccountId, koine_api::Prompt)> {
        lock(&self.inner.prompts).clone()
    }

    /// The user read a conversation: its unread count goes to zero, and the
    /// network is told up to the newest message received (a read marker,
    /// a read receipt) where it has them. Not in Requests: a stranger does
    /// not learn that their message was read before the user accepts them.
    pub async fn mark_read(&self, id: ConversationId) -> Result<(), EngineError> {
        let (conversation, newest) = {
            let store = self.store();
            store.mark_read(id)?;
            (store.conversation(id)?, store.newest_incoming(id)?)
        };
        self.emit(EngineEvent::ConversationChanged {
            account: conversation.account.clone(),
            conversation: conversation.clone(),
        });
        let Some(up_to) = newest else { return Ok(()) };
        let receipts = self
            .plugin_info(&conversation.account)?
            .is_some_and(|i| i.capabilities.read_receipts);
        if conversation.is_request || !receipts {
            return Ok(());
        }
        {
            let mut sent = lock(&self.inner.read_markers);
            if sent.get(&id) == Some(&up_to) {
                return Ok(());
            }
            sent.insert(id, up_to.clone());
        }
        self.dispatch(
            &conversation.account,
            Command::MarkRead {
                conversation: conversation.key,
                up_to,
            },
        )
        .await;
        Ok(())
    }

    /// Tells a conversation's other side that the user is typing, or
    /// stopped, where the network has typing notices. Not in Requests.
    pub async fn set_typing(&self, id: ConversationId, typing: bool) -> Result<(), EngineError> {
        let conversation = self.store().conversation(id)?;
        let supported = self
            .plugin_info(&conversation.account)?
            .is_some_and(|i| i.capabilities.typing);
        if conversation.is_request || conversation.read_only || !supported {
            return Ok(());
        }
        let state = if typing {
            koine_api::ChatState::Composing
        } else {
            koine_api::ChatState::Paused
        };
        self.dispatch(
            &conversation.account,
            Command::SetChatState {
                conversation: conversation.key,
                state,
            },
        )
        .await;
        Ok(())
    }

    /// One stored message.
    pub fn message(&self, id: MessageId) -> Result<StoredMessage, EngineError> {
        Ok(self.store().message(id)?)
    }

    /// Full-text search over every account's history.
    pub fn search(&self, query: &str, limit: u32) -> Result<Vec<SearchHit>, EngineError> {
        Ok(self.store().search(query, limit)?)
    }

    /// How many durable commands wait in the outbox.
    pub fn outbox_len(&self) -> Result<u64, EngineError> {
        Ok(self.store().outbox_len()?)
    }

    /// Changes one setting of an account (never a secret: those go to the
    /// keyring). A running session keeps its settings until it restarts;
    /// one that ended (a failed account) takes them at its next start.
    pub fn set_account_setting(
        &self,
        account: &AccountId,
        key: &str,
        value: &str,
    ) -> Result<(), EngineError> {
        let secret = self.plugin_info(account)?.is_some_and(|i| {
            i.account_fields
                .iter()
                .any(|f| f.key == key && f.kind == FieldKind::Secret)
        });
        if secret {
            return Err(EngineError::Settings(format!(
                "{key} is a secret: it is kept in the keyring, not the settings"
            )));
        }
        Ok(self.store().set_account_setting(account, key, value)?)
    }

    /// What the plugin of an account's network offers (`None` when this
    /// build has no plugin for it).
    fn plugin_info(
        &self,
        account: &AccountId,
    ) -> Result<Option<koine_api::ProtocolInfo>, EngineError> {
        let record = self.store().account(account)?;
        Ok(self.inner.registry.get(&record.protocol).map(|p| p.info()))
    }

    /// Keeps (or, with `None` or empty text, clears) a conversation's
    /// unsent text.
    pub fn set_draft(&self, id: ConversationId, draft: Option<&str>) -> Result<(), EngineError> {
        Ok(self.store().set_draft(id, draft)?)
    }

    /// Adds or updates a contact of an account, as if its network had
    /// reported it (the demo's people; an address book the user trusts).
    pub fn add_contact(
        &self,
        account: &AccountId,
        contact: &koine_api::Contact,
    ) -> Result<(), EngineError> {
        self.store().upsert_contact(account, contact)?;
        self.people_changed()?;
        Ok(())
    }

    /// How many messages a conversation holds.
    pub fn message_count(&self, id: ConversationId) -> Result<u64, EngineError> {
        Ok(self.store().message_count(id)?)
    }

    /// Runs `f` with the store locked. For tests only (the `testing`
    /// feature): the window and the command line go through the methods
    /// above, so that every change is announced to the listeners.
    #[cfg(any(test, feature = "testing"))]
    #[doc(hidden)]
    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        f(&mut self.store())
    }

    /// Announces conversations with their records as stored now.
    pub(super) fn announce_conversations(
        &self,
        account: &AccountId,
        ids: &[ConversationId],
    ) -> Result<(), StoreError> {
        let records = {
            let store = self.store();
            ids.iter()
                .map(|id| store.conversation(*id))
                .collect::<Result<Vec<_>, _>>()?
        };
        for conversation in records {
            self.emit(EngineEvent::ConversationChanged {
                account: account.clone(),
                conversation,
            });
        }
        Ok(())
    }

    /// Says that people changed, after giving any address left without a
    /// person one of its own.
    pub(super) fn people_changed(&self) -> Result<(), StoreError> {
        self.store().adopt_unassigned()?;
        self.emit(EngineEvent::PeopleChanged);
        Ok(())
    }

    /// Gives every new contact and every accepted direct chat's peer a
    /// person of their own, and says so. Runs when they arrive, so that
    /// reading the people never writes.
    pub(super) fn adopt_people(&self) -> Result<(), StoreError> {
        if self.store().adopt_unassigned()? {
            self.emit(EngineEvent::PeopleChanged);
        }
        Ok(())
    }

    fn emit(&self, event: EngineEvent) {
        if let EngineEvent::AccountStatus { account, status } = &event {
            lock(&self.inner.statuses).insert(account.clone(), status.clone());
        }
        // No listener is fine: events are also in the store.
        let _ = self.inner.events.send(event);
    }

    /// The current status of every account the engine has started (an
    /// account never started is [`AccountStatus::Stopped`]). A window that
    /// subscribes after the accounts started reads this first.
    pub fn account_statuses(&self) -> HashMap<AccountId, AccountStatus> {
        lock(&self.inner.statuses).clone()
    }
}

/// Locks a mutex, recovering from poisoning (a panicked holder cannot leave
/// SQLite half-written: every write is a transaction).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod change_events_tests;
#[cfg(test)]
mod changes_tests;
#[cfg(test)]
mod consent_tests;
#[cfg(test)]
mod files_tests;
#[cfg(test)]
mod people_tests;
#[cfg(test)]
mod route_tests;
#[cfg(test)]
mod route_truth_tests;
mod status_reason;
#[cfg(test)]
mod test_net;
#[cfg(test)]
mod tests;
