//! Namespaces used by the plugin, and a few small element builders.

use tokio_xmpp::minidom::Element;

/// jabber:client
pub const CLIENT: &str = "jabber:client";
/// XEP-0359
pub const SID: &str = "urn:xmpp:sid:0";
/// XEP-0184
pub const RECEIPTS: &str = "urn:xmpp:receipts";
/// XEP-0333
pub const MARKERS: &str = "urn:xmpp:chat-markers:0";
/// XEP-0085
pub const CHATSTATES: &str = "http://jabber.org/protocol/chatstates";
/// XEP-0308
pub const CORRECT: &str = "urn:xmpp:message-correct:0";
/// XEP-0280
pub const CARBONS: &str = "urn:xmpp:carbons:2";
/// XEP-0297
pub const FORWARD: &str = "urn:xmpp:forward:0";
/// XEP-0203
pub const DELAY: &str = "urn:xmpp:delay";
/// XEP-0313
pub const MAM: &str = "urn:xmpp:mam:2";
/// XEP-0059
pub const RSM: &str = "http://jabber.org/protocol/rsm";
/// XEP-0004
pub const DATA: &str = "jabber:x:data";
/// XEP-0334
pub const HINTS: &str = "urn:xmpp:hints";
/// RFC 6121 roster
pub const ROSTER: &str = "jabber:iq:roster";
/// XEP-0030
pub const DISCO_INFO: &str = "http://jabber.org/protocol/disco#info";
/// XEP-0030
pub const DISCO_ITEMS: &str = "http://jabber.org/protocol/disco#items";
/// XEP-0191
pub const BLOCKING: &str = "urn:xmpp:blocking";
/// XEP-0377
pub const REPORTING: &str = "urn:xmpp:reporting:1";
/// XEP-0377, its first version (still deployed)
pub const REPORTING_0: &str = "urn:xmpp:reporting:0";
/// XEP-0045
pub const MUC: &str = "http://jabber.org/protocol/muc";
/// XEP-0045 user
pub const MUC_USER: &str = "http://jabber.org/protocol/muc#user";
/// XEP-0421 anonymous unique occupant identifiers.
pub const OCCUPANT_ID: &str = "urn:xmpp:occupant-id:0";
/// XEP-0363
pub const UPLOAD: &str = "urn:xmpp:http:upload:0";
/// XEP-0066
pub const OOB: &str = "jabber:x:oob";

/// `<no-store/>` (XEP-0334) for chat states.
pub fn no_store() -> Element {
    Element::builder("no-store", HINTS).build()
}

/// Escapes text for XML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Parses XML the plugin wrote itself (escaped with [`escape`]).
pub fn element(xml: &str) -> Option<Element> {
    xml.parse().ok()
}
