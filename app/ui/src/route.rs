//! Words for a [`Route`]: the compact route line of the chat header and the
//! per-hop descriptions of the inspector. Everything is derived from the hops
//! with [`Route::protection`], never from a claim alone.

use crate::fl;
use koine_api::{
    E2eEnd, E2eScheme, Hop, HopKind, Protection, Route, TlsVersion, TransportSecurity,
    Verification, Visibility,
};

/// The route line: `Network · host → federation → host · protection`.
pub fn route_line(network: &str, route: Option<&Route>) -> String {
    let Some(route) = route else {
        return format!("{network} · {}", fl!("route-unknown"));
    };
    format!("{network} · {} · {}", path(route), protection_text(route))
}

/// The hops in order, with "federation" before a federated server.
pub fn path(route: &Route) -> String {
    let mut parts = Vec::with_capacity(route.hops.len() * 2);
    for hop in &route.hops {
        if hop.kind == HopKind::Federation {
            parts.push(fl!("route-federation"));
        }
        parts.push(hop.host.clone());
    }
    parts.join(" → ")
}

/// The honest protection summary.
pub fn protection_text(route: &Route) -> String {
    match route.protection() {
        Protection::EndToEndVerified => fl!("route-e2e-verified"),
        Protection::EndToEndUnverified
            if route.end_to_end.verification == Verification::IdentityChanged =>
        {
            fl!("route-e2e-identity-changed")
        }
        Protection::EndToEndUnverified => fl!("route-e2e-unverified"),
        Protection::TransportOnly | Protection::Exposed => {
            let readers: Vec<&str> = route
                .hops
                .iter()
                .filter(|h| h.reads == Visibility::Content)
                .map(|h| h.host.as_str())
                .collect();
            if readers.is_empty() {
                fl!("route-not-e2e")
            } else {
                fl!("route-not-e2e-readers", readers = readers.join(", "))
            }
        }
    }
}

/// The route line of one message, when it differs from what the chat
/// header says: a provisional route (queued, not yet reported by the
/// network) in words that say so, or a route whose protection differs from
/// the conversation's (the chat changed route). `None` when the header
/// already tells the truth about it, and for failed messages (they went
/// nowhere).
pub fn message_route_text(m: &koine_core::StoredMessage, header: Option<&Route>) -> Option<String> {
    if m.state == koine_api::DeliveryState::Failed {
        return None;
    }
    if m.route_provisional {
        return Some(match &m.route {
            None => fl!("route-provisional-unknown"),
            Some(r) if r.is_end_to_end() => fl!("route-provisional-e2e"),
            Some(r) => fl!("route-provisional", summary = protection_text(r)),
        });
    }
    let route = m.route.as_ref()?;
    (header.map(Route::protection) != Some(route.protection())).then(|| protection_text(route))
}

/// Whether the route protects content end to end (for colouring).
pub fn is_end_to_end(route: Option<&Route>) -> bool {
    route.is_some_and(Route::is_end_to_end)
}

/// What kind of hop this is, in words.
pub fn hop_kind_text(hop: &Hop) -> String {
    match &hop.kind {
        HopKind::ClientLink => fl!("hop-client-link"),
        HopKind::Federation => fl!("hop-federation"),
        HopKind::Bridge { remote_network } => fl!("hop-bridge", network = remote_network.clone()),
        HopKind::Gateway {
            remote_network: Some(network),
        } => fl!("hop-gateway-to", network = network.clone()),
        HopKind::Gateway {
            remote_network: None,
        } => fl!("hop-gateway"),
        HopKind::RelayDevice => fl!("hop-relay-device"),
        HopKind::Carrier => fl!("hop-carrier"),
        HopKind::Proxy => fl!("hop-proxy"),
        HopKind::MediaHost => fl!("hop-media-host"),
        _ => fl!("hop-other"),
    }
}

/// How the link reaching this hop is protected, in words.
pub fn transport_text(transport: &TransportSecurity) -> String {
    match transport {
        TransportSecurity::Tls { version, pinned } => {
            let version = match version {
                TlsVersion::Tls12 => "1.2",
                TlsVersion::Tls13 => "1.3",
                _ => "?",
            };
            if *pinned {
                fl!("transport-tls-pinned", version = version)
            } else {
                fl!("transport-tls", version = version)
            }
        }
        TransportSecurity::Noise { protocol } => {
            fl!("transport-noise", protocol = protocol.clone())
        }
        TransportSecurity::LanTlsPinned { fingerprint } => {
            let short: String = fingerprint.chars().take(16).collect();
            fl!("transport-lan", fingerprint = short)
        }
        TransportSecurity::Cellular => fl!("transport-cellular"),
        TransportSecurity::Plaintext => fl!("transport-plaintext"),
        TransportSecurity::Unknown => fl!("transport-unknown"),
        _ => fl!("transport-other"),
    }
}

/// What the hop can read, in words.
pub fn reads_text(hop: &Hop) -> String {
    match hop.reads {
        Visibility::Content => fl!("inspector-reads-content"),
        Visibility::MetadataOnly => fl!("inspector-reads-metadata"),
    }
}

/// The operator, in words.
pub fn operator_text(hop: &Hop) -> String {
    match &hop.operator {
        Some(operator) => fl!("inspector-operator", operator = operator.clone()),
        None => fl!("inspector-operator-unknown"),
    }
}

/// The name of an end-to-end scheme.
pub fn scheme_name(scheme: &E2eScheme) -> &'static str {
    match scheme {
        E2eScheme::None => "none",
        E2eScheme::Signal => "Signal Protocol",
        E2eScheme::Omemo => "OMEMO",
        E2eScheme::Megolm => "Megolm",
        _ => "other",
    }
}

/// The end-to-end summary lines of the inspector.
pub fn end_to_end_lines(route: &Route) -> Vec<String> {
    let e2e = &route.end_to_end;
    if e2e.scheme == E2eScheme::None {
        return vec![fl!("inspector-e2e-none")];
    }
    let mut lines = vec![fl!(
        "inspector-e2e-scheme",
        scheme = scheme_name(&e2e.scheme)
    )];
    if let E2eEnd::Hop(i) = e2e.ends
        && let Some(hop) = route.hops.get(i)
    {
        lines.push(fl!("inspector-e2e-ends", host = hop.host.clone()));
    }
    lines.push(match e2e.verification {
        Verification::Verified => fl!("inspector-verified"),
        Verification::IdentityChanged => fl!("inspector-identity-changed"),
        _ => fl!("inspector-unverified"),
    });
    if let Some(fingerprint) = &e2e.fingerprint {
        lines.push(fl!(
            "inspector-fingerprint",
            fingerprint = fingerprint.clone()
        ));
    }
    lines
}

/// The hops covered by the end-to-end band: `0..n` where `n` is the index
/// where encryption ends (the number of hops when it reaches their devices).
/// Empty when the route is not end-to-end encrypted at all.
pub fn band_span(route: &Route) -> std::ops::Range<usize> {
    if route.end_to_end.scheme == E2eScheme::None {
        return 0..0;
    }
    let end = match route.end_to_end.ends {
        E2eEnd::RecipientDevices => route.first_reader().unwrap_or(route.hops.len()),
        E2eEnd::Hop(i) => i.min(route.first_reader().unwrap_or(i)),
    };
    0..end.min(route.hops.len())
}
