//! One-to-one messages: building outgoing stanzas and reading incoming ones
//! (body, XEP-0359 ids, 0184 receipts, 0333 markers, 0085 chat states, 0308
//! corrections, 0280 carbons, 0203 delays).
//!
//! Ids: an outgoing message carries the engine's local id both as the stanza
//! `id` and as `<origin-id/>`, so a retry is recognisable everywhere. The
//! remote id reported for any message is its origin-id, else its stanza `id`,
//! else the server's `<stanza-id/>`: the same message gets the same id whether
//! it arrives live, as a carbon or from the archive.

use crate::ns;
use koine_api::{
    Address, Author, ChatState, ConversationKey, DeliveryState, Direction, Event, Jid, LocalId,
    MessageChange, RemoteId, Timestamp,
};
use tokio_xmpp::minidom::Element;
use tokio_xmpp::parsers::chatstates::ChatState as XChatState;
use tokio_xmpp::parsers::message::{Id, Lang, Message, MessageType};
use tokio_xmpp::parsers::{displayed_markers, message_correct, receipts, stanza_id};

/// Converts an xmpp-rs JID into the API's JID.
pub fn api_jid(jid: &tokio_xmpp::jid::Jid) -> Option<Jid> {
    Jid::parse(jid.as_str()).ok()
}

/// Builds a chat message with a body.
pub fn outgoing_text(to: &tokio_xmpp::jid::BareJid, local_id: &LocalId, text: &str) -> Message {
    let mut m = Message::chat(Some(to.clone().into()));
    m.id = Some(Id(local_id.as_str().to_owned()));
    m.bodies.insert(Lang::new(), text.to_owned());
    m.with_payload(stanza_id::OriginId {
        id: local_id.as_str().to_owned(),
    })
    .with_payload(receipts::Request)
    .with_payload(displayed_markers::Markable)
    .with_payload(XChatState::Active)
}

/// Builds a correction (XEP-0308) of `target`.
pub fn outgoing_correction(
    to: &tokio_xmpp::jid::BareJid,
    local_id: &LocalId,
    target: &RemoteId,
    text: &str,
) -> Message {
    outgoing_text(to, local_id, text).with_payload(message_correct::Replace {
        id: Id(target.as_str().to_owned()),
    })
}

/// Builds a standalone chat state notification.
pub fn outgoing_chat_state(to: &tokio_xmpp::jid::BareJid, state: ChatState) -> Message {
    let s = match state {
        ChatState::Composing => XChatState::Composing,
        ChatState::Paused => XChatState::Paused,
        ChatState::Active => XChatState::Active,
        ChatState::Gone => XChatState::Gone,
    };
    let mut m = Message::chat(Some(to.clone().into())).with_payload(s);
    m.payloads.push(ns::no_store());
    m
}

/// Builds a receipt for message `id`.
pub fn outgoing_receipt(to: tokio_xmpp::jid::Jid, id: &str) -> Message {
    let mut m = Message::chat(Some(to)).with_payload(receipts::Received { id: id.to_owned() });
    m.id = Some(Id(uuid::Uuid::new_v4().to_string()));
    m
}

/// Builds a "displayed" marker (XEP-0333) up to `id`.
pub fn outgoing_displayed(to: &tokio_xmpp::jid::BareJid, id: &RemoteId) -> Message {
    let mut m = Message::chat(Some(to.clone().into())).with_payload(displayed_markers::Displayed {
        id: Id(id.as_str().to_owned()),
    });
    m.id = Some(Id(uuid::Uuid::new_v4().to_string()));
    m
}

/// The id the engine sees for a message (see the module docs).
pub fn remote_id_of(m: &Message) -> Option<String> {
    for p in &m.payloads {
        if p.is("origin-id", ns::SID)
            && let Some(id) = p.attr("id").filter(|s| !s.is_empty())
        {
            return Some(id.to_owned());
        }
    }
    if let Some(id) = m.id.as_ref().filter(|i| !i.0.is_empty()) {
        return Some(id.0.clone());
    }
    stanza_id_of(m, None)
}

/// The server-assigned `<stanza-id/>`, optionally only one set `by` a given JID.
pub fn stanza_id_of(m: &Message, by: Option<&str>) -> Option<String> {
    m.payloads
        .iter()
        .filter(|p| p.is("stanza-id", ns::SID))
        .filter(|p| by.is_none_or(|b| p.attr("by") == Some(b)))
        .find_map(|p| p.attr("id").map(str::to_owned))
}

/// The XEP-0203 timestamp of a `<delay/>` child of `el`, if any.
pub fn delay_of(el: &Element) -> Option<Timestamp> {
    let d = el.get_child("delay", ns::DELAY)?;
    let stamp: tokio_xmpp::parsers::date::DateTime = d.attr("stamp")?.parse().ok()?;
    Some(Timestamp(stamp.0.timestamp_millis()))
}

/// When a live message was sent: now, when it arrives, unless `trusted`
/// (our server, or the room) stored it and says when in a `<delay/>`. A
/// sender's own delay is not believed (it would date the message in the
/// future, pinning the conversation to the top, or hide it in the past),
/// and no stored message is dated after its arrival. `None` when nothing
/// can have been stored for us (a sender could write the server's name).
pub fn live_time(m: &Message, trusted: Option<&str>) -> Timestamp {
    let now = Timestamp::now();
    let Some(trusted) = trusted else {
        return now;
    };
    m.payloads
        .iter()
        .filter(|p| p.is("delay", ns::DELAY) && p.attr("from") == Some(trusted))
        .find_map(|d| {
            let stamp: tokio_xmpp::parsers::date::DateTime = d.attr("stamp")?.parse().ok()?;
            Some(Timestamp(stamp.0.timestamp_millis()))
        })
        .map_or(now, |t| t.min(now))
}

/// How an incoming (or carbon-copied) message is to be read.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// The account's bare JID.
    pub own: &'a str,
    /// Route knowledge (for the peer's domain).
    pub routes: &'a crate::route::Routes,
    /// For a message from the server's archive (XEP-0313), the archive's
    /// date of it (its `<forwarded><delay/>`), which is believed; `None` for
    /// a live one, see [`live_time`].
    pub archived_at: Option<Timestamp>,
    /// Whether a live message may come from our server's offline storage
    /// (or a stream resumption), which dates it: until the server answered
    /// our first ping after login. Later, a delay naming the server is the
    /// sender's own.
    pub server_may_date: bool,
}

/// What a message means.
#[derive(Debug, Default)]
pub struct Reading {
    /// Events to report.
    pub events: Vec<Event>,
    /// A receipt (0184) the sender asked for: `(to, id)`.
    pub receipt: Option<(tokio_xmpp::jid::Jid, String)>,
    /// The message's remote id, its server stanza-id and conversation, when it had a body.
    pub stored: Option<(ConversationKey, String, Option<String>)>,
}

/// Interprets a one-to-one message. `direction` says whether it came from
/// the peer or was sent by another of the user's devices (a sent carbon).
pub fn read(m: &Message, direction: Direction, cx: &Context<'_>) -> Result<Reading, String> {
    let mut out = Reading::default();
    if m.type_ == MessageType::Groupchat || m.type_ == MessageType::Error {
        return Ok(out);
    }
    let (peer, sender) = match direction {
        Direction::Incoming => {
            let from = m.from.as_ref().ok_or("message without from")?;
            let j = api_jid(from).ok_or("unparsable from")?;
            (j.bare(), j)
        }
        Direction::Outgoing => {
            let to = m.to.as_ref().ok_or("sent carbon without to")?;
            let j = api_jid(to).ok_or("unparsable to")?;
            let me = Jid::parse(cx.own).map_err(|e| e.to_string())?;
            (j.bare(), me)
        }
    };
    let conversation = ConversationKey::new(peer.as_str());
    let route = cx.routes.to_domain(peer.domain());
    let own_server = cx.own.rsplit_once('@').map_or(cx.own, |(_, domain)| domain);
    let timestamp = cx
        .archived_at
        .unwrap_or_else(|| live_time(m, cx.server_may_date.then_some(own_server)));

    for p in &m.payloads {
        if p.is("received", ns::RECEIPTS) {
            if let Some(id) = p.attr("id") {
                out.events.push(Event::DeliveryUpdated {
                    conversation: conversation.clone(),
                    remote_id: RemoteId::new(id),
                    state: DeliveryState::Delivered,
                });
            }
        } else if p.is("displayed", ns::MARKERS) {
            if let Some(id) = p.attr("id") {
                out.events.push(Event::DeliveryUpdated {
                    conversation: conversation.clone(),
                    remote_id: RemoteId::new(id),
                    state: DeliveryState::Read,
                });
            }
        } else if p.has_ns(ns::CHATSTATES) && direction == Direction::Incoming {
            let state = match p.name() {
                "composing" => Some(ChatState::Composing),
                "paused" => Some(ChatState::Paused),
                "active" | "inactive" => Some(ChatState::Active),
                "gone" => Some(ChatState::Gone),
                _ => None,
            };
            if let Some(state) = state {
                out.events.push(Event::ChatStateChanged {
                    conversation: conversation.clone(),
                    from: Address::Jid(peer.clone()),
                    state,
                });
            }
        }
    }

    // Any language will do (servers and clients often set xml:lang).
    let Some((_, body)) = m
        .get_best_body(vec![])
        .or_else(|| m.bodies.iter().next().map(|(l, b)| (l.clone(), b)))
    else {
        return Ok(out);
    };
    let remote_id = remote_id_of(m).unwrap_or_else(|| format!("koine-{}", uuid::Uuid::new_v4()));
    let replace = m
        .payloads
        .iter()
        .find(|p| p.is("replace", ns::CORRECT))
        .and_then(|p| p.attr("id").map(str::to_owned));
    if let Some(target) = replace {
        out.events.push(Event::MessageChanged {
            conversation: conversation.clone(),
            remote_id: RemoteId::new(target),
            change: MessageChange::Edited { text: body.clone() },
            by: match direction {
                Direction::Outgoing => Author::Me,
                Direction::Incoming => Author::Other(Address::Jid(sender.bare())),
            },
            at: timestamp,
        });
    } else {
        let local_id = match direction {
            Direction::Outgoing => Some(LocalId::new(remote_id.clone())),
            Direction::Incoming => None,
        };
        let (attachments, text) = crate::oob::read(&m.payloads, body);
        let route = crate::oob::with_media_hops(route, &crate::oob::remote_urls(&attachments));
        out.events.push(Event::MessageReceived(koine_api::Message {
            conversation: conversation.clone(),
            remote_id: RemoteId::new(remote_id.clone()),
            local_id,
            sender: Address::Jid(sender.bare()),
            sender_name: None,
            direction,
            timestamp,
            content: koine_api::Content { text, attachments },
            reply_to: None,
            route,
        }));
    }
    if direction == Direction::Incoming
        && m.payloads.iter().any(|p| p.is("request", ns::RECEIPTS))
        && let (Some(from), Some(id)) = (m.from.clone(), m.id.as_ref())
    {
        out.receipt = Some((from, id.0.clone()));
    }
    out.stored = Some((conversation, remote_id, stanza_id_of(m, Some(cx.own))));
    Ok(out)
}

/// Unwraps a carbon (XEP-0280) if `m` is one. Only carbons from the account's
/// own bare JID are accepted: anyone else could forge "sent" messages.
pub fn unwrap_carbon(m: &Message, own: &str) -> Option<Result<(Message, Direction), String>> {
    let (wrapper, direction) = m.payloads.iter().find_map(|p| {
        if p.is("received", ns::CARBONS) {
            Some((p, Direction::Incoming))
        } else if p.is("sent", ns::CARBONS) {
            Some((p, Direction::Outgoing))
        } else {
            None
        }
    })?;
    let from_ok = m.from.as_ref().is_none_or(|f| f.as_str() == own);
    if !from_ok {
        return Some(Err(format!(
            "carbon from {} which is not the account",
            m.from.as_ref().map(|f| f.to_string()).unwrap_or_default()
        )));
    }
    Some(forwarded_message(wrapper).map(|inner| (inner, direction)))
}

/// The message inside a `<forwarded/>` child of `wrapper`.
pub fn forwarded_message(wrapper: &Element) -> Result<Message, String> {
    let fwd = wrapper
        .get_child("forwarded", ns::FORWARD)
        .ok_or("no forwarded element")?;
    let inner = fwd
        .get_child("message", ns::CLIENT)
        .ok_or("no forwarded message")?;
    let mut msg = Message::try_from(inner.clone()).map_err(|e| e.to_string())?;
    if !msg.payloads.iter().any(|p| p.is("delay", ns::DELAY))
        && let Some(d) = fwd.get_child("delay", ns::DELAY)
    {
        msg.payloads.push(d.clone());
    }
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::Routes;
    use koine_api::TlsVersion;
    use std::sync::LazyLock;

    static ROUTES: LazyLock<Routes> =
        LazyLock::new(|| Routes::new("a.example", TlsVersion::Tls13, false));

    fn parse(xml: &str) -> Message {
        let el: Element = xml.parse().expect("xml");
        Message::try_from(el).expect("message")
    }

    fn cx() -> Context<'static> {
        Context {
            own: "me@a.example",
            routes: &ROUTES,
            archived_at: None,
            server_may_date: true,
        }
    }

    #[test]
    fn reads_body_ids_receipt_request_and_chat_state() {
        let m = parse(
            "<message xmlns='jabber:client' from='Bob@a.example/x' to='me@a.example' type='chat' id='m1'>\
             <body>hi</body><origin-id xmlns='urn:xmpp:sid:0' id='o1'/>\
             <stanza-id xmlns='urn:xmpp:sid:0' id='s1' by='me@a.example'/>\
             <request xmlns='urn:xmpp:receipts'/><active xmlns='http://jabber.org/protocol/chatstates'/></message>",
        );
        let r = read(&m, Direction::Incoming, &cx()).expect("reads");
        assert_eq!(r.events.len(), 2);
        let Event::MessageReceived(msg) = &r.events[1] else {
            panic!("{:?}", r.events)
        };
        assert_eq!(msg.remote_id.as_str(), "o1");
        assert_eq!(msg.conversation.as_str(), "bob@a.example");
        assert_eq!(msg.content.text, "hi");
        assert_eq!(r.receipt.map(|(_, id)| id), Some("m1".to_owned()));
        assert_eq!(r.stored.and_then(|s| s.2), Some("s1".to_owned()));
    }

    #[test]
    fn receipts_markers_and_corrections() {
        let m = parse(
            "<message xmlns='jabber:client' from='bob@a.example/x' type='chat'>\
             <received xmlns='urn:xmpp:receipts' id='l1'/></message>",
        );
        let r = read(&m, Direction::Incoming, &cx()).expect("reads");
        assert!(
            matches!(&r.events[0], Event::DeliveryUpdated { state: DeliveryState::Delivered, remote_id, .. } if remote_id.as_str() == "l1")
        );
        let m = parse(
            "<message xmlns='jabber:client' from='bob@a.example/x' type='chat'>\
             <displayed xmlns='urn:xmpp:chat-markers:0' id='l1'/></message>",
        );
        let r = read(&m, Direction::Incoming, &cx()).expect("reads");
        assert!(matches!(
            &r.events[0],
            Event::DeliveryUpdated {
                state: DeliveryState::Read,
                ..
            }
        ));
        let m = parse(
            "<message xmlns='jabber:client' from='bob@a.example/x' type='chat' id='c2'>\
             <body>fixed</body><replace xmlns='urn:xmpp:message-correct:0' id='c1'/></message>",
        );
        let r = read(&m, Direction::Incoming, &cx()).expect("reads");
        assert!(
            matches!(&r.events[0], Event::MessageChanged { remote_id, change: MessageChange::Edited { text }, .. } if remote_id.as_str() == "c1" && text == "fixed")
        );
    }

    #[test]
    fn carbons_only_from_own_account() {
        let forged = parse(
            "<message xmlns='jabber:client' from='eve@a.example' type='chat'>\
             <sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>\
             <message xmlns='jabber:client' from='me@a.example/o' to='bob@a.example' type='chat'><body>x</body></message>\
             </forwarded></sent></message>",
        );
        assert!(matches!(
            unwrap_carbon(&forged, "me@a.example"),
            Some(Err(_))
        ));
        let real = parse(
            "<message xmlns='jabber:client' from='me@a.example' type='chat'>\
             <sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>\
             <message xmlns='jabber:client' from='me@a.example/o' to='bob@a.example' type='chat' id='z'><body>x</body></message>\
             </forwarded></sent></message>",
        );
        let (inner, dir) = unwrap_carbon(&real, "me@a.example")
            .expect("carbon")
            .expect("valid");
        assert_eq!(dir, Direction::Outgoing);
        let r = read(&inner, dir, &cx()).expect("reads");
        let Event::MessageReceived(msg) = &r.events[0] else {
            panic!()
        };
        assert_eq!(msg.conversation.as_str(), "bob@a.example");
        assert_eq!(msg.local_id, Some(LocalId::new("z")));
        assert_eq!(msg.direction, Direction::Outgoing);
    }

    #[test]
    fn a_live_message_is_dated_when_received_not_when_its_sender_says() {
        for stamp in ["2999-01-01T00:00:00Z", "1971-01-01T00:00:00Z"] {
            let m = parse(&format!(
                "<message xmlns='jabber:client' from='bob@a.example/x' type='chat' id='d'>\
                 <body>x</body><delay xmlns='urn:xmpp:delay' stamp='{stamp}'/></message>"
            ));
            let before = Timestamp::now();
            let r = read(&m, Direction::Incoming, &cx()).expect("reads");
            let after = Timestamp::now();
            let Event::MessageReceived(msg) = &r.events[0] else {
                panic!("{:?}", r.events)
            };
            assert!(
                before <= msg.timestamp && msg.timestamp <= after,
                "{stamp}: {:?}",
                msg.timestamp
            );
        }
    }

    #[test]
    fn messages_without_from_are_errors_not_panics() {
        let m = parse("<message xmlns='jabber:client' type='chat'><body>x</body></message>");
        assert!(read(&m, Direction::Incoming, &cx()).is_err());
    }
}
