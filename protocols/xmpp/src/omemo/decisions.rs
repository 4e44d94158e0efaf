//! The user's trust decisions on the session's side: identity changes told
//! and asked about, `SetVerified`, the answers to prompts.

use crate::error::XmppError;
use crate::session::Session;
use koine_api::{
    Address, ConversationKey, Event, Jid, Notice, Prompt, PromptAnswer, PromptId, PromptKind,
};

const PROMPT_PREFIX: &str = "omemo-identity:";
const COMPARE_PREFIX: &str = "omemo-compare:";
/// Prompts that ask whether to send one message in plaintext.
pub(super) const PLAINTEXT_PREFIX: &str = "omemo-plaintext:";

impl Session {
    pub(crate) fn omemo_save_trust(&self) {
        if let Some(o) = &self.omemo
            && let Err(e) =
                crate::store::save(&self.data_dir, super::trust::TrustStore::FILE, &o.trust)
        {
            tracing::warn!(error = %e, "could not save OMEMO trust");
        }
    }

    pub(crate) async fn omemo_refresh_conversation(&mut self, jid: &str) -> Result<(), XmppError> {
        if self.conversations.contains(jid) {
            self.upsert_conversation(&ConversationKey::new(jid)).await?;
        }
        Ok(())
    }

    pub(crate) async fn omemo_identity_changed(
        &mut self,
        jid: &str,
        device: u32,
    ) -> Result<(), XmppError> {
        let Ok(who) = Jid::parse(jid) else {
            return Ok(());
        };
        let fingerprint = self
            .omemo
            .as_ref()
            .and_then(|o| o.trust.fingerprints(jid, &[device]))
            .unwrap_or_default();
        let with = Address::Jid(who);
        self.events
            .emit(Event::Notice(Notice::IdentityKeyChanged {
                contact: with.clone(),
            }))
            .await?;
        self.events
            .emit(Event::PromptRaised(Prompt {
                id: PromptId::new(format!("{PROMPT_PREFIX}{device}:{jid}")),
                kind: PromptKind::IdentityChanged {
                    with,
                    new_fingerprint: fingerprint,
                },
            }))
            .await?;
        self.omemo_refresh_conversation(jid).await
    }

    /// `SetVerified`: every known device of the contact.
    pub(crate) async fn omemo_set_verified(
        &mut self,
        with: &Address,
        verified: bool,
    ) -> Result<(), XmppError> {
        let jid = with.to_string();
        let Some(o) = &mut self.omemo else {
            return Ok(());
        };
        let t = if verified {
            super::trust::DeviceTrust::Verified
        } else {
            super::trust::DeviceTrust::Unverified
        };
        o.trust.set_all(&jid, t);
        self.omemo_save_trust();
        self.omemo_refresh_conversation(&jid).await
    }

    /// Opening a conversation whose OMEMO fingerprints the user has not
    /// verified yet asks them to compare (as the gatekeeper plugin does with
    /// safety numbers).
    pub(crate) async fn omemo_offer_comparison(&mut self, jid: &str) -> Result<(), XmppError> {
        let (Some(o), Ok(who)) = (&self.omemo, Jid::parse(jid)) else {
            return Ok(());
        };
        let route = self.peer_route(who.domain());
        let Some(e2e) = o.e2e(jid, &route) else {
            return Ok(());
        };
        let Some(number) = e2e
            .fingerprint
            .filter(|_| e2e.verification != koine_api::Verification::Verified)
        else {
            return Ok(());
        };
        self.events
            .emit(Event::PromptRaised(Prompt {
                id: PromptId::new(format!("{COMPARE_PREFIX}{jid}")),
                kind: PromptKind::CompareSafetyNumber {
                    with: Address::Jid(who),
                    number,
                },
            }))
            .await?;
        Ok(())
    }

    /// An answer to an identity-change or comparison prompt; `false` when
    /// not ours.
    pub(crate) async fn omemo_answer(
        &mut self,
        prompt: &PromptId,
        answer: PromptAnswer,
    ) -> Result<bool, XmppError> {
        if prompt.as_str().starts_with(PLAINTEXT_PREFIX) {
            let asked = self
                .omemo
                .as_mut()
                .and_then(|o| o.plaintext_asked.remove(prompt.as_str()));
            if let (Some((local_id, message)), PromptAnswer::Confirm) = (asked, answer) {
                // The user's explicit choice, for this message only; its
                // acknowledgement carries a route without end-to-end layer.
                self.send_stanza(tokio_xmpp::Stanza::Message(message), Some(local_id))
                    .await?;
            }
            return Ok(true);
        }
        if let Some(jid) = prompt.as_str().strip_prefix(COMPARE_PREFIX) {
            if answer == PromptAnswer::Confirm
                && let Ok(who) = Jid::parse(jid)
            {
                self.omemo_set_verified(&Address::Jid(who), true).await?;
            }
            return Ok(true);
        }
        let Some(rest) = prompt.as_str().strip_prefix(PROMPT_PREFIX) else {
            return Ok(false);
        };
        let Some((device, jid)) = rest.split_once(':') else {
            return Ok(true);
        };
        let (Ok(device), Some(o)) = (device.parse::<u32>(), &mut self.omemo) else {
            return Ok(true);
        };
        if answer == PromptAnswer::Confirm {
            o.trust
                .set(jid, device, super::trust::DeviceTrust::Unverified);
            self.omemo_save_trust();
            self.omemo_refresh_conversation(jid).await?;
        }
        Ok(true)
    }
}
