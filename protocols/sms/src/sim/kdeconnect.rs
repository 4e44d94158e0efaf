//! The phone side of KDE Connect, as the Android app behaves: it accepts
//! the desktop's connection, checks its identity and protocol version,
//! pairs (refusing requests whose clock is more than 30 minutes off),
//! answers the SMS packets only for a paired desktop, pushes new messages,
//! and serves MMS parts as payloads.

use super::{LinkSecurity, Part, Phone, PhoneEvent, WireLog};
use crate::error::LinkError;
use crate::kdeconnect::identity::{Identity, PROTOCOL_VERSION, Pair};
use crate::kdeconnect::link::{self, KnownPeer, Link};
use crate::kdeconnect::packet::{Packet, PayloadInfo, kind};
use crate::kdeconnect::payload;
use crate::kdeconnect::sms::{
    AttachmentFile, Messages, RequestAttachment, RequestConversation, SendRequest,
};
use crate::kdeconnect::tls::{LocalIdentity, fingerprint};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

/// What the KDE Connect side of a simulated phone does.
#[derive(Debug, Clone)]
pub struct KdeConfig {
    /// The device id (and certificate common name).
    pub device_id: String,
    /// The protocol version it speaks (7 or 8).
    pub protocol_version: u32,
    /// Whether it accepts pairing requests without asking (the user taps
    /// "accept" at once); when off, it refuses them.
    pub accept_pairing: bool,
}

/// What the phone remembers across restarts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KdeState {
    /// Its identity.
    pub identity: LocalIdentity,
    /// Paired desktops: device id → pin and version.
    pub paired: BTreeMap<String, PairedDesktop>,
}

/// A paired desktop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairedDesktop {
    /// SHA-256 of its certificate.
    pub fingerprint: String,
    /// The protocol version it spoke.
    pub version: u32,
}

/// A packet the phone received, for tests to inspect.
#[derive(Debug, Clone)]
pub struct Received {
    /// The sender's device id.
    pub from: String,
    /// Whether the sender was paired when it arrived.
    pub paired: bool,
    /// The packet.
    pub packet: Packet,
}

/// The KDE Connect phone side of one simulated phone.
pub struct KdePhone {
    /// The phone.
    pub phone: Arc<Phone>,
    config: KdeConfig,
    state: Mutex<KdeState>,
    journal: Mutex<Vec<Received>>,
    control: Mutex<Option<mpsc::UnboundedSender<Outgoing>>>,
    state_file: Option<std::path::PathBuf>,
    drop_sends: std::sync::atomic::AtomicBool,
    tls12_only: std::sync::atomic::AtomicBool,
    pair_on_connect: std::sync::atomic::AtomicBool,
    hang_payloads: std::sync::atomic::AtomicBool,
    key: Mutex<Option<String>>,
    wire: WireLog,
}

/// What the phone is told to send on its current connection.
enum Outgoing {
    Packet(Packet),
    /// Bytes written as they are (a misbehaving phone).
    Raw(Vec<u8>),
}

/// How long a payload port that never answers stays open.
const HANG_FOR: std::time::Duration = std::time::Duration::from_secs(60);

/// A running listener; dropping it stops the phone's network side.
pub struct KdeServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl KdeServer {
    /// Where the phone listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for KdeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl KdePhone {
    /// A phone side with a new identity (or the one in `state_file`).
    pub fn new(
        phone: Arc<Phone>,
        config: KdeConfig,
        state_file: Option<std::path::PathBuf>,
    ) -> Result<Arc<Self>, LinkError> {
        let loaded = state_file
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice::<KdeState>(&b).ok());
        let state = match loaded {
            Some(s) => s,
            None => KdeState {
                identity: LocalIdentity::generate(&config.device_id)?,
                paired: BTreeMap::new(),
            },
        };
        let me = Arc::new(Self {
            phone,
            config,
            state: Mutex::new(state),
            journal: Mutex::new(Vec::new()),
            control: Mutex::new(None),
            state_file,
            drop_sends: std::sync::atomic::AtomicBool::new(false),
            tls12_only: std::sync::atomic::AtomicBool::new(false),
            pair_on_connect: std::sync::atomic::AtomicBool::new(false),
            hang_payloads: std::sync::atomic::AtomicBool::new(false),
            key: Mutex::new(None),
            wire: WireLog::default(),
        });
        me.save();
        Ok(me)
    }

    fn save(&self) {
        if let (Some(path), Ok(state)) = (&self.state_file, self.state.lock())
            && let Ok(json) = serde_json::to_vec_pretty(&*state)
        {
            let _ = std::fs::write(path, json);
        }
    }

    /// The phone's device id.
    pub fn device_id(&self) -> &str {
        &self.config.device_id
    }

    /// The phone's certificate fingerprint.
    pub fn fingerprint(&self) -> String {
        self.identity()
            .and_then(|i| i.fingerprint().ok())
            .unwrap_or_default()
    }

    fn identity(&self) -> Option<LocalIdentity> {
        self.state.lock().ok().map(|s| s.identity.clone())
    }

    fn my_identity(&self) -> Identity {
        Identity {
            device_id: self.config.device_id.clone(),
            device_name: self.phone.config.device_name.clone(),
            device_type: "phone".into(),
            protocol_version: self.config.protocol_version,
            incoming_capabilities: vec![
                kind::SMS_REQUEST.into(),
                kind::SMS_REQUEST_CONVERSATIONS.into(),
                kind::SMS_REQUEST_CONVERSATION.into(),
                kind::SMS_REQUEST_ATTACHMENT.into(),
            ],
            outgoing_capabilities: vec![
                kind::SMS_MESSAGES.into(),
                kind::SMS_ATTACHMENT_FILE.into(),
            ],
            tcp_port: None,
        }
    }

    /// Pairs with a desktop ahead of time (as if the user had paired them
    /// before), by its device id and certificate fingerprint.
    pub fn trust(&self, device_id: &str, fingerprint: &str, version: u32) {
        if let Ok(mut s) = self.state.lock() {
            s.paired.insert(
                device_id.to_owned(),
                PairedDesktop {
                    fingerprint: fingerprint.to_owned(),
                    version,
                },
            );
        }
        self.save();
    }

    /// The desktops paired now.
    pub fn paired(&self) -> BTreeMap<String, PairedDesktop> {
        self.state
            .lock()
            .map(|s| s.paired.clone())
            .unwrap_or_default()
    }

    /// Every packet received so far (from paired and unpaired desktops).
    pub fn journal(&self) -> Vec<Received> {
        self.journal.lock().map(|j| j.clone()).unwrap_or_default()
    }

    /// What crossed this phone's links with desktops, each with the TLS
    /// version the phone negotiated for it (the packets on the main link;
    /// not the payload links of MMS parts).
    pub fn wire(&self) -> &WireLog {
        &self.wire
    }

    /// Writes `packet` to the desktop, noting it in the wire log.
    async fn push(&self, link: &mut Link, packet: &Packet) -> Result<(), LinkError> {
        self.wire
            .record(LinkSecurity::Tls(link.tls_version), &packet.encode());
        link.writer.send(packet).await
    }

    /// Writes `bytes` as they are, noting them in the wire log.
    async fn push_raw(&self, link: &mut Link, bytes: &[u8]) -> Result<(), LinkError> {
        self.wire.record(LinkSecurity::Tls(link.tls_version), bytes);
        link.writer.send_raw(bytes).await
    }

    /// The phone asks the connected desktop to pair (the user tapped
    /// "pair" on the phone). False when no desktop is connected.
    pub fn request_pairing(&self) -> bool {
        self.send(Packet::new(kind::PAIR, &self.pair_request()))
    }

    /// A pairing request: protocol 8 carries the phone's clock, protocol 7
    /// only `pair: true`.
    fn pair_request(&self) -> Pair {
        Pair {
            pair: true,
            timestamp: (self.config.protocol_version >= PROTOCOL_VERSION)
                .then(|| self.phone.now_ms() / 1000),
        }
    }

    /// Makes the phone discard send requests without a trace (a buggy or
    /// overloaded app): nothing is stored, sent or echoed.
    pub fn drop_sends(&self, drop: bool) {
        self.drop_sends
            .store(drop, std::sync::atomic::Ordering::SeqCst);
    }

    /// Offer MMS parts on a payload port that accepts TCP and then never
    /// answers (a stalled transfer), for up to a minute.
    pub fn hang_payloads(&self, hang: bool) {
        self.hang_payloads
            .store(hang, std::sync::atomic::Ordering::SeqCst);
    }

    /// Offer only TLS 1.2 on the next connections, as the Android app does.
    pub fn tls12_only(&self, only: bool) {
        self.tls12_only
            .store(only, std::sync::atomic::Ordering::SeqCst);
    }

    /// Ask an unpaired desktop to pair as soon as TLS is up (the user
    /// tapped "pair" on the phone before the desktop connected).
    pub fn pair_on_connect(&self, ask: bool) {
        self.pair_on_connect
            .store(ask, std::sync::atomic::Ordering::SeqCst);
    }

    /// The verification key this phone showed for its last pairing request
    /// (its own or the desktop's), as the phone computes it.
    pub fn verification_key(&self) -> Option<String> {
        self.key.lock().ok().and_then(|k| k.clone())
    }

    fn show_key(&self, desktop_cert: &[u8], timestamp: Option<i64>) {
        let key = self
            .identity()
            .and_then(|me| phone_side_key(&me, desktop_cert, timestamp));
        if let Ok(mut k) = self.key.lock() {
            *k = key;
        }
    }

    /// Forgets a paired desktop (the user unpaired it on the phone).
    pub fn unpair(&self, device_id: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.paired.remove(device_id);
        }
        self.save();
    }

    /// Drops the current desktop connection (Wi-Fi lost).
    pub fn disconnect(&self) {
        if let Ok(mut c) = self.control.lock() {
            *c = None;
        }
    }

    fn send(&self, packet: Packet) -> bool {
        self.control_send(Outgoing::Packet(packet))
    }

    /// Writes `bytes` as they are on the current desktop connection (a
    /// hostile or broken phone: several packets, half a packet, anything).
    /// False when no desktop is connected.
    pub fn send_raw(&self, bytes: &[u8]) -> bool {
        self.control_send(Outgoing::Raw(bytes.to_vec()))
    }

    /// Makes the part `unique` servable as an MMS part file (a phone whose
    /// part names are hostile).
    pub fn add_part(&self, unique: &str, part: Part) {
        self.phone.with_store(|s| s.add_part(unique, part));
    }

    fn control_send(&self, out: Outgoing) -> bool {
        self.control
            .lock()
            .ok()
            .and_then(|c| c.as_ref().map(|tx| tx.send(out).is_ok()))
            .unwrap_or(false)
    }

    /// Starts listening on `addr` (the desktop connects here, like KDE's
    /// custom device address).
    pub async fn listen(self: &Arc<Self>, addr: SocketAddr) -> std::io::Result<KdeServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let me = self.clone();
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((tcp, _)) = listener.accept().await {
                let me = me.clone();
                connections.spawn(async move {
                    if let Err(e) = me.serve(tcp).await {
                        tracing::debug!("simulated phone: connection ended: {e}");
                    }
                });
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(KdeServer { addr, task })
    }

    async fn serve(self: Arc<Self>, tcp: tokio::net::TcpStream) -> Result<(), LinkError> {
        let identity = self
            .identity()
            .ok_or_else(|| LinkError::Identity("state lock".into()))?;
        let paired = self.paired();
        let mut link = link::accept(
            tcp,
            &identity,
            &self.my_identity(),
            self.config.protocol_version,
            self.tls12_only.load(std::sync::atomic::Ordering::SeqCst),
            |id| {
                paired.get(id).map(|p| KnownPeer {
                    pin: p.fingerprint.clone(),
                    version: p.version,
                })
            },
        )
        .await?;
        let desktop = link
            .peer_identity
            .clone()
            .ok_or_else(|| LinkError::Handshake("no identity".into()))?;
        let fp = fingerprint(&link.peer_cert);
        let (tx, mut rx) = mpsc::unbounded_channel();
        if let Ok(mut c) = self.control.lock() {
            *c = Some(tx);
        }
        let mut events = self.phone.subscribe();
        let mut awaiting_our_request = false;
        if self
            .pair_on_connect
            .load(std::sync::atomic::Ordering::SeqCst)
            && !self.is_paired(&desktop.device_id, &fp)
        {
            let request = self.pair_request();
            self.show_key(&link.peer_cert, request.timestamp);
            self.push(&mut link, &Packet::new(kind::PAIR, &request))
                .await?;
            awaiting_our_request = true;
        }
        if let Some(p) = link.pending.take() {
            self.handle(&mut link, &desktop, &fp, p, &mut awaiting_our_request)
                .await?;
        }
        loop {
            tokio::select! {
                packet = link.reader.next() => match packet {
                    Ok(p) => self.handle(&mut link, &desktop, &fp, p, &mut awaiting_our_request).await?,
                    Err(LinkError::Packet(e)) => tracing::debug!("simulated phone: bad packet: {e}"),
                    Err(e) => return Err(e),
                },
                out = rx.recv() => match out {
                    Some(Outgoing::Raw(bytes)) => self.push_raw(&mut link, &bytes).await?,
                    Some(Outgoing::Packet(p)) => {
                        if p.kind == kind::PAIR {
                            awaiting_our_request = true;
                            if let Ok(request) = p.body_as::<Pair>() {
                                self.show_key(&link.peer_cert, request.timestamp);
                            }
                        }
                        self.push(&mut link, &p).await?
                    }
                    None => {
                        link.writer.shutdown().await;
                        return Ok(());
                    }
                },
                ev = events.recv() => {
                    if let Ok(PhoneEvent::Message(m)) = ev
                        && self.is_paired(&desktop.device_id, &fp)
                    {
                        let body = Messages { messages: vec![m], version: 2 };
                        self.push(&mut link, &Packet::new(kind::SMS_MESSAGES, &body)).await?;
                    }
                }
            }
        }
    }

    fn is_paired(&self, device_id: &str, fp: &str) -> bool {
        self.paired()
            .get(device_id)
            .is_some_and(|p| p.fingerprint == fp)
    }

    async fn handle(
        &self,
        link: &mut Link,
        desktop: &Identity,
        fp: &str,
        packet: Packet,
        awaiting_our_request: &mut bool,
    ) -> Result<(), LinkError> {
        let paired = self.is_paired(&desktop.device_id, fp);
        self.wire
            .record(LinkSecurity::Tls(link.tls_version), &packet.encode());
        if let Ok(mut j) = self.journal.lock() {
            j.push(Received {
                from: desktop.device_id.clone(),
                paired,
                packet: packet.clone(),
            });
        }
        if packet.kind == kind::PAIR {
            let Ok(pair) = packet.body_as::<Pair>() else {
                return Ok(());
            };
            if !pair.pair {
                if let Ok(mut s) = self.state.lock() {
                    s.paired.remove(&desktop.device_id);
                }
                self.save();
                *awaiting_our_request = false;
                return Ok(());
            }
            let now_secs = self.phone.now_ms() / 1000;
            let answering_ours = *awaiting_our_request;
            if !answering_ours {
                let timestamp = pair.timestamp.filter(|_| link.version >= PROTOCOL_VERSION);
                self.show_key(&link.peer_cert, timestamp);
            }
            *awaiting_our_request = false;
            let accept = if answering_ours {
                // The desktop accepted the phone's own request.
                true
            } else if link.version >= PROTOCOL_VERSION && !pair.clock_ok(now_secs) {
                // Like the app: clocks more than 30 minutes apart are refused
                // (protocol 7 requests carry no timestamp to compare).
                false
            } else {
                self.config.accept_pairing
            };
            if accept {
                self.trust(&desktop.device_id, fp, link.version);
            }
            if !answering_ours {
                let answer = Pair {
                    pair: accept,
                    timestamp: None,
                };
                self.push(link, &Packet::new(kind::PAIR, &answer)).await?;
            }
            return Ok(());
        }
        if !paired {
            // Like the app: a packet from an unpaired device is dropped and
            // the device is told that it is not paired.
            self.push(
                link,
                &Packet::new(
                    kind::PAIR,
                    &Pair {
                        pair: false,
                        timestamp: None,
                    },
                ),
            )
            .await?;
            return Ok(());
        }
        match packet.kind.as_str() {
            kind::SMS_REQUEST_CONVERSATIONS => {
                let messages = self
                    .phone
                    .with_store(|s| s.latest_per_thread())
                    .unwrap_or_default();
                self.push(
                    link,
                    &Packet::new(
                        kind::SMS_MESSAGES,
                        &Messages {
                            messages,
                            version: 2,
                        },
                    ),
                )
                .await?;
            }
            kind::SMS_REQUEST_CONVERSATION => {
                if let Ok(r) = packet.body_as::<RequestConversation>() {
                    let messages = self
                        .phone
                        .with_store(|s| {
                            s.thread(r.thread_id, r.range_start_timestamp, r.number_to_request)
                        })
                        .unwrap_or_default();
                    self.push(
                        link,
                        &Packet::new(
                            kind::SMS_MESSAGES,
                            &Messages {
                                messages,
                                version: 2,
                            },
                        ),
                    )
                    .await?;
                }
            }
            kind::SMS_REQUEST if self.drop_sends.load(std::sync::atomic::Ordering::SeqCst) => {}
            kind::SMS_REQUEST => {
                if let Ok(r) = packet.body_as::<SendRequest>() {
                    use base64::Engine;
                    let parts: Vec<Part> = r
                        .attachments
                        .iter()
                        .filter_map(|a| {
                            let bytes = base64::engine::general_purpose::STANDARD
                                .decode(&a.base64_encoded_file)
                                .ok()?;
                            Some(Part {
                                name: a.file_name.clone(),
                                mime: a.mime_type.clone(),
                                bytes,
                            })
                        })
                        .collect();
                    let to: Vec<String> = r.addresses.iter().map(|a| a.address.clone()).collect();
                    let phone = self.phone.clone();
                    // Sending happens off the connection's task, as the
                    // radio does; the store's events report the progress.
                    tokio::spawn(async move {
                        phone.send(&to, &r.message_body, r.sub_id, &parts);
                    });
                }
            }
            kind::SMS_REQUEST_ATTACHMENT => {
                if let Ok(r) = packet.body_as::<RequestAttachment>() {
                    let part = self
                        .phone
                        .with_store(|s| s.part(&r.unique_identifier).cloned())
                        .flatten();
                    if let (Some(part), Some(identity)) = (part, self.identity()) {
                        let ip = link.peer_addr.ip();
                        let ip = if ip.is_loopback() {
                            ip
                        } else {
                            std::net::Ipv4Addr::UNSPECIFIED.into()
                        };
                        let size = part.bytes.len() as u64;
                        let port = if self.hang_payloads.load(std::sync::atomic::Ordering::SeqCst) {
                            // The kernel completes TCP; nobody ever reads.
                            let silent = TcpListener::bind((ip, 0)).await?;
                            let port = silent.local_addr()?.port();
                            tokio::spawn(async move {
                                tokio::time::sleep(HANG_FOR).await;
                                drop(silent);
                            });
                            port
                        } else {
                            payload::offer(ip, &identity, fp.to_owned(), part.bytes).await?
                        };
                        let p = Packet::new(
                            kind::SMS_ATTACHMENT_FILE,
                            &AttachmentFile {
                                filename: r.unique_identifier,
                            },
                        )
                        .with_payload(PayloadInfo { size, port });
                        self.push(link, &p).await?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// The verification key as the phone computes it, written here from the
/// public description of KDE Connect pairing rather than with the plugin's
/// own function (so that each checks the other): its own public key comes
/// from its key pair, the desktop's from the certificate parsed by webpki;
/// SHA-256 over the two SubjectPublicKeyInfo DER strings, the greater first,
/// then the request's timestamp in decimal (protocol 8 only); the first 8
/// hex digits, uppercase.
fn phone_side_key(
    me: &LocalIdentity,
    desktop_cert: &[u8],
    timestamp: Option<i64>,
) -> Option<String> {
    use rcgen::PublicKeyData;
    use sha2::{Digest, Sha256};
    let mine = rcgen::KeyPair::from_pem(&me.key_pem)
        .ok()?
        .subject_public_key_info();
    let der = rustls::pki_types::CertificateDer::from(desktop_cert);
    let theirs = webpki::EndEntityCert::try_from(&der)
        .ok()?
        .subject_public_key_info()
        .as_ref()
        .to_vec();
    let (first, second) = if mine > theirs {
        (mine, theirs)
    } else {
        (theirs, mine)
    };
    let mut hash = Sha256::new();
    hash.update(&first);
    hash.update(&second);
    if let Some(t) = timestamp {
        hash.update(t.to_string());
    }
    hex::encode_upper(hash.finalize())
        .get(..8)
        .map(str::to_owned)
}
