//! A bare XMPP client for tests: it logs in with the plugin's own connection
//! code (SCRAM over verified TLS) and then speaks raw stanzas, so a test can
//! play a peer that publishes what no Koine command sends (a vCard, say).

use futures::{SinkExt, StreamExt};
use koine_api::{Secret, Settings};
use koine_xmpp::config::Config;
use tokio_xmpp::Stanza;
use tokio_xmpp::minidom::Element;
use tokio_xmpp::parsers::iq::Iq;
use tokio_xmpp::xmlstream::{FallibleStreamElement, Timeouts, XmppStreamElement};

/// A logged-in raw stream with a bound resource.
pub struct RawPeer {
    stream: koine_xmpp::connect::Stream,
    next_id: u32,
}

impl RawPeer {
    /// Logs in as the account of `settings` and binds a resource.
    pub async fn login(settings: &Settings, secret: &Secret) -> Self {
        let cfg = Config::from_settings(settings).expect("settings");
        let (tls, verifier) =
            koine_xmpp::tls::client_config(cfg.extra_ca_file.as_deref(), Vec::new()).expect("tls");
        let authed = koine_xmpp::connect::authenticate(
            &cfg,
            secret.expose(),
            tls,
            &verifier,
            Timeouts::default(),
        )
        .await
        .expect("raw login");
        let mut peer = Self {
            stream: authed.stream,
            next_id: 0,
        };
        let bind = "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>raw</resource></bind>";
        peer.iq("set", None, bind).await;
        peer
    }

    /// Sends one stanza written as XML (`jabber:client` namespace), as a
    /// peer may write anything the schema allows.
    pub async fn send_xml(&mut self, xml: &str) {
        let el: Element = xml.parse().expect("stanza xml");
        self.send_element(&el).await;
    }

    /// Sends one stanza.
    pub async fn send_element(&mut self, el: &Element) {
        let stanza: Stanza = xso::transform(el).expect("a stanza");
        self.stream
            .send(&XmppStreamElement::Stanza(stanza))
            .await
            .expect("send stanza");
    }

    /// Sends an iq of `kind` (`get`/`set`) with the payload `xml` and returns
    /// the answer's payload; panics on an error answer.
    pub async fn iq(&mut self, kind: &str, to: Option<&str>, xml: &str) -> Option<Element> {
        self.next_id += 1;
        let id = format!("raw-{}", self.next_id);
        let payload: Element = xml.parse().expect("payload xml");
        let to = to.map(|t| t.parse().expect("to"));
        let iq = match kind {
            "get" => Iq::Get {
                from: None,
                to,
                id: id.clone(),
                payload,
            },
            _ => Iq::Set {
                from: None,
                to,
                id: id.clone(),
                payload,
            },
        };
        self.stream
            .send(&XmppStreamElement::Stanza(Stanza::Iq(iq)))
            .await
            .expect("send iq");
        loop {
            let next = tokio::time::timeout(std::time::Duration::from_secs(30), self.stream.next())
                .await
                .expect("answer within 30 s");
            let answer = match next {
                Some(Ok(FallibleStreamElement::Ok(XmppStreamElement::Stanza(Stanza::Iq(iq))))) => {
                    iq
                }
                Some(_) => continue,
                None => panic!("the server closed the raw stream"),
            };
            if answer.id() != id {
                continue;
            }
            match answer {
                Iq::Result { payload, .. } => return payload,
                other => panic!("iq {xml} refused: {other:?}"),
            }
        }
    }
}
