//! The plugin session over SMSGate's local API.
//!
//! Sends are idempotent by local id: the local id is the message id given to
//! the app, and a retry first asks `GET /message/{id}`; only an unknown id is
//! posted. Delivery state is polled until final. Incoming messages and
//! delivery reports come through webhooks that this session receives on its
//! own small HTTP listener; each call's HMAC signature and timestamp are
//! checked (the signing key is made here, kept in the keyring, and set on
//! the phone with `PATCH /settings`).

use super::api::{
    self, MessageState, MmsReceived, Progress, Received, SendMessage, State, TextMessage, Webhook,
    WebhookCall,
};
use super::http::{self, HttpError, Request, Response};
use crate::settings::GateSettings;
use crate::{conversation, route};
use koine_api::{
    Command, ConnectionState, Content, ConversationKey, DeliveryState, Direction, Event,
    InputSource, LocalId, Message, Notice, ProtocolError, RemoteId, Route, SecretStore, SendError,
    SessionContext, SessionError, SettingsError, Timestamp,
};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

/// Keyring name of the pin of the app's HTTPS certificate, once the user
/// accepted it.
pub const CERTIFICATE_PIN_SECRET: &str = "smsgate-certificate-pin";
/// Keyring name of the webhook signing key.
pub const SIGNING_KEY_SECRET: &str = "smsgate-signing-key";
/// How often pending messages' states are polled.
const POLL_EVERY: Duration = Duration::from_millis(500);

struct Hook {
    request: Request,
    answer: oneshot::Sender<u16>,
}

struct Gate {
    cx: SessionContext,
    settings: GateSettings,
    auth: String,
    signing_key: String,
    tracked: HashMap<String, (ConversationKey, State)>,
    known_conversations: HashSet<ConversationKey>,
    /// For `https://`: the pin of the app's certificate and the TLS version
    /// negotiated. `None` for plain HTTP.
    tls: Option<(String, koine_api::TlsVersion)>,
}

fn offline(reason: &str) -> Event {
    Event::ConnectionChanged(ConnectionState::Offline {
        reason: reason.to_owned(),
    })
}

fn protocol(e: &HttpError) -> SessionError {
    match e {
        HttpError::Io(_) | HttpError::Timeout => SessionError::Network(e.to_string()),
        HttpError::Tls(reason) => SessionError::Untrusted(reason.clone()),
        HttpError::TooLarge { size, limit, .. } => {
            SessionError::Protocol(ProtocolError::TooLarge {
                what: "http body",
                size: *size,
                limit: *limit,
            })
        }
        other => SessionError::Protocol(ProtocolError::Malformed {
            what: "http response",
            detail: other.to_string(),
        }),
    }
}

async fn signing_key(store: &Arc<dyn SecretStore>) -> Result<String, SessionError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        if let Some(k) = store.get(SIGNING_KEY_SECRET)? {
            return Ok(k.expose().to_owned());
        }
        let key = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        store.set(SIGNING_KEY_SECRET, &koine_api::Secret::new(key.clone()))?;
        Ok(key)
    })
    .await
    .map_err(|e| SessionError::Storage(e.to_string()))?
}

/// Runs one session against the phone's API.
pub async fn run(cx: SessionContext, settings: GateSettings) -> Result<(), SessionError> {
    cx.events
        .emit(Event::ConnectionChanged(ConnectionState::Connecting))
        .await?;
    let password = cx
        .secret
        .as_ref()
        .map(|s| s.expose().to_owned())
        .ok_or_else(|| SessionError::Settings(SettingsError::Missing("password".into())))?;
    let auth = api::basic_auth(&settings.username, &password);
    let signing_key = signing_key(&cx.secrets).await?;
    let mut cx = cx;
    let tls = if settings.base.https {
        match super::pin::trusted_certificate(&mut cx, &settings).await? {
            Some(trusted) => Some(trusted),
            // Stopped while the user was asked.
            None => return Ok(()),
        }
    } else {
        None
    };
    let mut gate = Gate {
        cx,
        settings,
        auth,
        signing_key,
        tracked: HashMap::new(),
        known_conversations: HashSet::new(),
        tls,
    };
    // Check the credentials and the API before anything else.
    let probe = gate.call("GET", "/webhooks", None).await;
    match probe {
        Ok(r) if r.status == 401 || r.status == 403 => {
            gate.cx.events.emit(offline("auth")).await?;
            return Err(SessionError::AuthFailed);
        }
        Ok(r) if r.status == 200 => {
            if serde_json::from_slice::<Vec<Webhook>>(&r.body).is_err() {
                return Err(gate
                    .fail(SessionError::Protocol(ProtocolError::Malformed {
                        what: "webhook list",
                        detail: "not a JSON list of webhooks".into(),
                    }))
                    .await);
            }
        }
        Ok(r) => {
            return Err(gate
                .fail(SessionError::Protocol(ProtocolError::Unexpected(format!(
                    "HTTP {}",
                    r.status
                ))))
                .await);
        }
        Err(e) => return Err(gate.fail(protocol(&e)).await),
    }
    let (hooks_tx, mut hooks) = mpsc::channel::<Hook>(64);
    let listen = gate
        .settings
        .webhook_listen
        .unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| SessionError::Network(format!("webhook listener: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| SessionError::Network(e.to_string()))?;
    // Held in a JoinSet, dropped with this future: an engine that aborts
    // the session (its store refused a write) frees the address with it,
    // so the next session can listen there again.
    let mut listener_task = JoinSet::new();
    listener_task.spawn(async move {
        let mut connections = JoinSet::new();
        while let Ok((tcp, _)) = listener.accept().await {
            let tx = hooks_tx.clone();
            connections.spawn(async move {
                let (r, w) = tcp.into_split();
                let status = match http::read_request(r).await {
                    Ok(request) => {
                        let (answer, rx) = oneshot::channel();
                        if tx.send(Hook { request, answer }).await.is_err() {
                            return;
                        }
                        rx.await.unwrap_or(503)
                    }
                    Err(_) => 400,
                };
                let _ = http::write_response(w, status, &[], b"").await;
            });
            while connections.try_join_next().is_some() {}
        }
    });
    let result = async {
        gate.setup_webhooks(local).await?;
        let link = gate.phone_hop();
        gate.cx
            .events
            .emit(Event::ConnectionChanged(ConnectionState::Online { link }))
            .await?;
        gate.serve(&mut hooks).await
    }
    .await;
    listener_task.abort_all();
    result
}

impl Gate {
    /// The hop to the phone: TLS with the app's certificate pinned, or
    /// plaintext HTTP on the LAN.
    fn phone_hop(&self) -> koine_api::Hop {
        match &self.tls {
            Some((_, version)) => route::phone_hop_lan(&self.settings.phone_label, *version),
            None => route::phone_hop_http(&self.settings.phone_label),
        }
    }

    fn route(&self) -> Route {
        route::sms_route(self.phone_hop())
    }

    /// The route of a message that came through a webhook: the app calls
    /// this computer over plain HTTP (signed, not encrypted), whatever the
    /// API's scheme.
    fn webhook_route(&self) -> Route {
        route::sms_route(route::phone_hop_http(&self.settings.phone_label))
    }

    async fn emit(&self, e: Event) -> Result<(), SessionError> {
        self.cx.events.emit(e).await.map_err(SessionError::from)
    }

    async fn fail(&self, e: SessionError) -> SessionError {
        let notice = match &e {
            SessionError::Network(_) => Notice::DeviceUnreachable {
                device: self.settings.phone_label.clone(),
            },
            // The app's certificate changed since it was pinned.
            SessionError::Untrusted(reason) => Notice::CertificateRejected {
                host: self.settings.base.authority(),
                reason: reason.clone(),
            },
            other => Notice::MalformedInput {
                source: InputSource::Device,
                detail: other.to_string(),
            },
        };
        let _ = self.emit(Event::Notice(notice)).await;
        let reason = match e {
            SessionError::Network(_) => "network",
            SessionError::Untrusted(_) => "untrusted",
            _ => "protocol",
        };
        let _ = self.emit(offline(reason)).await;
        e
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Response, HttpError> {
        let mut headers = vec![("Authorization", self.auth.clone())];
        if body.is_some() {
            headers.push(("Content-Type", "application/json".into()));
        }
        let body = body.as_deref().unwrap_or(b"");
        match &self.tls {
            Some((pin, _)) => {
                http::send_pinned(&self.settings.base, pin, method, path, &headers, body).await
            }
            None => http::send(&self.settings.base, method, path, &headers, body).await,
        }
    }

    async fn checked(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Response, SessionError> {
        match self.call(method, path, body).await {
            Ok(r) if r.status == 401 || r.status == 403 => {
                let _ = self.emit(offline("auth")).await;
                Err(SessionError::AuthFailed)
            }
            Ok(r) => Ok(r),
            Err(e) => Err(self.fail(protocol(&e)).await),
        }
    }

    async fn setup_webhooks(&self, local: std::net::SocketAddr) -> Result<(), SessionError> {
        let body = serde_json::json!({"webhooks": {"signing_key": self.signing_key}});
        let r = self
            .checked("PATCH", "/settings", serde_json::to_vec(&body).ok())
            .await?;
        if r.status >= 300 {
            return Err(self
                .fail(SessionError::Protocol(ProtocolError::Unexpected(format!(
                    "settings: HTTP {}",
                    r.status
                ))))
                .await);
        }
        let url = self
            .settings
            .webhook_url
            .clone()
            .unwrap_or_else(|| format!("http://{local}/koine-webhook"));
        for event in [
            "sms:received",
            "sms:sent",
            "sms:delivered",
            "sms:failed",
            "mms:received",
        ] {
            let hook = Webhook {
                id: Some(format!(
                    "koine-{}-{}",
                    self.cx.account,
                    event.replace(':', "-")
                )),
                url: url.clone(),
                event: event.into(),
            };
            let r = self
                .checked("POST", "/webhooks", serde_json::to_vec(&hook).ok())
                .await?;
            if r.status >= 300 {
                return Err(self
                    .fail(SessionError::Protocol(ProtocolError::Unexpected(format!(
                        "webhook {event} refused: HTTP {}",
                        r.status
                    ))))
                    .await);
            }
        }
        Ok(())
    }

    async fn serve(&mut self, hooks: &mut mpsc::Receiver<Hook>) -> Result<(), SessionError> {
        let mut poll = tokio::time::interval(POLL_EVERY);
        loop {
            tokio::select! {
                command = self.cx.commands.recv() => match command {
                    Some(c) => self.on_command(c).await?,
                    None => return Ok(()),
                },
                hook = hooks.recv() => match hook {
                    Some(h) => {
                        let status = self.on_webhook(&h.request).await?;
                        let _ = h.answer.send(status);
                    }
                    None => return Err(SessionError::Network("webhook listener stopped".into())),
                },
                _ = poll.tick() => self.poll().await?,
            }
        }
    }

    async fn on_command(&mut self, command: Command) -> Result<(), SessionError> {
        match command {
            Command::SendMessage {
                local_id,
                conversation,
                content,
                ..
            } => self.send(local_id, conversation, content).await,
            Command::FetchHistory { conversation, .. } => {
                // The local API keeps no history to page through.
                self.emit(Event::HistoryPage {
                    conversation,
                    messages: Vec::new(),
                    more: false,
                })
                .await
            }
            other => {
                if let Some(id) = other.local_id() {
                    self.emit(Event::SendFailed {
                        local_id: id.clone(),
                        error: SendError::Unsupported("sms".into()),
                    })
                    .await?;
                }
                Ok(())
            }
        }
    }

    async fn send(
        &mut self,
        local_id: LocalId,
        conversation: ConversationKey,
        content: Content,
    ) -> Result<(), SessionError> {
        if !content.attachments.is_empty() {
            return self
                .emit(Event::SendFailed {
                    local_id,
                    error: SendError::Unsupported("mms".into()),
                })
                .await;
        }
        let Ok(numbers) = conversation::addresses(&conversation, &self.settings.region) else {
            return self
                .emit(Event::SendFailed {
                    local_id,
                    error: SendError::NoSuchRecipient,
                })
                .await;
        };
        let id = local_id.as_str().to_owned();
        let path = format!("/message/{}", urlencode(&id));
        // Already on the phone? Then this is a retry: acknowledge, never resend.
        let existing = self.checked("GET", &path, None).await?;
        let state = if existing.status == 200 {
            serde_json::from_slice::<MessageState>(&existing.body).ok()
        } else {
            None
        };
        let state = match state {
            Some(s) => s,
            None => {
                let body = SendMessage {
                    id: Some(id.clone()),
                    text_message: Some(TextMessage { text: content.text }),
                    message: None,
                    phone_numbers: numbers.iter().map(|n| n.to_string()).collect(),
                    sim_number: self.settings.sim_number,
                    with_delivery_report: true,
                };
                let r = self
                    .checked("POST", "/message", serde_json::to_vec(&body).ok())
                    .await?;
                match r.status {
                    200..=299 => match serde_json::from_slice::<MessageState>(&r.body) {
                        Ok(s) => s,
                        Err(e) => {
                            self.emit(Event::Notice(Notice::MalformedInput {
                                source: InputSource::Device,
                                detail: format!("message state: {e}"),
                            }))
                            .await?;
                            MessageState {
                                id: id.clone(),
                                state: State::Pending,
                                recipients: Vec::new(),
                            }
                        }
                    },
                    400..=499 => {
                        let detail = String::from_utf8_lossy(&r.body).chars().take(200).collect();
                        return self
                            .emit(Event::SendFailed {
                                local_id,
                                error: SendError::Rejected(detail),
                            })
                            .await;
                    }
                    _ => {
                        return self
                            .emit(Event::SendFailed {
                                local_id,
                                error: SendError::Offline,
                            })
                            .await;
                    }
                }
            }
        };
        self.emit(Event::SendAcked {
            local_id,
            remote_id: RemoteId::new(state.id.clone()),
            route: self.route(),
        })
        .await?;
        self.tracked
            .insert(state.id, (conversation, State::Pending));
        Ok(())
    }

    async fn poll(&mut self) -> Result<(), SessionError> {
        let ids: Vec<String> = self.tracked.keys().cloned().collect();
        for id in ids {
            let r = match self
                .call("GET", &format!("/message/{}", urlencode(&id)), None)
                .await
            {
                Ok(r) if r.status == 200 => r,
                Ok(_) => continue,
                Err(e) => return Err(self.fail(protocol(&e)).await),
            };
            let Ok(state) = serde_json::from_slice::<MessageState>(&r.body) else {
                self.emit(Event::Notice(Notice::MalformedInput {
                    source: InputSource::Device,
                    detail: "message state is not JSON".into(),
                }))
                .await?;
                continue;
            };
            self.advance(&id, state.state).await?;
        }
        Ok(())
    }

    async fn advance(&mut self, id: &str, state: State) -> Result<(), SessionError> {
        let Some((conversation, old)) = self.tracked.get(id).cloned() else {
            return Ok(());
        };
        if old == state {
            return Ok(());
        }
        let delivery = match state {
            State::Pending | State::Processed => None,
            State::Sent => Some(DeliveryState::Sent),
            State::Delivered => Some(DeliveryState::Delivered),
            State::Failed => Some(DeliveryState::Failed),
        };
        if matches!(state, State::Delivered | State::Failed) {
            self.tracked.remove(id);
        } else {
            self.tracked
                .insert(id.to_owned(), (conversation.clone(), state));
        }
        if let Some(d) = delivery {
            self.emit(Event::DeliveryUpdated {
                conversation,
                remote_id: RemoteId::new(id),
                state: d,
            })
            .await?;
        }
        Ok(())
    }

    async fn on_webhook(&mut self, req: &Request) -> Result<u16, SessionError> {
        let signature = http::header(&req.headers, "x-signature").unwrap_or("");
        let timestamp = http::header(&req.headers, "x-timestamp").unwrap_or("");
        let now = Timestamp::now().0 / 1000;
        if let Err(why) = api::verify(&self.signing_key, &req.body, timestamp, signature, now) {
            self.emit(Event::Notice(Notice::MalformedInput {
                source: InputSource::Device,
                detail: format!("webhook refused: {why}"),
            }))
            .await?;
            return Ok(401);
        }
        let call: WebhookCall = match serde_json::from_slice(&req.body) {
            Ok(c) => c,
            Err(e) => {
                self.emit(Event::Notice(Notice::MalformedInput {
                    source: InputSource::Device,
                    detail: format!("webhook body: {e}"),
                }))
                .await?;
                return Ok(400);
            }
        };
        let ts = timestamp.parse::<i64>().unwrap_or(now).saturating_mul(1000);
        let payload = call.payload.clone();
        let bad = |e: serde_json::Error| format!("{} payload: {e}", call.event);
        let outcome: Result<(), String> = match call.event.as_str() {
            "sms:received" => match serde_json::from_value::<Received>(payload) {
                Ok(r) => self
                    .received(&call.id, &r.phone_number, r.message, ts)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(bad(e)),
            },
            "mms:received" => match serde_json::from_value::<MmsReceived>(payload) {
                Ok(r) => {
                    self.emit(Event::Notice(Notice::Unsupported {
                        feature: "mms-content".into(),
                    }))
                    .await?;
                    self.received(&call.id, &r.phone_number, r.subject.unwrap_or_default(), ts)
                        .await
                        .map_err(|e| e.to_string())
                }
                Err(e) => Err(bad(e)),
            },
            "sms:sent" | "sms:delivered" | "sms:failed" => {
                match serde_json::from_value::<Progress>(payload) {
                    Ok(p) => {
                        let state = match call.event.as_str() {
                            "sms:sent" => State::Sent,
                            "sms:delivered" => State::Delivered,
                            _ => State::Failed,
                        };
                        self.advance(&p.message_id, state)
                            .await
                            .map_err(|e| e.to_string())
                    }
                    Err(e) => Err(bad(e)),
                }
            }
            _ => Ok(()),
        };
        match outcome {
            Ok(()) => Ok(200),
            Err(detail) => {
                self.emit(Event::Notice(Notice::MalformedInput {
                    source: InputSource::Device,
                    detail,
                }))
                .await?;
                Ok(400)
            }
        }
    }

    async fn received(
        &mut self,
        call_id: &str,
        from: &str,
        text: String,
        ts: i64,
    ) -> Result<(), SessionError> {
        // A number becomes E.164; an alphanumeric sender or a short code is
        // kept as the phone gives it.
        let Ok(sender) = crate::phone::sms_address(from, &self.settings.region) else {
            return self
                .emit(Event::Notice(Notice::MalformedInput {
                    source: InputSource::Device,
                    detail: format!("sender {from:.40} is not an SMS address"),
                }))
                .await;
        };
        let key = ConversationKey::new(sender.to_string());
        if self.known_conversations.insert(key.clone()) {
            let conv = conversation::upsert(&key, self.route(), &self.settings.region);
            self.emit(Event::ConversationUpserted(conv)).await?;
        }
        // Stored before the webhook is answered: until then the app keeps
        // the message and calls again.
        self.cx
            .events
            .emit_handled(Event::MessageReceived(Message {
                conversation: key,
                // The call id is the same on the app's retries, so the engine
                // de-duplicates them.
                remote_id: RemoteId::new(format!("in-{call_id}")),
                local_id: None,
                sender,
                sender_name: None,
                direction: Direction::Incoming,
                timestamp: Timestamp(ts),
                content: Content::text(text),
                reply_to: None,
                route: self.webhook_route(),
            }))
            .await
            .map_err(SessionError::from)
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
