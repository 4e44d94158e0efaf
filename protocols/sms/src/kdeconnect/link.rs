//! The link to a device: TCP, identity exchange, TLS with the role
//! inversion, and packet framing with a size limit.

use super::identity::{Identity, PROTOCOL_VERSION};
use super::packet::{MAX_PACKET_BYTES, Packet, kind};
use super::tls::{self, LocalIdentity};
use crate::error::{LinkError, PacketError};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// How long a peer has for its identity line and the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a protocol-8 peer has to send its identity inside TLS.
pub const TLS_IDENTITY_TIMEOUT: Duration = Duration::from_secs(2);

type BoxRead = Box<dyn AsyncRead + Send + Sync + Unpin>;
type BoxWrite = Box<dyn AsyncWrite + Send + Sync + Unpin>;

/// Reads packets, one per line, refusing lines over [`MAX_PACKET_BYTES`].
/// Cancel-safe: a partial line stays buffered between calls.
pub struct PacketReader {
    inner: BufReader<BoxRead>,
    line: Vec<u8>,
    discarding: bool,
}

impl PacketReader {
    /// Wraps a byte stream.
    pub fn new(inner: BoxRead) -> Self {
        Self {
            inner: BufReader::new(inner),
            line: Vec::new(),
            discarding: false,
        }
    }

    /// The next packet, or a typed error for a line that could not be
    /// decoded (the stream goes on after it), or [`LinkError::Closed`].
    pub async fn next(&mut self) -> Result<Packet, LinkError> {
        loop {
            let available = self.inner.fill_buf().await?;
            if available.is_empty() {
                return Err(LinkError::Closed);
            }
            let (chunk, found) = match available.iter().position(|b| *b == b'\n') {
                Some(i) => (
                    available.get(..i).unwrap_or_default(),
                    Some(i.saturating_add(1)),
                ),
                None => (available, None),
            };
            let used = found.unwrap_or(chunk.len());
            if !self.discarding {
                self.line.extend_from_slice(chunk);
            }
            self.inner.consume(used);
            if self.line.len() > MAX_PACKET_BYTES && !self.discarding {
                let size = self.line.len();
                self.line = Vec::new();
                self.discarding = found.is_none();
                return Err(PacketError::TooLarge {
                    size,
                    limit: MAX_PACKET_BYTES,
                }
                .into());
            }
            if found.is_some() {
                if self.discarding {
                    self.discarding = false;
                    continue;
                }
                let line = std::mem::take(&mut self.line);
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Packet::decode(&line).map_err(LinkError::from);
            }
        }
    }
}

/// Writes packets.
pub struct PacketWriter {
    inner: BoxWrite,
}

impl PacketWriter {
    /// Wraps a byte stream.
    pub fn new(inner: BoxWrite) -> Self {
        Self { inner }
    }

    /// Sends one packet.
    pub async fn send(&mut self, packet: &Packet) -> Result<(), LinkError> {
        self.inner.write_all(&packet.encode()).await?;
        self.inner.flush().await?;
        Ok(())
    }

    /// Sends raw bytes (the simulated phone uses it to misbehave on purpose).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        self.inner.write_all(bytes).await?;
        self.inner.flush().await?;
        Ok(())
    }

    /// Closes the stream.
    pub async fn shutdown(&mut self) {
        let _ = self.inner.shutdown().await;
    }
}

/// An established link.
pub struct Link {
    /// Incoming packets.
    pub reader: PacketReader,
    /// Outgoing packets.
    pub writer: PacketWriter,
    /// The peer's certificate (DER).
    pub peer_cert: Vec<u8>,
    /// The peer's identity, when it sent one (always for protocol 8; a
    /// protocol-7 phone that accepted our connection sends none).
    pub peer_identity: Option<Identity>,
    /// The protocol version in use.
    pub version: u32,
    /// A first packet read while waiting for the identity (protocol 7).
    pub pending: Option<Packet>,
    /// The peer's address.
    pub peer_addr: SocketAddr,
    /// The TLS version the handshake negotiated.
    pub tls_version: koine_api::TlsVersion,
}

fn peer_cert_of(
    certs: Option<&[rustls::pki_types::CertificateDer<'_>]>,
) -> Result<Vec<u8>, LinkError> {
    certs
        .and_then(|c| c.first())
        .map(|c| c.as_ref().to_vec())
        .ok_or_else(|| LinkError::Tls("the peer sent no certificate".into()))
}

/// The desktop side: opens TCP to the phone, sends its identity, then acts
/// as the TLS **server** (it opened the connection). `pin` is the phone's
/// pinned fingerprint once paired. `expected_version` is the version the
/// paired phone spoke before: a lower one now is a downgrade and refused.
pub async fn connect(
    addr: SocketAddr,
    me: &LocalIdentity,
    my_identity: &Identity,
    pin: Option<String>,
    expected_version: Option<u32>,
) -> Result<Link, LinkError> {
    let tcp = tokio::time::timeout(HANDSHAKE_TIMEOUT, TcpStream::connect(addr))
        .await
        .map_err(|_| LinkError::Timeout("the TCP connection"))??;
    let _ = tcp.set_nodelay(true);
    let mut tcp = tcp;
    tcp.write_all(&my_identity.packet().encode()).await?;
    let acceptor = tokio_rustls::TlsAcceptor::from(tls::server_config(me, pin)?);
    let stream = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp))
        .await
        .map_err(|_| LinkError::Timeout("the TLS handshake"))?
        .map_err(crate::error::tls_error)?;
    let peer_cert = peer_cert_of(stream.get_ref().1.peer_certificates())?;
    let tls_version = tls::negotiated(stream.get_ref().1.protocol_version())?;
    let (r, w) = tokio::io::split(stream);
    let mut reader = PacketReader::new(Box::new(r));
    let mut writer = PacketWriter::new(Box::new(w));
    writer.send(&my_identity.packet()).await?;
    let (peer_identity, pending) =
        match tokio::time::timeout(TLS_IDENTITY_TIMEOUT, reader.next()).await {
            Ok(Ok(p)) if p.kind == kind::IDENTITY => (Some(Identity::from_packet(&p)?), None),
            Ok(Ok(p)) => (None, Some(p)),
            Ok(Err(e)) => return Err(e),
            Err(_) => (None, None),
        };
    let version = match &peer_identity {
        Some(id) => {
            id.check_version()?;
            if id.protocol_version < PROTOCOL_VERSION {
                // Only protocol 8 sends its identity inside TLS; a lower
                // number here contradicts the channel it came through.
                return Err(LinkError::Version(format!(
                    "identity inside TLS claims protocol {}",
                    id.protocol_version
                )));
            }
            PROTOCOL_VERSION
        }
        None => 7,
    };
    if let Some(expected) = expected_version
        && version < expected
    {
        return Err(LinkError::Version(format!(
            "the paired phone spoke protocol {expected} and now offers {version}: downgrade refused"
        )));
    }
    Ok(Link {
        reader,
        writer,
        peer_cert,
        peer_identity,
        version,
        pending,
        peer_addr: addr,
        tls_version,
    })
}

/// What the accepting side knows about a device it paired with before.
#[derive(Debug, Clone)]
pub struct KnownPeer {
    /// The pinned fingerprint.
    pub pin: String,
    /// The protocol version it spoke when last seen.
    pub version: u32,
}

/// The phone side: accepts a TCP connection, reads the desktop's identity
/// line, and acts as the TLS **client**. `known` looks up a paired desktop
/// by device id; `speak` is the version this phone speaks (7 or 8);
/// `tls12_only` makes it offer only TLS 1.2, like the Android app.
pub async fn accept(
    tcp: TcpStream,
    me: &LocalIdentity,
    my_identity: &Identity,
    speak: u32,
    tls12_only: bool,
    known: impl Fn(&str) -> Option<KnownPeer>,
) -> Result<Link, LinkError> {
    let peer_addr = tcp.peer_addr()?;
    let _ = tcp.set_nodelay(true);
    let mut buffered = BufReader::new(tcp);
    let mut line = Vec::new();
    let read = async {
        // The identity line is short; read it byte-limited.
        loop {
            let avail = buffered.fill_buf().await?;
            if avail.is_empty() {
                return Err(LinkError::Closed);
            }
            let n = avail.iter().position(|b| *b == b'\n');
            let take = n.map_or(avail.len(), |i| i.saturating_add(1));
            line.extend_from_slice(avail.get(..n.unwrap_or(take)).unwrap_or_default());
            buffered.consume(take);
            if line.len() > 64 * 1024 {
                return Err(PacketError::TooLarge {
                    size: line.len(),
                    limit: 64 * 1024,
                }
                .into());
            }
            if n.is_some() {
                return Ok(());
            }
        }
    };
    tokio::time::timeout(HANDSHAKE_TIMEOUT, read)
        .await
        .map_err(|_| LinkError::Timeout("the identity line"))??;
    let claimed = Identity::from_packet(&Packet::decode(&line)?)?;
    claimed.check_version()?;
    let peer = known(&claimed.device_id);
    if let Some(p) = &peer
        && claimed.protocol_version < p.version
    {
        return Err(LinkError::Version(format!(
            "{} spoke protocol {} and now offers {}: downgrade refused",
            claimed.device_id, p.version, claimed.protocol_version
        )));
    }
    if !buffered.buffer().is_empty() {
        return Err(LinkError::Handshake(
            "bytes after the identity line before TLS".into(),
        ));
    }
    let tcp = buffered.into_inner();
    let pin = peer.map(|p| p.pin);
    let config = if tls12_only {
        tls::client_config_for(me, pin, tls::TLS12_ONLY)?
    } else {
        tls::client_config(me, pin)?
    };
    let connector = tokio_rustls::TlsConnector::from(config);
    let stream = tokio::time::timeout(
        HANDSHAKE_TIMEOUT,
        connector.connect(tls::server_name(), tcp),
    )
    .await
    .map_err(|_| LinkError::Timeout("the TLS handshake"))?
    .map_err(crate::error::tls_error)?;
    let peer_cert = peer_cert_of(stream.get_ref().1.peer_certificates())?;
    let tls_version = tls::negotiated(stream.get_ref().1.protocol_version())?;
    let (r, w) = tokio::io::split(stream);
    let mut reader = PacketReader::new(Box::new(r));
    let mut writer = PacketWriter::new(Box::new(w));
    let version = speak.min(claimed.protocol_version);
    let mut pending = None;
    if version >= PROTOCOL_VERSION {
        writer.send(&my_identity.packet()).await?;
        let p = tokio::time::timeout(TLS_IDENTITY_TIMEOUT, reader.next())
            .await
            .map_err(|_| LinkError::Timeout("the identity inside TLS"))??;
        let inside = Identity::from_packet(&p)?;
        if inside.device_id != claimed.device_id
            || inside.protocol_version != claimed.protocol_version
        {
            return Err(LinkError::Version(format!(
                "identity inside TLS ({} v{}) differs from the one before TLS ({} v{})",
                inside.device_id,
                inside.protocol_version,
                claimed.device_id,
                claimed.protocol_version
            )));
        }
    } else {
        // A protocol-7 phone ignores the identity the desktop repeats inside
        // TLS; drain it if it comes first.
        if let Ok(Ok(p)) = tokio::time::timeout(Duration::from_millis(200), reader.next()).await
            && p.kind != kind::IDENTITY
        {
            pending = Some(p);
        }
    }
    Ok(Link {
        reader,
        writer,
        peer_cert,
        peer_identity: Some(claimed),
        version,
        pending,
        peer_addr,
        tls_version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reader_survives_bad_and_huge_lines() {
        let (a, mut b) = tokio::io::duplex(1 << 16);
        let mut reader = PacketReader::new(Box::new(a));
        let writer = tokio::spawn(async move {
            b.write_all(b"not json\n").await.expect("w");
            let huge = vec![b'x'; MAX_PACKET_BYTES + 10];
            b.write_all(&huge).await.expect("w");
            b.write_all(b"\n{\"id\":1,\"type\":\"kdeconnect.pair\",\"body\":{\"pair\":false}}\n")
                .await
                .expect("w");
        });
        assert!(matches!(
            reader.next().await,
            Err(LinkError::Packet(PacketError::Json(_)))
        ));
        assert!(matches!(
            reader.next().await,
            Err(LinkError::Packet(PacketError::TooLarge { .. }))
        ));
        let ok = reader.next().await.expect("the stream goes on");
        assert_eq!(ok.kind, kind::PAIR);
        writer.await.expect("writer");
        assert!(matches!(reader.next().await, Err(LinkError::Closed)));
    }
}
