//! The identity packet, the pairing packet, and discovery by UDP broadcast.
//!
//! Discovery broadcasts the identity packet to `255.255.255.255:1716`. A host
//! with only loopback cannot broadcast, so Koine (like KDE's `customDevices`
//! setting) also connects to a phone by address; the UDP listener here is
//! bound to a configurable address and decodes what it hears.

use super::packet::{Packet, kind};
use crate::error::{LinkError, PacketError};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use tokio::net::UdpSocket;

/// The UDP port of discovery, and the first TCP port tried.
pub const DISCOVERY_PORT: u16 = 1716;
/// The newest protocol version spoken.
pub const PROTOCOL_VERSION: u32 = 8;
/// The oldest protocol version accepted (older phones still speak 7).
pub const MIN_PROTOCOL_VERSION: u32 = 7;

/// The body of `kdeconnect.identity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// The device id; equals the certificate's common name; `[A-Za-z0-9_]`.
    pub device_id: String,
    /// The name shown to the user.
    pub device_name: String,
    /// `phone`, `desktop`, `laptop`, `tablet`...
    pub device_type: String,
    /// The protocol version the device speaks.
    pub protocol_version: u32,
    /// Packet types it accepts.
    #[serde(default)]
    pub incoming_capabilities: Vec<String>,
    /// Packet types it sends.
    #[serde(default)]
    pub outgoing_capabilities: Vec<String>,
    /// The TCP port it listens on, in broadcasts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_port: Option<u16>,
}

impl Identity {
    /// The identity packet.
    pub fn packet(&self) -> Packet {
        Packet::new(kind::IDENTITY, self)
    }

    /// Reads an identity from a packet, checking the type and the device id.
    pub fn from_packet(packet: &Packet) -> Result<Self, PacketError> {
        if packet.kind != kind::IDENTITY {
            return Err(PacketError::Body {
                kind: packet.kind.clone(),
                detail: "expected an identity packet".into(),
            });
        }
        let id: Identity = packet.body_as()?;
        if !valid_device_id(&id.device_id) {
            return Err(PacketError::WrongType {
                field: "body.deviceId",
                expected: "1 to 64 characters of [A-Za-z0-9_]",
            });
        }
        Ok(id)
    }

    /// Checks the version against what we accept.
    pub fn check_version(&self) -> Result<(), LinkError> {
        if self.protocol_version < MIN_PROTOCOL_VERSION {
            return Err(LinkError::Version(format!(
                "{} speaks protocol {}, the oldest accepted is {MIN_PROTOCOL_VERSION}",
                self.device_name, self.protocol_version
            )));
        }
        Ok(())
    }
}

/// Whether a device id has KDE's shape.
pub fn valid_device_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The body of `kdeconnect.pair`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pair {
    /// True to ask or accept, false to refuse or unpair.
    pub pair: bool,
    /// Seconds since the epoch of the request (protocol 8); part of the
    /// verification key, and refused when the clocks differ too much.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
}

/// The largest clock difference accepted on a pairing request, in seconds
/// (the phone app refuses the same).
pub const MAX_PAIR_CLOCK_SKEW_SECS: i64 = 1800;

impl Pair {
    /// Whether a request's timestamp is close enough to `now_secs`.
    pub fn clock_ok(&self, now_secs: i64) -> bool {
        match self.timestamp {
            Some(ts) => now_secs.abs_diff(ts) <= MAX_PAIR_CLOCK_SKEW_SECS.unsigned_abs(),
            None => false,
        }
    }
}

/// A UDP listener for identity broadcasts.
pub struct DiscoveryListener {
    socket: UdpSocket,
}

impl DiscoveryListener {
    /// Binds to `addr` (use port [`DISCOVERY_PORT`] on a LAN; tests use
    /// `127.0.0.1:0`).
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Self> {
        Ok(Self {
            socket: UdpSocket::bind(addr).await?,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Waits for the next datagram: the sender and its identity, or the
    /// typed reason it was refused.
    pub async fn next(&self) -> std::io::Result<(SocketAddr, Result<Identity, PacketError>)> {
        let mut buf = vec![0u8; 64 * 1024];
        let (n, from) = self.socket.recv_from(&mut buf).await?;
        let datagram = buf.get(..n).unwrap_or_default();
        let line = datagram.strip_suffix(b"\n").unwrap_or(datagram);
        Ok((
            from,
            Packet::decode(line).and_then(|p| Identity::from_packet(&p)),
        ))
    }
}

/// Sends one identity datagram to `to` (the broadcast address on a LAN).
pub async fn announce(
    socket: &UdpSocket,
    identity: &Identity,
    to: SocketAddr,
) -> std::io::Result<()> {
    socket
        .send_to(&identity.packet().encode(), to)
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone() -> Identity {
        Identity {
            device_id: "phone_1".into(),
            device_name: "Pixel".into(),
            device_type: "phone".into(),
            protocol_version: 8,
            incoming_capabilities: vec![kind::SMS_REQUEST.into()],
            outgoing_capabilities: vec![kind::SMS_MESSAGES.into()],
            tcp_port: Some(1716),
        }
    }

    #[tokio::test]
    async fn broadcast_codec_over_udp() {
        let listener = DiscoveryListener::bind("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("bind");
        let to = listener.local_addr().expect("addr");
        let sender = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        announce(&sender, &phone(), to).await.expect("send");
        let (_, got) = listener.next().await.expect("recv");
        assert_eq!(got, Ok(phone()));
        sender.send_to(b"{\"id\":1,\"type\":\"kdeconnect.identity\",\"body\":{\"deviceId\":\"../x\",\"deviceName\":\"x\",\"deviceType\":\"phone\",\"protocolVersion\":8}}", to).await.expect("send");
        let (_, got) = listener.next().await.expect("recv");
        assert!(matches!(
            got,
            Err(PacketError::WrongType {
                field: "body.deviceId",
                ..
            })
        ));
        sender.send_to(b"garbage", to).await.expect("send");
        let (_, got) = listener.next().await.expect("recv");
        assert!(matches!(got, Err(PacketError::Json(_))));
    }

    #[test]
    fn old_versions_are_refused() {
        let mut id = phone();
        id.protocol_version = 6;
        assert!(matches!(id.check_version(), Err(LinkError::Version(_))));
        id.protocol_version = 7;
        assert!(id.check_version().is_ok());
    }

    #[test]
    fn extreme_timestamps_are_refused_not_an_overflow() {
        for (ts, now) in [
            (i64::MIN, 1_700_000_000),
            (i64::MAX, -1_700_000_000),
            (i64::MIN, i64::MAX),
            (i64::MAX, i64::MIN),
        ] {
            let p = Pair {
                pair: true,
                timestamp: Some(ts),
            };
            assert!(!p.clock_ok(now), "{ts} at {now}");
        }
        let p = Pair {
            pair: true,
            timestamp: Some(i64::MIN),
        };
        assert!(p.clock_ok(i64::MIN));
    }

    #[test]
    fn clock_skew_is_bounded() {
        let p = Pair {
            pair: true,
            timestamp: Some(10_000),
        };
        assert!(p.clock_ok(10_000 + MAX_PAIR_CLOCK_SKEW_SECS));
        assert!(!p.clock_ok(10_000 + MAX_PAIR_CLOCK_SKEW_SECS + 1));
        assert!(
            !Pair {
                pair: true,
                timestamp: None
            }
            .clock_ok(0)
        );
    }
}
