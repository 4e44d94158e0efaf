//! Route truth: a route a plugin reports, held against what the server
//! itself observed of the same message. A route that claims more than the
//! observation fails; so does one that claims less.
//!
//! The observer is the route's first hop: the account's own server, or, for
//! a relay device (an SMS phone), the account's own device. Each account's
//! route is held against its own first hop's observation.

use koine_api::{HopKind, Route, TlsVersion, TransportSecurity, Visibility};

/// How the link between the client and its first hop carried the message,
/// as the first hop saw it. Ordered from the weakest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SeenLink {
    /// Without any encryption (plain HTTP on the local network).
    Plaintext,
    /// Over TLS of this version.
    Tls(TlsVersion),
}

/// What a test server (or relay device) saw of one message, sent with a
/// unique canary text, from its own logs and storage. `None` fields were
/// not observed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observation {
    /// How the client's link to it carried the message: the TLS version it
    /// negotiated, or no encryption. When several links carried it (a
    /// reconnection), the weakest.
    pub link: Option<SeenLink>,
    /// Whether its storage (database, archive, spool, a phone's SMS store)
    /// holds the canary in the clear.
    pub plaintext_stored: Option<bool>,
    /// Whether it keeps what it can read of such a message (an archive, an
    /// offline store, a phone's message store): then a canary absent from
    /// its storage means it could not read it.
    pub keeps_what_it_reads: bool,
    /// Whether the text also travelled in the clear beyond the first hop
    /// (an SMS over the carrier's network): `Some(true)` means a later hop
    /// reads it, every carrier hop among them, and nothing is end-to-end
    /// encrypted; `Some(false)` means no later hop could read it.
    pub onward_in_clear: Option<bool>,
}

/// A disagreement between a route and an observation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Mismatch {
    /// The route claims more protection than the server saw.
    #[error("the route claims more than the server saw: {0}")]
    ClaimsMore(String),
    /// The route claims less protection than the server saw.
    #[error("the route claims less than the server saw: {0}")]
    ClaimsLess(String),
}

/// Compares `route` with what its first hop (the client's own server, or
/// its own relay device, which made the observation) saw: the first hop's
/// link and what it reads, and, when the observation says how the text
/// went on, the hops after it.
pub fn compare(route: &Route, seen: &Observation) -> Result<(), Mismatch> {
    let Some(first) = route.hops.first() else {
        return Err(Mismatch::ClaimsMore("a route with no hop".into()));
    };
    match seen.link {
        Some(SeenLink::Tls(version)) => match &first.transport {
            TransportSecurity::Tls {
                version: claimed, ..
            } if *claimed == version => {}
            TransportSecurity::Tls {
                version: claimed, ..
            } if *claimed > version => {
                return Err(Mismatch::ClaimsMore(format!(
                    "TLS {claimed:?} claimed, {version:?} negotiated"
                )));
            }
            other => {
                return Err(Mismatch::ClaimsLess(format!(
                    "{other:?} claimed, TLS {version:?} negotiated"
                )));
            }
        },
        Some(SeenLink::Plaintext) => match &first.transport {
            TransportSecurity::Plaintext => {}
            TransportSecurity::Unknown => {
                return Err(Mismatch::ClaimsLess(
                    "an unknown transport claimed, the link was seen unencrypted".into(),
                ));
            }
            other => {
                return Err(Mismatch::ClaimsMore(format!(
                    "{other:?} claimed, the link carried the text unencrypted"
                )));
            }
        },
        None => {}
    }
    match (seen.plaintext_stored, first.reads) {
        (Some(true), Visibility::MetadataOnly) => {
            return Err(Mismatch::ClaimsMore(format!(
                "{} is said to read metadata only, yet stores the text in the clear",
                first.host
            )));
        }
        (Some(false), Visibility::Content) if seen.keeps_what_it_reads => {
            return Err(Mismatch::ClaimsLess(format!(
                "{} is said to read the text, yet its storage has no plaintext copy",
                first.host
            )));
        }
        _ => {}
    }
    onward(route, seen.onward_in_clear)
}

/// The hops after the first, against how the text went on from it.
fn onward(route: &Route, in_clear: Option<bool>) -> Result<(), Mismatch> {
    let later = || route.hops.iter().skip(1);
    match in_clear {
        Some(true) => {
            if route.is_end_to_end() {
                return Err(Mismatch::ClaimsMore(
                    "end-to-end encryption claimed, yet the text travelled on in the clear".into(),
                ));
            }
            if let Some(carrier) =
                later().find(|h| h.kind == HopKind::Carrier && h.reads != Visibility::Content)
            {
                return Err(Mismatch::ClaimsMore(format!(
                    "the carrier {} is said to read metadata only, yet it carried the text in the clear",
                    carrier.host
                )));
            }
            if !later().any(|h| h.reads == Visibility::Content) {
                return Err(Mismatch::ClaimsMore(
                    "no hop past the first is said to read the text, yet it travelled on in the clear"
                        .into(),
                ));
            }
            Ok(())
        }
        Some(false) => match later().find(|h| h.reads == Visibility::Content) {
            Some(h) => Err(Mismatch::ClaimsLess(format!(
                "{} is said to read the text, yet it never left the first hop in the clear",
                h.host
            ))),
            None => Ok(()),
        },
        None => Ok(()),
    }
}

/// Whether `haystack` holds `needle` anywhere (a canary in a file's bytes).
pub fn holds(haystack: &[u8], needle: &str) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
}

/// Every byte of the files under `dir`, recursively (a server's storage).
pub fn bytes_under(dir: &std::path::Path) -> Vec<u8> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.extend(bytes);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use koine_api::{E2eEnd, E2eScheme, EndToEnd, Hop, Verification};

    fn route(reads: Visibility, tls: TlsVersion) -> Route {
        let hop = Hop::new(
            "a.example",
            HopKind::ClientLink,
            TransportSecurity::Tls {
                version: tls,
                pinned: false,
            },
        )
        .reading(reads);
        let end_to_end = if reads == Visibility::MetadataOnly {
            EndToEnd {
                scheme: E2eScheme::Omemo,
                ends: E2eEnd::RecipientDevices,
                verification: Verification::Unverified,
                fingerprint: None,
            }
        } else {
            EndToEnd::none()
        };
        Route {
            hops: vec![hop],
            end_to_end,
        }
    }

    #[test]
    fn an_encrypted_claim_over_a_stored_plaintext_fails() {
        let seen = Observation {
            plaintext_stored: Some(true),
            ..Observation::default()
        };
        assert!(matches!(
            compare(&route(Visibility::MetadataOnly, TlsVersion::Tls13), &seen),
            Err(Mismatch::ClaimsMore(_))
        ));
        assert_eq!(
            compare(&route(Visibility::Content, TlsVersion::Tls13), &seen),
            Ok(())
        );
    }

    #[test]
    fn a_readable_claim_over_an_archive_without_plaintext_fails() {
        let seen = Observation {
            plaintext_stored: Some(false),
            keeps_what_it_reads: true,
            ..Observation::default()
        };
        assert!(matches!(
            compare(&route(Visibility::Content, TlsVersion::Tls13), &seen),
            Err(Mismatch::ClaimsLess(_))
        ));
        assert_eq!(
            compare(&route(Visibility::MetadataOnly, TlsVersion::Tls13), &seen),
            Ok(())
        );
        // A server that keeps nothing proves nothing by its empty storage.
        let relay = Observation {
            keeps_what_it_reads: false,
            ..seen
        };
        assert_eq!(
            compare(&route(Visibility::Content, TlsVersion::Tls13), &relay),
            Ok(())
        );
    }

    #[test]
    fn the_tls_version_must_be_the_negotiated_one() {
        let seen = Observation {
            link: Some(SeenLink::Tls(TlsVersion::Tls12)),
            ..Observation::default()
        };
        assert!(matches!(
            compare(&route(Visibility::Content, TlsVersion::Tls13), &seen),
            Err(Mismatch::ClaimsMore(_))
        ));
        assert_eq!(
            compare(&route(Visibility::Content, TlsVersion::Tls12), &seen),
            Ok(())
        );
    }

    #[test]
    fn a_plain_link_must_be_claimed_plain() {
        let seen = Observation {
            link: Some(SeenLink::Plaintext),
            ..Observation::default()
        };
        assert!(matches!(
            compare(&route(Visibility::Content, TlsVersion::Tls12), &seen),
            Err(Mismatch::ClaimsMore(_))
        ));
        let mut plain = route(Visibility::Content, TlsVersion::Tls12);
        plain.hops[0].transport = TransportSecurity::Plaintext;
        assert_eq!(compare(&plain, &seen), Ok(()));
        let mut unknown = plain.clone();
        unknown.hops[0].transport = TransportSecurity::Unknown;
        assert!(matches!(
            compare(&unknown, &seen),
            Err(Mismatch::ClaimsLess(_))
        ));
        // And a TLS link must not be called plain.
        let tls = Observation {
            link: Some(SeenLink::Tls(TlsVersion::Tls13)),
            ..Observation::default()
        };
        assert!(matches!(
            compare(&plain, &tls),
            Err(Mismatch::ClaimsLess(_))
        ));
    }

    #[test]
    fn the_weakest_link_orders_first() {
        assert!(SeenLink::Plaintext < SeenLink::Tls(TlsVersion::Tls12));
        assert!(SeenLink::Tls(TlsVersion::Tls12) < SeenLink::Tls(TlsVersion::Tls13));
    }

    /// Your computer → your phone → the carrier, like an SMS.
    fn sms(phone_reads: Visibility, carrier_reads: Visibility) -> Route {
        let phone = Hop::new(
            "phone",
            HopKind::RelayDevice,
            TransportSecurity::Tls {
                version: TlsVersion::Tls12,
                pinned: true,
            },
        )
        .reading(phone_reads);
        let carrier = Hop::new("carrier", HopKind::Carrier, TransportSecurity::Cellular)
            .reading(carrier_reads);
        Route {
            hops: vec![phone, carrier],
            end_to_end: EndToEnd::none(),
        }
    }

    /// What a phone sees of an SMS it sent: the pinned LAN link, the text
    /// in its own store, handed to the carrier as it is.
    fn phone_saw() -> Observation {
        Observation {
            link: Some(SeenLink::Tls(TlsVersion::Tls12)),
            plaintext_stored: Some(true),
            keeps_what_it_reads: true,
            onward_in_clear: Some(true),
        }
    }

    #[test]
    fn an_sms_route_reads_on_the_phone_and_at_the_carrier() {
        let seen = phone_saw();
        assert_eq!(
            compare(&sms(Visibility::Content, Visibility::Content), &seen),
            Ok(())
        );
        // A phone said not to read what it stores.
        assert!(matches!(
            compare(&sms(Visibility::MetadataOnly, Visibility::Content), &seen),
            Err(Mismatch::ClaimsMore(_))
        ));
        // A carrier said not to read what it carried in the clear.
        assert!(matches!(
            compare(&sms(Visibility::Content, Visibility::MetadataOnly), &seen),
            Err(Mismatch::ClaimsMore(_))
        ));
    }

    #[test]
    fn text_that_went_on_in_the_clear_is_read_past_the_first_hop() {
        let seen = Observation {
            onward_in_clear: Some(true),
            ..Observation::default()
        };
        // No later hop at all.
        assert!(matches!(
            compare(&route(Visibility::Content, TlsVersion::Tls13), &seen),
            Err(Mismatch::ClaimsMore(_))
        ));
        // An end-to-end claim over a text that went on in the clear.
        let mut e2e = route(Visibility::MetadataOnly, TlsVersion::Tls13);
        e2e.hops.push(
            Hop::new("b.example", HopKind::Federation, TransportSecurity::Unknown)
                .reading(Visibility::MetadataOnly),
        );
        assert!(matches!(compare(&e2e, &seen), Err(Mismatch::ClaimsMore(_))));
        // Seen leaving only encrypted: no later hop reads it.
        let sealed = Observation {
            onward_in_clear: Some(false),
            ..Observation::default()
        };
        assert_eq!(compare(&e2e, &sealed), Ok(()));
        assert!(matches!(
            compare(&sms(Visibility::Content, Visibility::Content), &sealed),
            Err(Mismatch::ClaimsLess(_))
        ));
    }

    #[test]
    fn canaries_are_found_in_bytes() {
        assert!(holds(b"xx canary-1 yy", "canary-1"));
        assert!(!holds(b"xx canary-2 yy", "canary-1"));
        assert!(!holds(b"anything", ""));
    }
}
