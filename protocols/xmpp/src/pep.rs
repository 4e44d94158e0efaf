//! PEP (XEP-0163) and the XEP-0060 pubsub elements it uses: asking for a
//! node's latest item, subscribing, reading what came back. Pure XML, shared
//! by OMEMO's device lists and bundles and by contacts' vCards.

use tokio_xmpp::minidom::rxml::NcName;
use tokio_xmpp::minidom::{Element, ElementBuilder};

/// XEP-0060.
pub const PUBSUB: &str = "http://jabber.org/protocol/pubsub";
/// XEP-0060 events.
pub const PUBSUB_EVENT: &str = "http://jabber.org/protocol/pubsub#event";

/// Attributes by name (the names here are constants, always valid).
pub(crate) trait At {
    fn at(self, name: &str, value: impl Into<String>) -> Self;
}

impl At for ElementBuilder {
    fn at(self, name: &str, value: impl Into<String>) -> Self {
        match NcName::try_from(name) {
            Ok(n) => self.attr(n, value.into()),
            Err(_) => self,
        }
    }
}

/// `<pubsub><items node=.. max_items='1'/></pubsub>`.
pub fn fetch(node: &str) -> Element {
    Element::builder("pubsub", PUBSUB)
        .append(
            Element::builder("items", PUBSUB)
                .at("node", node)
                .at("max_items", "1"),
        )
        .build()
}

/// `<pubsub><subscribe node=.. jid=../></pubsub>`.
pub fn subscribe(node: &str, jid: &str) -> Element {
    Element::builder("pubsub", PUBSUB)
        .append(
            Element::builder("subscribe", PUBSUB)
                .at("node", node)
                .at("jid", jid),
        )
        .build()
}

/// The first item's payload of a fetch result or an event's `<items/>`.
pub fn first_item<'a>(items: &'a Element, ns: &str) -> Option<&'a Element> {
    items
        .children()
        .find(|c| c.is("item", ns))
        .and_then(|i| i.children().next())
}

/// The payload of a `<pubsub><items/></pubsub>` result.
pub fn fetched(pubsub: &Element) -> Option<&Element> {
    let items = pubsub
        .get_child("items", PUBSUB)
        .filter(|_| pubsub.is("pubsub", PUBSUB))?;
    first_item(items, PUBSUB)
}
