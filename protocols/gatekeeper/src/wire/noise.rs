//! The Noise transport (PROTOCOL.md §2): preamble, XX or IK handshake with
//! 25519 / AES-GCM / SHA-256, then length-prefixed transport messages whose
//! plaintexts carry the frame stream.
//!
//! The handshake functions are async over any stream. After the handshake a
//! [`NoiseSession`] encrypts frames into wire bytes and decrypts received
//! transport messages into frames; [`read_message`] reads one raw
//! length-prefixed message, so that a reader task can feed a select loop.

use super::error::WireError;
use super::frame::{FrameDecoder, encode_frame};
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// `KGK` then the version byte.
pub const MAGIC: &[u8; 3] = b"KGK";
/// The protocol version this crate speaks.
pub const VERSION: u8 = 1;
/// First contact.
pub const XX: &str = "Noise_XX_25519_AESGCM_SHA256";
/// Pinned server key.
pub const IK: &str = "Noise_IK_25519_AESGCM_SHA256";
const MAX_NOISE: usize = 65535;
const TAG: usize = 16;

/// Transport failures.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The socket failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The peer closed the connection.
    #[error("connection closed")]
    Closed,
    /// Bytes that break the protocol.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// The server's static key is not the pinned one.
    #[error("server key {got} is not the pinned key {expected}")]
    UntrustedServer {
        /// Pinned, hex.
        expected: String,
        /// Presented, hex.
        got: String,
    },
}

fn noise_err(e: snow::Error) -> WireError {
    WireError::Noise(e.to_string())
}

/// Generates an X25519 static key pair: (private, public).
pub fn generate_static_key() -> Result<(Vec<u8>, Vec<u8>), WireError> {
    let params = XX.parse().map_err(noise_err)?;
    let kp = snow::Builder::new(params)
        .generate_keypair()
        .map_err(noise_err)?;
    Ok((kp.private, kp.public))
}

/// Reads one length-prefixed Noise message; `Ok(None)` on a clean end of
/// stream before its length.
pub async fn read_message<R: AsyncRead + Unpin>(
    r: &mut R,
) -> Result<Option<Vec<u8>>, TransportError> {
    let mut len = [0u8; 2];
    match r.read_exact(&mut len[..1]).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    r.read_exact(&mut len[1..]).await.map_err(eof_closed)?;
    let n = u16::from_be_bytes(len) as usize;
    let mut buf = vec![0u8; n];
    r.read_exact(&mut buf).await.map_err(eof_closed)?;
    Ok(Some(buf))
}

fn eof_closed(e: std::io::Error) -> TransportError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        TransportError::Wire(WireError::Truncated { buffered: 0 })
    } else {
        TransportError::Io(e)
    }
}

/// The first `n` bytes a Noise call wrote into `buf`.
fn written(buf: &[u8], n: usize) -> Result<&[u8], WireError> {
    buf.get(..n)
        .ok_or_else(|| WireError::Noise("wrote past its buffer".into()))
}

async fn write_message<W: AsyncWrite + Unpin>(w: &mut W, msg: &[u8]) -> Result<(), TransportError> {
    let len = u16::try_from(msg.len()).map_err(|_| WireError::FrameTooLarge {
        size: msg.len(),
        limit: MAX_NOISE,
    })?;
    let mut out = Vec::with_capacity(msg.len().saturating_add(2));
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(msg);
    w.write_all(&out).await?;
    Ok(())
}

async fn hs_write<W: AsyncWrite + Unpin>(
    w: &mut W,
    hs: &mut snow::HandshakeState,
) -> Result<(), TransportError> {
    let mut buf = vec![0u8; MAX_NOISE];
    let n = hs.write_message(&[], &mut buf).map_err(noise_err)?;
    write_message(w, written(&buf, n)?).await?;
    w.flush().await?;
    Ok(())
}

async fn hs_read<R: AsyncRead + Unpin>(
    r: &mut R,
    hs: &mut snow::HandshakeState,
) -> Result<(), TransportError> {
    let msg = read_message(r).await?.ok_or(TransportError::Closed)?;
    let mut buf = vec![0u8; MAX_NOISE];
    hs.read_message(&msg, &mut buf).map_err(noise_err)?;
    Ok(())
}

/// An established session.
pub struct NoiseSession {
    transport: snow::TransportState,
    decoder: FrameDecoder,
    /// The pattern that was run ([`XX`] or [`IK`]).
    pub protocol: &'static str,
    /// The other side's static public key.
    pub remote_static: Vec<u8>,
}

impl std::fmt::Debug for NoiseSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoiseSession")
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl NoiseSession {
    fn new(hs: snow::HandshakeState, protocol: &'static str) -> Result<Self, WireError> {
        let remote_static = hs
            .get_remote_static()
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        Ok(Self {
            transport: hs.into_transport_mode().map_err(noise_err)?,
            decoder: FrameDecoder::default(),
            protocol,
            remote_static,
        })
    }

    /// Encrypts one frame body into wire bytes (one or more transport
    /// messages, each with its length).
    pub fn seal_frame(&mut self, body: &[u8]) -> Result<Vec<u8>, WireError> {
        let framed = encode_frame(body)?;
        let mut out = Vec::with_capacity(framed.len().saturating_add(64));
        let mut buf = vec![0u8; MAX_NOISE];
        for chunk in framed.chunks(MAX_NOISE - TAG) {
            let n = self
                .transport
                .write_message(chunk, &mut buf)
                .map_err(noise_err)?;
            let len = u16::try_from(n).map_err(|_| WireError::Noise("message too long".into()))?;
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(written(&buf, n)?);
        }
        Ok(out)
    }

    /// Encrypts raw stream bytes (not a whole frame) as one transport
    /// message with its length: for tests that forge broken frame streams.
    pub fn seal_raw(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, WireError> {
        let mut buf = vec![0u8; plaintext.len().saturating_add(TAG)];
        let n = self
            .transport
            .write_message(plaintext, &mut buf)
            .map_err(noise_err)?;
        let len = u16::try_from(n).map_err(|_| WireError::Noise("message too long".into()))?;
        let mut out = len.to_be_bytes().to_vec();
        out.extend_from_slice(written(&buf, n)?);
        Ok(out)
    }

    /// Drops a partly received frame, so that a fuzz target starts every
    /// input on a clean frame boundary. Not for the protocol's use.
    #[doc(hidden)]
    pub fn discard_partial_frame(&mut self) {
        self.decoder = FrameDecoder::default();
    }

    /// Decrypts one transport message and returns the frames it completed.
    pub fn open(&mut self, message: &[u8]) -> Result<Vec<Vec<u8>>, WireError> {
        let mut buf = vec![0u8; message.len()];
        let n = self
            .transport
            .read_message(message, &mut buf)
            .map_err(noise_err)?;
        self.decoder.push(written(&buf, n)?);
        let mut frames = Vec::new();
        while let Some(f) = self.decoder.next_frame()? {
            frames.push(f);
        }
        Ok(frames)
    }
}

/// Runs the client side: XX when `pinned` is `None`, IK otherwise.
pub async fn client_handshake<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    local_private: &[u8],
    pinned: Option<&[u8]>,
) -> Result<NoiseSession, TransportError> {
    let (protocol, pattern) = if pinned.is_some() {
        (IK, b'I')
    } else {
        (XX, b'X')
    };
    let preamble = [MAGIC[0], MAGIC[1], MAGIC[2], VERSION, pattern];
    stream.write_all(&preamble).await?;
    let params = protocol.parse().map_err(noise_err)?;
    let mut builder = snow::Builder::new(params)
        .local_private_key(local_private)
        .map_err(noise_err)?
        .prologue(&preamble)
        .map_err(noise_err)?;
    if let Some(key) = pinned {
        builder = builder.remote_public_key(key).map_err(noise_err)?;
    }
    let mut hs = builder.build_initiator().map_err(noise_err)?;
    hs_write(stream, &mut hs).await?;
    hs_read(stream, &mut hs).await?;
    if !hs.is_handshake_finished() {
        hs_write(stream, &mut hs).await?;
    }
    NoiseSession::new(hs, protocol).map_err(Into::into)
}

/// Checks a server key learned over XX against a pinned one.
pub fn check_pin(session: &NoiseSession, pinned: &[u8]) -> Result<(), TransportError> {
    if session.remote_static == pinned {
        Ok(())
    } else {
        Err(TransportError::UntrustedServer {
            expected: hex::encode(pinned),
            got: hex::encode(&session.remote_static),
        })
    }
}

/// Runs the server side after reading and checking the preamble.
pub async fn server_handshake<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    local_private: &[u8],
) -> Result<NoiseSession, TransportError> {
    let mut preamble = [0u8; 5];
    stream.read_exact(&mut preamble).await.map_err(eof_closed)?;
    if &preamble[..3] != MAGIC {
        return Err(WireError::Version("not a gatekeeper client".into()).into());
    }
    if preamble[3] != VERSION {
        return Err(WireError::Version(preamble[3].to_string()).into());
    }
    let protocol = match preamble[4] {
        b'X' => XX,
        b'I' => IK,
        _ => return Err(WireError::Version("unknown pattern".into()).into()),
    };
    let params = protocol.parse().map_err(noise_err)?;
    let mut hs = snow::Builder::new(params)
        .local_private_key(local_private)
        .map_err(noise_err)?
        .prologue(&preamble)
        .map_err(noise_err)?
        .build_responder()
        .map_err(noise_err)?;
    hs_read(stream, &mut hs).await?;
    hs_write(stream, &mut hs).await?;
    if !hs.is_handshake_finished() {
        hs_read(stream, &mut hs).await?;
    }
    NoiseSession::new(hs, protocol).map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn pair(
        pinned: Option<Vec<u8>>,
        server_key: (Vec<u8>, Vec<u8>),
    ) -> Result<(NoiseSession, NoiseSession), String> {
        let (mut a, mut b) = tokio::io::duplex(1 << 20);
        let (client_priv, _) = generate_static_key().map_err(|e| e.to_string())?;
        let server = tokio::spawn(async move { server_handshake(&mut b, &server_key.0).await });
        let client = client_handshake(&mut a, &client_priv, pinned.as_deref()).await;
        let server = server.await.map_err(|e| e.to_string())?;
        match (client, server) {
            (Ok(c), Ok(s)) => Ok((c, s)),
            (c, s) => Err(format!("client {:?} server {:?}", c.err(), s.err())),
        }
    }

    #[tokio::test]
    async fn xx_then_ik_carry_frames_both_ways() {
        let server_key = generate_static_key().expect("key");
        let (mut c, mut s) = pair(None, server_key.clone()).await.expect("xx");
        assert_eq!(c.protocol, XX);
        assert_eq!(c.remote_static, server_key.1);
        check_pin(&c, &server_key.1).expect("same key");
        let big = vec![b'x'; 200_000];
        let wire = c.seal_frame(&big).expect("seal");
        let mut got = Vec::new();
        let mut r = &wire[..];
        while let Some(m) = read_message(&mut r).await.expect("read") {
            got.extend(s.open(&m).expect("open"));
        }
        assert_eq!(got, vec![big]);
        let wire = s.seal_frame(b"<ack id='1'/>").expect("seal");
        let mut r = &wire[..];
        let m = read_message(&mut r).await.expect("read").expect("one");
        assert_eq!(c.open(&m).expect("open"), vec![b"<ack id='1'/>".to_vec()]);

        let (c, _s) = pair(Some(server_key.1.clone()), server_key.clone())
            .await
            .expect("ik");
        assert_eq!(c.protocol, IK);
    }

    #[tokio::test]
    async fn wrong_pinned_key_fails_the_handshake() {
        let server_key = generate_static_key().expect("key");
        let other = generate_static_key().expect("key");
        assert!(
            pair(Some(other.1.clone()), server_key.clone())
                .await
                .is_err()
        );
        let (c, _) = pair(None, server_key).await.expect("xx");
        assert!(matches!(
            check_pin(&c, &other.1),
            Err(TransportError::UntrustedServer { .. })
        ));
    }

    #[tokio::test]
    async fn tampered_transport_message_is_a_typed_error() {
        let server_key = generate_static_key().expect("key");
        let (mut c, mut s) = pair(None, server_key).await.expect("xx");
        let mut wire = c.seal_frame(b"<ping/>").expect("seal");
        *wire.last_mut().expect("not empty") ^= 1;
        let mut r = &wire[..];
        let m = read_message(&mut r).await.expect("read").expect("one");
        assert!(matches!(s.open(&m), Err(WireError::Noise(_))));
    }

    #[tokio::test]
    async fn bad_preamble_is_refused() {
        let (mut a, mut b) = tokio::io::duplex(1024);
        let key = generate_static_key().expect("key");
        a.write_all(b"HTTP/1.1 200 OK\r\n").await.expect("write");
        assert!(matches!(
            server_handshake(&mut b, &key.0).await,
            Err(TransportError::Wire(WireError::Version(_)))
        ));
    }
}
