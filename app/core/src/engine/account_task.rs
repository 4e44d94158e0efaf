//! One task per account: it runs the plugin's session, reconnects with
//! backoff, replays the outbox when online, and turns plugin events into
//! stored state and engine events.

use super::{AccountStatus, Engine, EngineEvent, PASSWORD_SECRET, StatusReason, lock};
use crate::model::AccountRecord;
use koine_api::{
    Command, ConnectionState, Direction, Event, EventSink, LocalId, MessageChange, Notice,
    Protocol, SecretStore, SessionContext, SessionError,
};
use koine_keyring::KeyringSecrets;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// How far ahead of this machine's clock a message's date is believed.
const FUTURE_SKEW_MS: i64 = 5 * 60 * 1000;

/// At most this many events are taken from a session at once.
const BATCH: usize = 256;

/// State shared between an account's task and the engine handle.
#[derive(Default)]
pub(super) struct AccountShared {
    /// The running session's command channel, and whether it is online.
    /// Before it is online only answers to its prompts go through: a
    /// session may ask (pair this device, pin this certificate) before it
    /// can go online.
    session: Mutex<Option<(mpsc::Sender<Command>, bool)>>,
    /// Durable commands handed to the live session and not yet answered:
    /// each goes to one session at most once.
    in_flight: Mutex<HashSet<LocalId>>,
}

impl AccountShared {
    /// Hands a command to the live session, once per session for durable ones.
    pub(super) async fn dispatch(&self, command: Command) {
        let sender = match &*lock(&self.session) {
            Some((tx, online)) if *online || matches!(command, Command::AnswerPrompt { .. }) => {
                tx.clone()
            }
            _ => return, // offline: the outbox keeps durable commands
        };
        if let Some(id) = command.local_id()
            && !lock(&self.in_flight).insert(id.clone())
        {
            return;
        }
        let id = command.local_id().cloned();
        if sender.send(command).await.is_err()
            && let Some(id) = id
        {
            lock(&self.in_flight).remove(&id);
        }
    }

    /// Whether a live session takes commands now.
    pub(super) fn is_online(&self) -> bool {
        matches!(&*lock(&self.session), Some((_, true)))
    }

    fn started(&self, sender: mpsc::Sender<Command>) {
        *lock(&self.session) = Some((sender, false));
    }

    fn went_online(&self) {
        if let Some((_, online)) = &mut *lock(&self.session) {
            *online = true;
        }
    }

    fn went_offline(&self) {
        *lock(&self.session) = None;
        lock(&self.in_flight).clear();
    }

    fn answered(&self, id: &LocalId) {
        lock(&self.in_flight).remove(id);
    }
}

enum Outcome {
    /// Stop requested.
    Stopped,
    /// The session ended; reconnect after a pause unless it is final.
    Ended(Result<(), SessionError>),
    /// The session panicked.
    Panicked(String),
    /// The store refused what the session reported: nothing after the last
    /// commit was acknowledged, and a new session after a pause receives it
    /// again.
    StoreFailed(String),
}

pub(super) async fn supervise(
    engine: Engine,
    account: AccountRecord,
    protocol: Arc<dyn Protocol>,
    shared: Arc<AccountShared>,
    mut stop: watch::Receiver<bool>,
) {
    let config = engine.inner.config.clone();
    let mut backoff = config.backoff_initial;
    let id = account.id.clone();
    loop {
        engine.emit(EngineEvent::AccountStatus {
            account: id.clone(),
            status: AccountStatus::Connecting,
        });
        let outcome = run_session(
            &engine,
            &account,
            &protocol,
            &shared,
            &mut stop,
            &mut backoff,
        )
        .await;
        shared.went_offline();
        let reason = match outcome {
            Outcome::Stopped => {
                engine.emit(EngineEvent::AccountStatus {
                    account: id.clone(),
                    status: AccountStatus::Stopped,
                });
                return;
            }
            Outcome::Ended(Err(e)) if !e.is_retryable() => {
                tracing::warn!(account = %id, error = %e, "session ended for good");
                engine.emit(EngineEvent::AccountStatus {
                    account: id.clone(),
                    status: AccountStatus::Failed {
                        reason: StatusReason::from(&e),
                    },
                });
                return;
            }
            Outcome::Ended(Err(e)) => StatusReason::from(&e),
            Outcome::Ended(Ok(())) => StatusReason::Closed,
            Outcome::StoreFailed(detail) => {
                tracing::error!(account = %id, %detail, "the store refused a write; reconnecting later");
                StatusReason::StoreFailed { detail }
            }
            Outcome::Panicked(detail) => {
                tracing::error!(account = %id, %detail, "plugin session panicked");
                engine.emit(EngineEvent::Notice {
                    account: id.clone(),
                    notice: Notice::PluginFailed {
                        detail: detail.clone(),
                    },
                });
                StatusReason::PluginFailed
            }
        };
        tracing::info!(account = %id, %reason, retry_in = ?backoff, "offline");
        engine.emit(EngineEvent::AccountStatus {
            account: id.clone(),
            status: AccountStatus::Offline {
                reason,
                retry_in_ms: u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX),
            },
        });
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.changed() => {
                engine.emit(EngineEvent::AccountStatus { account: id.clone(), status: AccountStatus::Stopped });
                return;
            }
        }
        backoff = (backoff * 2).min(config.backoff_max);
    }
}

async fn run_session(
    engine: &Engine,
    account: &AccountRecord,
    protocol: &Arc<dyn Protocol>,
    shared: &Arc<AccountShared>,
    stop: &mut watch::Receiver<bool>,
    backoff: &mut Duration,
) -> Outcome {
    let capacity = engine.inner.config.channel_capacity;
    let secrets = KeyringSecrets::scoped(account.id.as_str());
    let lookup = secrets.clone();
    let secret = match tokio::task::spawn_blocking(move || lookup.get(PASSWORD_SECRET)).await {
        Ok(Ok(secret)) => secret,
        Ok(Err(e)) => return Outcome::Ended(Err(SessionError::Secret(e))),
        Err(e) => return Outcome::Panicked(e.to_string()),
    };
    let data_dir = engine.inner.profile.account_dir(account.id.as_str());
    if let Err(e) = std::fs::create_dir_all(&data_dir) {
        return Outcome::Ended(Err(SessionError::Storage(e.to_string())));
    }
    let (commands_tx, commands_rx) = mpsc::channel(capacity);
    shared.started(commands_tx.clone());
    let (sink, mut events) = EventSink::channel(capacity);
    let context = SessionContext {
        account: account.id.clone(),
        settings: account.settings.clone(),
        secret,
        secrets: Arc::new(secrets),
        data_dir,
        commands: commands_rx,
        events: sink,
    };
    let mut session = tokio::spawn(protocol.run(context));
    let mut commands_tx = Some(commands_tx);
    let mut events_open = true;
    let mut batch = Vec::with_capacity(BATCH);
    let outcome = loop {
        tokio::select! {
            n = events.recv_many(&mut batch, BATCH), if events_open => {
                if n == 0 {
                    events_open = false;
                }
                // Messages in a row are stored in one transaction; the
                // receiver counts them handled only when the next batch is
                // asked for, after that commit.
                //
                // Should the store refuse a write, nothing more is taken from
                // the session, so nothing after the last commit counts as
                // handled: the plugin acknowledges none of it, the session
                // ends and the network delivers it again to the next one.
                //
                // Every commit made for this batch reaches the disk before
                // the next batch is asked for, since that is when the
                // plugin acknowledges it to the network.
                let (durable, mut stored) = match engine.durable() {
                    Ok(durable) => (Some(durable), Ok(())),
                    Err(e) => (None, Err(e)),
                };
                let mut messages = Vec::new();
                for event in batch.drain(..) {
                    if stored.is_err() {
                        break;
                    }
                    match event {
                        Event::MessageReceived(m) => messages.push(m),
                        Event::ConnectionChanged(ConnectionState::Online { link }) => {
                            stored = engine.store_messages(&account.id, std::mem::take(&mut messages));
                            if stored.is_err() {
                                break;
                            }
                            *backoff = engine.inner.config.backoff_initial;
                            if commands_tx.is_some() {
                                shared.went_online();
                            }
                            engine.emit(EngineEvent::AccountStatus {
                                account: account.id.clone(),
                                status: AccountStatus::Online { link },
                            });
                            replay_outbox(engine, &account.id, shared).await;
                        }
                        other => {
                            stored = engine
                                .store_messages(&account.id, std::mem::take(&mut messages))
                                .and_then(|()| engine.handle(&account.id, other, shared));
                        }
                    }
                }
                if stored.is_ok() {
                    stored = engine.store_messages(&account.id, messages);
                }
                drop(durable);
                if let Err(e) = stored {
                    batch.clear();
                    shared.went_offline();
                    session.abort();
                    break Outcome::StoreFailed(e.to_string());
                }
            }
            joined = &mut session => break match joined {
                Ok(result) => Outcome::Ended(result),
                Err(e) if e.is_panic() => Outcome::Panicked(panic_text(e)),
                Err(e) => Outcome::Panicked(e.to_string()),
            },
            _ = stop.changed() => {
                // Closing the command channel asks the session to end.
                shared.went_offline();
                commands_tx = None;
                let _ = tokio::time::timeout(Duration::from_secs(5), &mut session).await;
                session.abort();
                break Outcome::Stopped;
            }
        }
    };
    drop(commands_tx);
    if matches!(outcome, Outcome::StoreFailed(_)) {
        // Nothing more is handled: asking for the next event would count
        // the unstored ones as handled.
        return outcome;
    }
    // Whatever the session reported before ending still counts.
    while let Ok(event) = events.try_recv() {
        if !matches!(
            event,
            Event::ConnectionChanged(ConnectionState::Online { .. })
        ) && engine.handle(&account.id, event, shared).is_err()
        {
            break;
        }
    }
    outcome
}

fn panic_text(e: tokio::task::JoinError) -> String {
    let payload = e.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned())
}

pub(super) async fn replay_outbox(
    engine: &Engine,
    account: &koine_api::AccountId,
    shared: &AccountShared,
) {
    let pending = match engine.store().pending(account) {
        Ok(p) => p,
        Err(e) => {
            engine.report_store_error(account, &e);
            return;
        }
    };
    if !pending.is_empty() {
        tracing::info!(account = %account, count = pending.len(), "replaying the outbox");
    }
    for command in pending {
        shared.dispatch(command).await;
    }
}

impl Engine {
    fn report_store_error(&self, account: &koine_api::AccountId, e: &crate::store::StoreError) {
        tracing::error!(account = %account, error = %e, "store error");
        self.emit(EngineEvent::EngineError {
            account: account.clone(),
            detail: e.to_string(),
        });
    }

    /// Stores what a plugin reported and tells the listeners. An error is
    /// reported to the listeners and returned: the caller must then stop
    /// taking events from the session.
    fn handle(
        &self,
        account: &koine_api::AccountId,
        event: Event,
        shared: &AccountShared,
    ) -> Result<(), crate::store::StoreError> {
        self.apply(account, event, shared).inspect_err(|e| {
            self.report_store_error(account, e);
        })
    }

    fn apply(
        &self,
        account: &koine_api::AccountId,
        event: Event,
        shared: &AccountShared,
    ) -> Result<(), crate::store::StoreError> {
        let account = account.clone();
        match event {
            Event::ConnectionChanged(ConnectionState::Offline { reason }) => {
                shared.went_offline();
                self.emit(EngineEvent::AccountStatus {
                    account,
                    status: AccountStatus::Offline {
                        reason: StatusReason::reported(&reason),
                        retry_in_ms: 0,
                    },
                });
            }
            Event::ConnectionChanged(_) => {}
            Event::RosterReplaced(contacts) => {
                self.store().replace_roster(&account, &contacts)?;
                self.emit(EngineEvent::ContactsChanged { account });
                self.adopt_people()?;
            }
            Event::ContactUpdated(contact) => {
                self.store().upsert_contact(&account, &contact)?;
                self.emit(EngineEvent::ContactsChanged { account });
                self.adopt_people()?;
            }
            Event::ContactRemoved(address) => {
                self.store()
                    .remove_contact(&account, &address.to_string())?;
                self.emit(EngineEvent::ContactsChanged { account });
            }
            Event::PresenceChanged {
                address,
                availability,
                status,
            } => {
                self.emit(EngineEvent::Presence {
                    account,
                    address,
                    availability,
                    status,
                });
            }
            Event::ConversationUpserted(conversation) => {
                let store = self.store();
                let new = store
                    .conversation_id(&account, &conversation.key)?
                    .is_none();
                let peer = conversation
                    .peer
                    .as_ref()
                    .filter(|_| new && conversation.kind == koine_api::ConversationKind::Direct);
                if let Some(peer) = peer
                    && store.is_blocked(&account, peer)?
                {
                    return Ok(());
                }
                let id = store.upsert_conversation(&account, &conversation)?;
                // A direct chat a stranger opens starts in Requests, whether
                // the network reports the conversation or the message first.
                if let Some(peer) = peer
                    && super::consent::is_stranger(&store, &account, peer)?
                {
                    store.set_request(id, true)?;
                }
                drop(store);
                self.announce_conversations(&account, &[id])?;
                if new {
                    self.adopt_people()?;
                }
            }
            Event::MessageReceived(message) => self.store_message(account, message)?,
            Event::HistoryPage { messages, .. } => self.store_messages(&account, messages)?,
            Event::SendAcked {
                local_id,
                remote_id,
                route,
            } => {
                shared.answered(&local_id);
                let (id, provisional) = {
                    let mut store = self.store();
                    let provisional = store.provisional_route(&account, &local_id)?;
                    (store.ack(&local_id, &remote_id, &route)?, provisional)
                };
                if let Some(p) = provisional {
                    self.emit(EngineEvent::RouteSettled {
                        account: account.clone(),
                        local_id,
                        message: p.message,
                        subject: p.subject,
                        provisional: p.route,
                        route,
                    });
                }
                self.emit_updated(&account, id)?;
            }
            Event::SendHanded { local_id } => {
                // Not an answer: the command stays in flight and in the
                // outbox until the phone confirms or fails it.
                let id = self.store().hand_over(&account, &local_id)?;
                self.emit_updated(&account, id)?;
            }
            Event::SendFailed { local_id, error } => {
                shared.answered(&local_id);
                let will_retry = error.is_retryable();
                let id = self
                    .store()
                    .fail(&local_id, &error.to_string(), will_retry)?;
                self.emit(EngineEvent::SendFailed {
                    account: account.clone(),
                    local_id,
                    error,
                    will_retry,
                });
                self.emit_updated(&account, id)?;
            }
            Event::DeliveryUpdated {
                conversation,
                remote_id,
                state,
            } => {
                let id =
                    self.store()
                        .update_delivery(&account, &conversation, &remote_id, state)?;
                self.emit_updated(&account, id)?;
            }
            Event::MessageChanged {
                conversation,
                remote_id,
                change,
                by,
                at,
            } => {
                // Blocked in Koine: their edits and reactions are dropped
                // like their messages.
                if let koine_api::Author::Other(author) | koine_api::Author::Moderator(author) = &by
                    && self.store().is_blocked(&account, author)?
                {
                    return Ok(());
                }
                let id = self.store().apply_change(
                    &account,
                    &conversation,
                    &remote_id,
                    &change,
                    &by,
                    at,
                )?;
                if id.is_some() && change == MessageChange::Deleted {
                    // Not left readable in an older WAL frame either.
                    self.store().checkpoint()?;
                }
                self.emit_updated(&account, id)?;
            }
            Event::ChatStateChanged {
                conversation,
                from,
                state,
            } => {
                if self.store().is_blocked(&account, &from)? {
                    return Ok(());
                }
                let id = self.store().conversation_id(&account, &conversation)?;
                if let Some(conversation) = id {
                    self.emit(EngineEvent::ChatState {
                        account,
                        conversation,
                        from,
                        state,
                    });
                }
            }
            Event::RequestReceived(request) => {
                let store = self.store();
                if store.is_blocked(&account, &request.from)? {
                    return Ok(());
                }
                store.insert_request(&account, &request)?;
                drop(store);
                self.emit(EngineEvent::RequestReceived { account, request });
            }
            Event::RequestResolved(request) => {
                self.store().remove_request(&account, &request)?;
                self.emit(EngineEvent::RequestResolved { account, request });
            }
            Event::PromptRaised(prompt) => {
                {
                    let mut open = super::lock(&self.inner.prompts);
                    open.retain(|(a, p)| !(a == &account && p.id == prompt.id));
                    open.push((account.clone(), prompt.clone()));
                }
                self.emit(EngineEvent::PromptRaised { account, prompt });
            }
            Event::Notice(notice) => self.emit(EngineEvent::Notice { account, notice }),
            Event::ProfileLearned(profile)
                if self.store().is_blocked(&account, &profile.address)? => {}
            Event::ProfileLearned(profile) => match self.record_profile(&account, &profile) {
                Err(super::EngineError::Store(e)) => return Err(e),
                Err(other) => tracing::warn!(%other, "profile not recorded"),
                Ok(()) => {}
            },
            _ => {}
        }
        Ok(())
    }

    fn store_message(
        &self,
        account: koine_api::AccountId,
        message: koine_api::Message,
    ) -> Result<(), crate::store::StoreError> {
        let stored = store_one(&mut self.store(), &account, &message)?;
        self.announce(&account, &[stored])
    }

    /// Stores messages in a row in one transaction, then tells the
    /// listeners. Should the batch fail, each message is stored on its own,
    /// so one bad message does not keep the others out.
    /// Makes commits durable until the guard is dropped
    /// ([`crate::Store::hold_durable`]).
    pub(super) fn durable(&self) -> Result<Durable<'_>, crate::store::StoreError> {
        self.store().hold_durable()?;
        Ok(Durable(self))
    }

    pub(super) fn store_messages(
        &self,
        account: &koine_api::AccountId,
        messages: Vec<koine_api::Message>,
    ) -> Result<(), crate::store::StoreError> {
        if messages.is_empty() {
            return Ok(());
        }
        let batch = self.store().batch(|store| {
            messages
                .iter()
                .map(|m| store_one(store, account, m))
                .collect::<Result<Vec<_>, _>>()
        });
        let result = match batch {
            Ok(stored) => self.announce(account, &stored),
            Err(e) => {
                tracing::warn!(%e, "a batch of messages failed; storing them one by one");
                let mut result = Ok(());
                for m in messages {
                    if let Err(e) = self.store_message(account.clone(), m) {
                        result = Err(e);
                    }
                }
                result
            }
        };
        result.inspect_err(|e| self.report_store_error(account, e))
    }

    /// Tells the listeners what was stored (the rows read under one lock).
    fn announce(
        &self,
        account: &koine_api::AccountId,
        stored: &[Stored],
    ) -> Result<(), crate::store::StoreError> {
        let mut events = Vec::with_capacity(stored.len());
        let mut created = false;
        {
            let store = self.store();
            // The conversations first, each once, as they are after the
            // batch: a listener knows the chat before its messages arrive.
            let mut touched = Vec::new();
            for s in stored {
                created |= s.created.is_some();
                let conversation = match (s.created, s.inserted) {
                    (Some(c), _) => Some(c),
                    (None, Some(id)) => Some(store.message(id)?.conversation),
                    (None, None) => None,
                };
                if let Some(c) = conversation
                    && !touched.contains(&c)
                {
                    touched.push(c);
                }
            }
            for c in touched {
                events.push(EngineEvent::ConversationChanged {
                    account: account.clone(),
                    conversation: store.conversation(c)?,
                });
            }
            for s in stored {
                if let Some(id) = s.inserted {
                    events.push(EngineEvent::MessageStored {
                        account: account.clone(),
                        message: store.message(id)?,
                    });
                } else if let Some(id) = s.echo_of_ours {
                    events.push(EngineEvent::MessageUpdated {
                        account: account.clone(),
                        message: store.message(id)?,
                    });
                }
            }
        }
        for event in events {
            self.emit(event);
        }
        if created {
            self.adopt_people()?;
        }
        Ok(())
    }

    fn emit_updated(
        &self,
        account: &koine_api::AccountId,
        id: Option<crate::model::MessageId>,
    ) -> Result<(), crate::store::StoreError> {
        if let Some(id) = id {
            let message = self.store().message(id)?;
            self.emit(EngineEvent::MessageUpdated {
                account: account.clone(),
                message,
            });
        }
        Ok(())
    }
}

/// What storing one incoming message did.
struct Stored {
    /// The conversation it opened.
    created: Option<crate::model::ConversationId>,
    /// The new row.
    inserted: Option<crate::model::MessageId>,
    /// The row of one's own message it was the echo of.
    echo_of_ours: Option<crate::model::MessageId>,
}

fn store_one(
    store: &mut crate::store::Store,
    account: &koine_api::AccountId,
    message: &koine_api::Message,
) -> Result<Stored, crate::store::StoreError> {
    let nothing = Stored {
        created: None,
        inserted: None,
        echo_of_ours: None,
    };
    // A date from the future (a forged `<delay>`, a phone or server with
    // a wrong clock) would pin its conversation to the top of the list and
    // sort after every later message: it counts as now. Clocks a little
    // ahead are believed.
    let now = koine_api::Timestamp::now();
    let clamped;
    let message = if message.timestamp.0 > now.0.saturating_add(FUTURE_SKEW_MS) {
        clamped = koine_api::Message {
            timestamp: now,
            ..message.clone()
        };
        &clamped
    } else {
        message
    };
    let incoming = message.direction == Direction::Incoming;
    if incoming && store.is_blocked(account, &message.sender)? {
        // Blocked in Koine: dropped, never stored nor notified.
        return Ok(nothing);
    }
    let stranger = incoming && super::consent::is_stranger(store, account, &message.sender)?;
    let peer = incoming.then_some(&message.sender);
    let (conversation, created) =
        store.ensure_conversation(account, &message.conversation, peer, stranger)?;
    let inserted = store.insert_message(conversation, message)?;
    // Not new, but ours: the echo of a message sent from here.
    let echo_of_ours = match (&inserted, &message.local_id) {
        (None, Some(local_id)) => store.message_id_by_local(account, local_id)?,
        _ => None,
    };
    Ok(Stored {
        created: created.then_some(conversation),
        inserted,
        echo_of_ours,
    })
}

/// Commits reach the disk before they return while this lives.
pub(super) struct Durable<'a>(&'a Engine);

impl Drop for Durable<'_> {
    fn drop(&mut self) {
        if let Err(error) = self.0.store().release_durable() {
            tracing::warn!(%error, "could not go back to ordinary commits");
        }
    }
}
