//! What this client is (XEP-0030 disco#info) and its hash in presence
//! (XEP-0115 entity capabilities).
//!
//! The caps in presence let the server's PEP service know the `+notify`
//! features, so it pushes the OMEMO device lists of contacts (and of our own
//! other devices) as they change.

use crate::ns;
use base64::Engine as _;
use tokio_xmpp::minidom::Element;
use tokio_xmpp::parsers::caps::{self, Caps};
use tokio_xmpp::parsers::disco::{DiscoInfoResult, Identity};
use tokio_xmpp::parsers::hashes::Algo;

/// The caps node naming this software.
pub const NODE: &str = "urn:koine:client";

const FEATURES: &[&str] = &[
    ns::DISCO_INFO,
    ns::RECEIPTS,
    ns::MARKERS,
    ns::CHATSTATES,
    ns::CORRECT,
    "urn:xmpp:ping",
    crate::omemo::wire::NOTIFY,
];

/// Our disco#info, answering a query on `node` (none, or `NODE#ver`).
pub fn disco(node: Option<String>) -> DiscoInfoResult {
    DiscoInfoResult {
        node,
        identities: vec![Identity {
            category: "client".into(),
            type_: "pc".into(),
            lang: None,
            name: Some("Koine".into()),
        }],
        features: FEATURES.iter().map(|f| (*f).to_owned()).collect(),
        extensions: Vec::new(),
    }
}

/// The `<c/>` element for presence, `None` if hashing failed.
pub fn presence_element() -> Option<Element> {
    let hash = caps::hash_caps(&caps::compute_disco(&disco(None)), Algo::Sha_1).ok()?;
    Some(Caps::new(NODE, hash).into())
}

/// The `node#ver` our caps announce.
pub fn node_ver() -> Option<String> {
    let hash = caps::hash_caps(&caps::compute_disco(&disco(None)), Algo::Sha_1).ok()?;
    Some(format!(
        "{NODE}#{}",
        base64::engine::general_purpose::STANDARD.encode(hash.hash)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_announce_the_device_list_notifications() {
        let el = presence_element().expect("caps");
        assert!(el.is("c", "http://jabber.org/protocol/caps"));
        assert_eq!(el.attr("node"), Some(NODE));
        let d = disco(node_ver());
        assert!(d.features.contains(crate::omemo::wire::NOTIFY));
    }
}
