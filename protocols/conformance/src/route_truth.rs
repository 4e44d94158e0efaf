//! Route truth: a route a plugin reports, held against what the server
//! itself observed of the same message. A route that claims more than the
//! observation fails; so does one that claims less.

use koine_api::{Route, TlsVersion, TransportSecurity, Visibility};

/// What a test server saw of one message (sent with a unique canary text),
/// from its own logs and storage. `None` fields were not observed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observation {
    /// The TLS version the server negotiated with the sender's client.
    pub tls: Option<TlsVersion>,
    /// Whether the server's storage (database, archive, spool) holds the
    /// canary in the clear.
    pub plaintext_stored: Option<bool>,
    /// Whether the server keeps what it can read of such a message (an
    /// archive, an offline store): then a canary absent from its storage
    /// means it could not read it.
    pub keeps_what_it_reads: bool,
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

/// Compares the first hop of `route` (the client's own server, which made
/// the observation) with what that server saw.
pub fn compare(route: &Route, seen: &Observation) -> Result<(), Mismatch> {
    let Some(first) = route.hops.first() else {
        return Err(Mismatch::ClaimsMore("a route with no hop".into()));
    };
    if let Some(version) = seen.tls {
        match &first.transport {
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
        }
    }
    match (seen.plaintext_stored, first.reads) {
        (Some(true), Visibility::MetadataOnly) => Err(Mismatch::ClaimsMore(format!(
            "{} is said to read metadata only, yet stores the text in the clear",
            first.host
        ))),
        (Some(false), Visibility::Content) if seen.keeps_what_it_reads => {
            Err(Mismatch::ClaimsLess(format!(
                "{} is said to read the text, yet its storage has no plaintext copy",
                first.host
            )))
        }
        _ => Ok(()),
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
    use koine_api::{E2eEnd, E2eScheme, EndToEnd, Hop, HopKind, Verification};

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
            tls: Some(TlsVersion::Tls12),
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
    fn canaries_are_found_in_bytes() {
        assert!(holds(b"xx canary-1 yy", "canary-1"));
        assert!(!holds(b"xx canary-2 yy", "canary-1"));
        assert!(!holds(b"anything", ""));
    }
}
