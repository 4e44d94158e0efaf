//! Route choice: which of a person's addresses a message goes to.
//!
//! Policy: end-to-end encrypted and verified first, then end-to-end
//! unverified, then transport-only, then exposed (SMS); within a level a
//! direct route before a bridged one, a known route before an estimate. A
//! reply goes back by the route the message came from unless the user picks
//! another. Any route below the best one (a downgrade, e.g. to SMS or a
//! bridge) needs the user's consent, once or always for that person.

use super::{Engine, EngineError};
use crate::model::{ConversationId, MessageId};
use crate::people::PersonId;
use koine_api::{
    AccountId, Address, Content, ConversationKey, HopKind, LocalId, Protection, ProtocolId, Route,
};
use serde::Serialize;

/// Which route the user asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RouteSelection {
    /// The best route by policy.
    #[default]
    Best,
    /// Back by the route the given message came by (the window's default
    /// in a chat with a person); the new message does not quote it.
    CameBy(MessageId),
    /// A reply to the given message: by the route it came by, quoting it.
    ReplyTo(MessageId),
    /// The route through this account.
    Via(AccountId),
}

/// The user's answer to the downgrade question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DowngradeConsent {
    /// Not given: a downgrade is refused with
    /// [`EngineError::DowngradeNeedsConsent`].
    #[default]
    NotGiven,
    /// Allowed for this message only.
    Once,
    /// Allowed for this person from now on.
    Always,
}

/// One way to reach a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteOption {
    /// The account that would send.
    pub account: AccountId,
    /// Its network.
    pub protocol: ProtocolId,
    /// The person's address there.
    pub address: Address,
    /// The conversation key the message goes to.
    pub key: ConversationKey,
    /// The existing conversation, if any.
    pub conversation: Option<ConversationId>,
    /// The route last reported there, if known.
    pub route: Option<Route>,
    /// Its protection (estimated from the network when no route is known).
    pub protection: Protection,
    /// Whether `protection` is an estimate.
    pub estimated: bool,
    /// Whether a bridge or gateway carries it to another network.
    pub bridged: bool,
    /// Whether the user allowed this route for this person without asking.
    pub allowed: bool,
}

/// The result of route choice, for the composer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteChoice {
    /// The route a message would take.
    pub chosen: RouteOption,
    /// The other routes, best first.
    pub alternatives: Vec<RouteOption>,
    /// Whether `chosen` is a downgrade the user must confirm first.
    pub needs_consent_for_downgrade: bool,
}

/// A message sent to a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonSend {
    /// The route it went by.
    pub route: RouteOption,
    /// Its local id.
    pub local_id: LocalId,
    /// Its stored id.
    pub message: MessageId,
}

fn rank(o: &RouteOption) -> (Protection, bool, bool) {
    (o.protection, !o.bridged, !o.estimated)
}

/// Whether `chosen` is worse than `best`.
fn is_downgrade(chosen: &RouteOption, best: &RouteOption) -> bool {
    chosen.protection < best.protection || (chosen.bridged && !best.bridged)
}

impl Engine {
    /// Every route to a person, best first.
    pub fn routes_to(&self, person: PersonId) -> Result<Vec<RouteOption>, EngineError> {
        let store = self.store();
        let p = store.person(person)?;
        let accounts = store.accounts()?;
        let conversations = store.person_conversations(&p)?;
        let allowed = store.downgrade_allowances(person)?;
        let mut out = Vec::new();
        for a in &p.addresses {
            let Some(account) = a
                .account
                .as_ref()
                .and_then(|id| accounts.iter().find(|r| &r.id == id && r.enabled))
            else {
                continue;
            };
            if matches!(a.address, Address::Room(_)) {
                continue;
            }
            let Some(plugin) = self.inner.registry.get(&account.protocol) else {
                continue;
            };
            let conversation = conversations.iter().find(|c| {
                c.account == account.id
                    && (c.peer.as_ref() == Some(&a.address)
                        || c.key.as_str() == a.address.to_string())
            });
            let route = match conversation {
                Some(c) => match store.last_route(c.id)? {
                    Some(r) => Some(r),
                    None => c.route.clone(),
                },
                None => None,
            };
            let (protection, estimated) = match &route {
                Some(r) => (r.protection(), false),
                None if !plugin.info().capabilities.e2e.is_empty() => {
                    (Protection::EndToEndUnverified, true)
                }
                // A phone number on a network without end-to-end encryption
                // goes through a carrier.
                None if matches!(a.address, Address::Phone(_)) => (Protection::Exposed, true),
                None => (Protection::TransportOnly, true),
            };
            let bridged = route.as_ref().is_some_and(|r| {
                r.hops
                    .iter()
                    .any(|h| matches!(h.kind, HopKind::Bridge { .. } | HopKind::Gateway { .. }))
            });
            out.push(RouteOption {
                account: account.id.clone(),
                protocol: account.protocol.clone(),
                address: a.address.clone(),
                key: conversation.map_or_else(
                    || ConversationKey::new(a.address.to_string()),
                    |c| c.key.clone(),
                ),
                conversation: conversation.map(|c| c.id),
                route,
                protection,
                estimated,
                bridged,
                allowed: allowed.contains(&account.id),
            });
        }
        // Stable sort: equal routes keep the order of the person's addresses.
        out.sort_by_key(|o| std::cmp::Reverse(rank(o)));
        Ok(out)
    }

    /// Chooses the route for a message to a person, with the alternatives
    /// and whether the choice is a downgrade that needs consent.
    pub fn choose_route(
        &self,
        person: PersonId,
        selection: &RouteSelection,
    ) -> Result<RouteChoice, EngineError> {
        let mut options = self.routes_to(person)?;
        let Some(best) = options.first().cloned() else {
            return Err(EngineError::NoRoute(person));
        };
        let index = match selection {
            RouteSelection::Best => 0,
            RouteSelection::Via(account) => options
                .iter()
                .position(|o| &o.account == account)
                .ok_or_else(|| EngineError::NotARouteOf(person))?,
            RouteSelection::CameBy(message) | RouteSelection::ReplyTo(message) => {
                let store = self.store();
                let m = store.message(*message)?;
                let c = store.conversation(m.conversation)?;
                drop(store);
                options
                    .iter()
                    .position(|o| o.conversation == Some(c.id))
                    .or_else(|| options.iter().position(|o| o.account == c.account))
                    .ok_or_else(|| EngineError::NotARouteOf(person))?
            }
        };
        let chosen = options.remove(index);
        let needs_consent_for_downgrade = is_downgrade(&chosen, &best) && !chosen.allowed;
        Ok(RouteChoice {
            chosen,
            alternatives: options,
            needs_consent_for_downgrade,
        })
    }

    /// Lets a route be used for a person without asking again.
    pub fn allow_downgrade(
        &self,
        person: PersonId,
        account: &AccountId,
    ) -> Result<(), EngineError> {
        self.store().person(person)?;
        Ok(self.store().allow_downgrade(person, account)?)
    }

    /// Withdraws that permission: the route asks again.
    pub fn forbid_downgrade(
        &self,
        person: PersonId,
        account: &AccountId,
    ) -> Result<(), EngineError> {
        Ok(self.store().forbid_downgrade(person, account)?)
    }

    /// Sends a message to a person by the selected route. A downgrade
    /// without consent is refused with
    /// [`EngineError::DowngradeNeedsConsent`] and nothing is queued.
    pub async fn send_to_person(
        &self,
        person: PersonId,
        selection: &RouteSelection,
        content: Content,
        consent: DowngradeConsent,
    ) -> Result<PersonSend, EngineError> {
        let choice = self.choose_route(person, selection)?;
        if choice.needs_consent_for_downgrade {
            match consent {
                DowngradeConsent::NotGiven => {
                    return Err(EngineError::DowngradeNeedsConsent {
                        person,
                        account: choice.chosen.account,
                        protection: choice.chosen.protection,
                    });
                }
                DowngradeConsent::Once => {}
                DowngradeConsent::Always => self.allow_downgrade(person, &choice.chosen.account)?,
            }
        }
        // Choosing a route is not replying: only an explicit reply quotes.
        let reply_to = match selection {
            RouteSelection::ReplyTo(m) => self.store().message(*m)?.remote_id,
            _ => None,
        };
        let (local_id, message) = self
            .send(
                &choice.chosen.account,
                &choice.chosen.key,
                content,
                reply_to,
            )
            .await?;
        Ok(PersonSend {
            route: choice.chosen,
            local_id,
            message,
        })
    }
}
