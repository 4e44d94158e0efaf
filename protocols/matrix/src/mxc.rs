//! `mxc://` URIs, checked here before any ruma code sees them.
//!
//! ruma 0.12's own check (`MxcUri::is_valid`, `parts`) keeps the offset of
//! the slash in a `u8`: a server name of 250 characters makes it panic and
//! 251 to 255 make it slice out of range (see the README). The URIs come
//! from other room members, so a total parser decides instead, and only
//! URIs it accepts are ever handed on; the download URL is built from its
//! parts, not ruma's.
//!
//! The grammar (Matrix spec, appendices "Server name" and client-server API
//! "Matrix Content URIs"):
//!
//! ```text
//! mxc-uri     = "mxc://" server-name "/" media-id
//! media-id    = 1*( ALPHA / DIGIT / "_" / "-" )
//! server-name = hostname [ ":" port ]
//! port        = 1*5DIGIT
//! hostname    = IPv4address / "[" IPv6address "]" / dns-name
//! IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT
//! IPv6address = 2*45IPv6char
//! IPv6char    = DIGIT / %x41-46 / %x61-66 / ":" / "."
//! dns-name    = 1*255dns-char
//! dns-char    = DIGIT / ALPHA / "-" / "."
//! ```
//!
//! An IPv4 address is also a dns-name, so it needs no rule of its own.

/// The parts of a valid `mxc://` URI, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mxc<'a> {
    /// The server name, with its port if any.
    pub(crate) server: &'a str,
    /// The media id.
    pub(crate) media_id: &'a str,
}

/// Longest dns-name, and longest IPv6 literal between the brackets.
const MAX_DNS_NAME: usize = 255;
const IPV6: std::ops::RangeInclusive<usize> = 2..=45;
/// Longest port.
const MAX_PORT_DIGITS: usize = 5;

/// Parses `uri`; `None` when it is not a valid `mxc://` URI. Never panics.
pub(crate) fn parse(uri: &str) -> Option<Mxc<'_>> {
    let rest = uri.strip_prefix("mxc://")?;
    let (server, media_id) = rest.split_once('/')?;
    (is_server_name(server) && is_media_id(media_id)).then_some(Mxc { server, media_id })
}

/// Whether `uri` is a valid `mxc://` URI.
pub(crate) fn is_valid(uri: &str) -> bool {
    parse(uri).is_some()
}

fn is_media_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn is_server_name(name: &str) -> bool {
    let (host, port) = match name.strip_prefix('[') {
        Some(rest) => {
            let Some((address, after)) = rest.split_once(']') else {
                return false;
            };
            if !is_ipv6_literal(address) {
                return false;
            }
            if after.is_empty() {
                return true;
            }
            let Some(port) = after.strip_prefix(':') else {
                return false;
            };
            (None, Some(port))
        }
        None => match name.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(name), None),
        },
    };
    host.is_none_or(is_dns_name) && port.is_none_or(is_port)
}

fn is_dns_name(host: &str) -> bool {
    (1..=MAX_DNS_NAME).contains(&host.len())
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

fn is_ipv6_literal(address: &str) -> bool {
    IPV6.contains(&address.len())
        && address
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        && address.parse::<std::net::Ipv6Addr>().is_ok()
}

fn is_port(port: &str) -> bool {
    (1..=MAX_PORT_DIGITS).contains(&port.len()) && port.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_uris() {
        let long = "a".repeat(255);
        let long_uri = format!("mxc://{long}/x");
        for (uri, server, media_id) in [
            ("mxc://koine.test/abc", "koine.test", "abc"),
            ("mxc://koine.test:8448/A-b_9", "koine.test:8448", "A-b_9"),
            ("mxc://127.0.0.1/abc", "127.0.0.1", "abc"),
            ("mxc://[::1]/abc", "[::1]", "abc"),
            ("mxc://[2001:db8::1]:1/abc", "[2001:db8::1]:1", "abc"),
            ("mxc://[::ffff:1.2.3.4]/abc", "[::ffff:1.2.3.4]", "abc"),
            (long_uri.as_str(), long.as_str(), "x"),
        ] {
            assert_eq!(parse(uri), Some(Mxc { server, media_id }), "{uri}");
        }
    }

    #[test]
    fn invalid_uris() {
        let too_long = format!("mxc://{}/x", "a".repeat(256));
        let ipv6_too_long = format!("mxc://[{}]/x", "0:".repeat(23));
        for uri in [
            "",
            "mxc://",
            "mxc:///abc",
            "mxc://koine.test",
            "mxc://koine.test/",
            "mxc://koine.test/a/b",
            "mxc://koine.test/../x",
            "mxc://koine.test/a.b",
            "mxc://koine.test/é",
            "mxc://é.test/abc",
            "mxc://bad host/abc",
            "mxc://koine.test:/abc",
            "mxc://koine.test:123456/abc",
            "mxc://koine.test:80a/abc",
            "mxc://:80/abc",
            "mxc://a:b:c/abc",
            "mxc://[::1/abc",
            "mxc://[::1]x/abc",
            "mxc://[::1]:/abc",
            "mxc://[nope]/abc",
            "mxc://[]/abc",
            "MXC://koine.test/abc",
            "https://koine.test/abc",
            too_long.as_str(),
            ipv6_too_long.as_str(),
        ] {
            assert_eq!(parse(uri), None, "{uri:?}");
            assert!(!is_valid(uri));
        }
    }

    /// Every server name length around the points where ruma 0.12 breaks
    /// (the slash's offset no longer fits in a `u8`), and a sweep of short
    /// arbitrary inputs: an answer each time, never a panic.
    #[test]
    fn total_on_lengths_and_odd_bytes() {
        for n in 0..600 {
            let uri = format!("mxc://{}/abc", "a".repeat(n));
            assert_eq!(is_valid(&uri), (1..=255).contains(&n), "{n}");
            let multibyte = format!("mxc://{}é/abc", "a".repeat(n));
            assert!(!is_valid(&multibyte));
        }
        let alphabet = [
            "m", "x", "c", ":", "/", "[", "]", ".", "1", "é", "\u{0}", "a",
        ];
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    let _ = parse(&format!("mxc://{a}{b}{c}"));
                    let _ = parse(&format!("mxc://{a}/{b}{c}"));
                    let _ = parse(&format!("mxc://[{a}]{b}/{c}"));
                }
            }
        }
    }

    /// The upstream bugs this module stands in front of (see the README's
    /// report): when these stop panicking, ruma is fixed.
    #[test]
    fn ruma_mxc_validation_panics() {
        use matrix_sdk::ruma::MxcUri;
        for n in 250..=255 {
            let uri = format!("mxc://{}/abc", "a".repeat(n));
            let result = std::panic::catch_unwind(|| {
                let uri = <&MxcUri>::from(uri.as_str());
                uri.is_valid() && uri.parts().is_ok()
            });
            assert!(result.is_err(), "ruma handled a {n}-character server name");
            assert!(is_valid(&uri));
        }
    }

    #[test]
    fn ruma_key_id_validation_panics() {
        use matrix_sdk::ruma::OwnedDeviceKeyId;
        let id = format!("a\u{e9}{}:x", "b".repeat(254));
        assert_eq!(id.find(':'), Some(257));
        let result = std::panic::catch_unwind(|| OwnedDeviceKeyId::try_from(id.as_str()).is_ok());
        assert!(
            result.is_err(),
            "ruma handled a key id with its colon at 257"
        );
    }
}
