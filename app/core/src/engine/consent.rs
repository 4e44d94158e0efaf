//! Consent across networks: one Requests inbox (protocol requests and first
//! messages from strangers), one stranger policy per network, and answers
//! that map onto each network's own mechanism, with a local block where the
//! network has none (SMS).

use super::{Engine, EngineError, EngineEvent, lock};
use crate::model::ConversationId;
use crate::people::{AddressSource, StrangerPolicy};
use crate::store::Store;
use koine_api::{
    AccountId, Address, Command, Decision, ProtocolId, RequestId, RequestKind, Timestamp,
};
use serde::Serialize;

/// One entry of the Requests inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboxRequest {
    /// The account it arrived on.
    pub account: AccountId,
    /// That account's network.
    pub protocol: ProtocolId,
    /// Who asks.
    pub from: Address,
    /// Their display name, when known.
    pub display_name: Option<String>,
    /// What is asked (`FirstMessage` for a conversation opened by a stranger).
    pub kind: RequestKind,
    /// The first message or the invite's reason.
    pub preview: Option<String>,
    /// When it arrived.
    pub received: Timestamp,
    /// The conversation kept apart in Requests, if any.
    pub conversation: Option<ConversationId>,
    /// The network's own request, answered through the plugin, if any.
    pub network_request: Option<RequestId>,
}

/// What answering a request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AnswerOutcome {
    /// The network's own mechanism was asked (XMPP blocking, Matrix
    /// ignore/report, the gatekeeper's block/report).
    pub network_answered: bool,
    /// The address is now blocked on this account by Koine itself.
    pub blocked_locally: bool,
    /// A report went to the operator.
    pub reported: bool,
}

impl Engine {
    /// The Requests inbox, newest first: protocol requests (invites,
    /// subscriptions, third-party opt-ins) and conversations opened by
    /// strangers, one entry per sender and conversation.
    pub fn requests(&self) -> Result<Vec<InboxRequest>, EngineError> {
        let store = self.store();
        let accounts = store.accounts()?;
        let protocol_of = |id: &AccountId| {
            accounts
                .iter()
                .find(|a| &a.id == id)
                .map(|a| a.protocol.clone())
        };
        let conversations = store.conversations()?;
        let mut out: Vec<InboxRequest> = Vec::new();
        for (account, request) in store.requests()? {
            let Some(protocol) = protocol_of(&account) else {
                continue;
            };
            // The request's own conversation, or the stranger's first
            // messages kept apart (a subscription request and a message
            // from the same sender are one entry).
            let conversation = match &request.conversation {
                Some(key) => store.conversation_id(&account, key)?,
                None => conversations
                    .iter()
                    .find(|c| {
                        c.is_request
                            && c.account == account
                            && c.peer.as_ref() == Some(&request.from)
                    })
                    .map(|c| c.id),
            };
            out.push(InboxRequest {
                account,
                protocol,
                from: request.from,
                display_name: request.display_name,
                kind: request.kind,
                preview: request.preview,
                received: request.received,
                conversation,
                network_request: Some(request.id),
            });
        }
        for c in conversations {
            if !c.is_request || out.iter().any(|r| r.conversation == Some(c.id)) {
                continue;
            }
            let Some(protocol) = protocol_of(&c.account) else {
                continue;
            };
            let from = c
                .peer
                .clone()
                .unwrap_or_else(|| Address::Room(c.key.to_string()));
            let first = store.messages(c.id, None, 1)?.into_iter().next();
            out.push(InboxRequest {
                account: c.account.clone(),
                protocol,
                display_name: first.as_ref().and_then(|m| m.sender_name.clone()),
                from,
                kind: RequestKind::FirstMessage,
                preview: first
                    .as_ref()
                    .map(|m| m.content.text.chars().take(80).collect()),
                received: first.map_or(c.last_activity, |m| m.timestamp),
                conversation: Some(c.id),
                network_request: None,
            });
        }
        out.sort_by_key(|r| std::cmp::Reverse(r.received));
        Ok(out)
    }

    /// Finds a request by its conversation number, the network's request
    /// id, or the sender's address.
    pub fn find_request(&self, text: &str) -> Result<InboxRequest, EngineError> {
        let text = text.trim();
        let requests = self.requests()?;
        let by_conversation = text.parse::<i64>().ok().and_then(|n| {
            requests
                .iter()
                .find(|r| r.conversation == Some(ConversationId(n)))
        });
        let found = by_conversation
            .or_else(|| {
                requests.iter().find(|r| {
                    r.network_request
                        .as_ref()
                        .is_some_and(|id| id.as_str() == text)
                })
            })
            .or_else(|| {
                let address = Address::parse_any(text).ok();
                requests.iter().find(|r| {
                    r.from.to_string() == text || address.as_ref().is_some_and(|a| a == &r.from)
                })
            });
        found
            .cloned()
            .ok_or_else(|| EngineError::UnknownRequest(text.to_owned()))
    }

    /// Answers a request. A network's request stays listed until the network
    /// confirms ([`EngineEvent::RequestResolved`]), so a failed answer is not
    /// lost. Accept moves the conversation to the inbox and
    /// makes the sender a contact of Koine's; decline forgets it; block and
    /// report also stop anything more from the sender on this account. The
    /// network's own mechanism answers when the network asked (the account
    /// must then be online); Koine blocks locally in every case of block or
    /// report, so networks without blocking (SMS) stop delivering too.
    pub async fn answer_request(
        &self,
        request: &InboxRequest,
        decision: Decision,
    ) -> Result<AnswerOutcome, EngineError> {
        let mut outcome = AnswerOutcome {
            network_answered: false,
            blocked_locally: false,
            reported: false,
        };
        if let Some(id) = &request.network_request {
            let shared = lock(&self.inner.running)
                .get(&request.account)
                .map(|r| r.shared.clone())
                .filter(|s| s.is_online());
            let Some(shared) = shared else {
                return Err(EngineError::Offline(request.account.clone()));
            };
            shared
                .dispatch(Command::AnswerRequest {
                    request: id.clone(),
                    decision,
                })
                .await;
            outcome.network_answered = true;
            outcome.reported = decision == Decision::Report
                && self
                    .inner
                    .registry
                    .get(&request.protocol)
                    .is_some_and(|p| p.info().capabilities.reporting);
        }
        {
            let store = self.store();
            match decision {
                Decision::Accept => {
                    if let Some(c) = request.conversation {
                        store.set_request(c, false)?;
                    }
                    accept_sender(&store, request)?;
                }
                Decision::Decline => {
                    if let Some(c) = request.conversation {
                        store.delete_conversation(c)?;
                    }
                }
                Decision::Block | Decision::Report => {
                    store.block(&request.account, &request.from)?;
                    outcome.blocked_locally = true;
                    if let Some(c) = request.conversation {
                        store.delete_conversation(c)?;
                    }
                }
            }
        }
        if let Some(conversation) = request.conversation {
            if decision == Decision::Accept {
                self.announce_conversations(&request.account, &[conversation])?;
            } else {
                self.emit(EngineEvent::ConversationRemoved {
                    account: request.account.clone(),
                    conversation,
                });
            }
        }
        self.emit(EngineEvent::RequestsChanged);
        if decision == Decision::Accept {
            self.people_changed()?;
        }
        Ok(outcome)
    }

    /// The stranger policy of a network.
    pub fn stranger_policy(&self, protocol: &ProtocolId) -> Result<StrangerPolicy, EngineError> {
        Ok(self.store().stranger_policy(protocol)?)
    }

    /// Sets who may reach the user directly on a network. Applies to
    /// conversations that start from now on.
    pub fn set_stranger_policy(
        &self,
        protocol: &ProtocolId,
        policy: StrangerPolicy,
    ) -> Result<(), EngineError> {
        if self.inner.registry.get(protocol).is_none() {
            return Err(EngineError::UnknownProtocol(protocol.to_string()));
        }
        Ok(self.store().set_stranger_policy(protocol, policy)?)
    }

    /// Blocks an address on an account in Koine: its messages and requests
    /// are dropped before the store and never notified.
    pub fn block_address(&self, account: &AccountId, address: &Address) -> Result<(), EngineError> {
        Ok(self.store().block(account, address)?)
    }

    /// Lifts a local block; returns whether there was one.
    pub fn unblock_address(
        &self,
        account: &AccountId,
        address: &Address,
    ) -> Result<bool, EngineError> {
        Ok(self.store().unblock(account, address)?)
    }

    /// Every local block, as (account, address), newest first.
    pub fn blocked_addresses(&self) -> Result<Vec<(AccountId, String)>, EngineError> {
        Ok(self.store().blocked()?)
    }
}

/// Whether an incoming conversation from `sender` starts in Requests under
/// the network's stranger policy.
pub(super) fn is_stranger(
    store: &Store,
    account: &AccountId,
    sender: &Address,
) -> Result<bool, crate::store::StoreError> {
    let protocol = store.account(account)?.protocol;
    Ok(match store.stranger_policy(&protocol)? {
        StrangerPolicy::Anyone => false,
        StrangerPolicy::Contacts => !store.is_known(account, sender)?,
        StrangerPolicy::SharedRoom => {
            !store.is_known(account, sender)? && !store.shares_room(account, sender)?
        }
    })
}

fn accept_sender(store: &Store, request: &InboxRequest) -> Result<(), crate::store::StoreError> {
    if matches!(request.from, Address::Room(_)) {
        return Ok(());
    }
    match store.person_of(&request.account, &request.from)? {
        Some(person) => store.add_person_address(
            person,
            Some(&request.account),
            &request.from,
            AddressSource::Accepted,
        ),
        None => {
            let name = request
                .display_name
                .clone()
                .unwrap_or_else(|| request.from.to_string());
            let person = store.new_person(&name)?;
            store.add_person_address(
                person,
                Some(&request.account),
                &request.from,
                AddressSource::Accepted,
            )
        }
    }
}
