//! Opening received OMEMO messages, and committing the sessions they
//! advanced once the engine stored them (store before commit).

use super::{Opened, aesgcm, wire};
use crate::error::XmppError;
use crate::handoff::Action;
use crate::session::Session;
use std::collections::BTreeMap;
use tokio_xmpp::parsers::message::{Lang, Message};

impl Session {
    /// Replaces an `<encrypted/>` message's body with its plaintext. `None`:
    /// nothing to report (a key transport message, a duplicate, or one that
    /// did not open: the user is told).
    pub(crate) async fn omemo_open(
        &mut self,
        mut m: Message,
        sender: &str,
    ) -> Result<Option<(Message, bool)>, XmppError> {
        let Some(parsed) = wire::read_encrypted(&m.payloads) else {
            return Ok(Some((m, false)));
        };
        let Some(o) = &mut self.omemo else {
            return Ok(Some((m, false)));
        };
        let e = match parsed {
            Ok(e) => e,
            Err(detail) => {
                self.notice_peer(format!("OMEMO message: {detail}")).await?;
                return Ok(Some((m, false)));
            }
        };
        if sender == o.own && e.sid == o.id {
            // Our own message from this device (archive, carbon).
            return Ok(None);
        }
        let (opened, _) = match o.decrypt(sender, &e).await {
            Ok(Some(x)) => x,
            // Not encrypted for this device: the fallback body says a
            // message came.
            Ok(None) => return Ok(Some((m, false))),
            Err(super::OmemoError::E2ee(koine_e2ee::E2eeError::Duplicate)) => return Ok(None),
            Err(err) => {
                self.notice_peer(format!("OMEMO message from {sender}: {err}"))
                    .await?;
                return Ok(None);
            }
        };
        if o.identity_seen(sender, e.sid) {
            self.omemo_identity_changed(sender, e.sid).await?;
        }
        self.omemo_save_trust();
        match opened {
            Opened::KeyTransport => {
                self.omemo_commit_when_stored().await?;
                Ok(None)
            }
            Opened::Body(text) => {
                m.payloads.retain(|p| !p.is("encrypted", wire::NS));
                // Links to uploaded files travel in the encrypted body only
                // (one a line); they become attachments as OOB links do.
                m.payloads
                    .extend(super::file_links(&text).map(crate::oob::element));
                m.bodies = BTreeMap::from([(Lang::new(), text)]);
                Ok(Some((m, true)))
            }
        }
    }

    /// The session advanced by the last decryption is stored once the
    /// events reported so far are.
    pub(crate) async fn omemo_commit_when_stored(&mut self) -> Result<(), XmppError> {
        if !self.omemo.as_ref().is_some_and(|o| o.uncommitted) {
            return Ok(());
        }
        match self.events.after_stored(Action::OmemoCommit) {
            Some(a) => self.apply(a).await,
            None => Ok(()),
        }
    }

    /// Stores the sessions; republishes the bundle when prekeys were used.
    pub(crate) async fn omemo_commit(&mut self) -> Result<(), XmppError> {
        let Some(o) = &mut self.omemo else {
            return Ok(());
        };
        o.device
            .commit()
            .map_err(|e| XmppError::Storage(e.to_string()))?;
        o.uncommitted = false;
        if std::mem::take(&mut o.prekey_used) {
            o.replenish()
                .map_err(|e| XmppError::Storage(e.to_string()))?;
            self.omemo_publish(true, true).await?;
        }
        Ok(())
    }
}

/// The lines of a decrypted body that are links to an uploaded file: an
/// `aesgcm://` link, or a bare `https://` URL whose last path segment has a
/// file extension.
pub fn file_links(body: &str) -> impl Iterator<Item = &str> {
    body.lines().map(str::trim).filter(|l| {
        if aesgcm::parse(l).is_some() {
            return true;
        }
        crate::http::HttpsUrl::parse(l).is_ok_and(|u| {
            let path = u.target.split(['?', '#']).next().unwrap_or_default();
            path.rsplit('/').next().is_some_and(|name| {
                name.rsplit_once('.')
                    .is_some_and(|(s, e)| !s.is_empty() && !e.is_empty())
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_links_are_bare_urls_to_named_files() {
        let sealed = format!("aesgcm://up.example/s/f.bin#{}", "ab".repeat(44));
        let body = format!(
            "look\nhttps://up.example/a/b/photo.jpg\nhttps://example.org/page\nsee https://x.example/f.txt\n{sealed}"
        );
        assert_eq!(
            file_links(&body).collect::<Vec<_>>(),
            ["https://up.example/a/b/photo.jpg", sealed.as_str()]
        );
    }
}
