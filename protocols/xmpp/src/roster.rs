//! Roster (RFC 6121): items, pushes, subscription requests.

use crate::ns;
use koine_api::{Address, Contact, Jid};
use tokio_xmpp::minidom::Element;

/// One roster item as the plugin keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Bare JID.
    pub jid: Jid,
    /// Name.
    pub name: Option<String>,
    /// `none`, `to`, `from`, `both` or `remove`.
    pub subscription: String,
    /// Groups.
    pub groups: Vec<String>,
}

impl Item {
    /// The contact the engine sees.
    pub fn contact(&self) -> Contact {
        Contact {
            address: Address::Jid(self.jid.clone()),
            name: self.name.clone(),
            groups: self.groups.clone(),
            mutual: self.subscription == "both",
        }
    }

    /// Whether we already receive their presence (we asked and they agreed).
    pub fn we_follow(&self) -> bool {
        self.subscription == "to" || self.subscription == "both"
    }

    /// Whether they receive ours.
    pub fn they_follow(&self) -> bool {
        self.subscription == "from" || self.subscription == "both"
    }
}

/// Parses the items of a `<query xmlns='jabber:iq:roster'/>`. Items that do
/// not parse are returned as errors next to the good ones.
pub fn parse_query(query: &Element) -> (Vec<Item>, Vec<String>) {
    let mut items = Vec::new();
    let mut bad = Vec::new();
    for it in query.children().filter(|c| c.is("item", ns::ROSTER)) {
        let Some(jid) = it.attr("jid").and_then(|j| Jid::parse(j).ok()) else {
            bad.push(format!("roster item with bad jid {:?}", it.attr("jid")));
            continue;
        };
        items.push(Item {
            jid: jid.bare(),
            name: it.attr("name").filter(|n| !n.is_empty()).map(str::to_owned),
            subscription: it.attr("subscription").unwrap_or("none").to_owned(),
            groups: it
                .children()
                .filter(|g| g.is("group", ns::ROSTER))
                .map(|g| g.text())
                .collect(),
        });
    }
    (items, bad)
}

/// `<query/>` to fetch the roster.
pub fn get_query() -> Element {
    Element::builder("query", ns::ROSTER).build()
}

/// `<query/>` that adds or renames `jid`.
pub fn set_query(jid: &str, name: Option<&str>) -> Option<Element> {
    let name = name
        .map(|n| format!(" name='{}'", ns::escape(n)))
        .unwrap_or_default();
    ns::element(&format!(
        "<query xmlns='{}'><item jid='{}'{name}/></query>",
        ns::ROSTER,
        ns::escape(jid)
    ))
}

/// `<query/>` that removes `jid`.
pub fn remove_query(jid: &str) -> Option<Element> {
    ns::element(&format!(
        "<query xmlns='{}'><item jid='{}' subscription='remove'/></query>",
        ns::ROSTER,
        ns::escape(jid)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_items_and_reports_bad_ones() {
        let q: Element = "<query xmlns='jabber:iq:roster'><item jid='Bob@x.org' name='Bob' subscription='both'><group>Friends</group></item><item jid='a b@x'/></query>"
            .parse()
            .expect("xml");
        let (items, bad) = parse_query(&q);
        assert_eq!(items.len(), 1);
        assert_eq!(bad.len(), 1);
        assert_eq!(items[0].jid.as_str(), "bob@x.org");
        assert!(items[0].contact().mutual);
        assert_eq!(items[0].groups, ["Friends"]);
        let q = set_query("oneil@x.org", Some("<O'Neil>")).expect("xml");
        let (items, _) = parse_query(&q);
        assert_eq!(items[0].name.as_deref(), Some("<O'Neil>"));
    }
}
