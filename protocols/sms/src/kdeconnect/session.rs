//! The plugin session over KDE Connect: connect to the phone by address,
//! pair (prompting with the verification key) or use the pinned pairing,
//! then serve commands with the SMS packets.
//!
//! Pairing state lives in the account's keyring scope: the desktop's key and
//! certificate (`kdeconnect-identity`) and the phone's pin
//! (`kdeconnect-pairing`). An account may also bring a pairing made
//! elsewhere: the phone's pin in its settings (`phone_fingerprint`,
//! `phone_device_id`) and the desktop's identity as its secret.
//!
//! Nothing is ever sent to an unpaired phone but the identity and the
//! pairing packets: a send while unpaired fails with
//! [`SendError::NotPaired`] before any byte is written.

use super::catch_up::{self, CatchUp};
use super::identity::{Identity, PROTOCOL_VERSION, Pair, valid_device_id};
use super::link::{self, Link};
use super::packet::{Packet, kind, now_millis};
use super::payload;
use super::sms::{
    AttachmentFile, Messages, OutgoingAttachment, RequestAttachment, RequestConversation,
    SendRequest, SmsAddress, SmsMessage, message_type,
};
use super::tls::{LocalIdentity, common_name, fingerprint, verification_key};
use crate::error::LinkError;
use crate::settings::KdeSettings;
use crate::{conversation, route};
use koine_api::{
    Attachment, AttachmentSource, Command, ConnectionState, Content, ConversationKey,
    DeliveryState, Direction, Event, InputSource, LocalId, Message, Notice, Prompt, PromptAnswer,
    PromptId, PromptKind, RemoteId, Route, SecretStore, SendError, SessionContext, SessionError,
    Timestamp,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Keyring name of the desktop's identity.
pub const IDENTITY_SECRET: &str = "kdeconnect-identity";
/// Keyring name of the pairing record.
pub const PAIRING_SECRET: &str = "kdeconnect-pairing";
/// How long a paired phone has to tell us it forgot the pairing before we
/// report the session online.
const PAIR_CHECK_WINDOW: Duration = Duration::from_secs(3);
/// The device id once recorded for a phone whose id was not known (before
/// it was read from the certificate).
const UNKNOWN_PHONE: &str = "unknown_phone";
/// How many messages of a long list (the phone's conversation list) are
/// ingested before the session looks at commands and new packets again.
const INGEST_BATCH: usize = 100;
/// While this many messages wait to be ingested, no more packets are read
/// (a phone that sends lists faster than they are stored is slowed down,
/// not buffered without end).
const MAX_BACKLOG: usize = 50_000;
/// The largest MMS accepted for sending.
pub const MAX_MMS_BYTES: u64 = 1024 * 1024;

/// A paired phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairRecord {
    /// Its device id.
    pub device_id: String,
    /// Its name.
    pub device_name: String,
    /// SHA-256 of its certificate (the pin).
    pub fingerprint: String,
    /// The protocol version it spoke when paired.
    pub version: u32,
}

async fn keyring_get(
    store: &Arc<dyn SecretStore>,
    name: &'static str,
) -> Result<Option<String>, SessionError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || store.get(name))
        .await
        .map_err(|e| SessionError::Storage(e.to_string()))?
        .map(|s| s.map(|s| s.expose().to_owned()))
        .map_err(SessionError::from)
}

async fn keyring_set(
    store: &Arc<dyn SecretStore>,
    name: &'static str,
    value: String,
) -> Result<(), SessionError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || store.set(name, &koine_api::Secret::new(value)))
        .await
        .map_err(|e| SessionError::Storage(e.to_string()))?
        .map_err(SessionError::from)
}

async fn keyring_delete(
    store: &Arc<dyn SecretStore>,
    name: &'static str,
) -> Result<(), SessionError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || store.delete(name))
        .await
        .map_err(|e| SessionError::Storage(e.to_string()))?
        .map_err(SessionError::from)
}

/// The desktop's identity: the account secret if it carries one, else the
/// one in the keyring, else a new one (stored in the keyring).
async fn load_identity(cx: &SessionContext) -> Result<LocalIdentity, SessionError> {
    if let Some(secret) = &cx.secret
        && let Ok(id) = serde_json::from_str::<LocalIdentity>(secret.expose())
    {
        return Ok(id);
    }
    if let Some(json) = keyring_get(&cx.secrets, IDENTITY_SECRET).await?
        && let Ok(id) = serde_json::from_str::<LocalIdentity>(&json)
    {
        return Ok(id);
    }
    let device_id = format!("koine_{}", uuid::Uuid::new_v4().simple());
    let id = LocalIdentity::generate(&device_id).map_err(SessionError::from)?;
    let json = serde_json::to_string(&id).map_err(|e| SessionError::Storage(e.to_string()))?;
    keyring_set(&cx.secrets, IDENTITY_SECRET, json).await?;
    Ok(id)
}

/// Local ids already handed to the phone, with the phone's id once known.
/// Kept in the data dir so that a retry after a reconnect is recognised
/// (ids only, no message text; replaced atomically, so that a crash never
/// loses it and sends twice).
struct SentLog {
    path: PathBuf,
    entries: BTreeMap<String, Option<String>>,
}

impl SentLog {
    fn load(path: PathBuf) -> Self {
        let entries = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Self { path, entries }
    }

    fn get(&self, id: &LocalId) -> Option<&Option<String>> {
        self.entries.get(id.as_str())
    }

    fn record(&mut self, id: &LocalId, remote: Option<String>) -> Result<(), SessionError> {
        self.entries.insert(id.as_str().to_owned(), remote);
        self.save()
    }

    /// Forgets a send the phone reported failed, so a retry sends it again.
    fn forget(&mut self, id: &LocalId) -> Result<(), SessionError> {
        self.entries.remove(id.as_str());
        self.save()
    }

    fn save(&self) -> Result<(), SessionError> {
        let json =
            serde_json::to_vec(&self.entries).map_err(|e| SessionError::Storage(e.to_string()))?;
        koine_vault::write_private(&self.path, &json)
            .map_err(|e| SessionError::Storage(e.to_string()))
    }
}

/// A send handed to the phone and not yet confirmed: acknowledged only when
/// the phone reports it in its sent box, failed when in its failed box.
struct PendingSend {
    local_id: LocalId,
    conversation: ConversationKey,
    body: String,
    /// The phone's id once it echoed the message (outbox or queued).
    uid: Option<i64>,
}

enum PairStage {
    /// We asked the user whether to send a pairing request.
    /// `timestamp` is the request's (protocol 8; none for protocol 7).
    OfferToUser {
        prompt: PromptId,
        timestamp: Option<i64>,
    },
    /// The user agreed; the request is on the phone's screen.
    AwaitingPhone,
    /// The phone asked; the user must compare the key.
    PhoneAsked { prompt: PromptId },
}

struct Held {
    message: Message,
    waiting: HashSet<String>,
}

struct Session {
    cx: SessionContext,
    settings: KdeSettings,
    identity: LocalIdentity,
    link: Link,
    device_id: String,
    device_name: String,
    fingerprint: String,
    paired: Option<PairRecord>,
    stage: Option<PairStage>,
    online: bool,
    threads: HashMap<i64, ConversationKey>,
    known_conversations: HashSet<ConversationKey>,
    dates: HashMap<String, i64>,
    pending: Vec<PendingSend>,
    sent: SentLog,
    history: HashMap<i64, (ConversationKey, u32)>,
    /// Threads with messages received while Koine was away.
    catch_up: CatchUp,
    held: Vec<Held>,
    seen_outgoing: HashSet<i64>,
    /// Messages of a long list not ingested yet: taken a batch at a time
    /// between commands and packets, so a phone with tens of thousands of
    /// conversations does not hold up a new SMS or a send.
    backlog: VecDeque<SmsMessage>,
    /// MMS parts being fetched, off the session loop: a payload port that
    /// never answers holds up only its own message.
    fetches: tokio::task::JoinSet<(String, Result<SavedPart, PartError>)>,
    /// Seals MMS parts at rest.
    vault: koine_vault::Vault,
}

/// Why a part is not in the data dir.
enum PartError {
    /// The phone's payload transfer failed (its input: a notice).
    Fetch(String),
    /// Writing it here failed (ours: the session ends, the engine retries).
    Store(String),
}

/// A part fetched and sealed in the data dir.
struct SavedPart {
    path: PathBuf,
    size: u64,
    sha256: String,
}

fn offline(reason: &str) -> Event {
    Event::ConnectionChanged(ConnectionState::Offline {
        reason: reason.to_owned(),
    })
}

/// Runs one session against the phone.
pub async fn run(cx: SessionContext, settings: KdeSettings) -> Result<(), SessionError> {
    cx.events
        .emit(Event::ConnectionChanged(ConnectionState::Connecting))
        .await?;
    let identity = load_identity(&cx).await?;
    let paired = match settings.preset_pairing.clone() {
        Some(p) => Some(p),
        None => keyring_get(&cx.secrets, PAIRING_SECRET)
            .await?
            .and_then(|j| serde_json::from_str::<PairRecord>(&j).ok()),
    };
    let me = Identity {
        device_id: identity.device_id.clone(),
        device_name: settings.device_name.clone(),
        device_type: "desktop".into(),
        protocol_version: PROTOCOL_VERSION,
        incoming_capabilities: vec![kind::SMS_MESSAGES.into(), kind::SMS_ATTACHMENT_FILE.into()],
        outgoing_capabilities: vec![
            kind::SMS_REQUEST.into(),
            kind::SMS_REQUEST_CONVERSATIONS.into(),
            kind::SMS_REQUEST_CONVERSATION.into(),
            kind::SMS_REQUEST_ATTACHMENT.into(),
        ],
        tcp_port: None,
    };
    let pin = paired.as_ref().map(|p| p.fingerprint.clone());
    let expected_version = paired.as_ref().map(|p| p.version);
    let label = paired
        .as_ref()
        .map(|p| p.device_name.clone())
        .unwrap_or_else(|| settings.phone_label.clone());
    let link = match link::connect(
        settings.phone_address,
        &identity,
        &me,
        pin,
        expected_version,
    )
    .await
    {
        Ok(link) => link,
        Err(e) => return Err(fail_connect(&cx, &label, e).await),
    };
    // A protocol-7 phone that accepted our connection sends no identity;
    // its device id is its certificate's common name.
    let device_id = link
        .peer_identity
        .as_ref()
        .map(|i| i.device_id.clone())
        .or_else(|| common_name(&link.peer_cert).filter(|cn| valid_device_id(cn)))
        .or_else(|| paired.as_ref().map(|p| p.device_id.clone()))
        .unwrap_or_else(|| UNKNOWN_PHONE.into());
    let mut paired = paired;
    if let Some(p) = &mut paired
        && p.device_id == UNKNOWN_PHONE
    {
        // Paired at protocol 7 before the id was read from the certificate:
        // the certificate passed the pin, so this is the same phone.
        p.device_id = device_id.clone();
    }
    if let Some(p) = &paired
        && p.device_id != device_id
    {
        cx.events
            .emit(Event::Notice(Notice::CertificateRejected {
                host: label.clone(),
                reason: "device-id-changed".into(),
            }))
            .await?;
        cx.events.emit(offline("untrusted")).await?;
        return Err(SessionError::Untrusted(format!(
            "the pinned phone {} now calls itself {device_id}",
            p.device_id
        )));
    }
    let device_name = link
        .peer_identity
        .as_ref()
        .map(|i| i.device_name.clone())
        .unwrap_or(label);
    let fingerprint = fingerprint(&link.peer_cert);
    if let Some(p) = &mut paired
        && settings.preset_pairing.is_none()
        && p.version < link.version
    {
        // Remember the newer protocol, so that a later downgrade is refused.
        p.version = link.version;
        let json = serde_json::to_string(&*p).map_err(|e| SessionError::Storage(e.to_string()))?;
        keyring_set(&cx.secrets, PAIRING_SECRET, json).await?;
    }
    let sent = SentLog::load(cx.data_dir.join("kdeconnect-sent.json"));
    let vault = koine_vault::Vault::open_async(cx.secrets.clone()).await?;
    let catch_up = CatchUp::load(cx.data_dir.join("kdeconnect-threads.json"));
    let mut session = Session {
        cx,
        settings,
        identity,
        link,
        device_id,
        device_name,
        fingerprint,
        paired,
        stage: None,
        online: false,
        threads: HashMap::new(),
        known_conversations: HashSet::new(),
        dates: HashMap::new(),
        pending: Vec::new(),
        sent,
        history: HashMap::new(),
        catch_up,
        held: Vec::new(),
        seen_outgoing: HashSet::new(),
        backlog: VecDeque::new(),
        fetches: tokio::task::JoinSet::new(),
        vault,
    };
    session.start().await?;
    session.serve().await
}

/// A file name for a part the phone names `filename`: letters, digits, `_`
/// and `.` only, never starting with a dot (so never `.` or `..`, nor
/// hidden), never empty.
fn attachment_file_name(filename: &str) -> String {
    let name: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with('.') {
        format!("part_{name}")
    } else {
        name
    }
}

async fn fail_connect(cx: &SessionContext, device: &str, e: LinkError) -> SessionError {
    let notice = match &e {
        LinkError::Io(_) | LinkError::Timeout(_) | LinkError::Closed => {
            Some(Notice::DeviceUnreachable {
                device: device.to_owned(),
            })
        }
        LinkError::Tls(reason) => Some(Notice::CertificateRejected {
            host: device.to_owned(),
            reason: reason.clone(),
        }),
        LinkError::Refused(_) => None,
        LinkError::Packet(p) => Some(Notice::MalformedInput {
            source: InputSource::Device,
            detail: p.to_string(),
        }),
        LinkError::Version(v) => Some(Notice::MalformedInput {
            source: InputSource::Device,
            detail: v.clone(),
        }),
        _ => None,
    };
    if let Some(n) = notice {
        let _ = cx.events.emit(Event::Notice(n)).await;
    }
    let reason = match &e {
        LinkError::Refused(_) => "auth",
        LinkError::Tls(_) => "untrusted",
        LinkError::Version(_) | LinkError::Packet(_) | LinkError::Handshake(_) => "protocol",
        _ => "network",
    };
    let _ = cx.events.emit(offline(reason)).await;
    match e {
        LinkError::Refused(_) => SessionError::AuthFailed,
        other => other.into(),
    }
}

impl Session {
    fn route(&self) -> Route {
        route::sms_route(route::phone_hop_lan(
            &self.device_name,
            self.link.tls_version,
        ))
    }

    async fn emit(&self, event: Event) -> Result<(), SessionError> {
        self.cx.events.emit(event).await.map_err(SessionError::from)
    }

    async fn send_packet(&mut self, packet: &Packet) -> Result<(), SessionError> {
        match self.link.writer.send(packet).await {
            Ok(()) => Ok(()),
            Err(e) => Err(self.lost(e).await),
        }
    }

    async fn lost(&self, e: LinkError) -> SessionError {
        let _ = self
            .emit(Event::Notice(Notice::DeviceUnreachable {
                device: self.device_name.clone(),
            }))
            .await;
        let _ = self.emit(offline("network")).await;
        e.into()
    }

    async fn start(&mut self) -> Result<(), SessionError> {
        if self.paired.is_none() {
            // A protocol-7 phone may ask to pair as the first thing after
            // TLS: answer its request rather than offer one of our own.
            let first = self.link.pending.take();
            let phone_asks = first
                .as_ref()
                .is_some_and(|p| p.kind == kind::PAIR && p.body_as::<Pair>().is_ok_and(|b| b.pair));
            if !phone_asks {
                self.offer_pairing().await?;
            }
            if let Some(p) = first {
                self.on_packet(p).await?;
            }
            return Ok(());
        }
        // A paired phone that forgot us answers our first request with an
        // unpairing packet; give it a moment before reporting online.
        self.send_packet(&Packet::new(
            kind::SMS_REQUEST_CONVERSATIONS,
            &serde_json::json!({}),
        ))
        .await?;
        let mut first = self.link.pending.take();
        if first.is_none() {
            match tokio::time::timeout(PAIR_CHECK_WINDOW, self.link.reader.next()).await {
                Ok(Ok(p)) => first = Some(p),
                Ok(Err(LinkError::Packet(e))) => self.malformed(e.to_string()).await?,
                Ok(Err(e)) => return Err(self.lost(e).await),
                Err(_) => {}
            }
        }
        if let Some(p) = &first
            && p.kind == kind::PAIR
            && p.body_as::<Pair>().is_ok_and(|b| !b.pair)
        {
            return Err(self.unpaired_by_phone().await);
        }
        self.go_online().await?;
        if let Some(p) = first {
            self.on_packet(p).await?;
        }
        Ok(())
    }

    async fn go_online(&mut self) -> Result<(), SessionError> {
        if !self.online {
            self.online = true;
            let link = route::phone_hop_lan(&self.device_name, self.link.tls_version);
            self.emit(Event::ConnectionChanged(ConnectionState::Online { link }))
                .await?;
        }
        Ok(())
    }

    async fn unpaired_by_phone(&mut self) -> SessionError {
        self.paired = None;
        let _ = keyring_delete(&self.cx.secrets, PAIRING_SECRET).await;
        let _ = self
            .emit(Event::Notice(Notice::CertificateRejected {
                host: self.device_name.clone(),
                reason: "not-paired".into(),
            }))
            .await;
        let _ = self.emit(offline("auth")).await;
        SessionError::AuthFailed
    }

    async fn offer_pairing(&mut self) -> Result<(), SessionError> {
        // Protocol 7 has no timestamp in the request nor in the key.
        let timestamp = (self.link.version >= PROTOCOL_VERSION).then(|| now_millis() / 1000);
        let key = self.key(timestamp)?;
        let prompt = PromptId::new(format!(
            "kdeconnect-pair-{}-{}",
            self.device_id,
            uuid::Uuid::new_v4().simple()
        ));
        self.stage = Some(PairStage::OfferToUser {
            prompt: prompt.clone(),
            timestamp,
        });
        self.emit(Event::PromptRaised(Prompt {
            id: prompt,
            kind: PromptKind::PairDevice {
                device: self.device_name.clone(),
                key,
            },
        }))
        .await
    }

    fn key(&self, timestamp: Option<i64>) -> Result<String, SessionError> {
        let mine = self.identity.cert_der().map_err(SessionError::from)?;
        verification_key(&mine, &self.link.peer_cert, timestamp).map_err(SessionError::from)
    }

    async fn serve(&mut self) -> Result<(), SessionError> {
        loop {
            tokio::select! {
                // Commands and packets first; a long list is ingested when
                // neither is waiting, a batch at a time.
                biased;
                command = self.cx.commands.recv() => match command {
                    Some(c) => self.on_command(c).await?,
                    None => {
                        self.link.writer.shutdown().await;
                        return Ok(());
                    }
                },
                packet = self.link.reader.next(), if self.backlog.len() < MAX_BACKLOG => match packet {
                    Ok(p) => self.on_packet(p).await?,
                    Err(LinkError::Packet(e)) => self.malformed(e.to_string()).await?,
                    Err(e) => return Err(self.lost(e).await),
                },
                Some(done) = self.fetches.join_next(), if !self.fetches.is_empty() => {
                    match done {
                        Ok((name, result)) => self.part_fetched(name, result).await?,
                        Err(e) => self.malformed(format!("part fetch: {e}")).await?,
                    }
                }
                () = std::future::ready(()), if !self.backlog.is_empty() => {
                    let n = INGEST_BATCH.min(self.backlog.len());
                    let batch: Vec<SmsMessage> = self.backlog.drain(..n).collect();
                    self.ingest(batch).await?;
                }
            }
        }
    }

    async fn malformed(&self, detail: String) -> Result<(), SessionError> {
        self.emit(Event::Notice(Notice::MalformedInput {
            source: InputSource::Device,
            detail,
        }))
        .await
    }

    async fn on_command(&mut self, command: Command) -> Result<(), SessionError> {
        match command {
            Command::SendMessage {
                local_id,
                conversation,
                content,
                ..
            } => self.send_message(local_id, conversation, content).await,
            Command::FetchHistory {
                conversation,
                before,
                limit,
            } => self.fetch_history(conversation, before, limit).await,
            Command::AnswerPrompt { prompt, answer } => self.answer_prompt(prompt, answer).await,
            Command::OpenConversation { with } => {
                let key = ConversationKey::new(with.to_string());
                let conv = conversation::upsert(&key, self.route(), &self.settings.region);
                self.emit(Event::ConversationUpserted(conv)).await
            }
            other => {
                if let Some(local_id) = other.local_id() {
                    self.emit(Event::SendFailed {
                        local_id: local_id.clone(),
                        error: SendError::Unsupported("sms".into()),
                    })
                    .await?;
                }
                Ok(())
            }
        }
    }

    async fn send_message(
        &mut self,
        local_id: LocalId,
        conversation: ConversationKey,
        content: Content,
    ) -> Result<(), SessionError> {
        if self.paired.is_none() {
            return self
                .emit(Event::SendFailed {
                    local_id,
                    error: SendError::NotPaired,
                })
                .await;
        }
        match self.sent.get(&local_id).cloned() {
            // A retry of a message the phone reported sent: acknowledge
            // again, never send twice.
            Some(Some(remote)) => {
                return self
                    .emit(Event::SendAcked {
                        local_id,
                        remote_id: RemoteId::new(remote),
                        route: self.route(),
                    })
                    .await;
            }
            // Handed to the phone, never confirmed: not sent twice (an SMS
            // costs money), and not reported as sent either; it stays
            // handed over until the phone's sent or failed box shows it.
            Some(None) => {
                self.emit(Event::SendHanded {
                    local_id: local_id.clone(),
                })
                .await?;
                if !self.pending.iter().any(|p| p.local_id == local_id) {
                    let texts: Vec<String> =
                        conversation::addresses(&conversation, &self.settings.region)
                            .unwrap_or_default()
                            .iter()
                            .map(|a| a.to_string())
                            .collect();
                    let conversation = conversation::key_for(&texts, &self.settings.region)
                        .unwrap_or(conversation);
                    self.pending.push(PendingSend {
                        local_id,
                        conversation,
                        body: content.text,
                        uid: None,
                    });
                }
                return Ok(());
            }
            None => {}
        }
        let numbers = match conversation::addresses(&conversation, &self.settings.region) {
            Ok(n) => n,
            Err(_) => {
                return self
                    .emit(Event::SendFailed {
                        local_id,
                        error: SendError::NoSuchRecipient,
                    })
                    .await;
            }
        };
        let mut attachments = Vec::new();
        let mut total = 0u64;
        for a in &content.attachments {
            let AttachmentSource::LocalPath(path) = &a.source else {
                return self
                    .emit(Event::SendFailed {
                        local_id,
                        error: SendError::Unsupported("remote-attachment".into()),
                    })
                    .await;
            };
            let bytes = match tokio::fs::read(path).await {
                Ok(b) => b,
                Err(e) => {
                    return self
                        .emit(Event::SendFailed {
                            local_id,
                            error: SendError::Rejected(format!("attachment unreadable: {e}")),
                        })
                        .await;
                }
            };
            total = total.saturating_add(bytes.len() as u64);
            if total > MAX_MMS_BYTES {
                self.emit(Event::Notice(Notice::AttachmentTooLarge {
                    max_bytes: MAX_MMS_BYTES,
                }))
                .await?;
                return self
                    .emit(Event::SendFailed {
                        local_id,
                        error: SendError::TooLarge,
                    })
                    .await;
            }
            use base64::Engine;
            attachments.push(OutgoingAttachment {
                file_name: a.name.clone(),
                base64_encoded_file: base64::engine::general_purpose::STANDARD.encode(&bytes),
                mime_type: a.mime.clone(),
            });
        }
        let request = SendRequest {
            version: 2,
            addresses: numbers
                .iter()
                .map(|n| SmsAddress {
                    address: n.to_string(),
                })
                .collect(),
            message_body: content.text.clone(),
            sub_id: self.settings.sub_id,
            attachments,
        };
        // Recorded before it is written: an SMS sent twice costs the user
        // and the recipient, so a crash in between errs on not resending.
        self.sent.record(&local_id, None)?;
        self.send_packet(&Packet::new(kind::SMS_REQUEST, &request))
            .await?;
        // On the phone now, not confirmed: its sent box acknowledges it,
        // its failed box fails it.
        self.emit(Event::SendHanded {
            local_id: local_id.clone(),
        })
        .await?;
        let numbers: Vec<String> = numbers.iter().map(|n| n.to_string()).collect();
        let conversation =
            conversation::key_for(&numbers, &self.settings.region).unwrap_or(conversation);
        self.pending.push(PendingSend {
            local_id,
            conversation,
            body: content.text,
            uid: None,
        });
        Ok(())
    }

    async fn fetch_history(
        &mut self,
        conversation: ConversationKey,
        before: Option<RemoteId>,
        limit: u32,
    ) -> Result<(), SessionError> {
        let thread = self
            .threads
            .iter()
            .find(|(_, k)| **k == conversation)
            .map(|(t, _)| *t);
        let Some(thread) = thread.filter(|_| self.paired.is_some()) else {
            return self
                .emit(Event::HistoryPage {
                    conversation,
                    messages: Vec::new(),
                    more: false,
                })
                .await;
        };
        let range_start_timestamp = before.and_then(|b| self.dates.get(b.as_str()).copied());
        self.history.insert(thread, (conversation, limit));
        let request = RequestConversation {
            thread_id: thread,
            range_start_timestamp,
            number_to_request: Some(i64::from(limit)),
        };
        self.send_packet(&Packet::new(kind::SMS_REQUEST_CONVERSATION, &request))
            .await
    }

    async fn answer_prompt(
        &mut self,
        prompt: PromptId,
        answer: PromptAnswer,
    ) -> Result<(), SessionError> {
        match self.stage.take() {
            Some(PairStage::OfferToUser {
                prompt: p,
                timestamp,
            }) if p == prompt => {
                if answer == PromptAnswer::Confirm {
                    let pair = Pair {
                        pair: true,
                        timestamp,
                    };
                    self.stage = Some(PairStage::AwaitingPhone);
                    self.send_packet(&Packet::new(kind::PAIR, &pair)).await?;
                }
                Ok(())
            }
            Some(PairStage::PhoneAsked { prompt: p }) if p == prompt => {
                let accept = answer == PromptAnswer::Confirm;
                self.send_packet(&Packet::new(
                    kind::PAIR,
                    &Pair {
                        pair: accept,
                        timestamp: None,
                    },
                ))
                .await?;
                if accept {
                    self.paired_now().await?;
                }
                Ok(())
            }
            other => {
                self.stage = other;
                Ok(())
            }
        }
    }

    async fn paired_now(&mut self) -> Result<(), SessionError> {
        let record = PairRecord {
            device_id: self.device_id.clone(),
            device_name: self.device_name.clone(),
            fingerprint: self.fingerprint.clone(),
            version: self.link.version,
        };
        let json =
            serde_json::to_string(&record).map_err(|e| SessionError::Storage(e.to_string()))?;
        keyring_set(&self.cx.secrets, PAIRING_SECRET, json).await?;
        self.paired = Some(record);
        self.stage = None;
        self.go_online().await?;
        self.send_packet(&Packet::new(
            kind::SMS_REQUEST_CONVERSATIONS,
            &serde_json::json!({}),
        ))
        .await
    }

    async fn on_packet(&mut self, packet: Packet) -> Result<(), SessionError> {
        if packet.kind == kind::PAIR {
            return self.on_pair(&packet).await;
        }
        if self.paired.is_none() {
            // An unpaired phone's packets are not acted on.
            return Ok(());
        }
        match packet.kind.as_str() {
            kind::SMS_MESSAGES => match packet.body_as::<Messages>() {
                Ok(m) => self.on_messages(m.messages).await,
                Err(e) => self.malformed(e.to_string()).await,
            },
            kind::SMS_ATTACHMENT_FILE => self.on_attachment_file(&packet).await,
            _ => Ok(()),
        }
    }

    async fn on_pair(&mut self, packet: &Packet) -> Result<(), SessionError> {
        let pair = match packet.body_as::<Pair>() {
            Ok(p) => p,
            Err(e) => return self.malformed(e.to_string()).await,
        };
        match (&self.stage, pair.pair) {
            (Some(PairStage::AwaitingPhone), true) => self.paired_now().await,
            (Some(PairStage::AwaitingPhone), false) => {
                self.stage = None;
                self.emit(Event::Notice(Notice::CertificateRejected {
                    host: self.device_name.clone(),
                    reason: "pairing-refused".into(),
                }))
                .await?;
                self.emit(offline("auth")).await?;
                Err(SessionError::AuthFailed)
            }
            (_, false) if self.paired.is_some() => Err(self.unpaired_by_phone().await),
            (_, false) => Ok(()),
            (_, true) if self.paired.is_some() => Ok(()),
            (_, true) => {
                let now = now_millis() / 1000;
                // Protocol 7 has no timestamp: nothing to compare.
                let v8 = self.link.version >= PROTOCOL_VERSION;
                if v8 && !pair.clock_ok(now) {
                    // Like the phone app: a request from a clock more than
                    // 30 minutes off is refused (it would make the key
                    // meaningless and replays easy).
                    self.send_packet(&Packet::new(
                        kind::PAIR,
                        &Pair {
                            pair: false,
                            timestamp: None,
                        },
                    ))
                    .await?;
                    return self
                        .emit(Event::Notice(Notice::CertificateRejected {
                            host: self.device_name.clone(),
                            reason: "clock-skew".into(),
                        }))
                        .await;
                }
                let timestamp = if self.link.version >= PROTOCOL_VERSION {
                    Some(pair.timestamp.unwrap_or(now))
                } else {
                    None
                };
                let key = self.key(timestamp)?;
                let prompt = PromptId::new(format!(
                    "kdeconnect-pair-{}-{}",
                    self.device_id,
                    uuid::Uuid::new_v4().simple()
                ));
                self.stage = Some(PairStage::PhoneAsked {
                    prompt: prompt.clone(),
                });
                self.emit(Event::PromptRaised(Prompt {
                    id: prompt,
                    kind: PromptKind::PairDevice {
                        device: self.device_name.clone(),
                        key,
                    },
                }))
                .await
            }
        }
    }

    fn message_from(&mut self, m: &SmsMessage) -> Option<(Message, ConversationKey)> {
        let numbers: Vec<String> = m.addresses.iter().map(|a| a.address.clone()).collect();
        let key = conversation::key_for(&numbers, &self.settings.region).ok()?;
        self.threads.insert(m.thread_id, key.clone());
        let remote_id = m.uid.to_string();
        self.dates.insert(remote_id.clone(), m.date);
        let incoming = m.kind == message_type::INBOX;
        let sender = if incoming {
            // A number becomes E.164; an alphanumeric sender or a short
            // code is kept as the phone gives it.
            crate::phone::sms_address(numbers.first()?, &self.settings.region).ok()?
        } else {
            self.settings.own_address()
        };
        let attachments = m
            .attachments
            .iter()
            .map(|a| Attachment {
                name: a.unique_identifier.clone(),
                mime: a.mime_type.clone(),
                size: 0,
                source: AttachmentSource::Remote(format!(
                    "kdeconnect-part:{}/{}",
                    a.part_id, a.unique_identifier
                )),
                sha256: None,
            })
            .collect();
        Some((
            Message {
                conversation: key.clone(),
                remote_id: RemoteId::new(remote_id),
                local_id: None,
                sender,
                sender_name: None,
                direction: if incoming {
                    Direction::Incoming
                } else {
                    Direction::Outgoing
                },
                timestamp: Timestamp(m.date),
                content: Content {
                    text: m.body.clone(),
                    attachments,
                },
                reply_to: None,
                route: self.route(),
            },
            key,
        ))
    }

    async fn on_messages(&mut self, messages: Vec<SmsMessage>) -> Result<(), SessionError> {
        // A page asked for with request_conversation.
        if let Some(first) = messages.first()
            && messages.iter().all(|m| m.thread_id == first.thread_id)
            && let Some((conversation, limit)) = self.history.remove(&first.thread_id)
        {
            let mut page: Vec<Message> = messages
                .iter()
                .filter_map(|m| self.message_from(m).map(|(m, _)| m))
                .collect();
            page.sort_by_key(|m| m.timestamp);
            let more = page.len() >= limit as usize && limit > 0;
            return self
                .emit(Event::HistoryPage {
                    conversation,
                    messages: page,
                    more,
                })
                .await;
        }
        // A page of a thread asked for to catch up: only what is past its
        // mark, and the page before when this one does not reach it.
        let mut messages = messages;
        if let Some(first) = messages.first()
            && messages.iter().all(|m| m.thread_id == first.thread_id)
        {
            let thread = first.thread_id;
            match self.catch_up.page(thread, messages) {
                Ok(page) => {
                    if let Some(before) = page.next_before {
                        self.ask_thread(thread, Some(before)).await?;
                    }
                    messages = page.newer;
                }
                Err(back) => messages = back,
            }
        }
        // The newest message of a thread past its mark: the phone received
        // more while Koine was away.
        let mut newest: HashMap<i64, i64> = HashMap::new();
        for m in &messages {
            let d = newest.entry(m.thread_id).or_insert(m.date);
            *d = (*d).max(m.date);
        }
        for (thread, date) in newest {
            if self.catch_up.should_ask(thread, date) {
                self.ask_thread(thread, None).await?;
            }
        }
        if messages.len() > INGEST_BATCH || (!self.backlog.is_empty() && messages.len() > 1) {
            // A long list (the conversation list of a phone with many
            // threads): ingested in batches between commands and packets.
            self.backlog.extend(messages);
            return Ok(());
        }
        self.ingest(messages).await
    }

    /// Asks the phone for the newest page of `thread` (before `before`).
    async fn ask_thread(&mut self, thread: i64, before: Option<i64>) -> Result<(), SessionError> {
        let request = RequestConversation {
            thread_id: thread,
            range_start_timestamp: before,
            number_to_request: Some(catch_up::PAGE),
        };
        self.send_packet(&Packet::new(kind::SMS_REQUEST_CONVERSATION, &request))
            .await
    }

    async fn ingest(&mut self, messages: Vec<SmsMessage>) -> Result<(), SessionError> {
        self.ingest_all(&messages).await?;
        // Marks move only once the engine stored what was reported: a
        // message it refused is asked for again next time.
        self.cx.events.flush().await.map_err(SessionError::from)?;
        // Never past an MMS still waiting for its parts: not reported yet.
        let held_from = self.held.iter().map(|h| h.message.timestamp.0).min();
        self.catch_up.stored(
            messages
                .iter()
                .filter(|m| held_from.is_none_or(|h| m.date < h)),
        )
    }

    async fn ingest_all(&mut self, messages: &[SmsMessage]) -> Result<(), SessionError> {
        for m in messages {
            let Some((mut message, key)) = self.message_from(m) else {
                self.malformed(format!("message {} has no usable address", m.uid))
                    .await?;
                continue;
            };
            if self.known_conversations.insert(key.clone()) {
                let conv = conversation::upsert(&key, self.route(), &self.settings.region);
                self.emit(Event::ConversationUpserted(conv)).await?;
            }
            if message.direction == Direction::Outgoing {
                // Android's boxes: 2 sent, 5 failed are final; 3 draft,
                // 4 outbox and 6 queued are not sent (yet).
                let state = match m.kind {
                    message_type::SENT => Some(DeliveryState::Sent),
                    message_type::FAILED => Some(DeliveryState::Failed),
                    _ => None,
                };
                let ours = self.pending.iter().position(|p| match p.uid {
                    Some(uid) => uid == m.uid,
                    None => p.conversation == key && p.body == m.body,
                });
                if let Some(i) = ours {
                    match state {
                        Some(DeliveryState::Sent) => {
                            let p = self.pending.remove(i);
                            self.sent
                                .record(&p.local_id, Some(message.remote_id.to_string()))?;
                            message.local_id = Some(p.local_id.clone());
                            self.emit(Event::SendAcked {
                                local_id: p.local_id,
                                remote_id: message.remote_id.clone(),
                                route: self.route(),
                            })
                            .await?;
                        }
                        Some(_) => {
                            // The phone could not send it: a failure, never
                            // an acknowledgement; a retry sends it again.
                            let p = self.pending.remove(i);
                            self.sent.forget(&p.local_id)?;
                            self.seen_outgoing.insert(m.uid);
                            self.emit(Event::SendFailed {
                                local_id: p.local_id,
                                error: SendError::Rejected(
                                    "the phone could not send the SMS (failed box)".into(),
                                ),
                            })
                            .await?;
                            continue;
                        }
                        None => {
                            // In the phone's outbox or queue: handed to the
                            // phone, not sent; wait for its final box.
                            if let Some(p) = self.pending.get_mut(i) {
                                p.uid = Some(m.uid);
                            }
                            continue;
                        }
                    }
                }
                let Some(state) = state else {
                    // A draft, or a message still in the outbox or queue:
                    // nothing was sent yet.
                    continue;
                };
                if self.seen_outgoing.insert(m.uid) {
                    self.emit(Event::MessageReceived(message.clone())).await?;
                }
                self.emit(Event::DeliveryUpdated {
                    conversation: key,
                    remote_id: message.remote_id,
                    state,
                })
                .await?;
                continue;
            }
            if m.attachments.is_empty() {
                self.emit(Event::MessageReceived(message)).await?;
                continue;
            }
            let mut waiting = HashSet::new();
            for a in &m.attachments {
                waiting.insert(a.unique_identifier.clone());
                let request = RequestAttachment {
                    part_id: a.part_id,
                    unique_identifier: a.unique_identifier.clone(),
                };
                self.send_packet(&Packet::new(kind::SMS_REQUEST_ATTACHMENT, &request))
                    .await?;
            }
            self.held.push(Held { message, waiting });
        }
        Ok(())
    }

    async fn on_attachment_file(&mut self, packet: &Packet) -> Result<(), SessionError> {
        let file = match packet.body_as::<AttachmentFile>() {
            Ok(f) => f,
            Err(e) => return self.malformed(e.to_string()).await,
        };
        let Some(info) = packet.payload else {
            return self
                .malformed("attachment_file without a payload".into())
                .await;
        };
        let Some(index) = self
            .held
            .iter()
            .position(|h| h.waiting.contains(&file.filename))
        else {
            return Ok(());
        };
        if self.held.get(index).is_none() {
            return Ok(());
        }
        // Fetched off the session loop: a payload port that never answers
        // holds up only this message, until the transfer times out.
        let addr = std::net::SocketAddr::new(self.link.peer_addr.ip(), info.port);
        let identity = self.identity.clone();
        let pin = self.fingerprint.clone();
        let dir = self.cx.data_dir.join("attachments");
        let vault = self.vault.clone();
        let name = file.filename;
        self.fetches.spawn(async move {
            let result = async {
                let bytes = payload::fetch(addr, &identity, pin, info.size)
                    .await
                    .map_err(|e| PartError::Fetch(format!("payload of {name}: {e}")))?;
                let path = dir.join(format!(
                    "{}{}",
                    attachment_file_name(&name),
                    koine_vault::SEALED_SUFFIX
                ));
                let size = bytes.len() as u64;
                let sha256 = hex::encode(Sha256::digest(&bytes));
                vault
                    .write_async(path.clone(), bytes.to_vec())
                    .await
                    .map_err(|e| PartError::Store(format!("storing {name}: {e}")))?;
                Ok(SavedPart { path, size, sha256 })
            }
            .await;
            (name, result)
        });
        Ok(())
    }

    /// A part's fetch ended: its message is reported once all its parts
    /// are in (a part that could not be fetched is reported as remote).
    async fn part_fetched(
        &mut self,
        name: String,
        result: Result<SavedPart, PartError>,
    ) -> Result<(), SessionError> {
        let saved = match result {
            Ok(saved) => Some(saved),
            Err(PartError::Fetch(detail)) => {
                self.malformed(detail).await?;
                None
            }
            Err(PartError::Store(detail)) => return Err(SessionError::Storage(detail)),
        };
        let Some(index) = self.held.iter().position(|h| h.waiting.contains(&name)) else {
            return Ok(());
        };
        let Some(held) = self.held.get_mut(index) else {
            return Ok(());
        };
        held.waiting.remove(&name);
        if let Some(saved) = saved
            && let Some(a) = held
                .message
                .content
                .attachments
                .iter_mut()
                .find(|a| a.name == name)
        {
            a.size = saved.size;
            a.sha256 = Some(saved.sha256);
            a.source = AttachmentSource::Sealed(saved.path.to_string_lossy().into_owned());
        }
        if held.waiting.is_empty() {
            let held = self.held.remove(index);
            self.emit(Event::MessageReceived(held.message)).await?;
        }
        Ok(())
    }
}
