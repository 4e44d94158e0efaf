//! One client connection: handshake, authentication, then stanzas in and
//! pushes out.

use super::Shared;
use super::db::{DbError, StoredKeys};
use super::hub::Push;
use crate::wire::noise::{NoiseSession, TransportError, read_message, server_handshake};
use crate::wire::proto::{self, KeyUpload, OneTimePreKey, PreKeyBundle, SignedPreKey};
use crate::wire::stanza::{
    CipherKind, ErrorCode, IqPayload, IqType, ReceiptKind, ServerNotice, Stanza,
};
use crate::wire::{Peer, WireError};
use prost::Message as _;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncWriteExt, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_BODY: usize = 192 * 1024;
const MAX_QUEUE: u32 = 10_000;
const MAX_UPLOAD: usize = 200;
const MAX_HELD: u32 = 1000;
const LOW_PREKEYS: u32 = 10;
/// One-time prekeys one peer may take from one user: a burst, then one a
/// minute. Past that, bundles come without one (X3DH works with the signed
/// prekey alone), so a peer cannot drain a user's pool.
const OTK_BURST: f64 = 5.0;
const OTK_PER_SECOND: f64 = 1.0 / 60.0;

#[derive(Debug, thiserror::Error)]
enum ConnError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error(transparent)]
    Wire(#[from] WireError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("timed out")]
    Timeout,
    #[error("authentication failed")]
    Auth,
}

struct Conn {
    noise: NoiseSession,
    out: WriteHalf<TcpStream>,
}

impl Conn {
    async fn send(&mut self, s: &Stanza) -> Result<(), ConnError> {
        let wire = self.noise.seal_frame(&s.encode())?;
        self.out
            .write_all(&wire)
            .await
            .map_err(TransportError::from)?;
        Ok(())
    }
}

/// Serves one accepted TCP connection.
pub async fn serve(stream: TcpStream, peer_addr: std::net::SocketAddr, shared: Arc<Shared>) {
    match run(stream, &shared).await {
        Ok(()) => tracing::info!(%peer_addr, "connection closed"),
        Err(e) => tracing::info!(%peer_addr, error = %e, "connection ended"),
    }
}

async fn run(mut stream: TcpStream, shared: &Arc<Shared>) -> Result<(), ConnError> {
    let noise = tokio::time::timeout(
        HANDSHAKE_TIMEOUT,
        server_handshake(&mut stream, &shared.server_key),
    )
    .await
    .map_err(|_| ConnError::Timeout)??;
    let (mut rd, wr) = tokio::io::split(stream);
    let mut conn = Conn { noise, out: wr };
    // Reader task: raw Noise messages into a channel, so the loop can select.
    let (raw_tx, mut raw_rx) = mpsc::channel::<Result<Vec<u8>, TransportError>>(64);
    let reader = tokio::spawn(async move {
        loop {
            match read_message(&mut rd).await {
                Ok(Some(m)) => {
                    if raw_tx.send(Ok(m)).await.is_err() {
                        break;
                    }
                }
                Ok(None) => {
                    let _ = raw_tx.send(Err(TransportError::Closed)).await;
                    break;
                }
                Err(e) => {
                    let _ = raw_tx.send(Err(e)).await;
                    break;
                }
            }
        }
    });
    let result = session(&mut conn, &mut raw_rx, shared).await;
    reader.abort();
    if let Err(ConnError::Wire(e)) = &result {
        let code = match e {
            WireError::FrameTooLarge { .. } => ErrorCode::TooLarge,
            _ => ErrorCode::BadRequest,
        };
        let _ = conn.send(&Stanza::StreamError(code)).await;
    }
    let _ = conn.out.shutdown().await;
    result
}

async fn next_stanzas(
    conn: &mut Conn,
    raw: &mut mpsc::Receiver<Result<Vec<u8>, TransportError>>,
) -> Result<Vec<Vec<u8>>, ConnError> {
    match raw.recv().await {
        Some(Ok(m)) => Ok(conn.noise.open(&m)?),
        Some(Err(e)) => Err(e.into()),
        None => Err(TransportError::Closed.into()),
    }
}

async fn authenticate(
    conn: &mut Conn,
    raw: &mut mpsc::Receiver<Result<Vec<u8>, TransportError>>,
    shared: &Shared,
) -> Result<(Peer, String), ConnError> {
    let frames = loop {
        let f = next_stanzas(conn, raw).await?;
        if !f.is_empty() {
            break f;
        }
    };
    let Some(first) = frames.first() else {
        return Err(ConnError::Auth);
    };
    let Stanza::Auth {
        id,
        user,
        token,
        password,
    } = Stanza::decode(first)?
    else {
        conn.send(&Stanza::StreamError(ErrorCode::NotAuthorized))
            .await?;
        return Err(ConnError::Auth);
    };
    let peer = Peer::parse(&user).ok();
    let ok = match (&peer, token, password) {
        (Some(p @ Peer::ThirdParty(_)), Some(t), _) => {
            shared.db.token_owner(&t)?.as_deref() == Some(p.to_string().as_str())
        }
        (Some(p @ Peer::Gatekeeper(_)), _, Some(pw)) => {
            shared
                .hub
                .take(&format!("login:{p}"), 10.0 / 60.0, 10.0)
                .is_ok()
                && shared.db.check_password(p, &pw)?
        }
        _ => false,
    };
    match peer {
        Some(p) if ok => Ok((p, id)),
        _ => {
            conn.send(&Stanza::Failure {
                id,
                code: ErrorCode::NotAuthorized,
            })
            .await?;
            Err(ConnError::Auth)
        }
    }
}

async fn session(
    conn: &mut Conn,
    raw: &mut mpsc::Receiver<Result<Vec<u8>, TransportError>>,
    shared: &Arc<Shared>,
) -> Result<(), ConnError> {
    let (me, auth_id) = tokio::time::timeout(HANDSHAKE_TIMEOUT, authenticate(conn, raw, shared))
        .await
        .map_err(|_| ConnError::Timeout)??;
    let (push_tx, mut push_rx) = mpsc::unbounded_channel();
    let (conn_id, token) = shared.hub.register(&me, push_tx);
    tracing::info!(user = %me, "authenticated");
    let result = async {
        let prekeys = shared.db.prekey_count(&me)?;
        conn.send(&Stanza::Success {
            id: auth_id,
            user: me.clone(),
            session: token.clone(),
            prekeys,
        })
        .await?;
        let mut cursor = 0i64;
        cursor = flush_queue(conn, shared, &me, cursor).await?;
        loop {
            tokio::select! {
                frames = next_stanzas(conn, raw) => {
                    for f in frames? {
                        match Stanza::decode(&f) {
                            Ok(s) => handle(conn, shared, &me, s).await?,
                            Err(e @ (WireError::UnknownStanza(_) | WireError::Stanza { .. })) => {
                                tracing::info!(user = %me, error = %e, "bad stanza");
                                conn.send(&Stanza::StreamError(ErrorCode::BadRequest)).await?;
                            }
                            Err(e) => return Err(e.into()),
                        }
                    }
                }
                push = push_rx.recv() => match push {
                    Some(Push::Wake) => cursor = flush_queue(conn, shared, &me, cursor).await?,
                    Some(Push::Ephemeral(s)) => conn.send(&s).await?,
                    None => return Ok(()),
                },
            }
        }
    }
    .await;
    shared.hub.unregister(&me, conn_id, &token);
    result
}

async fn flush_queue(
    conn: &mut Conn,
    shared: &Shared,
    me: &Peer,
    mut cursor: i64,
) -> Result<i64, ConnError> {
    loop {
        let items = shared.db.pending(me, cursor, 200)?;
        if items.is_empty() {
            return Ok(cursor);
        }
        for q in items {
            cursor = q.seq;
            let Ok(from) = Peer::parse(&q.sender) else {
                continue;
            };
            let stanza = match (
                q.kind.parse::<CipherKind>(),
                q.kind.parse::<ReceiptKind>(),
                q.body,
            ) {
                (Ok(kind), _, Some(body)) => Stanza::Message {
                    id: q.id,
                    to: None,
                    from: Some(from),
                    kind,
                    ts: Some(q.ts),
                    body,
                },
                (_, Ok(kind), _) => {
                    shared.db.remove(q.seq)?;
                    Stanza::Receipt {
                        id: q.id,
                        to: None,
                        from: Some(from),
                        kind,
                        ts: Some(q.ts),
                    }
                }
                _ => continue,
            };
            conn.send(&stanza).await?;
        }
    }
}

fn iq_error(id: String, code: ErrorCode) -> Stanza {
    Stanza::Iq {
        id,
        kind: IqType::Error,
        payload: IqPayload::Error(code, None),
    }
}

fn iq_result(id: String, payload: IqPayload) -> Stanza {
    Stanza::Iq {
        id,
        kind: IqType::Result,
        payload,
    }
}

async fn handle(conn: &mut Conn, shared: &Shared, me: &Peer, s: Stanza) -> Result<(), ConnError> {
    let db = &shared.db;
    match s {
        Stanza::Message {
            id,
            to: Some(to),
            kind,
            body,
            ..
        } => {
            let nack = |code, retry_after| Stanza::Nack {
                id: id.clone(),
                code,
                retry_after,
            };
            if let Some(ts) = db.seen(me, &id)? {
                return conn
                    .send(&Stanza::Ack {
                        id,
                        from: None,
                        ts: Some(ts),
                    })
                    .await;
            }
            if body.len() > MAX_BODY {
                return conn.send(&nack(ErrorCode::TooLarge, None)).await;
            }
            if let Err(wait) =
                shared
                    .hub
                    .take(&format!("msg:{me}"), shared.hub.rate, shared.hub.burst)
            {
                return conn.send(&nack(ErrorCode::RateLimited, Some(wait))).await;
            }
            if let Err(code) = db.may_write(me, &to)? {
                tracing::info!(from = %me, to = %to, code = code.as_str(), "message refused");
                return conn.send(&nack(code, None)).await;
            }
            if db.queue_len(&to)? >= MAX_QUEUE {
                return conn.send(&nack(ErrorCode::TooLarge, None)).await;
            }
            let ts = db.enqueue_message(me, &to, &id, kind.as_str(), &body)?;
            tracing::info!(from = %me, to = %to, bytes = body.len(), "message stored");
            shared.hub.push(&to, || Push::Wake);
            if !shared.ack_delay.is_zero() {
                tokio::time::sleep(shared.ack_delay).await;
            }
            conn.send(&Stanza::Ack {
                id,
                from: None,
                ts: Some(ts),
            })
            .await?;
            Ok(())
        }
        Stanza::Ack {
            id,
            from: Some(from),
            ..
        } => {
            db.ack(me, &from.to_string(), &id)?;
            Ok(())
        }
        Stanza::Receipt {
            id,
            to: Some(to),
            kind,
            ..
        } => {
            if db.may_write(me, &to)?.is_ok() {
                db.enqueue_receipt(me, &to, &id, kind.as_str())?;
                shared.hub.push(&to, || Push::Wake);
            }
            Ok(())
        }
        Stanza::ChatState {
            to: Some(to),
            state,
            ..
        } => {
            if db.may_write(me, &to)?.is_ok() {
                let from = me.clone();
                shared.hub.push(&to, || {
                    Push::Ephemeral(Stanza::ChatState {
                        to: None,
                        from: Some(from.clone()),
                        state,
                    })
                });
            }
            Ok(())
        }
        Stanza::Iq {
            id,
            kind: IqType::Get | IqType::Set,
            payload,
        } => {
            let answer = iq(shared, me, id, payload)?;
            conn.send(&answer).await
        }
        _ => conn.send(&Stanza::StreamError(ErrorCode::BadRequest)).await,
    }
}

fn iq(shared: &Shared, me: &Peer, id: String, payload: IqPayload) -> Result<Stanza, ConnError> {
    let db = &shared.db;
    Ok(match payload {
        IqPayload::Ping => iq_result(id, IqPayload::Empty),
        IqPayload::Count(None) => iq_result(id, IqPayload::Count(Some(db.prekey_count(me)?))),
        IqPayload::Keys(bytes) => {
            let Ok(up) = proto::decode::<KeyUpload>("KeyUpload", &bytes) else {
                return Ok(iq_error(id, ErrorCode::BadRequest));
            };
            let Some(spk) = up.signed_pre_key else {
                return Ok(iq_error(id, ErrorCode::BadRequest));
            };
            if !koine_e2ee::verify_signed_pre_key(&up.identity_key, &spk.public_key, &spk.signature)
                || up.one_time_pre_keys.len() > MAX_UPLOAD
                || up
                    .one_time_pre_keys
                    .iter()
                    .any(|k| k.public_key.len() != 33)
            {
                return Ok(iq_error(id, ErrorCode::BadRequest));
            }
            let uploaded = u32::try_from(up.one_time_pre_keys.len()).unwrap_or(u32::MAX);
            if db.prekey_count(me)?.saturating_add(uploaded) > MAX_HELD {
                return Ok(iq_error(id, ErrorCode::TooLarge));
            }
            let keys = StoredKeys {
                identity: up.identity_key,
                registration_id: up.registration_id,
                device_id: up.device_id.max(1),
                signed: (spk.id, spk.public_key, spk.signature),
            };
            let otks: Vec<_> = up
                .one_time_pre_keys
                .into_iter()
                .map(|k| (k.id, k.public_key))
                .collect();
            let n = db.put_keys(me, &keys, &otks)?;
            iq_result(id, IqPayload::Count(Some(n)))
        }
        IqPayload::BundleRequest(of) => {
            if let Err(code) = db.may_write(me, &of)? {
                return Ok(iq_error(id, code));
            }
            let one_time = shared
                .hub
                .take(&format!("otk:{me}:{of}"), OTK_PER_SECOND, OTK_BURST)
                .is_ok();
            if !one_time {
                tracing::info!(from = %me, of = %of, "one-time prekeys capped for this peer");
            }
            let Some((keys, otk)) = db.take_bundle(&of, one_time)? else {
                return Ok(iq_error(id, ErrorCode::ItemNotFound));
            };
            let remaining = db.prekey_count(&of)?;
            if remaining < LOW_PREKEYS {
                shared.hub.push(&of, || {
                    Push::Ephemeral(Stanza::Notice(ServerNotice::PrekeysLow(remaining)))
                });
            }
            let bundle = PreKeyBundle {
                identity_key: keys.identity,
                registration_id: keys.registration_id,
                device_id: keys.device_id,
                signed_pre_key: Some(SignedPreKey {
                    id: keys.signed.0,
                    public_key: keys.signed.1,
                    signature: keys.signed.2,
                }),
                one_time_pre_key: otk.map(|(id, public_key)| OneTimePreKey { id, public_key }),
            };
            iq_result(id, IqPayload::Bundle(of, bundle.encode_to_vec()))
        }
        IqPayload::OptIn { provider, folder } => {
            if !matches!(me, Peer::Gatekeeper(_)) {
                return Ok(iq_error(id, ErrorCode::NotAllowed));
            }
            if !db.provider_exists(&provider)? {
                return Ok(iq_error(id, ErrorCode::ItemNotFound));
            }
            db.set_optin(me, &provider, folder, true)?;
            iq_result(id, IqPayload::Empty)
        }
        IqPayload::OptOut { provider } => {
            if !matches!(me, Peer::Gatekeeper(_)) {
                return Ok(iq_error(id, ErrorCode::NotAllowed));
            }
            let folder = db
                .optins(me)?
                .into_iter()
                .find(|(p, _, _)| *p == provider)
                .map(|(_, f, _)| f)
                .unwrap_or(crate::wire::stanza::Folder::Separate);
            db.set_optin(me, &provider, folder, false)?;
            iq_result(id, IqPayload::Empty)
        }
        IqPayload::OptInsRequest => iq_result(id, IqPayload::OptIns(db.optins(me)?)),
        IqPayload::Block(who) => {
            db.set_block(me, &who, true)?;
            iq_result(id, IqPayload::Empty)
        }
        IqPayload::Unblock(who) => {
            db.set_block(me, &who, false)?;
            iq_result(id, IqPayload::Empty)
        }
        IqPayload::Report(who, msg) => {
            db.report(me, &who, msg.as_deref())?;
            db.set_block(me, &who, true)?;
            tracing::info!(reporter = %me, reported = %who, "report filed");
            iq_result(id, IqPayload::Empty)
        }
        _ => iq_error(id, ErrorCode::BadRequest),
    })
}
