//! The end-to-end layer OMEMO puts on a route.

use koine_api::{E2eEnd, EndToEnd};

/// Puts an end-to-end layer on `route`: the servers and gateways before
/// where it ends read metadata only. A media host that serves a file in
/// the clear still reads it, so the encryption is said to end there.
pub fn protect(route: &mut koine_api::Route, mut e2e: EndToEnd) {
    use koine_api::{HopKind, Visibility};
    let end = match e2e.ends {
        E2eEnd::Hop(i) => i,
        E2eEnd::RecipientDevices => route.hops.len(),
    };
    let media = route
        .hops
        .iter()
        .take(end)
        .position(|h| h.kind == HopKind::MediaHost && h.reads == Visibility::Content);
    if let Some(i) = media {
        e2e.ends = E2eEnd::Hop(i);
    }
    let end = media.unwrap_or(end);
    for h in route.hops.iter_mut().take(end) {
        h.reads = Visibility::MetadataOnly;
    }
    route.end_to_end = e2e;
}

#[cfg(test)]
mod tests {
    use super::*;
    use koine_api::E2eScheme;

    #[test]
    fn protect_hides_content_from_servers_and_ends_at_a_clear_media_host() {
        use koine_api::{Hop, HopKind, Route, TransportSecurity, Verification, Visibility};
        let e2e = EndToEnd {
            scheme: E2eScheme::Omemo,
            ends: E2eEnd::RecipientDevices,
            verification: Verification::Unverified,
            fingerprint: None,
        };
        let server = Hop::new("a.example", HopKind::ClientLink, TransportSecurity::Unknown)
            .reading(Visibility::Content);
        let mut r = Route {
            hops: vec![server.clone()],
            end_to_end: EndToEnd::none(),
        };
        protect(&mut r, e2e.clone());
        assert_eq!(r.hops[0].reads, Visibility::MetadataOnly);
        assert_eq!(r.validate(), Ok(()));
        let media = Hop::new("up.example", HopKind::MediaHost, TransportSecurity::Unknown)
            .reading(Visibility::Content);
        let mut r = Route {
            hops: vec![server, media],
            end_to_end: EndToEnd::none(),
        };
        protect(&mut r, e2e);
        assert_eq!(r.end_to_end.ends, E2eEnd::Hop(1));
        assert_eq!(r.validate(), Ok(()));
    }
}
