//! Sending stanzas (tracked for stream management), queries, and the
//! acknowledgement of durable commands.

use crate::error::XmppError;
use crate::ns;
use crate::session::{PendingIq, Session, new_id};
use futures::SinkExt;
use koine_api::{Event, LocalId, RemoteId};
use std::io::Write;
use tokio_xmpp::Stanza;
use tokio_xmpp::jid::Jid as XJid;
use tokio_xmpp::minidom::Element;
use tokio_xmpp::parsers::iq::Iq;
use tokio_xmpp::xmlstream::XmppStreamElement;

impl Session {
    /// Sends a stanza, tracking it for stream management.
    pub(crate) async fn send_stanza(
        &mut self,
        stanza: Stanza,
        local_id: Option<LocalId>,
    ) -> Result<(), XmppError> {
        let to_domain = match &stanza {
            Stanza::Message(m) => m.to.as_ref().map(|t| t.domain().to_string()),
            _ => None,
        };
        if let Some(sm) = &mut self.sm {
            let el: Element =
                xso::transform(&stanza).map_err(|e| XmppError::Protocol(e.to_string()))?;
            sm.record_sent(String::from(&el), local_id.clone(), to_domain.clone());
        }
        self.stream.feed(&XmppStreamElement::Stanza(stanza)).await?;
        self.needs_flush = true;
        if self.sm.is_none() {
            // Without stream management the write is all the server confirms.
            self.flush().await?;
            if let Some(id) = local_id {
                self.acknowledged(id, to_domain).await?;
            }
        }
        Ok(())
    }

    pub(crate) async fn resend(
        &mut self,
        xml: &str,
        local_id: Option<LocalId>,
    ) -> Result<(), XmppError> {
        let Some(el) = ns::element(xml) else {
            return Ok(());
        };
        match xso::transform::<Stanza, Element>(&el) {
            Ok(stanza) => self.send_stanza(stanza, local_id).await,
            Err(e) => {
                tracing::warn!(error = %e, "dropping an unreadable queued stanza");
                Ok(())
            }
        }
    }

    /// Whether a durable command is sent and waits for the server's ack.
    pub(crate) fn is_unacked(&self, local_id: &LocalId) -> bool {
        self.sm.as_ref().is_some_and(|s| {
            s.unacked
                .iter()
                .any(|u| u.local_id.as_ref() == Some(local_id))
        })
    }

    /// A durable command reached the server.
    pub(crate) async fn acknowledged(
        &mut self,
        local_id: LocalId,
        to_domain: Option<String>,
    ) -> Result<(), XmppError> {
        let domain = to_domain.unwrap_or_else(|| self.cfg.domain());
        let e2e = self
            .omemo
            .as_ref()
            .and_then(|o| o.sent.get(local_id.as_str()))
            .cloned();
        if self
            .acked
            .insert(local_id.as_str().to_owned(), domain.clone())
            .is_none()
            && let Some(f) = &mut self.acked_log
        {
            // Whether it went sealed survives a restart: a replay is then
            // acknowledged on the route it took.
            match e2e.as_ref().and_then(|e| serde_json::to_string(e).ok()) {
                Some(json) => {
                    let _ = writeln!(f, "{}\t{domain}\t{json}", local_id.as_str());
                }
                None => {
                    let _ = writeln!(f, "{}\t{domain}", local_id.as_str());
                }
            }
        }
        if let Some(e2e) = e2e {
            self.sealed.insert(local_id.as_str().to_owned(), e2e);
        }
        if let Some(held) = self.probing.get_mut(&domain) {
            // The route waits for what the domain says it is.
            held.push(local_id);
            return Ok(());
        }
        self.report_ack(local_id, &domain).await
    }

    /// Reports `SendAcked` for a command sent to `domain`.
    pub(crate) async fn report_ack(
        &mut self,
        local_id: LocalId,
        domain: &str,
    ) -> Result<(), XmppError> {
        let mut route = self.routes.to_domain(domain);
        if let Some(hops) = self.uploads.media.remove(local_id.as_str()) {
            route.hops.extend(hops);
        }
        let sent = self
            .omemo
            .as_mut()
            .and_then(|o| o.sent.remove(local_id.as_str()));
        if let Some(e2e) = sent.or_else(|| self.sealed.get(local_id.as_str()).cloned()) {
            crate::omemo::protect(&mut route, e2e);
        }
        self.events
            .emit(Event::SendAcked {
                remote_id: RemoteId::new(local_id.as_str()),
                local_id,
                route,
            })
            .await?;
        Ok(())
    }

    pub(crate) async fn iq_get(
        &mut self,
        to: Option<XJid>,
        payload: Element,
        pending: PendingIq,
    ) -> Result<String, XmppError> {
        self.send_iq(pending, |id| Iq::Get {
            from: None,
            to,
            id,
            payload,
        })
        .await
    }

    pub(crate) async fn iq_set(
        &mut self,
        to: Option<XJid>,
        payload: Element,
        pending: PendingIq,
    ) -> Result<String, XmppError> {
        self.send_iq(pending, |id| Iq::Set {
            from: None,
            to,
            id,
            payload,
        })
        .await
    }

    /// Sends the iq `make` builds with a fresh id, remembering what it asks.
    async fn send_iq(
        &mut self,
        pending: PendingIq,
        make: impl FnOnce(String) -> Iq,
    ) -> Result<String, XmppError> {
        let id = new_id();
        self.iqs.insert(id.clone(), pending);
        self.send_stanza(Stanza::Iq(make(id.clone())), None).await?;
        Ok(id)
    }
}
