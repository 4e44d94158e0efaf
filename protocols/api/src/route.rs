//! The route of a conversation and of each message: who carries it, how each
//! link is protected, what each hop can read, and where end-to-end encryption
//! ends.
//!
//! A plugin builds the route from what it actually negotiated (the TLS version
//! it got, the Noise pattern it ran, the bridge it saw in room state), never
//! from what it hoped for. [`Route::validate`] rejects routes that contradict
//! themselves and [`Route::protection`] derives the honest summary, so a route
//! can never claim more than its hops deliver.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The ordered hops from you to the other person, and the end-to-end layer.
///
/// The two ends (your device, their device) are implied; `hops` lists what is
/// between them, in order. A route always has at least one hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// The hops in order, nearest to you first.
    pub hops: Vec<Hop>,
    /// The end-to-end encryption layer over the hops, if any.
    pub end_to_end: EndToEnd,
}

/// One hop on a route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hop {
    /// Host name or a label for a device (`jabber.example`, `Pixel 7`, `Orange`).
    pub host: String,
    /// Who runs this hop, when known (`"Meta"`, `"your carrier"`).
    pub operator: Option<String>,
    /// What kind of hop this is.
    pub kind: HopKind,
    /// How the link that reaches this hop (from the previous one) is protected.
    pub transport: TransportSecurity,
    /// What this hop can read of what passes through it.
    pub reads: Visibility,
    /// Whether this hop sees your IP address.
    pub sees_your_ip: bool,
}

/// The kind of a hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum HopKind {
    /// The server your client connects to (your XMPP server, your homeserver,
    /// the gatekeeper's interop endpoint).
    ClientLink,
    /// A server reached by server-to-server federation (their server).
    Federation,
    /// A bridge into another network; it reads plaintext.
    Bridge {
        /// The network behind the bridge (`"WhatsApp"`, `"Telegram"`).
        remote_network: String,
    },
    /// A protocol gateway (XMPP `gateway/*` identity); end-to-end encryption ends here.
    Gateway {
        /// The network behind the gateway, when known.
        remote_network: Option<String>,
    },
    /// A device of yours that relays (your phone for SMS).
    RelayDevice,
    /// A mobile carrier.
    Carrier,
    /// A proxy that fetches on your behalf (the gatekeeper's media proxy).
    Proxy,
    /// A host that stores attachments.
    MediaHost,
}

/// How one link is protected in transit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TransportSecurity {
    /// TLS, certificate verified against trusted roots (or a user-pinned one).
    Tls {
        /// The negotiated version.
        version: TlsVersion,
        /// Whether the certificate was accepted because the user pinned it.
        pinned: bool,
    },
    /// A Noise protocol session.
    Noise {
        /// The full protocol name, e.g. `Noise_IK_25519_AESGCM_SHA256`.
        protocol: String,
    },
    /// TLS on the local network with a certificate pinned at pairing.
    LanTlsPinned {
        /// SHA-256 of the peer's certificate, hex.
        fingerprint: String,
    },
    /// The mobile network's own radio encryption; the carrier holds the keys.
    Cellular,
    /// No encryption at all.
    Plaintext,
    /// Not known to the client (a link between two other parties).
    Unknown,
}

/// TLS protocol versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TlsVersion {
    /// TLS 1.2.
    #[serde(rename = "1.2")]
    Tls12,
    /// TLS 1.3.
    #[serde(rename = "1.3")]
    Tls13,
}

/// What a hop can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Who talks to whom, when, and how much; not the content.
    MetadataOnly,
    /// Everything, content included.
    Content,
}

/// The end-to-end encryption layer of a route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndToEnd {
    /// The scheme in use, or [`E2eScheme::None`].
    pub scheme: E2eScheme,
    /// Where the encryption ends.
    pub ends: E2eEnd,
    /// Whether the other side's keys were verified.
    pub verification: Verification,
    /// The safety number or fingerprint to compare, when there is one.
    pub fingerprint: Option<String>,
}

impl EndToEnd {
    /// No end-to-end encryption.
    pub fn none() -> Self {
        Self {
            scheme: E2eScheme::None,
            ends: E2eEnd::RecipientDevices,
            verification: Verification::NotApplicable,
            fingerprint: None,
        }
    }
}

/// End-to-end encryption schemes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum E2eScheme {
    /// No end-to-end encryption.
    None,
    /// The Signal Protocol (gatekeeper interop).
    Signal,
    /// OMEMO (XMPP), legacy or v2.
    Omemo,
    /// Megolm/Olm (Matrix).
    Megolm,
}

/// Where end-to-end encryption ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "at", content = "hop", rename_all = "snake_case")]
pub enum E2eEnd {
    /// On the recipient's own devices: no hop in between reads content.
    RecipientDevices,
    /// At the hop with this index (a bridge or gateway decrypts there).
    Hop(usize),
}

/// Verification state of the other side's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verification {
    /// No end-to-end layer, nothing to verify.
    NotApplicable,
    /// Keys trusted on first use or blindly, not compared by the user.
    Unverified,
    /// The user compared fingerprints, safety numbers or emoji.
    Verified,
    /// The other side's identity key changed since it was last seen.
    IdentityChanged,
}

/// How well a route protects content, best last (the order is meaningful:
/// route choice prefers the greatest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protection {
    /// Some link is plaintext or a carrier reads everything (SMS).
    Exposed,
    /// Every link is encrypted, but at least one server or bridge reads content.
    TransportOnly,
    /// Content is end-to-end encrypted to the recipient; keys not verified
    /// (or changed).
    EndToEndUnverified,
    /// Content is end-to-end encrypted and the user verified the keys.
    EndToEndVerified,
}

/// A route that contradicts itself.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RouteError {
    /// A route needs at least one hop.
    #[error("a route needs at least one hop")]
    NoHops,
    /// The end-to-end layer is said to end at a hop that does not exist.
    #[error("end-to-end encryption is said to end at hop {0}, which does not exist")]
    EndOutOfRange(usize),
    /// A hop inside the end-to-end span is said to read content.
    #[error("hop {0} reads content inside the end-to-end encrypted span")]
    ContentReadInsideE2e(usize),
    /// No end-to-end layer, yet a verification state other than not-applicable.
    #[error("a route without end-to-end encryption cannot be verified")]
    VerificationWithoutE2e,
}

impl Route {
    /// Checks that the route does not contradict itself.
    pub fn validate(&self) -> Result<(), RouteError> {
        if self.hops.is_empty() {
            return Err(RouteError::NoHops);
        }
        let e2e = &self.end_to_end;
        if e2e.scheme == E2eScheme::None {
            if e2e.verification != Verification::NotApplicable {
                return Err(RouteError::VerificationWithoutE2e);
            }
            return Ok(());
        }
        let span_end = match e2e.ends {
            E2eEnd::RecipientDevices => self.hops.len(),
            E2eEnd::Hop(i) if i < self.hops.len() => i,
            E2eEnd::Hop(i) => return Err(RouteError::EndOutOfRange(i)),
        };
        if let Some(i) = self
            .hops
            .iter()
            .take(span_end)
            .position(|h| h.reads == Visibility::Content)
        {
            return Err(RouteError::ContentReadInsideE2e(i));
        }
        Ok(())
    }

    /// The index of the first hop that reads content, if any.
    pub fn first_reader(&self) -> Option<usize> {
        self.hops
            .iter()
            .position(|h| h.reads == Visibility::Content)
    }

    /// Whether end-to-end encryption reaches the recipient's devices: a scheme
    /// is in use and no hop on the way reads content.
    pub fn is_end_to_end(&self) -> bool {
        self.end_to_end.scheme != E2eScheme::None
            && self.end_to_end.ends == E2eEnd::RecipientDevices
            && self.first_reader().is_none()
    }

    /// The honest summary, derived from the hops, never from a claim alone: a
    /// route whose scheme is set but whose hops include a content reader is
    /// not end-to-end.
    pub fn protection(&self) -> Protection {
        if self.is_end_to_end() {
            return match self.end_to_end.verification {
                Verification::Verified => Protection::EndToEndVerified,
                _ => Protection::EndToEndUnverified,
            };
        }
        let weak_link = self.hops.iter().any(|h| {
            matches!(
                h.transport,
                TransportSecurity::Plaintext | TransportSecurity::Cellular
            ) || h.kind == HopKind::Carrier
        });
        if weak_link {
            Protection::Exposed
        } else {
            Protection::TransportOnly
        }
    }

    /// The hosts in order, for a compact display or a test assertion.
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.hops.iter().map(|h| h.host.as_str())
    }
}

impl Hop {
    /// A hop with the common defaults: no operator label, metadata only, does
    /// not see your IP. Adjust the public fields afterwards as needed.
    pub fn new(host: impl Into<String>, kind: HopKind, transport: TransportSecurity) -> Self {
        Self {
            host: host.into(),
            operator: None,
            kind,
            transport,
            reads: Visibility::MetadataOnly,
            sees_your_ip: false,
        }
    }

    /// Sets what the hop reads.
    pub fn reading(mut self, reads: Visibility) -> Self {
        self.reads = reads;
        self
    }

    /// Sets the operator label.
    pub fn operated_by(mut self, operator: impl Into<String>) -> Self {
        self.operator = Some(operator.into());
        self
    }

    /// Marks the hop as one that sees your IP address.
    pub fn seeing_your_ip(mut self) -> Self {
        self.sees_your_ip = true;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls() -> TransportSecurity {
        TransportSecurity::Tls {
            version: TlsVersion::Tls13,
            pinned: false,
        }
    }

    fn xmpp_federated(scheme: E2eScheme, verification: Verification) -> Route {
        Route {
            hops: vec![
                Hop::new("jabber.example", HopKind::ClientLink, tls()).seeing_your_ip(),
                Hop::new("their.example", HopKind::Federation, tls()),
            ],
            end_to_end: EndToEnd {
                scheme,
                ends: E2eEnd::RecipientDevices,
                verification,
                fingerprint: None,
            },
        }
    }

    #[test]
    fn omemo_route_is_end_to_end() {
        let r = xmpp_federated(E2eScheme::Omemo, Verification::Verified);
        assert_eq!(r.validate(), Ok(()));
        assert!(r.is_end_to_end());
        assert_eq!(r.protection(), Protection::EndToEndVerified);
        assert_eq!(
            r.hosts().collect::<Vec<_>>(),
            ["jabber.example", "their.example"]
        );
    }

    #[test]
    fn a_bridge_that_reads_content_ends_e2e_and_cannot_be_hidden() {
        let mut r = xmpp_federated(E2eScheme::Megolm, Verification::Unverified);
        r.hops.push(
            Hop::new(
                "bridge.example",
                HopKind::Bridge {
                    remote_network: "WhatsApp".into(),
                },
                tls(),
            )
            .reading(Visibility::Content),
        );
        // Claiming end-to-end to the recipient while a bridge reads content is rejected...
        assert_eq!(r.validate(), Err(RouteError::ContentReadInsideE2e(2)));
        // ...and the derived protection never believes the claim.
        assert_eq!(r.protection(), Protection::TransportOnly);
        // Saying honestly where it ends is valid, and still not end-to-end.
        r.end_to_end.ends = E2eEnd::Hop(2);
        assert_eq!(r.validate(), Ok(()));
        assert!(!r.is_end_to_end());
        assert_eq!(r.first_reader(), Some(2));
    }

    #[test]
    fn sms_is_exposed() {
        let r = Route {
            hops: vec![
                Hop::new(
                    "Pixel 7",
                    HopKind::RelayDevice,
                    TransportSecurity::LanTlsPinned {
                        fingerprint: "ab".into(),
                    },
                )
                .reading(Visibility::Content),
                Hop::new("carrier", HopKind::Carrier, TransportSecurity::Cellular)
                    .reading(Visibility::Content),
            ],
            end_to_end: EndToEnd::none(),
        };
        assert_eq!(r.validate(), Ok(()));
        assert_eq!(r.protection(), Protection::Exposed);
    }

    #[test]
    fn contradictions_are_rejected() {
        let mut r = xmpp_federated(E2eScheme::None, Verification::Verified);
        assert_eq!(r.validate(), Err(RouteError::VerificationWithoutE2e));
        r.end_to_end = EndToEnd {
            scheme: E2eScheme::Signal,
            ends: E2eEnd::Hop(9),
            verification: Verification::Unverified,
            fingerprint: None,
        };
        assert_eq!(r.validate(), Err(RouteError::EndOutOfRange(9)));
        r.hops.clear();
        assert_eq!(r.validate(), Err(RouteError::NoHops));
    }

    #[test]
    fn protection_orders_from_exposed_to_verified() {
        assert!(Protection::EndToEndVerified > Protection::EndToEndUnverified);
        assert!(Protection::EndToEndUnverified > Protection::TransportOnly);
        assert!(Protection::TransportOnly > Protection::Exposed);
    }

    #[test]
    fn identity_change_is_not_verified() {
        let r = xmpp_federated(E2eScheme::Signal, Verification::IdentityChanged);
        assert_eq!(r.protection(), Protection::EndToEndUnverified);
    }
}
