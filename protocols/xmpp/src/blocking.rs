//! Blocking (XEP-0191) and spam reporting (XEP-0377).
//!
//! `Decision::Block` adds the sender to the server's block list.
//! `Decision::Report` does the same with a `<report/>` inside the item when
//! the server said in disco#info (asked at every login, answered before
//! `Online`) that it takes reports: `urn:xmpp:reporting:1`, or the older
//! `urn:xmpp:reporting:0`. A server without either still gets the block, and
//! the user is told with `Notice::Unsupported { feature: "spam-reporting" }`.

use crate::error::XmppError;
use crate::ns;
use crate::session::{PendingIq, Session};
use koine_api::{Event, Notice};
use tokio_xmpp::jid::BareJid;
use tokio_xmpp::minidom::Element;

/// The reporting namespace a disco#info answer offers, newest first.
pub fn reporting_of(info: &Element) -> Option<&'static str> {
    let offers = |var: &str| {
        info.children()
            .any(|c| c.is("feature", ns::DISCO_INFO) && c.attr("var") == Some(var))
    };
    [ns::REPORTING, ns::REPORTING_0]
        .into_iter()
        .find(|v| offers(v))
}

/// The `<block/>` payload for `jid`, with a spam report in `reporting`'s
/// format when given.
pub fn block_element(jid: &str, reporting: Option<&str>) -> Option<Element> {
    let report = match reporting {
        Some(ns::REPORTING) => format!(
            "<report xmlns='{}' reason='urn:xmpp:reporting:spam'/>",
            ns::REPORTING
        ),
        Some(ns::REPORTING_0) => format!("<report xmlns='{}'><spam/></report>", ns::REPORTING_0),
        _ => String::new(),
    };
    ns::element(&format!(
        "<block xmlns='{}'><item jid='{}'>{report}</item></block>",
        ns::BLOCKING,
        ns::escape(jid)
    ))
}

impl Session {
    /// Asks our server's disco#info (for spam reporting).
    pub(crate) async fn ask_server_features(&mut self) -> Result<(), XmppError> {
        let to =
            BareJid::new(&self.cfg.domain()).map_err(|e| XmppError::Protocol(e.to_string()))?;
        let q = Element::builder("query", ns::DISCO_INFO).build();
        self.iq_get(Some(to.into()), q, PendingIq::ServerInfo)
            .await?;
        Ok(())
    }

    /// Our server's disco#info arrived.
    pub(crate) fn on_server_info(&mut self, info: Option<Element>) {
        self.reporting = info
            .filter(|q| q.is("query", ns::DISCO_INFO))
            .and_then(|q| reporting_of(&q));
    }

    /// Blocks `who`, reporting them as spam when `report` and the server
    /// takes reports.
    pub(crate) async fn block(
        &mut self,
        who: &koine_api::Jid,
        report: bool,
    ) -> Result<(), XmppError> {
        let reporting = if report { self.reporting } else { None };
        if let Some(q) = block_element(who.as_str(), reporting) {
            self.iq_set(None, q, PendingIq::Ignore).await?;
        }
        if report && reporting.is_none() {
            self.events
                .emit(Event::Notice(Notice::Unsupported {
                    feature: "spam-reporting".into(),
                }))
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_report_formats() {
        let v1 = block_element("spam@x.org", Some(ns::REPORTING)).expect("xml");
        let item = v1.get_child("item", ns::BLOCKING).expect("item");
        assert_eq!(item.attr("jid"), Some("spam@x.org"));
        let r = item.get_child("report", ns::REPORTING).expect("report");
        assert_eq!(r.attr("reason"), Some("urn:xmpp:reporting:spam"));
        let v0 = block_element("spam@x.org", Some(ns::REPORTING_0)).expect("xml");
        let r0 = v0
            .get_child("item", ns::BLOCKING)
            .and_then(|i| i.get_child("report", ns::REPORTING_0))
            .expect("report");
        assert!(r0.get_child("spam", ns::REPORTING_0).is_some());
        let plain = block_element("a'b@x.org", None).expect("xml");
        let item = plain.get_child("item", ns::BLOCKING).expect("item");
        assert_eq!(item.attr("jid"), Some("a'b@x.org"));
        assert_eq!(item.children().count(), 0);
    }

    #[test]
    fn newest_reporting_version_wins() {
        let info: Element = format!(
            "<query xmlns='{d}'><feature var='{r0}'/><feature var='{r1}'/></query>",
            d = ns::DISCO_INFO,
            r0 = ns::REPORTING_0,
            r1 = ns::REPORTING
        )
        .parse()
        .expect("xml");
        assert_eq!(reporting_of(&info), Some(ns::REPORTING));
        let none: Element = format!("<query xmlns='{}'/>", ns::DISCO_INFO)
            .parse()
            .expect("xml");
        assert_eq!(reporting_of(&none), None);
    }
}
