//! What a contact's domain is (disco#info), for the route: a domain whose
//! identity has category `gateway` is a gateway hop that reads content, where
//! end-to-end encryption ends (see [`crate::route`]).
//!
//! A domain is asked once per session, when its first conversation appears.
//! Acknowledgements of messages sent to it meanwhile wait for the answer (or
//! the error), so their route says whether a gateway is on the way.

use crate::error::XmppError;
use crate::ns;
use crate::route::DomainKind;
use crate::session::Session;
use koine_api::ConversationKey;
use tokio_xmpp::minidom::Element;

/// The gateway identity in a disco#info answer: `Some(type)` when there is one.
pub fn gateway_of(info: &Element) -> Option<Option<String>> {
    info.children()
        .filter(|c| c.is("identity", ns::DISCO_INFO))
        .find(|c| c.attr("category") == Some("gateway"))
        .map(|g| g.attr("type").map(str::to_owned))
}

impl Session {
    /// `domain`'s disco#info answer (`None`: an error or no answer).
    pub(crate) async fn on_domain_info(
        &mut self,
        domain: String,
        info: Option<Element>,
    ) -> Result<(), XmppError> {
        let gateway = info
            .filter(|q| q.is("query", ns::DISCO_INFO))
            .and_then(|q| gateway_of(&q));
        if let Some(network) = gateway
            && self.routes.learn(&domain, DomainKind::Gateway { network })
        {
            let keys: Vec<ConversationKey> = self
                .conversations
                .iter()
                .filter(|k| koine_api::Jid::parse(k).is_ok_and(|j| j.domain() == domain))
                .map(|k| ConversationKey::new(k.as_str()))
                .collect();
            for k in keys {
                self.upsert_conversation(&k).await?;
            }
        }
        for local_id in self.probing.remove(&domain).unwrap_or_default() {
            self.report_ack(local_id, &domain).await?;
        }
        self.omemo_flush().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_identities() {
        let info: Element = format!(
            "<query xmlns='{d}'><identity category='conference' type='text'/>\
             <identity category='gateway' type='sms'/></query>",
            d = ns::DISCO_INFO
        )
        .parse()
        .expect("xml");
        assert_eq!(gateway_of(&info), Some(Some("sms".into())));
        let server: Element = format!(
            "<query xmlns='{d}'><identity category='server' type='im'/></query>",
            d = ns::DISCO_INFO
        )
        .parse()
        .expect("xml");
        assert_eq!(gateway_of(&server), None);
    }
}
