//! Turning Matrix timeline events into Koine events.
//!
//! The conversion is a pure function of the event (already decrypted by the
//! SDK where it could be) and the account's own user id; the session adds the
//! room's route and display names. Events Koine does not show (state changes,
//! call signalling) are skipped; an event that does not parse is reported so
//! the session can raise a [`koine_api::Notice::MalformedInput`].

use koine_api::{Attachment, AttachmentSource, Content, Direction, LocalId, RemoteId, Timestamp};
use matrix_sdk::deserialized_responses::{TimelineEvent, TimelineEventKind};
use matrix_sdk::ruma::events::room::MediaSource;
use matrix_sdk::ruma::events::room::message::{
    MessageType, Relation, RoomMessageEventContent, RoomMessageEventContentWithoutRelation,
};
use matrix_sdk::ruma::events::{
    AnySyncMessageLikeEvent, AnySyncTimelineEvent, SyncMessageLikeEvent,
};
use matrix_sdk::ruma::{OwnedEventId, OwnedUserId, UserId};
use serde_json::Value;

/// A message as read from the timeline, before the route is attached.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    /// The event id.
    pub event_id: OwnedEventId,
    /// Who sent it.
    pub sender: OwnedUserId,
    /// Outgoing when sent by this account (from any of its devices).
    pub direction: Direction,
    /// The transaction id it was sent with, when it was sent by this device.
    pub local_id: Option<LocalId>,
    /// The server's timestamp.
    pub timestamp: Timestamp,
    /// Text and attachments.
    pub content: Content,
    /// The event it replies to.
    pub reply_to: Option<RemoteId>,
    /// How many attachments were dropped because their `mxc://` URI is not
    /// valid.
    pub invalid_attachments: usize,
}

/// What one timeline event means for Koine.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A new message.
    Message(Incoming),
    /// A correction of `target`. Only valid when `sender` also sent the
    /// target (the session checks: see `Session::event_sender`).
    Edit {
        /// The corrected message.
        target: OwnedEventId,
        /// Who sent the correction.
        sender: OwnedUserId,
        /// The new text.
        text: String,
        /// When.
        at: Timestamp,
    },
    /// A reaction to `target`.
    Reaction {
        /// The reaction event itself (a later redaction names it).
        event_id: OwnedEventId,
        /// The message reacted to.
        target: OwnedEventId,
        /// Who reacted.
        by: OwnedUserId,
        /// The emoji.
        key: String,
        /// When.
        at: Timestamp,
    },
    /// `target` was redacted.
    Redaction {
        /// The redacted event.
        target: OwnedEventId,
        /// Who redacted it.
        by: OwnedUserId,
        /// When.
        at: Timestamp,
    },
    /// An encrypted event whose keys are missing.
    Undecryptable {
        /// The event id.
        event_id: OwnedEventId,
        /// Why.
        detail: String,
    },
    /// A request to verify keys, sent in a room.
    VerificationRequest {
        /// The request event (its id is the flow id).
        event_id: OwnedEventId,
        /// Who asks.
        sender: OwnedUserId,
    },
    /// Not something Koine shows.
    Skip,
    /// Could not be parsed.
    Malformed(String),
}

fn ts(ms: matrix_sdk::ruma::MilliSecondsSinceUnixEpoch) -> Timestamp {
    Timestamp(i64::from(ms.0))
}

/// The transaction id in the event's `unsigned` data (only this device sees it).
fn transaction_id(event: &TimelineEvent) -> Option<LocalId> {
    let unsigned = event.raw().get_field::<Value>("unsigned").ok().flatten()?;
    unsigned
        .get("transaction_id")
        .and_then(Value::as_str)
        .map(LocalId::new)
}

/// The content of a message body: text and attachments, and how many
/// attachments were dropped because their `mxc://` URI is not valid (checked
/// by [`crate::mxc`]; such a file's name stands in for the text when the
/// message has no caption).
pub fn message_content(msgtype: &MessageType) -> (Content, usize) {
    let media = |name: &str, mime: Option<String>, size: Option<u64>, source: &MediaSource| {
        let (uri, locator) = match source {
            MediaSource::Plain(uri) => (uri, uri.to_string()),
            // The decryption keys travel with the locator; it stays inside
            // Koine's store, like the message text.
            MediaSource::Encrypted(file) => (
                &file.url,
                format!(
                    "{}{}",
                    crate::media::ENCRYPTED_PREFIX,
                    serde_json::to_string(file.as_ref()).unwrap_or_default()
                ),
            ),
        };
        crate::mxc::is_valid(uri.as_str()).then(|| Attachment {
            name: name.to_owned(),
            mime: mime.unwrap_or_else(|| "application/octet-stream".into()),
            size: size.unwrap_or(0),
            source: AttachmentSource::Remote(locator),
            sha256: None,
        })
    };
    let uint = |u: Option<matrix_sdk::ruma::UInt>| u.map(u64::from);
    let with_file =
        |caption: Option<&str>, name: &str, attachment: Option<Attachment>| match attachment {
            Some(a) => (
                Content {
                    text: caption.unwrap_or_default().to_owned(),
                    attachments: vec![a],
                },
                0,
            ),
            None => (Content::text(caption.unwrap_or(name)), 1),
        };
    match msgtype {
        MessageType::Text(t) => (Content::text(t.body.clone()), 0),
        MessageType::Notice(n) => (Content::text(n.body.clone()), 0),
        MessageType::Emote(e) => (Content::text(e.body.clone()), 0),
        MessageType::Image(i) => {
            let info = i.info.as_deref();
            with_file(
                i.caption(),
                i.filename(),
                media(
                    i.filename(),
                    info.and_then(|x| x.mimetype.clone()),
                    uint(info.and_then(|x| x.size)),
                    &i.source,
                ),
            )
        }
        MessageType::File(f) => {
            let info = f.info.as_deref();
            with_file(
                f.caption(),
                f.filename(),
                media(
                    f.filename(),
                    info.and_then(|x| x.mimetype.clone()),
                    uint(info.and_then(|x| x.size)),
                    &f.source,
                ),
            )
        }
        MessageType::Audio(a) => {
            let info = a.info.as_deref();
            with_file(
                a.caption(),
                a.filename(),
                media(
                    a.filename(),
                    info.and_then(|x| x.mimetype.clone()),
                    uint(info.and_then(|x| x.size)),
                    &a.source,
                ),
            )
        }
        MessageType::Video(v) => {
            let info = v.info.as_deref();
            with_file(
                v.caption(),
                v.filename(),
                media(
                    v.filename(),
                    info.and_then(|x| x.mimetype.clone()),
                    uint(info.and_then(|x| x.size)),
                    &v.source,
                ),
            )
        }
        other => (Content::text(other.body().to_owned()), 0),
    }
}

fn edit_text(new: &RoomMessageEventContentWithoutRelation) -> String {
    message_content(&new.msgtype).0.text
}

/// Converts one timeline event.
pub fn convert(event: &TimelineEvent, own: &UserId) -> Item {
    if let TimelineEventKind::UnableToDecrypt { utd_info, .. } = &event.kind {
        return match event.event_id() {
            Some(event_id) => Item::Undecryptable {
                event_id,
                detail: format!("{:?}", utd_info.reason),
            },
            None => Item::Malformed("encrypted event without id".into()),
        };
    }
    let parsed = match event.raw().deserialize() {
        Ok(p) => p,
        Err(e) => return Item::Malformed(e.to_string()),
    };
    let AnySyncTimelineEvent::MessageLike(message_like) = parsed else {
        return Item::Skip;
    };
    match message_like {
        AnySyncMessageLikeEvent::RoomMessage(SyncMessageLikeEvent::Original(ev)) => room_message(
            event,
            ev.event_id,
            ev.sender,
            ev.origin_server_ts,
            ev.content,
            own,
        ),
        AnySyncMessageLikeEvent::Reaction(SyncMessageLikeEvent::Original(ev)) => Item::Reaction {
            event_id: ev.event_id,
            target: ev.content.relates_to.event_id,
            by: ev.sender,
            key: ev.content.relates_to.key,
            at: ts(ev.origin_server_ts),
        },
        AnySyncMessageLikeEvent::RoomRedaction(
            matrix_sdk::ruma::events::room::redaction::SyncRoomRedactionEvent::Original(ev),
        ) => {
            // The target sits at the top level before room version 11 and in
            // the content from 11 on.
            match ev.content.redacts.clone().or(ev.redacts.clone()) {
                Some(target) => Item::Redaction {
                    target,
                    by: ev.sender,
                    at: ts(ev.origin_server_ts),
                },
                None => Item::Malformed("redaction without a target".into()),
            }
        }
        _ => Item::Skip,
    }
}

fn room_message(
    event: &TimelineEvent,
    event_id: OwnedEventId,
    sender: OwnedUserId,
    at: matrix_sdk::ruma::MilliSecondsSinceUnixEpoch,
    content: RoomMessageEventContent,
    own: &UserId,
) -> Item {
    if matches!(content.msgtype, MessageType::VerificationRequest(_)) {
        return if sender == own {
            Item::Skip
        } else {
            Item::VerificationRequest { event_id, sender }
        };
    }
    let mut reply_to = None;
    match &content.relates_to {
        Some(Relation::Replacement(r)) => {
            return Item::Edit {
                target: r.event_id.clone(),
                sender,
                text: edit_text(&r.new_content),
                at: ts(at),
            };
        }
        Some(Relation::Reply(r)) => {
            reply_to = Some(RemoteId::new(r.in_reply_to.event_id.to_string()))
        }
        Some(Relation::Thread(t)) => {
            reply_to = t
                .in_reply_to
                .as_ref()
                .map(|r| RemoteId::new(r.event_id.to_string()))
        }
        _ => {}
    }
    let outgoing = sender == own;
    let (content, invalid_attachments) = message_content(&content.msgtype);
    Item::Message(Incoming {
        local_id: if outgoing {
            transaction_id(event)
        } else {
            None
        },
        direction: if outgoing {
            Direction::Outgoing
        } else {
            Direction::Incoming
        },
        event_id,
        sender,
        timestamp: ts(at),
        content,
        reply_to,
        invalid_attachments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use matrix_sdk::ruma::serde::Raw;
    use matrix_sdk::ruma::user_id;
    use serde_json::json;

    fn event(v: Value) -> TimelineEvent {
        TimelineEvent::from_plaintext(Raw::from_json(
            serde_json::value::to_raw_value(&v).expect("json"),
        ))
    }

    fn base(content: Value, ty: &str) -> Value {
        json!({
            "type": ty, "event_id": "$e1", "sender": "@bob:b.example",
            "origin_server_ts": 1700000000000u64, "content": content,
        })
    }

    #[test]
    fn text_message_from_someone_else_is_incoming() {
        let own = user_id!("@alice:a.example");
        let item = convert(
            &event(base(
                json!({"msgtype": "m.text", "body": "hi"}),
                "m.room.message",
            )),
            own,
        );
        let Item::Message(m) = item else {
            panic!("not a message: {item:?}")
        };
        assert_eq!(m.content.text, "hi");
        assert_eq!(m.direction, Direction::Incoming);
        assert_eq!(m.local_id, None);
        assert_eq!(m.timestamp, Timestamp(1_700_000_000_000));
    }

    #[test]
    fn own_message_carries_its_transaction_id() {
        let own = user_id!("@bob:b.example");
        let mut v = base(
            json!({"msgtype": "m.text", "body": "mine"}),
            "m.room.message",
        );
        v.as_object_mut()
            .expect("an object")
            .insert("unsigned".into(), json!({"transaction_id": "local-7"}));
        let Item::Message(m) = convert(&event(v), own) else {
            panic!()
        };
        assert_eq!(m.direction, Direction::Outgoing);
        assert_eq!(m.local_id, Some(LocalId::new("local-7")));
    }

    #[test]
    fn edits_replies_reactions_redactions() {
        let own = user_id!("@alice:a.example");
        let edit = base(
            json!({"msgtype": "m.text", "body": "* fixed", "m.new_content": {"msgtype": "m.text", "body": "fixed"},
                   "m.relates_to": {"rel_type": "m.replace", "event_id": "$orig"}}),
            "m.room.message",
        );
        assert!(matches!(convert(&event(edit), own),
            Item::Edit { text, sender, .. } if text == "fixed" && sender == "@bob:b.example"));
        let reply = base(
            json!({"msgtype": "m.text", "body": "yes", "m.relates_to": {"m.in_reply_to": {"event_id": "$q"}}}),
            "m.room.message",
        );
        let Item::Message(m) = convert(&event(reply), own) else {
            panic!()
        };
        assert_eq!(m.reply_to, Some(RemoteId::new("$q")));
        let reaction = base(
            json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": "$q", "key": "👍"}}),
            "m.reaction",
        );
        assert!(
            matches!(convert(&event(reaction), own), Item::Reaction { key, .. } if key == "👍")
        );
        let redaction = base(json!({"redacts": "$q"}), "m.room.redaction");
        assert!(matches!(convert(&event(redaction), own),
                Item::Redaction { target, by, .. } if target == "$q" && by == "@bob:b.example"));
    }

    #[test]
    fn attachments_with_invalid_mxc_uris_are_dropped() {
        let own = user_id!("@alice:a.example");
        let image = |url: &str| {
            base(
                json!({"msgtype": "m.image", "body": "cat.png", "url": url,
                       "info": {"mimetype": "image/png", "size": 3}}),
                "m.room.message",
            )
        };
        let long = format!("mxc://{}/abc", "a".repeat(250));
        for good in [
            "mxc://koine.test/abc",
            "mxc://[::1]:8448/a-b_C",
            long.as_str(),
        ] {
            let Item::Message(m) = convert(&event(image(good)), own) else {
                panic!("not a message: {good}")
            };
            assert_eq!(m.content.attachments.len(), 1, "{good}");
        }
        let too_long = format!("mxc://{}/abc", "a".repeat(256));
        for bad in [
            "mxc://koine.test/../x",
            "mxc://koine.test/",
            "mxc://koine.test",
            "mxc:///abc",
            "mxc://bad host/abc",
            "mxc://é.example/abc",
            "https://koine.test/abc",
            too_long.as_str(),
        ] {
            let item = convert(&event(image(bad)), own);
            let Item::Message(m) = item else {
                panic!("not a message: {bad}: {item:?}")
            };
            assert!(m.content.attachments.is_empty(), "{bad} was kept");
            assert_eq!(m.invalid_attachments, 1, "{bad}");
        }
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        let own = user_id!("@alice:a.example");
        let v = json!({"type": "m.room.message", "event_id": 5, "content": "nope"});
        assert!(matches!(convert(&event(v), own), Item::Malformed(_)));
        let state = json!({"type": "m.room.topic", "state_key": "", "event_id": "$t",
            "sender": "@bob:b.example", "origin_server_ts": 1, "content": {"topic": "x"}});
        assert_eq!(convert(&event(state), own), Item::Skip);
    }
}
