//! The route of a Matrix room, built from what the client actually knows:
//! the link it uses to its homeserver, the servers of the other members
//! (federation), whether the room is Megolm-encrypted, and the bridges that
//! announce themselves with `m.bridge` / `uk.half-shot.bridge` state events.
//!
//! Shape: `your homeserver (client link) → their homeservers (federation, one
//! hop per other server name) → bridge (reads content) → remote network`.
//! Homeservers read only metadata in an encrypted room and everything in a
//! plaintext one; a bridge always reads content, so in an encrypted bridged
//! room end-to-end encryption ends at the bridge hop.

use koine_api::{
    E2eEnd, E2eScheme, EndToEnd, Hop, HopKind, Route, TransportSecurity, Verification, Visibility,
};
use serde_json::Value;
use std::collections::BTreeSet;

/// State event types that announce a bridge (MSC2346 and its unstable form).
pub const BRIDGE_EVENT_TYPES: [&str; 2] = ["m.bridge", "uk.half-shot.bridge"];

/// A bridge as announced in room state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeInfo {
    /// The bridge bot's user id, or the state key when the bot is not named.
    pub label: String,
    /// The server the bridge bot lives on, when known.
    pub server: Option<String>,
    /// The network behind the bridge (`protocol.displayname`, else `protocol.id`).
    pub remote_network: String,
}

/// A bridge state event whose content does not follow MSC2346.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed bridge state event: {0}")]
pub struct MalformedBridge(pub String);

/// Reads a bridge state event's content. A malformed one is still a bridge
/// (its presence alone means a bridge reads the room), so the caller gets
/// both a usable [`BridgeInfo`] and the error to report.
pub fn parse_bridge(state_key: &str, content: &Value) -> (BridgeInfo, Option<MalformedBridge>) {
    let bot = content.get("bridgebot").and_then(Value::as_str);
    let protocol = content.get("protocol");
    let network = protocol.and_then(|p| {
        p.get("displayname")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .or_else(|| {
                p.get("id")
                    .and_then(Value::as_str)
                    .filter(|s| !s.trim().is_empty())
            })
    });
    let error = match (bot, network) {
        (Some(_), Some(_)) => None,
        (None, _) => Some(MalformedBridge("no bridgebot".into())),
        (_, None) => Some(MalformedBridge("no protocol id".into())),
    };
    let label = bot.unwrap_or(state_key).to_owned();
    let server = bot
        .and_then(|b| b.split_once(':'))
        .map(|(_, server)| server.to_ascii_lowercase());
    let info = BridgeInfo {
        label: if label.is_empty() {
            "bridge".into()
        } else {
            label
        },
        server,
        remote_network: network.unwrap_or("unknown").to_owned(),
    };
    (info, error)
}

/// What the client knows about one room, from which its route follows.
#[derive(Debug, Clone)]
pub struct RouteFacts {
    /// The account's own server name.
    pub own_server: String,
    /// How the client's link to its homeserver is protected, as negotiated.
    pub link: TransportSecurity,
    /// Server names of the other members (joined or invited).
    pub member_servers: BTreeSet<String>,
    /// Whether the room is Megolm-encrypted.
    pub encrypted: bool,
    /// Whether every other member's identity is verified by the user.
    pub verified: bool,
    /// The bridges in the room.
    pub bridges: Vec<BridgeInfo>,
}

/// Builds the route from the facts. The result always validates.
pub fn build(facts: &RouteFacts) -> Route {
    let server_reads = if facts.encrypted {
        Visibility::MetadataOnly
    } else {
        Visibility::Content
    };
    let mut hops = vec![
        Hop::new(&facts.own_server, HopKind::ClientLink, facts.link.clone())
            .reading(server_reads)
            .seeing_your_ip(),
    ];
    let mut servers: BTreeSet<&str> = facts.member_servers.iter().map(String::as_str).collect();
    for bridge in &facts.bridges {
        if let Some(s) = &bridge.server {
            servers.insert(s);
        }
    }
    servers.remove(facts.own_server.as_str());
    for server in servers {
        hops.push(
            Hop::new(server, HopKind::Federation, TransportSecurity::Unknown).reading(server_reads),
        );
    }
    let first_bridge = hops.len();
    for bridge in &facts.bridges {
        hops.push(
            Hop::new(
                &bridge.label,
                HopKind::Bridge {
                    remote_network: bridge.remote_network.clone(),
                },
                TransportSecurity::Unknown,
            )
            .reading(Visibility::Content),
        );
    }
    let end_to_end = if facts.encrypted {
        EndToEnd {
            scheme: E2eScheme::Megolm,
            ends: if facts.bridges.is_empty() {
                E2eEnd::RecipientDevices
            } else {
                E2eEnd::Hop(first_bridge)
            },
            verification: if facts.verified {
                Verification::Verified
            } else {
                Verification::Unverified
            },
            fingerprint: None,
        }
    } else {
        EndToEnd::none()
    };
    Route { hops, end_to_end }
}

#[cfg(test)]
mod tests {
    use super::*;
    use koine_api::Protection;
    use serde_json::json;

    fn facts() -> RouteFacts {
        RouteFacts {
            own_server: "a.example".into(),
            link: TransportSecurity::Tls {
                version: koine_api::TlsVersion::Tls13,
                pinned: false,
            },
            member_servers: BTreeSet::from(["a.example".to_owned()]),
            encrypted: true,
            verified: false,
            bridges: vec![],
        }
    }

    #[test]
    fn same_server_encrypted_room_is_end_to_end() {
        let r = build(&facts());
        assert_eq!(r.validate(), Ok(()));
        assert_eq!(r.hosts().collect::<Vec<_>>(), ["a.example"]);
        assert_eq!(r.protection(), Protection::EndToEndUnverified);
        assert!(r.hops.first().expect("a hop").sees_your_ip);
    }

    #[test]
    fn other_servers_are_federation_hops() {
        let mut f = facts();
        f.member_servers.insert("b.example".into());
        f.verified = true;
        let r = build(&f);
        assert_eq!(r.validate(), Ok(()));
        assert_eq!(r.hosts().collect::<Vec<_>>(), ["a.example", "b.example"]);
        assert_eq!(
            r.hops.get(1).expect("a second hop").kind,
            HopKind::Federation
        );
        assert_eq!(r.protection(), Protection::EndToEndVerified);
    }

    #[test]
    fn plaintext_room_lets_servers_read() {
        let mut f = facts();
        f.encrypted = false;
        f.link = TransportSecurity::Plaintext;
        let r = build(&f);
        assert_eq!(r.validate(), Ok(()));
        assert_eq!(r.hops.first().expect("a hop").reads, Visibility::Content);
        assert_eq!(r.protection(), Protection::Exposed);
    }

    #[test]
    fn bridge_ends_end_to_end_encryption() {
        let (bridge, err) = parse_bridge(
            "whatsapp/123",
            &json!({"bridgebot": "@wa:bridge.example", "protocol": {"id": "whatsapp", "displayname": "WhatsApp"}}),
        );
        assert_eq!(err, None);
        let mut f = facts();
        f.bridges.push(bridge);
        let r = build(&f);
        assert_eq!(r.validate(), Ok(()));
        assert_eq!(
            r.hosts().collect::<Vec<_>>(),
            ["a.example", "bridge.example", "@wa:bridge.example"]
        );
        assert_eq!(
            r.hops.get(2).expect("a third hop").kind,
            HopKind::Bridge {
                remote_network: "WhatsApp".into()
            }
        );
        assert_eq!(r.end_to_end.ends, E2eEnd::Hop(2));
        assert!(!r.is_end_to_end());
        assert_eq!(r.protection(), Protection::TransportOnly);
    }

    #[test]
    fn malformed_bridge_is_still_a_bridge() {
        let (bridge, err) = parse_bridge("irc", &json!({"protocol": 5}));
        assert!(err.is_some());
        assert_eq!(bridge.remote_network, "unknown");
        assert_eq!(bridge.label, "irc");
        let mut f = facts();
        f.bridges.push(bridge);
        let r = build(&f);
        assert_eq!(r.validate(), Ok(()));
        assert_eq!(r.first_reader(), Some(1));
    }

    #[test]
    fn protocol_id_is_the_fallback_network_name() {
        let (bridge, err) = parse_bridge(
            "",
            &json!({"bridgebot": "@tg:a.example", "protocol": {"id": "telegram"}}),
        );
        assert_eq!(err, None);
        assert_eq!(bridge.remote_network, "telegram");
        assert_eq!(bridge.server.as_deref(), Some("a.example"));
    }
}
