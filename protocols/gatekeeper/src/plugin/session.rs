//! One connected session: log in, publish keys, then serve commands and
//! pushes until the engine closes the command channel or the link fails.

use super::Config;
use super::link::Link;
use super::media;
use super::route::RouteFacts;
use super::state::{State, Trust};
use crate::wire::proto::{
    self, Content, KeyUpload, OneTimePreKey, PreKeyBundle, Reaction, SignedPreKey,
};
use crate::wire::stanza::{
    ChatStateKind, CipherKind, ErrorCode, IqPayload, IqType, ReceiptKind, ServerNotice, Stanza,
};
use crate::wire::{Peer, http, http_client};
use koine_api::{
    Attachment, AttachmentSource, Author, ChatState, Command, ConnectionState,
    Content as ApiContent, Conversation, ConversationKey, ConversationKind, Decision,
    DeliveryState, Direction, Event, InputSource, LocalId, Message, MessageChange, Notice, Prompt,
    PromptAnswer, PromptId, PromptKind, ProtocolError, RemoteId, Request, RequestId, RequestKind,
    Route, Secret, SendError, SessionContext, SessionError, Timestamp,
};
use koine_e2ee::{Ciphertext, CiphertextKind, Device, IdentityStatus, PeerId};
use prost::Message as _;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

const NOISE_KEY: &str = "noise-static-key";
const KEEP_PREKEYS: u32 = 50;
const UPLOAD_BELOW: u32 = 20;
/// How often a long session checks whether the signed prekey is due.
const ROTATION_CHECK: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
/// Identity-change prompts are `identity-<peer>`: answerable after a restart.
const IDENTITY_PROMPT: &str = "identity-";

struct Session {
    cfg: Config,
    cx: SessionContext,
    link: Link,
    device: Device,
    state: State,
    session_token: String,
    provider_token: Option<String>,
    http: http_client::Client,
    /// Wire id → local id of sends waiting for `<ack>`.
    pending: HashMap<String, (LocalId, Route, ConversationKey)>,
    /// Prompts raised: id → (peer, what confirming means).
    prompts: HashMap<String, (Peer, PromptKind)>,
    safety: HashMap<Peer, String>,
    /// Seals received files at rest.
    vault: koine_vault::Vault,
}

/// The wire id for a local id: the local id itself when it fits the id
/// grammar, else a stable hash of it (so a retry maps to the same id).
pub fn wire_id(local: &LocalId) -> String {
    let s = local.as_str();
    if crate::wire::stanza::valid_id(s) {
        s.to_owned()
    } else {
        let digest = Sha256::digest(s.as_bytes());
        format!("h-{}", hex::encode(digest.get(..20).unwrap_or_default()))
    }
}

fn e2ee_err(e: koine_e2ee::E2eeError) -> SessionError {
    match e {
        koine_e2ee::E2eeError::Secret(s) => SessionError::Secret(s),
        koine_e2ee::E2eeError::StoreKeyMissing { ref store_id, .. } => {
            // The account stops (not retryable) and says what to do.
            SessionError::Secret(koine_api::SecretError::Other(format!(
                "{e}. To start over with a new identity, which your contacts \
                 see as a key change, set the account's e2ee_start_over to {store_id}"
            )))
        }
        other => SessionError::Storage(other.to_string()),
    }
}

/// Opens the device; starts over only when the user asked to for exactly
/// the store whose key was lost.
fn open_device(
    path: &std::path::Path,
    secrets: &dyn koine_api::SecretStore,
    start_over: Option<&str>,
) -> Result<Device, SessionError> {
    match Device::open(path, secrets) {
        Err(koine_e2ee::E2eeError::StoreKeyMissing { store_id, .. })
            if start_over == Some(store_id.as_str()) =>
        {
            Device::start_over(path, secrets).map_err(e2ee_err)
        }
        other => other.map_err(e2ee_err),
    }
}

/// A server key as shown to the user: hex pairs with colons.
fn key_fingerprint(key: &[u8]) -> String {
    key.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Asks the user to confirm a server key seen for the first time; durable
/// commands that arrive meanwhile are refused as offline (the outbox keeps
/// them). `None`: the engine closed the session.
async fn confirm_server_key(
    cx: &mut SessionContext,
    cfg: &Config,
    key: &[u8],
) -> Result<Option<bool>, SessionError> {
    let fingerprint = key_fingerprint(key);
    let id = PromptId::new(format!("server-key:{}", hex::encode(key)));
    cx.events
        .emit(Event::PromptRaised(Prompt {
            id: id.clone(),
            kind: PromptKind::PinCertificate {
                host: cfg.server_name.clone(),
                fingerprint,
                reason: format!(
                    "first contact with {}: no server key is configured; compare this \
                     key with the one its operator publishes before your password is sent",
                    cfg.endpoint
                ),
            },
        }))
        .await?;
    while let Some(c) = cx.commands.recv().await {
        match c {
            Command::AnswerPrompt { prompt, answer } if prompt == id => {
                return Ok(Some(answer == PromptAnswer::Confirm));
            }
            other => {
                if let Some(local_id) = other.local_id() {
                    cx.events
                        .emit(Event::SendFailed {
                            local_id: local_id.clone(),
                            error: SendError::Offline,
                        })
                        .await?;
                }
            }
        }
    }
    Ok(None)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SessionError> + Send + 'static,
) -> Result<T, SessionError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| SessionError::Storage(e.to_string()))?
}

/// Runs a session.
pub async fn run(cfg: Config, mut cx: SessionContext) -> Result<(), SessionError> {
    cx.events
        .emit(Event::ConnectionChanged(ConnectionState::Connecting))
        .await?;
    let password = cx.secret.clone().ok_or_else(|| {
        SessionError::Settings(koine_api::SettingsError::Missing("password".into()))
    })?;
    // The Noise client key: per installation, in the keyring.
    let secrets = cx.secrets.clone();
    let client_key = blocking(move || {
        if let Some(k) = secrets.get(NOISE_KEY)?
            && let Ok(b) = hex::decode(k.expose())
        {
            return Ok(b);
        }
        let (private, _) = crate::wire::noise::generate_static_key()
            .map_err(|e| SessionError::Protocol(e.into()))?;
        secrets.set(NOISE_KEY, &Secret::new(hex::encode(&private)))?;
        Ok(private)
    })
    .await?;
    let http = http_client::Client::new(cfg.extra_ca_file.as_deref())
        .map_err(|e| SessionError::Storage(e.to_string()))?;
    let state = State::open(&cx.data_dir)?;
    let pinned = match &cfg.server_key {
        Some(k) => k.clone(),
        None => match state.pinned_key()? {
            Some(k) => k,
            None => {
                // First contact: learn the key over XX and hang up before
                // anything is sent; the user confirms it, then it is pinned.
                let key = Link::connect(&cfg.endpoint, &client_key, None)
                    .await?
                    .server_key
                    .clone();
                match confirm_server_key(&mut cx, &cfg, &key).await? {
                    None => return Ok(()),
                    Some(false) => {
                        return Err(SessionError::Untrusted(format!(
                            "the server key {} was not accepted",
                            key_fingerprint(&key)
                        )));
                    }
                    Some(true) => state.pin_key(&key)?,
                }
                key
            }
        },
    };
    // IK with the pinned key: a server without it cannot answer, so the
    // password goes to the confirmed server only.
    let mut link = Link::connect(&cfg.endpoint, &client_key, Some(&pinned)).await?;
    // Third-party users get a token from their provider first.
    let provider_token = match (&cfg.user, &cfg.provider_url) {
        (Peer::ThirdParty(_), Some(url)) => {
            let body = format!(
                "user={}&password={}",
                http::percent_encode(&cfg.user.to_string()),
                http::percent_encode(password.expose())
            );
            let r = tokio::time::timeout(
                super::link::STEP_TIMEOUT,
                http.request(
                    "POST",
                    &format!("{url}/v1/auth"),
                    None,
                    body.as_bytes(),
                    4096,
                ),
            )
            .await
            .map_err(|_| SessionError::Network("the provider did not answer".into()))?
            .map_err(|e| SessionError::Network(format!("provider: {e}")))?;
            match r.status {
                200 => Some(String::from_utf8(r.body).map_err(|_| {
                    SessionError::Protocol(ProtocolError::Malformed {
                        what: "provider token",
                        detail: "not UTF-8".into(),
                    })
                })?),
                401 | 403 => return Err(SessionError::AuthFailed),
                s => return Err(SessionError::Network(format!("provider answered {s}"))),
            }
        }
        _ => None,
    };
    let auth_id = link.next_id();
    link.send(&Stanza::Auth {
        id: auth_id.clone(),
        user: cfg.user.to_string(),
        token: provider_token.clone(),
        password: match cfg.user {
            Peer::Gatekeeper(_) => Some(password.expose().to_owned()),
            Peer::ThirdParty(_) => None,
        },
    })
    .await?;
    let answer = link
        .wait_for(|s| match s {
            Stanza::Success {
                id,
                session,
                prekeys,
                ..
            } if *id == auth_id => Some(Ok((session.clone(), *prekeys))),
            Stanza::Failure { id, .. } if *id == auth_id => Some(Err(())),
            Stanza::StreamError(ErrorCode::NotAuthorized) => Some(Err(())),
            _ => None,
        })
        .await?;
    let (session_token, prekeys) = answer.map_err(|_| SessionError::AuthFailed)?;
    let dir = cx.data_dir.clone();
    let secrets = cx.secrets.clone();
    let start_over = cfg.e2ee_start_over.clone();
    let device = blocking(move || {
        open_device(
            &dir.join("e2ee.sqlite"),
            secrets.as_ref(),
            start_over.as_deref(),
        )
    })
    .await?;
    let vault = koine_vault::Vault::open_async(cx.secrets.clone()).await?;
    let mut s = Session {
        cfg,
        cx,
        link,
        device,
        state,
        session_token,
        provider_token,
        http,
        pending: HashMap::new(),
        prompts: HashMap::new(),
        safety: HashMap::new(),
        vault,
    };
    s.publish_keys(prekeys).await?;
    let link_hop = s.facts(Trust::Unverified, None).text().hops.remove(0);
    s.cx.events
        .emit(Event::ConnectionChanged(ConnectionState::Online {
            link: link_hop,
        }))
        .await?;
    let result = s.serve().await;
    let reason = match &result {
        Ok(()) => "closed",
        Err(SessionError::Network(_)) => "network",
        Err(_) => "error",
    };
    let _ =
        s.cx.events
            .emit(Event::ConnectionChanged(ConnectionState::Offline {
                reason: reason.into(),
            }))
            .await;
    result
}

impl Session {
    fn facts(&self, trust: Trust, safety: Option<String>) -> RouteFacts<'_> {
        RouteFacts {
            server_name: &self.cfg.server_name,
            operator: self.cfg.operator.as_deref(),
            noise_protocol: self.link.protocol,
            trust,
            safety_number: safety,
        }
    }

    fn peer_route(&mut self, peer: &Peer) -> Result<(Trust, Option<String>), SessionError> {
        let trust = self.state.trust(&peer.to_string())?;
        Ok((trust, self.safety_number(peer)))
    }

    fn safety_number(&mut self, peer: &Peer) -> Option<String> {
        if let Some(n) = self.safety.get(peer) {
            return Some(n.clone());
        }
        let theirs = self
            .device
            .peer_identity(&PeerId::new(peer.to_string(), 1))?;
        let n = koine_e2ee::safety_number(
            &self.cfg.user.to_string(),
            &self.device.identity_key(),
            &peer.to_string(),
            &theirs,
        )
        .formatted();
        self.safety.insert(peer.clone(), n.clone());
        Some(n)
    }

    async fn publish_keys(&mut self, server_count: u32) -> Result<(), SessionError> {
        let otks = if server_count < UPLOAD_BELOW {
            self.device
                .generate_one_time_pre_keys(KEEP_PREKEYS.saturating_sub(server_count))
                .map_err(e2ee_err)?
        } else {
            Vec::new()
        };
        // A week-old signed prekey is replaced before it is published.
        self.device
            .refresh_signed_pre_key(Timestamp::now())
            .map_err(e2ee_err)?;
        let spk = self.device.signed_pre_key().map_err(e2ee_err)?;
        let upload = KeyUpload {
            identity_key: self.device.identity_key(),
            registration_id: self.device.registration_id(),
            device_id: 1,
            signed_pre_key: Some(SignedPreKey {
                id: spk.id,
                public_key: spk.public_key,
                signature: spk.signature,
            }),
            one_time_pre_keys: otks
                .into_iter()
                .map(|k| OneTimePreKey {
                    id: k.id,
                    public_key: k.public_key,
                })
                .collect(),
        };
        match self
            .link
            .iq(IqType::Set, IqPayload::Keys(upload.encode_to_vec()))
            .await?
        {
            Ok(_) => Ok(()),
            Err(code) => Err(SessionError::Protocol(ProtocolError::Unexpected(format!(
                "key upload refused: {}",
                code.as_str()
            )))),
        }
    }

    async fn serve(&mut self) -> Result<(), SessionError> {
        // A session may last longer than a signed prekey: look daily (the
        // first tick, at once, finds the key just refreshed at login).
        let mut rotation = tokio::time::interval(ROTATION_CHECK);
        loop {
            while let Some(s) = self.link.backlog.pop_front() {
                self.on_stanza(s).await?;
            }
            tokio::select! {
                _ = rotation.tick() => self.rotate_if_due().await?,
                command = self.cx.commands.recv() => match command {
                    Some(c) => self.on_command(c).await?,
                    None => return Ok(()),
                },
                frames = self.link.recv_frames() => {
                    for f in frames? {
                        match Link::decode(&f) {
                            Ok(s) => self.on_stanza(s).await?,
                            Err(e) => {
                                // A stanza we cannot read is dropped; the link goes on.
                                self.notice_malformed(InputSource::Server, e.to_string()).await?;
                            }
                        }
                    }
                }
            }
        }
    }

    /// Publishes a new signed prekey when the current one is a week old
    /// (without adding one-time prekeys).
    async fn rotate_if_due(&mut self) -> Result<(), SessionError> {
        if self.device.signed_pre_key_due(Timestamp::now()) {
            self.publish_keys(u32::MAX).await?;
        }
        Ok(())
    }

    async fn notice_malformed(
        &self,
        source: InputSource,
        detail: String,
    ) -> Result<(), SessionError> {
        self.cx
            .events
            .emit(Event::Notice(Notice::MalformedInput { source, detail }))
            .await?;
        Ok(())
    }

    async fn on_stanza(&mut self, s: Stanza) -> Result<(), SessionError> {
        match s {
            Stanza::Ack { id, ts, .. } => {
                if let Some((local_id, route, _)) = self.pending.remove(&id) {
                    let _ = ts;
                    self.cx
                        .events
                        .emit(Event::SendAcked {
                            local_id,
                            remote_id: RemoteId::new(id),
                            route,
                        })
                        .await?;
                }
            }
            Stanza::Nack {
                id,
                code,
                retry_after,
            } => {
                if let Some((local_id, _, conv)) = self.pending.remove(&id) {
                    let error = self.refusal(code, retry_after, &conv).await?;
                    self.cx
                        .events
                        .emit(Event::SendFailed { local_id, error })
                        .await?;
                }
            }
            Stanza::Message {
                id,
                from: Some(from),
                kind,
                ts,
                body,
                ..
            } => {
                self.on_message(id, from, kind, ts, body).await?;
            }
            Stanza::Receipt {
                id,
                from: Some(from),
                kind,
                ..
            } => {
                self.cx
                    .events
                    .emit(Event::DeliveryUpdated {
                        conversation: ConversationKey::new(from.to_string()),
                        remote_id: RemoteId::new(id),
                        state: match kind {
                            ReceiptKind::Delivered => DeliveryState::Delivered,
                            ReceiptKind::Read => DeliveryState::Read,
                        },
                    })
                    .await?;
            }
            Stanza::ChatState {
                from: Some(from),
                state,
                ..
            } => {
                self.cx
                    .events
                    .emit(Event::ChatStateChanged {
                        conversation: ConversationKey::new(from.to_string()),
                        from: from.to_address(),
                        state: match state {
                            ChatStateKind::Composing => ChatState::Composing,
                            ChatStateKind::Paused => ChatState::Paused,
                            ChatStateKind::Active => ChatState::Active,
                            ChatStateKind::Gone => ChatState::Gone,
                        },
                    })
                    .await?;
            }
            Stanza::Notice(ServerNotice::PrekeysLow(remaining)) => {
                self.cx
                    .events
                    .emit(Event::Notice(Notice::PrekeysLow { remaining }))
                    .await?;
                self.publish_keys(remaining).await?;
            }
            Stanza::Notice(ServerNotice::ReadOnly(peer)) => {
                self.read_only(&peer).await?;
            }
            Stanza::StreamError(code) => {
                return Err(SessionError::Protocol(ProtocolError::Unexpected(format!(
                    "stream error {}",
                    code.as_str()
                ))));
            }
            other => {
                self.notice_malformed(InputSource::Server, format!("unexpected stanza {other:?}"))
                    .await?;
            }
        }
        Ok(())
    }

    async fn read_only(&mut self, peer: &Peer) -> Result<(), SessionError> {
        let (trust, safety) = self.peer_route(peer)?;
        let route = self.facts(trust, safety).text();
        self.cx
            .events
            .emit(Event::Notice(Notice::ChatReadOnly {
                contact: peer.to_address(),
            }))
            .await?;
        self.cx
            .events
            .emit(Event::ConversationUpserted(Conversation {
                key: ConversationKey::new(peer.to_string()),
                title: peer.to_string(),
                kind: ConversationKind::Direct,
                peer: Some(peer.to_address()),
                route,
                read_only: true,
            }))
            .await?;
        Ok(())
    }

    async fn refusal(
        &mut self,
        code: ErrorCode,
        retry_after: Option<u64>,
        conv: &ConversationKey,
    ) -> Result<SendError, SessionError> {
        let peer = Peer::parse(conv.as_str()).ok();
        Ok(match code {
            ErrorCode::NotOptedIn => {
                if let Some(p) = &peer {
                    self.cx
                        .events
                        .emit(Event::Notice(Notice::RecipientNotOptedIn {
                            contact: p.to_address(),
                        }))
                        .await?;
                }
                SendError::NotOptedIn
            }
            ErrorCode::ReadOnly => {
                if let Some(p) = &peer {
                    self.read_only(p).await?;
                }
                SendError::ReadOnly
            }
            ErrorCode::Blocked => SendError::Blocked,
            ErrorCode::ItemNotFound => SendError::NoSuchRecipient,
            ErrorCode::TooLarge => SendError::TooLarge,
            ErrorCode::RateLimited => {
                self.cx
                    .events
                    .emit(Event::Notice(Notice::RateLimited {
                        retry_after_ms: retry_after,
                    }))
                    .await?;
                SendError::RateLimited
            }
            other => SendError::Rejected(other.as_str().to_owned()),
        })
    }

    /// Makes sure a session with `peer` exists, fetching a bundle if needed.
    async fn ensure_session(&mut self, peer: &Peer) -> Result<Result<(), ErrorCode>, SessionError> {
        let pid = PeerId::new(peer.to_string(), 1);
        if self.device.has_session(&pid) {
            return Ok(Ok(()));
        }
        let payload = match self
            .link
            .iq(IqType::Get, IqPayload::BundleRequest(peer.clone()))
            .await?
        {
            Ok(IqPayload::Bundle(_, bytes)) => bytes,
            Ok(_) => return Ok(Err(ErrorCode::Internal)),
            Err(code) => return Ok(Err(code)),
        };
        let b: PreKeyBundle = match proto::decode("PreKeyBundle", &payload) {
            Ok(b) => b,
            Err(e) => {
                // A bad bundle fails this send; the session goes on.
                self.notice_malformed(InputSource::Server, e.to_string())
                    .await?;
                return Ok(Err(ErrorCode::BadRequest));
            }
        };
        let spk = b.signed_pre_key.unwrap_or_default();
        let bundle = koine_e2ee::PreKeyBundle {
            identity_key: b.identity_key,
            registration_id: b.registration_id,
            device_id: b.device_id,
            signed_pre_key: koine_e2ee::SignedPreKey {
                id: spk.id,
                public_key: spk.public_key,
                signature: spk.signature,
            },
            one_time_pre_key: b.one_time_pre_key.map(|k| koine_e2ee::OneTimePreKey {
                id: k.id,
                public_key: k.public_key,
            }),
        };
        match self.device.start_session(&pid, &bundle).await {
            Ok(status) => {
                self.identity_seen(peer, status).await?;
                Ok(Ok(()))
            }
            Err(e) => {
                self.notice_malformed(InputSource::Server, format!("bundle of {peer}: {e}"))
                    .await?;
                Ok(Err(ErrorCode::BadRequest))
            }
        }
    }

    async fn identity_seen(
        &mut self,
        peer: &Peer,
        status: IdentityStatus,
    ) -> Result<(), SessionError> {
        if status != IdentityStatus::Changed {
            return Ok(());
        }
        self.safety.remove(peer);
        // One policy for Signal-protocol networks (as OMEMO): the new key of
        // a contact the user verified blocks sends until the user accepts
        // it; an unverified contact's is a notice and a route that says so.
        let now = match self.state.trust(&peer.to_string())? {
            Trust::Verified | Trust::ChangedVerified => Trust::ChangedVerified,
            Trust::Unverified | Trust::Changed => Trust::Changed,
        };
        self.state.set_trust(&peer.to_string(), now)?;
        self.cx
            .events
            .emit(Event::Notice(Notice::IdentityKeyChanged {
                contact: peer.to_address(),
            }))
            .await?;
        self.raise_identity_prompt(peer).await
    }

    async fn raise_identity_prompt(&mut self, peer: &Peer) -> Result<(), SessionError> {
        let number = self.safety_number(peer).unwrap_or_default();
        let kind = PromptKind::IdentityChanged {
            with: peer.to_address(),
            new_fingerprint: number,
        };
        let id = format!("{IDENTITY_PROMPT}{peer}");
        self.prompts
            .insert(id.clone(), (peer.clone(), kind.clone()));
        self.cx
            .events
            .emit(Event::PromptRaised(Prompt {
                id: PromptId::new(id),
                kind,
            }))
            .await?;
        Ok(())
    }

    async fn send_content(
        &mut self,
        local_id: LocalId,
        conversation: ConversationKey,
        content: Content,
        media_urls: Vec<String>,
    ) -> Result<(), SessionError> {
        let fail = |error| Event::SendFailed {
            local_id: local_id.clone(),
            error,
        };
        let Ok(peer) = Peer::parse(conversation.as_str()) else {
            return Ok(self
                .cx
                .events
                .emit(fail(SendError::NoSuchRecipient))
                .await?);
        };
        if let Err(code) = self.ensure_session(&peer).await? {
            let error = self.refusal(code, None, &conversation).await?;
            return Ok(self.cx.events.emit(fail(error)).await?);
        }
        if self.state.trust(&peer.to_string())? == Trust::ChangedVerified {
            return Ok(self
                .cx
                .events
                .emit(fail(SendError::IdentityChanged {
                    with: peer.to_address(),
                }))
                .await?);
        }
        let ct = match self
            .device
            .encrypt(&PeerId::new(peer.to_string(), 1), &content.encode_to_vec())
            .await
        {
            Ok(ct) => ct,
            Err(e) => {
                return Ok(self
                    .cx
                    .events
                    .emit(fail(SendError::CannotEncrypt {
                        reason: e.to_string(),
                    }))
                    .await?);
            }
        };
        self.state.set_known(&peer.to_string())?;
        let (trust, safety) = self.peer_route(&peer)?;
        let facts = self.facts(trust, safety);
        let route = if media_urls.is_empty() {
            facts.text()
        } else {
            facts.sent_media(&media_urls, &self.cfg.gatekeeper_http)
        };
        let id = wire_id(&local_id);
        self.pending
            .insert(id.clone(), (local_id, route, conversation));
        self.link
            .send(&Stanza::Message {
                id,
                to: Some(peer),
                from: None,
                kind: match ct.kind {
                    CiphertextKind::PreKey => CipherKind::PreKey,
                    CiphertextKind::Whisper => CipherKind::Whisper,
                },
                ts: None,
                body: ct.bytes,
            })
            .await
    }

    async fn on_command(&mut self, c: Command) -> Result<(), SessionError> {
        match c {
            Command::SendMessage {
                local_id,
                conversation,
                content,
                reply_to,
            } => {
                let mut media = Vec::new();
                for a in &content.attachments {
                    match self.upload(a).await {
                        Ok(m) => media.push(m),
                        Err(error) => {
                            if error == SendError::TooLarge {
                                self.cx
                                    .events
                                    .emit(Event::Notice(Notice::AttachmentTooLarge {
                                        max_bytes: media::MAX_FILE,
                                    }))
                                    .await?;
                            }
                            return Ok(self
                                .cx
                                .events
                                .emit(Event::SendFailed { local_id, error })
                                .await?);
                        }
                    }
                }
                let urls = media.iter().map(|m| m.url.clone()).collect();
                let body = Content {
                    text: content.text,
                    media,
                    reply_to: reply_to.map(|r| r.0).unwrap_or_default(),
                    sent_at_ms: Timestamp::now().0,
                    reaction: None,
                };
                self.send_content(local_id, conversation, body, urls).await
            }
            Command::React {
                local_id,
                conversation,
                target,
                key,
                remove,
            } => {
                let body = Content {
                    sent_at_ms: Timestamp::now().0,
                    reaction: Some(Reaction {
                        target: target.0,
                        key,
                        remove,
                    }),
                    ..Content::default()
                };
                self.send_content(local_id, conversation, body, Vec::new())
                    .await
            }
            Command::EditMessage { local_id, .. } | Command::DeleteMessage { local_id, .. } => {
                self.cx
                    .events
                    .emit(Event::SendFailed {
                        local_id,
                        error: SendError::Unsupported(
                            "edits and deletions are not in protocol version 1".into(),
                        ),
                    })
                    .await?;
                Ok(())
            }
            Command::MarkRead {
                conversation,
                up_to,
            } => {
                if let Ok(peer) = Peer::parse(conversation.as_str()) {
                    self.link
                        .send(&Stanza::Receipt {
                            id: up_to.0,
                            to: Some(peer),
                            from: None,
                            kind: ReceiptKind::Read,
                            ts: None,
                        })
                        .await?;
                }
                Ok(())
            }
            Command::SetChatState {
                conversation,
                state,
            } => {
                if let Ok(peer) = Peer::parse(conversation.as_str()) {
                    let state = match state {
                        ChatState::Composing => ChatStateKind::Composing,
                        ChatState::Paused => ChatStateKind::Paused,
                        ChatState::Active => ChatStateKind::Active,
                        ChatState::Gone => ChatStateKind::Gone,
                    };
                    self.link
                        .send(&Stanza::ChatState {
                            to: Some(peer),
                            from: None,
                            state,
                        })
                        .await?;
                }
                Ok(())
            }
            Command::OpenConversation { with } => {
                let Some(peer) = Peer::from_address(&with) else {
                    return Ok(());
                };
                self.state.set_known(&peer.to_string())?;
                let (trust, safety) = self.peer_route(&peer)?;
                let route = self.facts(trust, safety.clone()).text();
                self.cx
                    .events
                    .emit(Event::ConversationUpserted(Conversation {
                        key: ConversationKey::new(peer.to_string()),
                        title: peer.to_string(),
                        kind: ConversationKind::Direct,
                        peer: Some(with.clone()),
                        route,
                        read_only: false,
                    }))
                    .await?;
                match trust {
                    Trust::Changed | Trust::ChangedVerified => {
                        self.raise_identity_prompt(&peer).await?;
                    }
                    Trust::Unverified => {
                        if let Some(number) = safety {
                            self.raise_safety_prompt(&peer, number).await?;
                        }
                    }
                    Trust::Verified => {}
                }
                Ok(())
            }
            Command::SetVerified { with, verified } => {
                if let Some(peer) = Peer::from_address(&with) {
                    let t = if verified {
                        Trust::Verified
                    } else {
                        Trust::Unverified
                    };
                    self.state.set_trust(&peer.to_string(), t)?;
                }
                Ok(())
            }
            Command::AnswerPrompt { prompt, answer } => {
                let asked = self
                    .prompts
                    .remove(prompt.as_str())
                    .map(|(peer, kind)| (peer, matches!(kind, PromptKind::IdentityChanged { .. })));
                // An identity prompt raised before a restart is still ours.
                let asked = asked.or_else(|| {
                    prompt
                        .as_str()
                        .strip_prefix(IDENTITY_PROMPT)
                        .and_then(|p| Peer::parse(p).ok())
                        .map(|p| (p, true))
                });
                let Some((peer, identity)) = asked else {
                    return Ok(());
                };
                if answer != PromptAnswer::Confirm {
                    return Ok(());
                }
                let key = peer.to_string();
                if !identity {
                    self.state.set_trust(&key, Trust::Verified)?;
                } else if matches!(
                    self.state.trust(&key)?,
                    Trust::Changed | Trust::ChangedVerified
                ) {
                    // The new key is accepted, not verified.
                    self.state.set_trust(&key, Trust::Unverified)?;
                }
                Ok(())
            }
            Command::AnswerRequest { request, decision } => {
                let Some(peer) = request
                    .as_str()
                    .strip_prefix("request-")
                    .and_then(|p| Peer::parse(p).ok())
                else {
                    return Ok(());
                };
                match decision {
                    Decision::Accept => self.state.set_known(&peer.to_string())?,
                    Decision::Decline => {}
                    Decision::Block => {
                        let _ = self.link.iq(IqType::Set, IqPayload::Block(peer)).await?;
                    }
                    Decision::Report => {
                        let _ = self
                            .link
                            .iq(IqType::Set, IqPayload::Report(peer, None))
                            .await?;
                    }
                }
                self.cx.events.emit(Event::RequestResolved(request)).await?;
                Ok(())
            }
            other => {
                if let Some(local_id) = other.local_id().cloned() {
                    self.cx
                        .events
                        .emit(Event::SendFailed {
                            local_id,
                            error: SendError::Unsupported("command".into()),
                        })
                        .await?;
                }
                Ok(())
            }
        }
    }

    async fn raise_safety_prompt(
        &mut self,
        peer: &Peer,
        number: String,
    ) -> Result<(), SessionError> {
        let kind = PromptKind::CompareSafetyNumber {
            with: peer.to_address(),
            number,
        };
        let id = format!("safety-{peer}");
        self.prompts
            .insert(id.clone(), (peer.clone(), kind.clone()));
        self.cx
            .events
            .emit(Event::PromptRaised(Prompt {
                id: PromptId::new(id),
                kind,
            }))
            .await?;
        Ok(())
    }

    async fn upload(&self, a: &Attachment) -> Result<proto::Media, SendError> {
        let AttachmentSource::LocalPath(path) = &a.source else {
            return Err(SendError::Unsupported("remote attachment".into()));
        };
        let meta = tokio::fs::metadata(path)
            .await
            .map_err(|e| SendError::Rejected(e.to_string()))?;
        if meta.len() > media::MAX_FILE {
            return Err(SendError::TooLarge);
        }
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|e| SendError::Rejected(e.to_string()))?;
        let (host, bearer) = match (&self.cfg.user, &self.cfg.provider_url, &self.provider_token) {
            (Peer::ThirdParty(_), Some(url), Some(t)) => (url.clone(), t.clone()),
            _ => (self.cfg.gatekeeper_http.clone(), self.session_token.clone()),
        };
        media::upload(&self.http, &host, &bearer, &bytes, &a.name, &a.mime)
            .await
            .map_err(|e| match e {
                media::MediaError::TooLarge => SendError::TooLarge,
                other => SendError::Rejected(other.to_string()),
            })
    }

    /// Commits the decryption that made `ack` true, then acknowledges. In
    /// this order a crash in between leaves a message the server delivers
    /// again and the stored session can still open.
    async fn consumed(&mut self, ack: &Stanza) -> Result<(), SessionError> {
        self.device.commit().map_err(e2ee_err)?;
        self.link.send(ack).await
    }

    async fn on_message(
        &mut self,
        id: String,
        from: Peer,
        kind: CipherKind,
        ts: Option<i64>,
        body: Vec<u8>,
    ) -> Result<(), SessionError> {
        let ct = Ciphertext {
            kind: match kind {
                CipherKind::PreKey => CiphertextKind::PreKey,
                CipherKind::Whisper => CiphertextKind::Whisper,
            },
            bytes: body,
        };
        let pid = PeerId::new(from.to_string(), 1);
        let decrypted = self.device.decrypt_uncommitted(&pid, &ct).await;
        let ack = Stanza::Ack {
            id: id.clone(),
            from: Some(from.clone()),
            ts: None,
        };
        let d = match decrypted {
            Ok(d) => d,
            Err(koine_e2ee::E2eeError::Duplicate) => {
                // Committed only after the engine stored it, so this is a
                // redelivery of something already kept: acknowledge again.
                return self.link.send(&ack).await;
            }
            Err(e) => {
                self.notice_malformed(InputSource::Peer, format!("message {id} from {from}: {e}"))
                    .await?;
                return self.consumed(&ack).await;
            }
        };
        let content: Content = match proto::decode("Content", &d.plaintext) {
            Ok(c) => c,
            Err(e) => {
                self.notice_malformed(InputSource::Peer, e.to_string())
                    .await?;
                return self.consumed(&ack).await;
            }
        };
        self.identity_seen(&from, d.identity).await?;
        let conversation = ConversationKey::new(from.to_string());
        let timestamp = Timestamp(ts.unwrap_or_else(|| Timestamp::now().0));
        if let Some(r) = content.reaction {
            let by = from.to_address();
            let change = if r.remove {
                MessageChange::ReactionRemoved { by, key: r.key }
            } else {
                MessageChange::ReactionAdded { by, key: r.key }
            };
            self.cx
                .events
                .emit_handled(Event::MessageChanged {
                    conversation,
                    remote_id: RemoteId::new(r.target),
                    change,
                    by: Author::Other(from.to_address()),
                    at: timestamp,
                })
                .await?;
            return self.consumed(&ack).await;
        }
        // A first message from a third-party user the gatekeeper user never
        // wrote to or accepted is a request (the engine keeps it apart).
        if let (Peer::Gatekeeper(_), Peer::ThirdParty(p)) = (&self.cfg.user, &from)
            && !self.state.is_known(&from.to_string())?
        {
            let request = Request {
                id: RequestId::new(format!("request-{from}")),
                kind: RequestKind::ThirdPartyOptIn {
                    provider: p.provider().to_owned(),
                },
                from: from.to_address(),
                display_name: None,
                conversation: Some(conversation.clone()),
                preview: Some(content.text.chars().take(80).collect()),
                received: timestamp,
            };
            self.cx.events.emit(Event::RequestReceived(request)).await?;
        }
        let mut attachments = Vec::new();
        let mut urls = Vec::new();
        if content.media.len() > media::MAX_FILES_PER_MESSAGE {
            self.notice_malformed(
                InputSource::Peer,
                format!(
                    "message {id} from {from} references {} files; only the first {} files are kept",
                    content.media.len(),
                    media::MAX_FILES_PER_MESSAGE
                ),
            )
            .await?;
        }
        // Files are kept per sender (a direct chat is its peer's
        // conversation): two senders' message ids may be the same.
        let dir = self
            .cx
            .data_dir
            .join("media")
            .join(media::sender_dir(&from.to_string()));
        for (n, m) in content
            .media
            .iter()
            .take(media::MAX_FILES_PER_MESSAGE)
            .enumerate()
        {
            urls.push(m.url.clone());
            match media::download(
                &self.http,
                &self.cfg.gatekeeper_http,
                &self.session_token,
                m,
            )
            .await
            {
                Ok(bytes) => {
                    // Named by sender, message and place, so that a message
                    // delivered again seals over the same file.
                    let path = dir.join(format!("{id}-{n}{}", koine_vault::SEALED_SUFFIX));
                    self.vault.write_async(path.clone(), bytes).await?;
                    attachments.push(Attachment {
                        name: m.name.clone(),
                        mime: m.mime.clone(),
                        size: m.size,
                        source: AttachmentSource::Sealed(path.to_string_lossy().into_owned()),
                        sha256: Some(hex::encode(&m.plaintext_sha256)),
                    });
                }
                Err(e) => {
                    self.notice_malformed(InputSource::Peer, format!("attachment of {id}: {e}"))
                        .await?;
                    attachments.push(Attachment {
                        name: m.name.clone(),
                        mime: m.mime.clone(),
                        size: m.size,
                        source: AttachmentSource::Remote(m.url.clone()),
                        sha256: Some(hex::encode(&m.plaintext_sha256)),
                    });
                }
            }
        }
        let (trust, safety) = self.peer_route(&from)?;
        let facts = self.facts(trust, safety);
        let route = if urls.is_empty() {
            facts.text()
        } else {
            facts.received_media(&urls, &self.cfg.gatekeeper_http)
        };
        let message = Message {
            conversation,
            remote_id: RemoteId::new(id.clone()),
            local_id: None,
            sender: from.to_address(),
            sender_name: None,
            direction: Direction::Incoming,
            timestamp,
            content: ApiContent {
                text: content.text,
                attachments,
            },
            reply_to: (!content.reply_to.is_empty()).then(|| RemoteId::new(content.reply_to)),
            route,
        };
        self.cx
            .events
            .emit_handled(Event::MessageReceived(message))
            .await?;
        // Stored by the engine: the session may advance, the server may
        // forget it, and the sender learns it was delivered.
        self.consumed(&ack).await?;
        self.link
            .send(&Stanza::Receipt {
                id,
                to: Some(from),
                from: None,
                kind: ReceiptKind::Delivered,
                ts: None,
            })
            .await
    }
}
