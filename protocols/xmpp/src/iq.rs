//! Iq stanzas: answers to our queries (dispatched by what they were for),
//! roster pushes, pings and disco#info about us.

use crate::error::XmppError;
use crate::ns;
use crate::roster;
use crate::session::{PendingIq, Session};
use koine_api::{Address, ConnectionState, ConversationKey, Event};
use tokio_xmpp::Stanza;
use tokio_xmpp::jid::Jid as XJid;
use tokio_xmpp::minidom::Element;
use tokio_xmpp::parsers::iq::Iq;

impl Session {
    pub(crate) async fn on_iq(&mut self, iq: Iq) -> Result<(), XmppError> {
        let from_ok = |from: Option<&XJid>, own: &str| {
            from.is_none_or(|f| f.as_str() == own || f.to_bare().as_str() == own)
        };
        match iq {
            Iq::Result {
                id, from, payload, ..
            } => {
                let Some(pending) = self.iqs.remove(&id) else {
                    return Ok(());
                };
                self.on_iq_result(pending, from, payload).await?;
            }
            Iq::Error {
                id, from, error, ..
            } => {
                let Some(pending) = self.iqs.remove(&id) else {
                    return Ok(());
                };
                tracing::debug!(?pending, ?from, ?error, "iq error");
                match pending {
                    PendingIq::Mam(q) => self.mam_failed(q).await?,
                    PendingIq::DiscoInfo { domain } => self.on_domain_info(domain, None).await?,
                    PendingIq::UploadItems => self.on_upload_items(None).await?,
                    PendingIq::UploadInfo { jid } => self.on_upload_info(jid, None).await?,
                    PendingIq::UploadSlot { local_id, index } => {
                        use tokio_xmpp::parsers::stanza_error::DefinedCondition;
                        let too_large = error.defined_condition == DefinedCondition::NotAcceptable;
                        self.on_upload_slot(local_id, index, None, too_large)
                            .await?
                    }
                    PendingIq::RoomConfigured { room } => {
                        self.report_room(&ConversationKey::new(room), false).await?
                    }
                    PendingIq::Profile { jid, form } => self.on_profile(jid, form, None).await?,
                    PendingIq::Omemo(p) => self.on_omemo_iq(p, Err(())).await?,
                    // A server without ping still handled our presence first.
                    PendingIq::Ready => self.on_iq_result(PendingIq::Ready, None, None).await?,
                    _ => {}
                }
            }
            Iq::Set {
                id, from, payload, ..
            } => {
                if payload.is("query", ns::ROSTER) && from_ok(from.as_ref(), &self.own) {
                    self.on_roster_push(&payload).await?;
                    let to = from.unwrap_or_else(|| self.cfg.jid.clone().into());
                    let reply = Iq::empty_result(to, id);
                    self.send_stanza(Stanza::Iq(reply), None).await?;
                } else {
                    self.reply_unsupported(from, id).await?;
                }
            }
            Iq::Get {
                id, from, payload, ..
            } => {
                if payload.is("ping", "urn:xmpp:ping") {
                    let to = from.unwrap_or_else(|| self.cfg.jid.clone().into());
                    self.send_stanza(Stanza::Iq(Iq::empty_result(to, id)), None)
                        .await?;
                } else if payload.is("query", ns::DISCO_INFO) {
                    let Some(to) = from else { return Ok(()) };
                    let node = payload.attr("node").map(str::to_owned);
                    let q: Element = crate::caps::disco(node).into();
                    let reply = Iq::Result {
                        from: None,
                        to: Some(to),
                        id,
                        payload: Some(q),
                    };
                    self.send_stanza(Stanza::Iq(reply), None).await?;
                } else {
                    self.reply_unsupported(from, id).await?;
                }
            }
        }
        Ok(())
    }

    pub(crate) async fn reply_unsupported(
        &mut self,
        from: Option<XJid>,
        id: String,
    ) -> Result<(), XmppError> {
        use tokio_xmpp::parsers::stanza_error::{DefinedCondition, ErrorType, StanzaError};
        let Some(to) = from else { return Ok(()) };
        let err = StanzaError::new(
            ErrorType::Cancel,
            DefinedCondition::ServiceUnavailable,
            "en",
            "",
        );
        let reply = Iq::Error {
            from: None,
            to: Some(to),
            id,
            error: err,
            payload: None,
        };
        self.send_stanza(Stanza::Iq(reply), None).await
    }

    pub(crate) async fn on_iq_result(
        &mut self,
        pending: PendingIq,
        from: Option<XJid>,
        payload: Option<Element>,
    ) -> Result<(), XmppError> {
        match pending {
            PendingIq::Roster => {
                if from
                    .as_ref()
                    .is_some_and(|f| f.to_bare().as_str() != self.own)
                {
                    return self
                        .notice_malformed("roster result from a stranger".into())
                        .await;
                }
                let Some(q) = payload.filter(|p| p.is("query", ns::ROSTER)) else {
                    return Ok(());
                };
                let (items, bad) = roster::parse_query(&q);
                for b in bad {
                    self.notice_malformed(b).await?;
                }
                self.roster = items
                    .iter()
                    .map(|i| (i.jid.as_str().to_owned(), i.clone()))
                    .collect();
                self.events
                    .emit(Event::RosterReplaced(
                        items.iter().map(roster::Item::contact).collect(),
                    ))
                    .await?;
                self.fetch_profiles().await?;
            }
            PendingIq::DiscoInfo { domain } => self.on_domain_info(domain, payload).await?,
            PendingIq::Mam(q) => self.mam_done(q, payload).await?,
            PendingIq::ServerInfo => self.on_server_info(payload),
            PendingIq::UploadItems => self.on_upload_items(payload).await?,
            PendingIq::UploadInfo { jid } => self.on_upload_info(jid, payload).await?,
            PendingIq::UploadSlot { local_id, index } => {
                self.on_upload_slot(local_id, index, payload, false).await?
            }
            PendingIq::RoomConfigured { room } => {
                self.report_room(&ConversationKey::new(room), false).await?;
            }
            PendingIq::Profile { jid, form } => self.on_profile(jid, form, payload).await?,
            PendingIq::Omemo(p) => self.on_omemo_iq(p, Ok(payload)).await?,
            PendingIq::Ready => {
                self.ready = true;
                self.events
                    .emit(Event::ConnectionChanged(ConnectionState::Online {
                        link: self.routes.link(),
                    }))
                    .await?;
            }
            PendingIq::RosterSet | PendingIq::Carbons | PendingIq::Ignore => {}
        }
        Ok(())
    }

    pub(crate) async fn on_roster_push(&mut self, q: &Element) -> Result<(), XmppError> {
        let (items, bad) = roster::parse_query(q);
        for b in bad {
            self.notice_malformed(b).await?;
        }
        for item in items {
            if item.subscription == "remove" {
                self.roster.remove(item.jid.as_str());
                self.events
                    .emit(Event::ContactRemoved(Address::Jid(item.jid.clone())))
                    .await?;
            } else {
                self.roster
                    .insert(item.jid.as_str().to_owned(), item.clone());
                self.events
                    .emit(Event::ContactUpdated(item.contact()))
                    .await?;
                self.fetch_profile(item.jid.as_str()).await?;
            }
        }
        Ok(())
    }
}
