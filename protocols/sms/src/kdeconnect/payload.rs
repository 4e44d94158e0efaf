//! Payload transfer: the bytes that go with a packet (an MMS part's file).
//!
//! The sender listens on a fresh TCP port and announces it in the packet's
//! `payloadTransferInfo`; the receiver connects to it. On this second
//! connection the side that *accepted* (the sender) is the TLS server, and
//! both certificates are checked against the pairing pins. The receiver
//! reads exactly `payloadSize` bytes.

use super::tls::{self, LocalIdentity};
use crate::error::LinkError;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The largest payload accepted (MMS are far smaller).
pub const MAX_PAYLOAD_BYTES: u64 = 32 * 1024 * 1024;
/// How long a payload offer stays open.
pub const OFFER_TIMEOUT: Duration = Duration::from_secs(15);

/// Offers `bytes` on a fresh port of `ip` to the peer pinned as `peer_pin`;
/// returns the port. The offer serves one connection, then closes.
pub async fn offer(
    ip: IpAddr,
    me: &LocalIdentity,
    peer_pin: String,
    bytes: Vec<u8>,
) -> Result<u16, LinkError> {
    let listener = TcpListener::bind(SocketAddr::new(ip, 0)).await?;
    let port = listener.local_addr()?.port();
    let acceptor = tokio_rustls::TlsAcceptor::from(tls::server_config(me, Some(peer_pin))?);
    tokio::spawn(async move {
        let serve = async {
            let (tcp, _) = listener.accept().await?;
            let mut tls = acceptor.accept(tcp).await?;
            tls.write_all(&bytes).await?;
            tls.shutdown().await?;
            Ok::<(), std::io::Error>(())
        };
        let _ = tokio::time::timeout(OFFER_TIMEOUT, serve).await;
    });
    Ok(port)
}

/// Fetches a payload of `size` bytes from `addr`, the peer pinned as
/// `peer_pin`.
pub async fn fetch(
    addr: SocketAddr,
    me: &LocalIdentity,
    peer_pin: String,
    size: u64,
) -> Result<Vec<u8>, LinkError> {
    if size > MAX_PAYLOAD_BYTES {
        return Err(crate::error::PacketError::TooLarge {
            size: usize::try_from(size).unwrap_or(usize::MAX),
            limit: MAX_PAYLOAD_BYTES as usize,
        }
        .into());
    }
    let connector = tokio_rustls::TlsConnector::from(tls::client_config(me, Some(peer_pin))?);
    let fetch = async {
        let tcp = TcpStream::connect(addr).await?;
        let mut tls = connector
            .connect(tls::server_name(), tcp)
            .await
            .map_err(|e| LinkError::Tls(e.to_string()))?;
        let mut buf = vec![0u8; usize::try_from(size).unwrap_or(0)];
        tls.read_exact(&mut buf).await?;
        Ok::<Vec<u8>, LinkError>(buf)
    };
    tokio::time::timeout(OFFER_TIMEOUT, fetch)
        .await
        .map_err(|_| LinkError::Timeout("a payload"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn payload_goes_through_with_pins_and_not_without() {
        let a = LocalIdentity::generate("sender").expect("a");
        let b = LocalIdentity::generate("receiver").expect("b");
        let ip: IpAddr = "127.0.0.1".parse().expect("ip");
        let data = b"an mms part".to_vec();
        let port = offer(ip, &a, b.fingerprint().expect("fp"), data.clone())
            .await
            .expect("offer");
        let got = fetch(
            SocketAddr::new(ip, port),
            &b,
            a.fingerprint().expect("fp"),
            data.len() as u64,
        )
        .await
        .expect("fetch");
        assert_eq!(got, data);

        // A receiver that expects another certificate refuses the sender.
        let port = offer(ip, &a, b.fingerprint().expect("fp"), data.clone())
            .await
            .expect("offer");
        let wrong = fetch(
            SocketAddr::new(ip, port),
            &b,
            "00".repeat(32),
            data.len() as u64,
        )
        .await;
        assert!(wrong.is_err());
        assert!(matches!(
            fetch(
                SocketAddr::new(ip, port),
                &b,
                String::new(),
                MAX_PAYLOAD_BYTES + 1
            )
            .await,
            Err(LinkError::Packet(_))
        ));
    }
}
