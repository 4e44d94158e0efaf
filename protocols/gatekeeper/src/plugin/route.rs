//! Routes as negotiated: the client link (Noise pattern actually run), the
//! media hops when files travel, and the Signal layer with the peer's
//! verification state and safety number.

use super::state::Trust;
use koine_api::{
    E2eEnd, E2eScheme, EndToEnd, Hop, HopKind, Route, TlsVersion, TransportSecurity, Verification,
};

/// What the route needs to know.
pub struct RouteFacts<'a> {
    pub server_name: &'a str,
    pub operator: Option<&'a str>,
    pub noise_protocol: &'a str,
    pub trust: Trust,
    pub safety_number: Option<String>,
}

fn host_of(url: &str) -> String {
    crate::wire::http::Url::parse(url)
        .map(|u| format!("{}:{}", u.host, u.port))
        .unwrap_or_else(|_| url.to_owned())
}

impl RouteFacts<'_> {
    fn link(&self) -> Hop {
        let mut hop = Hop::new(
            self.server_name,
            HopKind::ClientLink,
            TransportSecurity::Noise {
                protocol: self.noise_protocol.to_owned(),
            },
        )
        .seeing_your_ip();
        if let Some(op) = self.operator {
            hop = hop.operated_by(op);
        }
        hop
    }

    fn e2e(&self) -> EndToEnd {
        EndToEnd {
            scheme: E2eScheme::Signal,
            ends: E2eEnd::RecipientDevices,
            verification: match self.trust {
                Trust::Unverified => Verification::Unverified,
                Trust::Verified => Verification::Verified,
                Trust::Changed | Trust::ChangedVerified => Verification::IdentityChanged,
            },
            fingerprint: self.safety_number.clone(),
        }
    }

    /// A text message's route.
    pub fn text(&self) -> Route {
        Route {
            hops: vec![self.link()],
            end_to_end: self.e2e(),
        }
    }

    /// A sent message with media: we upload to our media host ourselves (it
    /// sees our address), the recipient fetches through the gatekeeper's
    /// proxy. Both read ciphertext only.
    pub fn sent_media(&self, media_urls: &[String], proxy: &str) -> Route {
        let mut hops = vec![self.link()];
        for url in media_urls {
            hops.push(
                Hop::new(host_of(url), HopKind::MediaHost, transport_of(url)).seeing_your_ip(),
            );
        }
        hops.push(Hop::new(
            host_of(proxy),
            HopKind::Proxy,
            transport_of(proxy),
        ));
        Route {
            hops,
            end_to_end: self.e2e(),
        }
    }

    /// A received message with media: the sender's host, then the proxy,
    /// which fetches for us and sees our address.
    pub fn received_media(&self, media_urls: &[String], proxy: &str) -> Route {
        let mut hops = vec![self.link()];
        for url in media_urls {
            hops.push(Hop::new(
                host_of(url),
                HopKind::MediaHost,
                transport_of(url),
            ));
        }
        hops.push(Hop::new(host_of(proxy), HopKind::Proxy, transport_of(proxy)).seeing_your_ip());
        Route {
            hops,
            end_to_end: self.e2e(),
        }
    }
}

/// How an HTTP link is protected: the HTTP client speaks TLS 1.3 only, with
/// a verified certificate, to `https://` URLs, and nothing to loopback
/// `http://` ones (the only plain URLs it accepts).
fn transport_of(url: &str) -> TransportSecurity {
    if url.starts_with("https://") {
        TransportSecurity::Tls {
            version: TlsVersion::Tls13,
            pinned: false,
        }
    } else {
        TransportSecurity::Plaintext
    }
}
