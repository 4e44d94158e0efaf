//! Routes, built from what was negotiated and discovered.
//!
//! - Your server: the JID's domain, with the TLS version this session got and
//!   whether the certificate was pinned by the user. It reads content unless
//!   an end-to-end layer is in use, and sees your IP.
//! - A contact on the same domain (or a service under it, such as the MUC
//!   component `conference.<domain>`) adds no hop.
//! - Another domain adds a federation hop (`s2s`): its transport is
//!   [`TransportSecurity::Unknown`], since the client cannot see the link
//!   between the two servers.
//! - A domain whose disco#info identity has category `gateway` is a gateway
//!   hop: it reads content, and end-to-end encryption ends there.

use koine_api::{E2eEnd, EndToEnd, Hop, HopKind, Route, TlsVersion, TransportSecurity, Visibility};
use std::collections::HashMap;

/// What disco#info said about a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainKind {
    /// A server (or not probed yet).
    Server,
    /// A gateway to another network (`gateway/<type>`).
    Gateway {
        /// The identity's type (`whatsapp`, `irc`, `sms`...).
        network: Option<String>,
    },
}

/// Route knowledge of one session.
#[derive(Debug, Clone)]
pub struct Routes {
    own_domain: String,
    tls: TlsVersion,
    pinned: bool,
    domains: HashMap<String, DomainKind>,
}

impl Routes {
    /// For a session on `own_domain` over `tls`.
    pub fn new(own_domain: impl Into<String>, tls: TlsVersion, pinned: bool) -> Self {
        Self {
            own_domain: own_domain.into(),
            tls,
            pinned,
            domains: HashMap::new(),
        }
    }

    /// The client link hop.
    pub fn link(&self) -> Hop {
        Hop::new(
            self.own_domain.clone(),
            HopKind::ClientLink,
            TransportSecurity::Tls {
                version: self.tls,
                pinned: self.pinned,
            },
        )
        .reading(Visibility::Content)
        .seeing_your_ip()
    }

    /// Whether `domain` is served by the user's own server.
    pub fn is_local(&self, domain: &str) -> bool {
        domain == self.own_domain || domain.ends_with(&format!(".{}", self.own_domain))
    }

    /// Whether disco#info has been asked for `domain` already.
    pub fn knows(&self, domain: &str) -> bool {
        self.domains.contains_key(domain)
    }

    /// Whether disco#info said `domain` is a gateway.
    pub fn is_gateway(&self, domain: &str) -> bool {
        matches!(self.domains.get(domain), Some(DomainKind::Gateway { .. }))
    }

    /// Records what disco#info said.
    pub fn learn(&mut self, domain: &str, kind: DomainKind) -> bool {
        self.domains.insert(domain.to_owned(), kind.clone()) != Some(kind)
    }

    /// The route to someone on `peer_domain`, without end-to-end encryption.
    pub fn to_domain(&self, peer_domain: &str) -> Route {
        let mut hops = vec![self.link()];
        match self.domains.get(peer_domain) {
            Some(DomainKind::Gateway { network }) => hops.push(
                Hop::new(
                    peer_domain,
                    HopKind::Gateway {
                        remote_network: network.clone(),
                    },
                    TransportSecurity::Unknown,
                )
                .reading(Visibility::Content),
            ),
            _ if self.is_local(peer_domain) => {}
            _ => hops.push(
                Hop::new(peer_domain, HopKind::Federation, TransportSecurity::Unknown)
                    .reading(Visibility::Content),
            ),
        }
        Route {
            hops,
            end_to_end: EndToEnd::none(),
        }
    }

    /// Where end-to-end encryption would end on `route`: at a gateway if
    /// there is one, otherwise on the recipient's devices.
    pub fn e2e_end(route: &Route) -> E2eEnd {
        route
            .hops
            .iter()
            .position(|h| matches!(h.kind, HopKind::Gateway { .. }))
            .map_or(E2eEnd::RecipientDevices, E2eEnd::Hop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes() -> Routes {
        Routes::new("a.example", TlsVersion::Tls13, false)
    }

    #[test]
    fn same_server_has_one_hop() {
        let r = routes().to_domain("a.example");
        assert_eq!(r.hosts().collect::<Vec<_>>(), ["a.example"]);
        assert_eq!(r.validate(), Ok(()));
        let muc = routes().to_domain("conference.a.example");
        assert_eq!(muc.hops.len(), 1);
    }

    #[test]
    fn other_domain_adds_federation() {
        let r = routes().to_domain("b.example");
        assert_eq!(r.hosts().collect::<Vec<_>>(), ["a.example", "b.example"]);
        assert_eq!(r.hops[1].kind, HopKind::Federation);
        assert_eq!(r.hops[1].transport, TransportSecurity::Unknown);
        assert_eq!(r.validate(), Ok(()));
    }

    #[test]
    fn gateway_is_a_hop_where_e2e_ends() {
        let mut rs = routes();
        assert!(rs.learn(
            "wa.b.example",
            DomainKind::Gateway {
                network: Some("whatsapp".into())
            }
        ));
        let r = rs.to_domain("wa.b.example");
        assert!(matches!(r.hops[1].kind, HopKind::Gateway { .. }));
        assert_eq!(Routes::e2e_end(&r), E2eEnd::Hop(1));
        assert_eq!(r.validate(), Ok(()));
    }
}
