//! What a conversation's row says under its title (the last message, or
//! "typing…"), and who is typing in the open chat.

use crate::app::App;
use crate::fl;
use koine_api::{Address, ChatState, ConversationKind, Direction};
use koine_core::{ConversationId, ConversationRecord};

/// The row's second line: "typing…", else the last message in one line.
pub fn line(app: &App, c: &ConversationRecord) -> Option<String> {
    if app.typing.get(&c.id).is_some_and(|who| !who.is_empty()) {
        return Some(fl!("list-typing"));
    }
    let p = c.preview.as_ref()?;
    let body = if p.deleted {
        fl!("preview-deleted")
    } else {
        let first = p.text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        match (first.trim(), p.attachments) {
            ("", true) => fl!("preview-attachment"),
            ("", false) => return None,
            (text, _) => text.to_owned(),
        }
    };
    Some(match (p.direction, c.kind) {
        (Direction::Outgoing, _) => fl!("preview-you", text = body),
        (Direction::Incoming, ConversationKind::Group) => match &p.sender_name {
            Some(name) => fl!("preview-sender", name = name.clone(), text = body),
            None => body,
        },
        (Direction::Incoming, _) => body,
    })
}

/// "Lena is typing…" for the open chat.
pub fn in_chat(app: &App, c: &ConversationRecord) -> Option<String> {
    let who = app.typing.get(&c.id)?.first()?;
    let name = match &c.peer {
        Some(peer) if peer == who => app.title(c),
        _ if c.kind == ConversationKind::Direct => app.title(c),
        _ => app
            .names
            .get(&koine_core::people::address_key(who))
            .cloned()
            .unwrap_or_else(|| who.to_string()),
    };
    Some(fl!("chat-typing", name = name))
}

impl App {
    /// Someone started or stopped typing.
    pub(crate) fn chat_state(
        &mut self,
        conversation: ConversationId,
        from: Address,
        state: ChatState,
    ) {
        let who = self.typing.entry(conversation).or_default();
        who.retain(|a| a != &from);
        if state == ChatState::Composing {
            who.push(from);
        }
        if who.is_empty() {
            self.typing.remove(&conversation);
        }
    }

    /// A message from someone ends their "typing".
    pub(crate) fn stopped_typing(&mut self, conversation: ConversationId, from: &Address) {
        if let Some(who) = self.typing.get_mut(&conversation) {
            who.retain(|a| a != from);
            if who.is_empty() {
                self.typing.remove(&conversation);
            }
        }
    }
}
