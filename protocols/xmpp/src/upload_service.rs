//! Finding the HTTP upload service (XEP-0363) with disco: the items of the
//! user's domain, and the domain itself, are asked for disco#info; the first
//! with identity `store/*` and the feature `urn:xmpp:http:upload:0` is it,
//! with the size limit its form gives. Asked once per session, when the first
//! file is sent; messages waiting for it go on (or fail) when it is known.

use crate::error::XmppError;
use crate::ns;
use crate::session::{PendingIq, Session};
use crate::upload::{Service, no_service};
use tokio_xmpp::jid::Jid as XJid;
use tokio_xmpp::minidom::Element;

/// What disco#info says about an upload service: `Some(max size)` if it is one.
pub(crate) fn upload_identity(info: &Element) -> Option<Option<u64>> {
    let is_store = info
        .children()
        .any(|c| c.is("identity", ns::DISCO_INFO) && c.attr("category") == Some("store"));
    let has_feature = info
        .children()
        .any(|c| c.is("feature", ns::DISCO_INFO) && c.attr("var") == Some(ns::UPLOAD));
    if !(is_store && has_feature) {
        return None;
    }
    let max = info
        .children()
        .filter(|x| x.is("x", ns::DATA))
        .filter(|x| {
            x.children().any(|f| {
                f.attr("var") == Some("FORM_TYPE")
                    && f.children().any(|v| v.text().trim() == ns::UPLOAD)
            })
        })
        .flat_map(|x| x.children())
        .find(|f| f.attr("var") == Some("max-file-size"))
        .and_then(|f| {
            f.children()
                .next()
                .and_then(|v| v.text().trim().parse().ok())
        });
    Some(max)
}

impl Session {
    /// The items of our domain: ask each (and the domain) for disco#info.
    pub(crate) async fn on_upload_items(
        &mut self,
        items: Option<Element>,
    ) -> Result<(), XmppError> {
        let mut jids = vec![self.cfg.domain()];
        if let Some(q) = items.filter(|q| q.is("query", ns::DISCO_ITEMS)) {
            jids.extend(
                q.children()
                    .filter(|i| i.is("item", ns::DISCO_ITEMS))
                    .filter_map(|i| i.attr("jid").map(str::to_owned)),
            );
        }
        jids.dedup();
        self.uploads.service = Service::Discovering {
            outstanding: jids.len(),
        };
        for j in jids {
            if let Ok(to) = j.parse::<XJid>() {
                let q = Element::builder("query", ns::DISCO_INFO).build();
                self.iq_get(Some(to), q, PendingIq::UploadInfo { jid: j })
                    .await?;
            } else {
                self.on_upload_info(j, None).await?;
            }
        }
        Ok(())
    }

    /// A disco#info answer (or error, `None`) during discovery.
    pub(crate) async fn on_upload_info(
        &mut self,
        jid: String,
        info: Option<Element>,
    ) -> Result<(), XmppError> {
        let Service::Discovering { outstanding } = self.uploads.service.clone() else {
            return Ok(());
        };
        let found = info
            .filter(|q| q.is("query", ns::DISCO_INFO))
            .and_then(|q| upload_identity(&q));
        if let Some(max) = found {
            self.uploads.service = Service::Found {
                jid: jid.clone(),
                max,
            };
            for id in std::mem::take(&mut self.uploads.waiting) {
                self.request_slots(id, &jid, max).await?;
            }
        } else if outstanding <= 1 {
            self.uploads.service = Service::Absent;
            for id in std::mem::take(&mut self.uploads.waiting) {
                self.upload_failed(&id, no_service()).await?;
            }
        } else {
            self.uploads.service = Service::Discovering {
                outstanding: outstanding.saturating_sub(1),
            };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_says_its_limit() {
        let info: Element = format!(
            "<query xmlns='{d}'><identity category='store' type='file'/><feature var='{u}'/>\
             <x xmlns='{x}' type='result'><field var='FORM_TYPE' type='hidden'><value>{u}</value></field>\
             <field var='max-file-size'><value>1024</value></field></x></query>",
            d = ns::DISCO_INFO,
            u = ns::UPLOAD,
            x = ns::DATA
        )
        .parse()
        .expect("xml");
        assert_eq!(upload_identity(&info), Some(Some(1024)));
        let server: Element = format!(
            "<query xmlns='{d}'><identity category='server' type='im'/></query>",
            d = ns::DISCO_INFO
        )
        .parse()
        .expect("xml");
        assert_eq!(upload_identity(&server), None);
    }
}
