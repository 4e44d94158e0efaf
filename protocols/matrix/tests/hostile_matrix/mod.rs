//! A hostile member of the conformance room: account 1 as a raw
//! client-server API client (no SDK checks), sending events Koine's own
//! commands never would.
//!
//! A case's payload is JSON: a list of events (type and content) and
//! redactions, sent in order.

use crate::support::TestUser;
use koine_conformance::{HostileCase, HostilePeer, PeerFuture, Victim};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Serialize, Deserialize)]
enum Action {
    Event { kind: String, content: Value },
    Redact(String),
}

/// Account 1 in the shared room.
pub struct RawMember {
    pub user: TestUser,
    pub room: String,
}

fn event(kind: &str, content: Value) -> Action {
    Action::Event {
        kind: kind.to_owned(),
        content,
    }
}

fn message(content: Value) -> Action {
    event("m.room.message", content)
}

fn text(body: &str) -> Value {
    json!({"msgtype": "m.text", "body": body})
}

fn replace(target: &str, new_text: &str) -> Value {
    json!({"msgtype": "m.text", "body": format!("* {new_text}"),
           "m.new_content": {"msgtype": "m.text", "body": new_text},
           "m.relates_to": {"rel_type": "m.replace", "event_id": target}})
}

fn case(name: &str, actions: Vec<Action>) -> HostileCase {
    HostileCase::new(name, serde_json::to_vec(&actions).unwrap_or_default())
}

fn image(url: &str, name: &str) -> Value {
    json!({"msgtype": "m.image", "body": name, "url": url,
           "info": {"mimetype": "image/png", "size": 3}})
}

impl HostilePeer for RawMember {
    fn catalogue(&self, victim: &Victim) -> Vec<HostileCase> {
        let own = victim.own_message.as_str();
        let nested: Value =
            serde_json::from_str(&format!("{}1{}", "[".repeat(100), "]".repeat(100)))
                .unwrap_or_default();
        let flood: Vec<Action> = (0..100)
            .map(|i| message(text(&format!("flood {i}"))))
            .collect();
        vec![
            case(
                "an edit of the victim's message",
                vec![message(replace(own, "SPOOFED EDIT"))],
            )
            .never_showing("SPOOFED EDIT"),
            case(
                "an edit of the victim's message with a non-object new content",
                vec![message(
                    json!({"msgtype": "m.text", "body": "* SPOOFED AGAIN",
                    "m.new_content": "SPOOFED AGAIN",
                    "m.relates_to": {"rel_type": "m.replace", "event_id": own}}),
                )],
            )
            .never_showing("SPOOFED AGAIN"),
            // No redaction of the victim's message: in this room (version
            // 12, `trusted_private_chat`) account 1 is a creator, whose
            // redactions are moderation the spec allows. A plain member's
            // redaction is refused in tests/hostile.rs.
            case(
                "a redaction of an event that does not exist",
                vec![Action::Redact("$nothing:example.org".into())],
            ),
            case(
                "a reaction to the victim's message",
                vec![event(
                    "m.reaction",
                    json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": own,
                                            "key": "👍"}}),
                )],
            ),
            case(
                "relations to events that do not exist",
                vec![
                    message(replace("$nothing:example.org", "an edit of nothing")),
                    event(
                        "m.reaction",
                        json!({"m.relates_to": {"rel_type": "m.annotation",
                            "event_id": "é".repeat(1000), "key": "😀".repeat(1000)}}),
                    ),
                ],
            ),
            case(
                "mxc URIs with 250 to 255-character server names",
                [250, 251, 252, 255, 256]
                    .iter()
                    .map(|n| {
                        message(image(
                            &format!("mxc://{}/abc", "a".repeat(*n)),
                            &format!("long-{n}.png"),
                        ))
                    })
                    .chain([
                        message(image("mxc://é/é", "non-ascii.png")),
                        message(image("mxc://", "empty.png")),
                        message(image("https://example.org/x.png", "not-mxc.png")),
                    ])
                    .collect(),
            ),
            case(
                "non-ASCII text with controls",
                vec![message(text("é\u{202e}🏳️‍🌈\u{0}\u{1b}[2J"))],
            ),
            case("a 60 KB body", vec![message(text(&"x".repeat(60_000)))]),
            case(
                "content nested 100 deep",
                vec![message(json!({"msgtype": "m.text", "body": "nested",
                                    "org.koine.deep": nested}))],
            ),
            case(
                "unknown and malformed msgtypes",
                vec![
                    message(json!({"msgtype": "org.koine.unknown", "body": "an unknown msgtype"})),
                    message(json!({"body": "no msgtype"})),
                    message(json!({"msgtype": "m.text", "body": 42})),
                    message(json!({"msgtype": 42})),
                    message(json!({"msgtype": "m.file", "body": "a file without a url"})),
                ],
            ),
            case(
                "an unknown event type",
                vec![event("org.koine.unknown", json!({"body": "unknown"}))],
            ),
            case(
                "a reply claiming to quote the victim",
                vec![message(json!({"msgtype": "m.text",
                    "body": "> <@alice:koine.test> words alice never wrote\n\nreply",
                    "m.relates_to": {"m.in_reply_to": {"event_id": own}}}))],
            ),
            case("a flood of 100 messages", flood),
        ]
    }

    fn send_raw<'a>(&'a mut self, _victim: &'a Victim, payload: &'a [u8]) -> PeerFuture<'a> {
        Box::pin(async move {
            let actions: Vec<Action> = serde_json::from_slice(payload)?;
            for a in actions {
                match a {
                    Action::Event { kind, content } => {
                        // Synapse refuses some (a relation to an unknown
                        // event); another server could still relay them.
                        if let Err(e) = self.user.send_event(&self.room, &kind, content).await {
                            eprintln!("the server refused a hostile event: {e}");
                        }
                    }
                    Action::Redact(target) => {
                        // Refused or not, the server has had its say.
                        let _ = self.user.redact(&self.room, &target).await;
                    }
                }
            }
            Ok(())
        })
    }

    fn send_plain<'a>(&'a mut self, _victim: &'a Victim, t: &'a str) -> PeerFuture<'a> {
        Box::pin(async move {
            self.user.send_message(&self.room, text(t)).await?;
            Ok(())
        })
    }
}
