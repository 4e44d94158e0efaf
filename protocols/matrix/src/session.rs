//! One account's session: the sync loop and the command handler.
//!
//! The sync runs in its own task (classic `/sync`, long-polling) and hands each
//! response to the session task, which turns it into Koine events, waits
//! until the engine has stored them ([`EventSink::flush`]), and only then
//! records the response's `next_batch` as the point to resume from. The
//! resume token lives in the SDK's encrypted SQLite state store (custom
//! value `koine.since`), so a restart resumes exactly after the last response
//! whose events reached the engine: nothing is lost, and what is repeated the
//! engine de-duplicates by event id.

use crate::account::{self, AccountSettings};
use crate::error::MatrixError;
use crate::media::Downloads;
use crate::route::{self, RouteFacts};
use crate::timeline::{self, Item};
use crate::{backfill, commands, transport};
use koine_api::{
    Address, Author, ChatState, ConnectionState, Conversation, ConversationKey, ConversationKind,
    DeliveryState, Event, EventSink, Hop, HopKind, InputSource, Message, MessageChange, Mxid,
    Notice, RemoteId, Route, SessionContext, SessionError, TransportSecurity, Visibility,
};
use matrix_sdk::config::{SyncSettings, SyncToken};
use matrix_sdk::deserialized_responses::TimelineEvent;
use matrix_sdk::ruma::api::client::filter::FilterDefinition;
use matrix_sdk::ruma::api::client::sync::sync_events::v3::Filter;
use matrix_sdk::ruma::events::receipt::ReceiptType;
use matrix_sdk::ruma::events::{AnySyncEphemeralRoomEvent, StateEventType};
use matrix_sdk::ruma::{EventId, OwnedEventId, OwnedRoomId, OwnedUserId, RoomId, UserId};
use matrix_sdk::sync::{JoinedRoomUpdate, State, SyncResponse};
use matrix_sdk::{Client, Room, RoomMemberships};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::sync::mpsc;

/// Custom-value key of the resume token in the state store.
const SINCE_KEY: &[u8] = b"koine.since";
/// How long one `/sync` long-polls.
const SYNC_TIMEOUT: Duration = Duration::from_secs(30);
/// While events keep coming, syncs start at most this often, so a burst
/// arrives in a few large responses instead of one per message (each
/// response costs a store transaction whatever its size). A message after a
/// quiet moment still comes at once: the waiting long-poll returns with it.
const BURST_SYNC_SPACING: Duration = Duration::from_millis(500);
/// Timeline events per room in an incremental sync: a burst within one
/// spacing fits, more is back-filled (see `backfill.rs`). The first sync
/// keeps the server's default, small, for a quick start.
const INCREMENTAL_TIMELINE_LIMIT: u32 = 100;
/// Senders of messages remembered to check edits and redactions against
/// (older ones are asked of the server again).
const SENDERS_KEPT: usize = 10_000;
/// How long a room's route is trusted without a state change.
const ROUTE_RECHECK: Duration = Duration::from_secs(10);

/// The state of one running session.
pub(crate) struct Session {
    pub(crate) client: Client,
    pub(crate) events: EventSink,
    pub(crate) own: OwnedUserId,
    pub(crate) own_server: String,
    pub(crate) link: TransportSecurity,
    /// The last route reported per room.
    pub(crate) routes: HashMap<OwnedRoomId, Route>,
    /// When each room's route was last worked out from the store.
    route_checked: HashMap<OwnedRoomId, tokio::time::Instant>,
    /// Reaction events seen this session: reaction id → (target, key, by).
    pub(crate) reactions: HashMap<OwnedEventId, (OwnedEventId, String, OwnedUserId)>,
    /// Who sent the messages seen this session, by (room, event), for the
    /// checks on edits and redactions.
    senders: HashMap<(OwnedRoomId, OwnedEventId), OwnedUserId>,
    /// Invites already reported.
    pub(crate) invites: HashSet<OwnedRoomId>,
    /// Display names by (room, user), filled lazily.
    names: HashMap<(OwnedRoomId, OwnedUserId), Option<String>>,
    /// Verification prompts waiting for the user.
    pub(crate) prompts: crate::crypto::Prompts,
    /// Background tasks report here.
    pub(crate) internal: mpsc::Sender<crate::crypto::Internal>,
    /// Incoming files on their way to disk.
    downloads: Downloads,
}

enum SyncItem {
    Response {
        since: Option<String>,
        response: Box<SyncResponse>,
    },
    Failed(MatrixError),
}

pub(crate) async fn run(mut cx: SessionContext) -> Result<(), SessionError> {
    let account = AccountSettings::parse(&cx.settings)?;
    cx.events
        .emit(Event::ConnectionChanged(ConnectionState::Connecting))
        .await?;
    let mut deferred = Vec::new();
    let mut login_ui = crate::sso::LoginUi {
        events: &cx.events,
        commands: &mut cx.commands,
        deferred: &mut deferred,
    };
    let (client, _kind) = account::connect(
        &account,
        cx.secret.as_ref(),
        &cx.secrets,
        &cx.data_dir,
        Some(&mut login_ui),
    )
    .await?;
    // Held until the session ends: no other process drives this device.
    let _device_lock = account::lock_device(&client).await?;
    let link = transport::link_security(&client.homeserver()).await?;
    let (internal_tx, mut internal_rx) = mpsc::channel(8);
    let vault = koine_vault::Vault::open_async(cx.secrets.clone()).await?;
    let mut session = Session {
        client: client.clone(),
        events: cx.events.clone(),
        own_server: account.user_id.server_name().as_str().to_owned(),
        own: account.user_id.clone(),
        link,
        routes: HashMap::new(),
        route_checked: HashMap::new(),
        invites: HashSet::new(),
        reactions: HashMap::new(),
        senders: HashMap::new(),
        names: HashMap::new(),
        prompts: Default::default(),
        internal: internal_tx,
        downloads: Downloads::new(client.clone(), cx.events.clone(), &cx.data_dir, vault),
    };
    // Downloads an earlier session left unfinished go first, before the
    // first sync holds new ones back.
    session.downloads.resume().await?;

    // The first sync comes before Online: the engine replays its outbox on
    // Online, and sends need the room list.
    let since = session.load_since().await?;
    let since = crate::unstored::recover(&mut session, since).await?;
    let first = client
        .sync_once(sync_settings(since.clone(), Duration::ZERO))
        .await
        .map_err(MatrixError::from)?;
    session.process(since, first.clone()).await?;
    session.store_since(&first.next_batch).await?;
    session.report_room_list().await?;
    cx.events
        .emit(Event::ConnectionChanged(ConnectionState::Online {
            link: session.link_hop(),
        }))
        .await?;
    crate::crypto::start(&session.client, &cx, &account, &session.prompts);
    // Commands that came while the user was signing in.
    for command in deferred {
        commands::handle(&mut session, command).await?;
    }

    let (sync_tx, mut sync_rx) = mpsc::channel(1);
    let sync_task = tokio::spawn(sync_loop(client.clone(), first.next_batch, sync_tx));
    let result = session.serve(&mut cx, &mut sync_rx, &mut internal_rx).await;
    sync_task.abort();
    session.downloads.abort_all();
    result
}

fn sync_settings(since: Option<String>, timeout: Duration) -> SyncSettings {
    let settings = SyncSettings::default().timeout(timeout);
    match since {
        Some(token) => {
            let mut filter = FilterDefinition::default();
            filter.room.timeline.limit = Some(INCREMENTAL_TIMELINE_LIMIT.into());
            settings
                .filter(Filter::FilterDefinition(filter))
                .token(SyncToken::Specific(token))
        }
        None => settings.token(SyncToken::NoToken),
    }
}

/// Whether a room update changes the room's state (members, encryption,
/// bridges...).
fn changes_state(update: &JoinedRoomUpdate) -> bool {
    let state = match &update.state {
        State::Before(events) | State::After(events) => events,
    };
    !state.is_empty()
        || update.timeline.events.iter().any(|e| {
            e.raw()
                .get_field::<String>("state_key")
                .ok()
                .flatten()
                .is_some()
        })
}

/// Whether a response carried any room timeline event.
fn has_timeline_events(response: &SyncResponse) -> bool {
    response
        .rooms
        .joined
        .values()
        .any(|room| !room.timeline.events.is_empty())
}

/// Syncs forever, handing each response over; on a network error it waits
/// (backing off up to 10 s) and tries again with the same token.
async fn sync_loop(client: Client, mut since: String, tx: mpsc::Sender<SyncItem>) {
    let mut backoff = Duration::from_millis(250);
    let mut busy_since: Option<tokio::time::Instant> = None;
    loop {
        if let Some(next) = busy_since
            .take()
            .and_then(|started| started.checked_add(BURST_SYNC_SPACING))
        {
            tokio::time::sleep_until(next).await;
        }
        let started = tokio::time::Instant::now();
        match client
            .sync_once(sync_settings(Some(since.clone()), SYNC_TIMEOUT))
            .await
        {
            Ok(response) => {
                backoff = Duration::from_millis(250);
                if has_timeline_events(&response) {
                    busy_since = Some(started);
                }
                let next = response.next_batch.clone();
                let item = SyncItem::Response {
                    since: Some(since.clone()),
                    response: Box::new(response),
                };
                if tx.send(item).await.is_err() {
                    return;
                }
                since = next;
            }
            Err(e) => {
                let fatal = crate::error::is_auth_error(&e);
                let err = MatrixError::from(e);
                if tx.send(SyncItem::Failed(err)).await.is_err() || fatal {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = backoff.saturating_mul(2).min(Duration::from_secs(10));
            }
        }
    }
}

impl Session {
    /// Serves commands and sync responses until the engine closes the
    /// command channel.
    async fn serve(
        &mut self,
        cx: &mut SessionContext,
        sync_rx: &mut mpsc::Receiver<SyncItem>,
        internal_rx: &mut mpsc::Receiver<crate::crypto::Internal>,
    ) -> Result<(), SessionError> {
        let mut offline = false;
        loop {
            tokio::select! {
                command = cx.commands.recv() => match command {
                    None => return Ok(()),
                    Some(command) => commands::handle(self, command).await?,
                },
                Some(crate::crypto::Internal::Verified) = internal_rx.recv() => {
                    self.report_room_list().await?;
                }
                item = sync_rx.recv() => match item {
                    None => return Err(SessionError::Network("the sync task stopped".into())),
                    Some(SyncItem::Response { since, response }) => {
                        if offline {
                            offline = false;
                            self.events.emit(Event::ConnectionChanged(ConnectionState::Online {
                                link: self.link_hop(),
                            })).await?;
                        }
                        let next = response.next_batch.clone();
                        self.process(since, *response).await?;
                        // Resume after this response only once the engine
                        // stored everything it carried.
                        self.events.flush().await?;
                        self.store_since(&next).await?;
                    }
                    Some(SyncItem::Failed(error)) => {
                        let error = SessionError::from(error);
                        if error == SessionError::AuthFailed {
                            return Err(error);
                        }
                        if !offline {
                            offline = true;
                            self.events.emit(Event::ConnectionChanged(ConnectionState::Offline {
                                reason: "network".into(),
                            })).await?;
                        }
                    }
                },
            }
        }
    }

    pub(crate) fn link_hop(&self) -> Hop {
        Hop::new(&self.own_server, HopKind::ClientLink, self.link.clone())
            .reading(Visibility::MetadataOnly)
            .seeing_your_ip()
    }

    async fn load_since(&self) -> Result<Option<String>, MatrixError> {
        let raw = self
            .client
            .state_store()
            .get_custom_value(SINCE_KEY)
            .await
            .map_err(|e| MatrixError::Storage(e.to_string()))?;
        Ok(raw.and_then(|v| String::from_utf8(v).ok()))
    }

    pub(crate) async fn store_since(&self, token: &str) -> Result<(), MatrixError> {
        self.client
            .state_store()
            .set_custom_value(SINCE_KEY, token.as_bytes().to_vec())
            .await
            .map_err(|e| MatrixError::Storage(e.to_string()))?;
        Ok(())
    }

    /// Reports every joined room (the room list), with its route.
    async fn report_room_list(&mut self) -> Result<(), SessionError> {
        for room in self.client.joined_rooms() {
            self.report_conversation(&room, true).await?;
        }
        Ok(())
    }

    /// The route of a room, from the store (no network round trip).
    pub(crate) async fn room_route(&self, room: &Room) -> Route {
        self.room_route_as(room, room.encryption_state().is_encrypted())
            .await
    }

    /// The route of an event in a room that was, or was not, Megolm-encrypted
    /// on the wire: what it actually took, whatever the room's state says.
    pub(crate) async fn room_route_as(&self, room: &Room, encrypted: bool) -> Route {
        let members = room
            .members_no_sync(RoomMemberships::JOIN | RoomMemberships::INVITE)
            .await
            .unwrap_or_default();
        let member_servers = members
            .iter()
            .map(|m| m.user_id().server_name().as_str().to_ascii_lowercase())
            .collect();
        let mut verified = encrypted && members.len() <= 50;
        if verified {
            let encryption = self.client.encryption();
            for member in members.iter().filter(|m| m.user_id() != self.own) {
                let ok = matches!(
                    encryption.get_user_identity(member.user_id()).await,
                    Ok(Some(identity)) if identity.is_verified()
                );
                if !ok {
                    verified = false;
                    break;
                }
            }
        }
        let mut bridges = Vec::new();
        for event_type in route::BRIDGE_EVENT_TYPES {
            let Ok(states) = room
                .get_state_events(StateEventType::from(event_type))
                .await
            else {
                continue;
            };
            for state in states {
                let json = match &state {
                    matrix_sdk::deserialized_responses::RawAnySyncOrStrippedState::Sync(raw) => {
                        raw.json().get().to_owned()
                    }
                    matrix_sdk::deserialized_responses::RawAnySyncOrStrippedState::Stripped(
                        raw,
                    ) => raw.json().get().to_owned(),
                };
                let value: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
                let content = value.get("content").cloned().unwrap_or_default();
                if content.as_object().is_none_or(|o| o.is_empty()) {
                    continue; // an emptied bridge event: the bridge left
                }
                let state_key = value
                    .get("state_key")
                    .and_then(|v| v.as_str())
                    .unwrap_or("");
                let (bridge, error) = route::parse_bridge(state_key, &content);
                if let Some(error) = error {
                    let _ = self
                        .events
                        .emit(Event::Notice(Notice::MalformedInput {
                            source: InputSource::Server,
                            detail: error.to_string(),
                        }))
                        .await;
                }
                bridges.push(bridge);
            }
        }
        route::build(&RouteFacts {
            own_server: self.own_server.clone(),
            link: self.link.clone(),
            member_servers,
            encrypted,
            verified,
            bridges,
        })
    }

    /// Reports a room (title, kind, route) when it is new or its route changed.
    pub(crate) async fn report_conversation(
        &mut self,
        room: &Room,
        force: bool,
    ) -> Result<Route, SessionError> {
        let route = self.room_route(room).await;
        if !force && self.routes.get(room.room_id()) == Some(&route) {
            return Ok(route);
        }
        self.routes.insert(room.room_id().to_owned(), route.clone());
        let direct = room.is_direct().await.unwrap_or(false);
        let peer = room
            .direct_targets()
            .into_iter()
            .find_map(|t| t.as_user_id().and_then(|u| Mxid::parse(u.as_str()).ok()))
            .map(Address::Mxid);
        let title = match room.display_name().await {
            Ok(name) => name.to_string(),
            Err(_) => room.room_id().to_string(),
        };
        self.events
            .emit(Event::ConversationUpserted(Conversation {
                key: ConversationKey::new(room.room_id().as_str()),
                title,
                kind: if direct {
                    ConversationKind::Direct
                } else {
                    ConversationKind::Group
                },
                peer,
                route: route.clone(),
                read_only: false,
            }))
            .await?;
        Ok(route)
    }

    /// The room's route: worked out again (and reported when it changed)
    /// when the update changes the room's state, or when the last check is
    /// older than [`ROUTE_RECHECK`] (identities and devices change outside
    /// room state); else the one reported last, so a burst of messages does
    /// not read the member list once per sync.
    async fn current_route(
        &mut self,
        room: &Room,
        update: &JoinedRoomUpdate,
    ) -> Result<Route, SessionError> {
        let room_id = room.room_id();
        let recent = self
            .route_checked
            .get(room_id)
            .is_some_and(|at| at.elapsed() < ROUTE_RECHECK);
        if recent
            && !changes_state(update)
            && let Some(route) = self.routes.get(room_id)
        {
            return Ok(route.clone());
        }
        let route = self.report_conversation(room, false).await?;
        self.route_checked
            .insert(room_id.to_owned(), tokio::time::Instant::now());
        Ok(route)
    }

    /// Handles one sync response.
    async fn process(
        &mut self,
        since: Option<String>,
        response: SyncResponse,
    ) -> Result<(), SessionError> {
        for (room_id, update) in response.rooms.joined {
            let Some(room) = self.client.get_room(&room_id) else {
                continue;
            };
            let route = self.current_route(&room, &update).await?;
            let mut events: Vec<TimelineEvent> = Vec::new();
            if update.timeline.limited
                && let (Some(since), Some(prev_batch)) = (&since, &update.timeline.prev_batch)
            {
                // A gap: fetch what the limited timeline left out.
                match backfill::fill_gap(&room, prev_batch, since).await {
                    Ok(missing) => {
                        self.events
                            .emit(Event::Notice(Notice::Progress {
                                task: "backfill".into(),
                                done: missing.len() as u64,
                                total: Some(missing.len() as u64),
                            }))
                            .await?;
                        events.extend(missing);
                    }
                    Err(e) => {
                        self.events
                            .emit(Event::Notice(Notice::MalformedInput {
                                source: InputSource::Server,
                                detail: format!("back-fill of {room_id} failed: {e}"),
                            }))
                            .await?;
                    }
                }
            }
            events.extend(update.timeline.events);
            let mut seen = HashSet::new();
            for event in events {
                if let Some(id) = event.event_id()
                    && !seen.insert(id)
                {
                    continue;
                }
                self.timeline_event(&room, &route, &event).await?;
            }
            for raw in update.ephemeral {
                self.ephemeral(&room_id, raw).await?;
            }
        }
        for event in &response.to_device {
            let raw = event.as_raw();
            let is_request = raw.get_field::<String>("type").ok().flatten().as_deref()
                == Some("m.key.verification.request");
            if !is_request {
                continue;
            }
            let sender = raw.get_field::<OwnedUserId>("sender").ok().flatten();
            let flow = raw
                .get_field::<serde_json::Value>("content")
                .ok()
                .flatten()
                .and_then(|c| {
                    c.get("transaction_id")
                        .and_then(|t| t.as_str())
                        .map(str::to_owned)
                });
            if let (Some(sender), Some(flow)) = (sender, flow) {
                crate::crypto::incoming_request(self, &sender, &flow).await;
            }
        }
        for (room_id, _) in response.rooms.invited {
            crate::invites::report(self, &room_id).await?;
        }
        Ok(())
    }

    async fn display_name(&mut self, room: &Room, user: &UserId) -> Option<String> {
        let key = (room.room_id().to_owned(), user.to_owned());
        if let Some(name) = self.names.get(&key) {
            return name.clone();
        }
        let name = match room.get_member_no_sync(user).await {
            Ok(Some(member)) => member.display_name().map(str::to_owned),
            _ => None,
        };
        self.names.insert(key, name.clone());
        name
    }

    /// Converts and reports one timeline event.
    pub(crate) async fn timeline_event(
        &mut self,
        room: &Room,
        route: &Route,
        event: &TimelineEvent,
    ) -> Result<(), SessionError> {
        if let Some(message) = self.message_of(room, route, event).await {
            if Downloads::wants(&message) {
                return self.downloads.hold(message).await.map_err(Into::into);
            }
            return self
                .events
                .emit(Event::MessageReceived(message))
                .await
                .map_err(Into::into);
        }
        let conversation = ConversationKey::new(room.room_id().as_str());
        let event = match timeline::convert(event, &self.own) {
            // Only the original's sender may replace it, in the same room
            // (the server does not check; the spec leaves it to clients).
            Item::Edit {
                target,
                sender,
                text,
                at,
            } => match self.event_sender(room, &target).await {
                Some(Original {
                    sender: original,
                    is_replacement: false,
                }) if original == sender => Event::MessageChanged {
                    conversation,
                    remote_id: RemoteId::new(target.as_str()),
                    change: MessageChange::Edited { text },
                    by: self.author_of_user(&sender),
                    at,
                },
                Some(_) => malformed(
                    InputSource::Peer,
                    format!(
                        "{sender} tried to replace {target} in {}, which they did not send: ignored",
                        room.room_id()
                    ),
                ),
                None => malformed(
                    InputSource::Server,
                    format!(
                        "replacement of {target} by {sender} ignored: the original is not found in {}",
                        room.room_id()
                    ),
                ),
            },
            Item::Reaction {
                event_id,
                target,
                by,
                key,
                at,
            } => {
                self.reactions
                    .insert(event_id, (target.clone(), key.clone(), by.clone()));
                match Mxid::parse(by.as_str()) {
                    Ok(reactor) => Event::MessageChanged {
                        conversation,
                        remote_id: RemoteId::new(target.as_str()),
                        change: MessageChange::ReactionAdded {
                            by: Address::Mxid(reactor),
                            key,
                        },
                        by: self.author_of_user(&by),
                        at,
                    },
                    Err(e) => malformed(InputSource::Server, e.to_string()),
                }
            }
            // A redaction counts when its sender sent the target, or may
            // redact other people's events in the room (a moderator).
            Item::Redaction { target, by, at } => match self.reactions.get(&target).cloned() {
                Some((reacted, key, reactor)) => {
                    if reactor != by && !may_redact_others(room, &by).await {
                        not_theirs_to_redact(&by, &target, room)
                    } else {
                        self.reactions.remove(&target);
                        match Mxid::parse(reactor.as_str()) {
                            Ok(reactor_address) => Event::MessageChanged {
                                conversation,
                                remote_id: RemoteId::new(reacted.as_str()),
                                change: MessageChange::ReactionRemoved {
                                    by: Address::Mxid(reactor_address),
                                    key,
                                },
                                by: if reactor == by {
                                    self.author_of_user(&by)
                                } else {
                                    self.moderator(&by)
                                },
                                at,
                            },
                            Err(e) => malformed(InputSource::Server, e.to_string()),
                        }
                    }
                }
                None => {
                    let own_event = matches!(
                        self.event_sender(room, &target).await,
                        Some(Original { sender, .. }) if sender == by
                    );
                    let author = if own_event {
                        Some(self.author_of_user(&by))
                    } else if may_redact_others(room, &by).await {
                        Some(self.moderator(&by))
                    } else {
                        None
                    };
                    if let Some(author) = author {
                        Event::MessageChanged {
                            conversation,
                            remote_id: RemoteId::new(target.as_str()),
                            change: MessageChange::Deleted,
                            by: author,
                            at,
                        }
                    } else {
                        not_theirs_to_redact(&by, &target, room)
                    }
                }
            },
            Item::Undecryptable { event_id, detail } => malformed(
                InputSource::Peer,
                format!(
                    "could not decrypt {event_id} in {}: {detail}",
                    room.room_id()
                ),
            ),
            Item::Malformed(detail) => malformed(InputSource::Server, detail),
            Item::VerificationRequest { event_id, sender } => {
                crate::crypto::incoming_request(self, &sender, event_id.as_str()).await;
                return Ok(());
            }
            Item::Message(_) | Item::Skip => return Ok(()),
        };
        self.events.emit(event).await.map_err(Into::into)
    }

    /// The event as a Koine message, when it is one.
    pub(crate) async fn message_of(
        &mut self,
        room: &Room,
        route: &Route,
        event: &TimelineEvent,
    ) -> Option<Message> {
        let Item::Message(m) = timeline::convert(event, &self.own) else {
            return None;
        };
        let sender = Mxid::parse(m.sender.as_str()).ok()?;
        self.remember_sender(room.room_id(), &m.event_id, &m.sender);
        if m.invalid_attachments > 0 {
            let _ = self
                .events
                .emit(malformed(
                    InputSource::Peer,
                    format!(
                        "{} attachment(s) of {} in {} dropped: not a valid mxc:// URI",
                        m.invalid_attachments,
                        m.event_id,
                        room.room_id()
                    ),
                ))
                .await;
        }
        let sender_name = self.display_name(room, &m.sender).await;
        // The event itself says how it travelled: a plaintext event in an
        // encrypted room was readable by the servers, and an encrypted one
        // is end to end even before the room's state is known here.
        let encrypted = event.encryption_info().is_some();
        let claims = route.end_to_end.scheme != koine_api::E2eScheme::None;
        let route = if claims == encrypted {
            route.clone()
        } else {
            self.room_route_as(room, encrypted).await
        };
        Some(Message {
            conversation: ConversationKey::new(room.room_id().as_str()),
            remote_id: RemoteId::new(m.event_id.as_str()),
            local_id: m.local_id,
            sender: Address::Mxid(sender),
            sender_name,
            direction: m.direction,
            timestamp: m.timestamp,
            content: m.content,
            reply_to: m.reply_to,
            route,
        })
    }

    fn remember_sender(&mut self, room: &RoomId, event: &EventId, sender: &UserId) {
        if self.senders.len() >= SENDERS_KEPT {
            self.senders.clear();
        }
        self.senders
            .insert((room.to_owned(), event.to_owned()), sender.to_owned());
    }

    /// Who sent `target` in `room`: remembered from this session's timeline,
    /// else asked of the server (which answers only for an event of that
    /// room). `None` when that cannot be told.
    async fn event_sender(&mut self, room: &Room, target: &EventId) -> Option<Original> {
        let key = (room.room_id().to_owned(), target.to_owned());
        if let Some(sender) = self.senders.get(&key) {
            return Some(Original {
                sender: sender.clone(),
                is_replacement: false,
            });
        }
        let event = match room.load_or_fetch_event(target, None).await {
            Ok(event) => event,
            Err(e) => {
                tracing::debug!("could not fetch {target} in {}: {e}", room.room_id());
                return None;
            }
        };
        let raw = event.raw();
        let sender = raw.get_field::<OwnedUserId>("sender").ok().flatten()?;
        let is_replacement = raw
            .get_field::<serde_json::Value>("content")
            .ok()
            .flatten()
            .and_then(|c| {
                c.get("m.relates_to")
                    .and_then(|r| r.get("rel_type"))
                    .and_then(|t| t.as_str())
                    .map(|t| t == "m.replace")
            })
            .unwrap_or(false);
        if !is_replacement {
            self.remember_sender(room.room_id(), target, &sender);
        }
        Some(Original {
            sender,
            is_replacement,
        })
    }

    /// Receipts and typing notifications.
    async fn ephemeral(
        &mut self,
        room_id: &RoomId,
        raw: matrix_sdk::ruma::serde::Raw<AnySyncEphemeralRoomEvent>,
    ) -> Result<(), SessionError> {
        let conversation = ConversationKey::new(room_id.as_str());
        let event = match raw.deserialize() {
            Ok(e) => e,
            Err(e) => {
                return self
                    .events
                    .emit(malformed(InputSource::Server, e.to_string()))
                    .await
                    .map_err(Into::into);
            }
        };
        match event {
            AnySyncEphemeralRoomEvent::Receipt(receipt) => {
                for (event_id, by_type) in receipt.content.0 {
                    let read_by_other = by_type
                        .get(&ReceiptType::Read)
                        .into_iter()
                        .chain(by_type.get(&ReceiptType::ReadPrivate))
                        .any(|users| users.keys().any(|u| *u != self.own));
                    if read_by_other {
                        self.events
                            .emit(Event::DeliveryUpdated {
                                conversation: conversation.clone(),
                                remote_id: RemoteId::new(event_id.as_str()),
                                state: DeliveryState::Read,
                            })
                            .await?;
                    }
                }
            }
            AnySyncEphemeralRoomEvent::Typing(typing) => {
                let typing_now: HashSet<_> = typing.content.user_ids.into_iter().collect();
                for user in &typing_now {
                    if *user == self.own {
                        continue;
                    }
                    if let Ok(from) = Mxid::parse(user.as_str()) {
                        self.events
                            .emit(Event::ChatStateChanged {
                                conversation: conversation.clone(),
                                from: Address::Mxid(from),
                                state: ChatState::Composing,
                            })
                            .await?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl Session {
    /// Who made a change: this account, or another user. A user id that
    /// is not a valid address (it came through the server's checks, so
    /// this does not happen) counts as someone else's raw id.
    fn author_of_user(&self, user: &UserId) -> Author {
        if user == &*self.own {
            return Author::Me;
        }
        Author::Other(user_address(user))
    }

    /// A user whose power in the room lets them remove others' events
    /// (checked against the room's power levels before this is used).
    fn moderator(&self, user: &UserId) -> Author {
        Author::Moderator(user_address(user))
    }
}

/// A user's address (their raw id should it not parse, which the server's
/// checks rule out).
fn user_address(user: &UserId) -> Address {
    Mxid::parse(user.as_str())
        .map(Address::Mxid)
        .unwrap_or_else(|_| Address::Room(user.to_string()))
}

/// The sender of an event that an edit or a redaction names.
struct Original {
    sender: OwnedUserId,
    /// The event is itself a replacement (which cannot be replaced).
    is_replacement: bool,
}

/// Whether `user` may redact other people's events in `room` (its power
/// levels; unknown levels count as no).
async fn may_redact_others(room: &Room, user: &UserId) -> bool {
    room.power_levels()
        .await
        .is_ok_and(|levels| levels.user_can_redact_event_of_other(user))
}

fn not_theirs_to_redact(by: &UserId, target: &EventId, room: &Room) -> Event {
    malformed(
        InputSource::Peer,
        format!(
            "{by} tried to redact {target} in {}, which they did not send: ignored",
            room.room_id()
        ),
    )
}

pub(crate) fn malformed(source: InputSource, detail: String) -> Event {
    Event::Notice(Notice::MalformedInput { source, detail })
}
