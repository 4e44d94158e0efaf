//! The session's side of OMEMO: publishing our device and bundle at login,
//! fetching contacts' device lists and bundles, encrypting sent messages.
//!
//! A message to a contact whose device list (or a device's bundle) is not
//! known yet waits in a queue while the queries run; it is sent once every
//! answer (or error) is in. A contact with no OMEMO device gets plaintext.

use super::{Omemo, Pending, Queued, wire};
use crate::error::XmppError;
use crate::session::{PendingIq, Session};
use koine_api::{ConversationKey, Event, LocalId, Notice, SendError};
use koine_e2ee::PeerId;
use std::collections::BTreeMap;
use tokio_xmpp::Stanza;
use tokio_xmpp::jid::{BareJid, Jid as XJid};
use tokio_xmpp::minidom::Element;
use tokio_xmpp::parsers::message::{Lang, Message};

impl Session {
    /// Opens the device and publishes it (login).
    pub(crate) async fn omemo_start(
        &mut self,
        secrets: std::sync::Arc<dyn koine_api::SecretStore>,
    ) -> Result<(), XmppError> {
        let dir = self.data_dir.clone();
        let own = self.own.clone();
        let opened =
            tokio::task::spawn_blocking(move || Omemo::open(&dir, own, secrets.as_ref())).await;
        match opened {
            Ok(Ok(o)) => self.omemo = Some(o),
            Ok(Err(e)) if self.cfg.omemo => {
                // Never fall back to plaintext silently: the account stops
                // (the user can turn OMEMO off to connect without it).
                return Err(XmppError::Storage(format!("OMEMO keys: {e}")));
            }
            Ok(Err(e)) => {
                // OMEMO is off: received OMEMO messages cannot be opened.
                self.events
                    .emit(Event::Notice(Notice::Unsupported {
                        feature: format!("omemo: {e}"),
                    }))
                    .await?;
                return Ok(());
            }
            Err(e) => return Err(XmppError::Storage(e.to_string())),
        }
        self.iq_get(
            None,
            wire::fetch(wire::DEVICELIST_NODE),
            PendingIq::Omemo(Pending::OwnList),
        )
        .await?;
        self.omemo_publish(true, true).await?;
        let sub = wire::subscribe(wire::DEVICELIST_NODE, self.jid.as_str());
        self.iq_set(None, sub, PendingIq::Ignore).await?;
        Ok(())
    }

    /// Publishes our bundle (`bundle`) or our device list.
    pub(crate) async fn omemo_publish(
        &mut self,
        bundle: bool,
        options: bool,
    ) -> Result<(), XmppError> {
        let Some(o) = &mut self.omemo else {
            return Ok(());
        };
        let (node, item) = if bundle {
            // A week-old signed prekey is replaced before it is published.
            o.device
                .refresh_signed_pre_key(koine_api::Timestamp::now())
                .map_err(|e| XmppError::Storage(e.to_string()))?;
            let b = o.bundle().map_err(|e| XmppError::Storage(e.to_string()))?;
            (wire::bundle_node(o.id), b)
        } else {
            let mut list = o.lists.get(&o.own).cloned().unwrap_or_default();
            if !list.contains(&o.id) {
                list.push(o.id);
            }
            (wire::DEVICELIST_NODE.to_owned(), wire::device_list(&list))
        };
        let q = wire::publish(&node, item, options);
        self.iq_set(
            None,
            q,
            PendingIq::Omemo(Pending::Published { bundle, options }),
        )
        .await?;
        Ok(())
    }

    /// An answer (`Ok`) or error (`Err`) to one of our OMEMO queries.
    pub(crate) async fn on_omemo_iq(
        &mut self,
        pending: Pending,
        answer: Result<Option<Element>, ()>,
    ) -> Result<(), XmppError> {
        let Some(o) = &mut self.omemo else {
            return Ok(());
        };
        match pending {
            Pending::OwnList => {
                let list = answer
                    .ok()
                    .flatten()
                    .as_ref()
                    .and_then(wire::fetched)
                    .and_then(wire::read_device_list)
                    .unwrap_or_default();
                let missing = !list.contains(&o.id);
                o.lists.insert(o.own.clone(), list);
                if missing {
                    self.omemo_publish(false, true).await?;
                }
            }
            Pending::List(jid) => {
                o.fetching_lists.remove(&jid);
                let list = answer
                    .ok()
                    .flatten()
                    .as_ref()
                    .and_then(wire::fetched)
                    .and_then(wire::read_device_list)
                    .unwrap_or_default();
                o.lists.insert(jid.clone(), list);
                self.omemo_refresh_conversation(&jid).await?;
            }
            Pending::Bundle(jid, device) => {
                o.fetching_bundles.remove(&(jid.clone(), device));
                let bundle = answer
                    .ok()
                    .flatten()
                    .as_ref()
                    .and_then(|p| wire::fetched(p).and_then(wire::read_bundle));
                match bundle {
                    Some(Ok(b)) => {
                        let peer = PeerId::new(jid.clone(), device);
                        match o.device.start_session(&peer, &b.for_session(device)).await {
                            Ok(_) => {
                                if o.identity_seen(&jid, device) {
                                    self.omemo_identity_changed(&jid, device).await?;
                                }
                                self.omemo_save_trust();
                                self.omemo_refresh_conversation(&jid).await?;
                            }
                            Err(e) => {
                                o.broken.insert((jid.clone(), device));
                                let detail = format!("OMEMO bundle of {jid} device {device}: {e}");
                                self.notice_peer(detail).await?;
                            }
                        }
                    }
                    Some(Err(e)) => {
                        o.broken.insert((jid.clone(), device));
                        self.notice_peer(format!("OMEMO bundle of {jid}: {e}"))
                            .await?;
                    }
                    None => {
                        o.broken.insert((jid, device));
                    }
                }
            }
            Pending::Published { bundle, options } => {
                if answer.is_err() && options {
                    // A server that refuses the publish options (or their
                    // precondition) still takes the item with its defaults.
                    self.omemo_publish(bundle, false).await?;
                }
            }
        }
        self.omemo_flush().await
    }

    /// A device list announced by PEP. `true` when the message was one.
    pub(crate) async fn omemo_event(&mut self, m: &Message) -> Result<bool, XmppError> {
        let Some(list) = wire::event_device_list(&m.payloads) else {
            return Ok(false);
        };
        let Some(o) = &mut self.omemo else {
            return Ok(true);
        };
        let from = m
            .from
            .as_ref()
            .map(|f| f.to_bare().to_string())
            .unwrap_or_else(|| o.own.clone());
        let ours_missing = from == o.own && !list.contains(&o.id);
        o.lists.insert(from.clone(), list);
        if ours_missing {
            self.omemo_publish(false, true).await?;
        } else if from != self.own {
            self.omemo_refresh_conversation(&from).await?;
        }
        Ok(true)
    }

    /// Sends `message` encrypted when the contact has OMEMO devices (after
    /// fetching what is missing), in plaintext when they have none and never
    /// used OMEMO; to one who did, it fails with the reason instead.
    pub(crate) async fn omemo_send(
        &mut self,
        local_id: LocalId,
        to: BareJid,
        message: Message,
    ) -> Result<(), XmppError> {
        let Some(o) = &mut self.omemo else {
            return self
                .send_stanza(Stanza::Message(message), Some(local_id))
                .await;
        };
        if o.queue.iter().any(|q| q.local_id == local_id) {
            return Ok(()); // already waiting
        }
        o.queue.push(Queued {
            since: std::time::Instant::now(),
            local_id,
            to,
            message,
        });
        self.omemo_flush().await
    }

    /// Waits until the oldest queued message stops waiting (forever when
    /// none waits).
    pub(crate) async fn omemo_deadline(omemo: Option<&Omemo>) {
        match omemo.and_then(Omemo::deadline) {
            Some(t) => tokio::time::sleep_until(t.into()).await,
            None => std::future::pending().await,
        }
    }

    /// Queries unanswered for too long: go on without them.
    pub(crate) async fn omemo_expire(&mut self) -> Result<(), XmppError> {
        if let Some(o) = &mut self.omemo {
            o.expire(std::time::Instant::now());
        }
        self.omemo_flush().await
    }

    /// Starts what queued messages need; sends those that have it all.
    pub(crate) async fn omemo_flush(&mut self) -> Result<(), XmppError> {
        let Some(o) = &mut self.omemo else {
            return Ok(());
        };
        let mut lists = Vec::new();
        let mut bundles = Vec::new();
        let mut ready = Vec::new();
        let queue = std::mem::take(&mut o.queue);
        for q in queue {
            let jid = q.to.to_string();
            let domain = q.to.domain().to_string();
            if self.probing.contains_key(&domain) {
                // Whether it is a gateway (where end-to-end ends) comes first.
                o.queue.push(q);
                continue;
            }
            if self.routes.is_gateway(&domain) {
                ready.push(q);
                continue;
            }
            let mut waiting = false;
            for owner in [jid.as_str(), o.own.as_str()] {
                if !o.lists.contains_key(owner) {
                    waiting = true;
                    if owner != o.own && o.fetching_lists.insert(owner.to_owned()) {
                        lists.push(owner.to_owned());
                    }
                    continue;
                }
                for d in o.missing_bundles(owner) {
                    waiting = true;
                    if o.fetching_bundles.insert((owner.to_owned(), d)) {
                        bundles.push((owner.to_owned(), d));
                    }
                }
            }
            if o.fetching_bundles
                .iter()
                .any(|(j, _)| *j == jid || *j == o.own)
            {
                waiting = true;
            }
            if waiting {
                o.queue.push(q);
            } else {
                ready.push(q);
            }
        }
        for jid in lists {
            let Ok(to) = BareJid::new(&jid) else { continue };
            let to: XJid = to.into();
            self.iq_get(
                Some(to.clone()),
                wire::fetch(wire::DEVICELIST_NODE),
                PendingIq::Omemo(Pending::List(jid)),
            )
            .await?;
            let sub = wire::subscribe(wire::DEVICELIST_NODE, self.jid.as_str());
            self.iq_set(Some(to), sub, PendingIq::Ignore).await?;
        }
        for (jid, d) in bundles {
            let to = if jid == self.own {
                None
            } else {
                BareJid::new(&jid).ok().map(XJid::from)
            };
            self.iq_get(
                to,
                wire::fetch(&wire::bundle_node(d)),
                PendingIq::Omemo(Pending::Bundle(jid, d)),
            )
            .await?;
        }
        for q in ready {
            self.omemo_encrypt_send(q).await?;
        }
        Ok(())
    }

    async fn omemo_encrypt_send(&mut self, q: Queued) -> Result<(), XmppError> {
        let Queued {
            local_id,
            to,
            mut message,
            ..
        } = q;
        let jid = to.to_string();
        let route = self.peer_route(to.domain().as_str());
        let Some(o) = &mut self.omemo else {
            return Ok(());
        };
        let (own, id) = (o.own.clone(), o.id);
        let gateway = self.routes.is_gateway(to.domain().as_str());
        let has_devices = o
            .lists
            .get(&jid)
            .is_some_and(|l| l.iter().any(|d| !(jid == own && *d == id)))
            && !gateway;
        let body = message.bodies.values().next().cloned();
        if body.is_some() && !has_devices && !gateway && o.trust.used_omemo(&jid) {
            // Their list failed, timed out or came back empty: never a
            // silent downgrade. A retry asks for the list again.
            o.lists.remove(&jid);
            let why = format!(
                "{jid} used OMEMO, but no OMEMO device of theirs can be found now \
                 (their device list is missing or did not come): not sent unencrypted"
            );
            // The user decides: this one message in plaintext, or not at all.
            let prompt = format!(
                "{}{}",
                super::decisions::PLAINTEXT_PREFIX,
                local_id.as_str()
            );
            o.plaintext_asked
                .insert(prompt.clone(), (local_id.clone(), message));
            self.fail(
                local_id,
                SendError::CannotEncrypt {
                    reason: why.clone(),
                },
            )
            .await?;
            if let Ok(to) = koine_api::Jid::parse(&jid) {
                self.events
                    .emit(koine_api::Event::PromptRaised(koine_api::Prompt {
                        id: koine_api::PromptId::new(prompt),
                        kind: koine_api::PromptKind::SendUnencrypted {
                            to: koine_api::Address::Jid(to),
                            reason: why,
                        },
                    }))
                    .await?;
            }
            return Ok(());
        }
        let (Some(body), true) = (body, has_devices) else {
            // No OMEMO device (or nothing to encrypt): as it is.
            return self
                .send_stanza(Stanza::Message(message), Some(local_id))
                .await;
        };
        let (peer, own) = o.targets(&jid);
        if peer.is_empty() {
            let changed = o
                .lists
                .get(&jid)
                .is_some_and(|l| l.iter().any(|d| o.trust.is_changed(&jid, *d)));
            let error = match koine_api::Jid::parse(&jid) {
                Ok(with) if changed => SendError::IdentityChanged {
                    with: koine_api::Address::Jid(with),
                },
                _ => SendError::CannotEncrypt {
                    reason: format!("no OMEMO device of {jid} could be reached"),
                },
            };
            return self.fail(local_id, error).await;
        }
        let all: Vec<PeerId> = peer.into_iter().chain(own).collect();
        let encrypted = match o.encrypt(&body, &all).await {
            Ok(e) => e,
            Err(e) => {
                return self
                    .fail(
                        local_id,
                        SendError::CannotEncrypt {
                            reason: format!("OMEMO: {e}"),
                        },
                    )
                    .await;
            }
        };
        if let Some(e2e) = o.e2e(&jid, &route) {
            o.sent.insert(local_id.as_str().to_owned(), e2e);
        }
        message.bodies = BTreeMap::from([(Lang::new(), wire::FALLBACK_BODY.to_owned())]);
        // Links to uploaded files travel inside the encrypted body only.
        message.payloads.retain(|p| !p.is("x", crate::ns::OOB));
        message.payloads.push(wire::encrypted(&encrypted));
        message.payloads.push(wire::store_hint());
        message.payloads.push(wire::eme());
        self.send_stanza(Stanza::Message(message), Some(local_id))
            .await
    }

    /// Puts the OMEMO layer of the conversation with `jid` on `route`, when
    /// the contact has OMEMO devices.
    pub(crate) fn omemo_protect(&self, jid: &str, route: &mut koine_api::Route) {
        if let Some(o) = &self.omemo {
            o.protect(jid, route);
        }
    }

    /// Whether files sent to `conversation` are sealed (`aesgcm://`): a 1:1
    /// chat with OMEMO on, not through a gateway, with a contact not known
    /// to have no OMEMO device.
    pub(crate) fn omemo_files(&self, conversation: &ConversationKey) -> bool {
        let Some(o) = &self.omemo else { return false };
        let Ok(to) = BareJid::new(conversation.as_str()) else {
            return false;
        };
        self.cfg.omemo
            && to.node().is_some()
            && !self.rooms.contains_key(conversation.as_str())
            && !self.routes.is_gateway(to.domain().as_str())
            && o.lists
                .get(conversation.as_str())
                .is_none_or(|l| !l.is_empty())
    }
}
