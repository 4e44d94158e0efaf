//! The client's connection: TCP, Noise, then stanzas. A reader task turns
//! the socket into a channel of raw Noise messages so the session loop can
//! select over the network and the engine's commands.

use crate::wire::noise::{NoiseSession, TransportError, check_pin, client_handshake, read_message};
use crate::wire::stanza::{IqPayload, IqType};
use crate::wire::{Stanza, WireError};
use koine_api::{ProtocolError, SessionError};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::io::{AsyncWriteExt, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// How long to wait for the server at each step.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(15);

/// A live connection.
pub struct Link {
    noise: NoiseSession,
    out: WriteHalf<TcpStream>,
    raw: mpsc::Receiver<Result<Vec<u8>, TransportError>>,
    reader: tokio::task::JoinHandle<()>,
    /// Stanzas that arrived while waiting for an answer.
    pub backlog: VecDeque<Stanza>,
    next_id: u64,
    /// The Noise protocol name that was run.
    pub protocol: &'static str,
    /// The server's static key.
    pub server_key: Vec<u8>,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// Maps transport failures onto the API's session errors.
pub fn session_error(e: TransportError) -> SessionError {
    match e {
        TransportError::Io(e) => SessionError::Network(e.to_string()),
        TransportError::Closed => SessionError::Network("the server closed the connection".into()),
        TransportError::UntrustedServer { expected, got } => {
            SessionError::Untrusted(format!("server key {got} is not the pinned key {expected}"))
        }
        TransportError::Wire(w) => SessionError::Protocol(w.into()),
    }
}

fn timeout_error() -> SessionError {
    SessionError::Network("the server did not answer in time".into())
}

impl Link {
    /// Connects and runs the handshake: IK with `pinned`, XX without.
    pub async fn connect(
        endpoint: &str,
        client_private: &[u8],
        pinned: Option<&[u8]>,
    ) -> Result<Self, SessionError> {
        let mut stream = tokio::time::timeout(STEP_TIMEOUT, TcpStream::connect(endpoint))
            .await
            .map_err(|_| timeout_error())?
            .map_err(|e| SessionError::Network(e.to_string()))?;
        let _ = stream.set_nodelay(true);
        let noise = tokio::time::timeout(
            STEP_TIMEOUT,
            client_handshake(&mut stream, client_private, pinned),
        )
        .await
        .map_err(|_| timeout_error())?;
        let noise = match (noise, pinned) {
            (Ok(n), _) => n,
            // With IK, a server holding another key cannot answer: the
            // handshake fails on the first message and the server hangs up.
            (Err(TransportError::Wire(WireError::Noise(d))), Some(_)) => {
                return Err(SessionError::Untrusted(format!(
                    "the server does not hold the pinned key ({d})"
                )));
            }
            (
                Err(TransportError::Closed | TransportError::Wire(WireError::Truncated { .. })),
                Some(_),
            ) => {
                return Err(SessionError::Untrusted(
                    "the server ended the IK handshake: it does not hold the pinned key".into(),
                ));
            }
            (Err(e), _) => return Err(session_error(e)),
        };
        if let Some(pin) = pinned {
            check_pin(&noise, pin).map_err(session_error)?;
        }
        let (mut rd, out) = tokio::io::split(stream);
        let (tx, raw) = mpsc::channel(256);
        let reader = tokio::spawn(async move {
            loop {
                let r = read_message(&mut rd).await;
                let stop = !matches!(r, Ok(Some(_)));
                let item = match r {
                    Ok(Some(m)) => Ok(m),
                    Ok(None) => Err(TransportError::Closed),
                    Err(e) => Err(e),
                };
                if tx.send(item).await.is_err() || stop {
                    break;
                }
            }
        });
        Ok(Self {
            protocol: noise.protocol,
            server_key: noise.remote_static.clone(),
            noise,
            out,
            raw,
            reader,
            backlog: VecDeque::new(),
            next_id: 1,
        })
    }

    /// A fresh stanza id.
    pub fn next_id(&mut self) -> String {
        self.next_id = self.next_id.wrapping_add(1);
        format!("q{}", self.next_id)
    }

    /// Sends one stanza.
    pub async fn send(&mut self, s: &Stanza) -> Result<(), SessionError> {
        let wire = self
            .noise
            .seal_frame(&s.encode())
            .map_err(|e| SessionError::Protocol(e.into()))?;
        self.out
            .write_all(&wire)
            .await
            .map_err(|e| SessionError::Network(e.to_string()))
    }

    /// Waits for the next Noise message and returns the frames it completed
    /// (cancel-safe: the reader task owns the socket).
    pub async fn recv_frames(&mut self) -> Result<Vec<Vec<u8>>, SessionError> {
        match self.raw.recv().await {
            Some(Ok(m)) => self
                .noise
                .open(&m)
                .map_err(|e| SessionError::Protocol(e.into())),
            Some(Err(e)) => Err(session_error(e)),
            None => Err(SessionError::Network("connection lost".into())),
        }
    }

    /// Decodes a frame; a stream-level `<error>` from the server ends the
    /// session.
    pub fn decode(frame: &[u8]) -> Result<Stanza, WireError> {
        Stanza::decode(frame)
    }

    /// Waits for a stanza matching `pick`, keeping the others in the backlog.
    pub async fn wait_for<T>(
        &mut self,
        mut pick: impl FnMut(&Stanza) -> Option<T>,
    ) -> Result<T, SessionError> {
        let now = tokio::time::Instant::now();
        let deadline = now.checked_add(STEP_TIMEOUT).unwrap_or(now);
        loop {
            let frames = tokio::time::timeout_at(deadline, self.recv_frames())
                .await
                .map_err(|_| timeout_error())??;
            for f in frames {
                match Stanza::decode(&f) {
                    Ok(s) => {
                        if let Some(t) = pick(&s) {
                            return Ok(t);
                        }
                        if let Stanza::StreamError(code) = &s {
                            return Err(SessionError::Protocol(ProtocolError::Unexpected(
                                format!("stream error {}", code.as_str()),
                            )));
                        }
                        self.backlog.push_back(s);
                    }
                    Err(e) => return Err(SessionError::Protocol(e.into())),
                }
            }
        }
    }

    /// Sends an `<iq>` and waits for its answer: `Ok(payload)` for a
    /// result, `Err(code)` for an error answer.
    pub async fn iq(
        &mut self,
        kind: IqType,
        payload: IqPayload,
    ) -> Result<Result<IqPayload, crate::wire::stanza::ErrorCode>, SessionError> {
        let id = self.next_id();
        self.send(&Stanza::Iq {
            id: id.clone(),
            kind,
            payload,
        })
        .await?;
        self.wait_for(|s| match s {
            Stanza::Iq {
                id: got,
                kind: IqType::Result,
                payload,
            } if *got == id => Some(Ok(payload.clone())),
            Stanza::Iq {
                id: got,
                kind: IqType::Error,
                payload,
            } if *got == id => Some(Err(match payload {
                IqPayload::Error(code, _) => *code,
                _ => crate::wire::stanza::ErrorCode::Internal,
            })),
            _ => None,
        })
        .await
    }
}
