//! Desktop notifications for new messages while the window is not focused
//! (and the setting is on). `update` only decides, as an
//! [`Effect::Notify`](crate::app::Effect::Notify); the shell shows it with
//! `notify-rust` on the blocking pool (a D-Bus call on Linux), so the
//! simulator tests never show one.

use crate::app::{App, Effect};
use crate::fl;
use koine_api::Direction;
use koine_core::StoredMessage;

/// The longest message text put in a notification.
const MAX_BODY: usize = 160;

impl App {
    /// The notification for a stored message, if one is due.
    pub(crate) fn notification_for(&self, message: &StoredMessage) -> Option<Effect> {
        if self.focused || !self.settings.notifications || message.direction != Direction::Incoming
        {
            return None;
        }
        // Strangers wait in Requests; they do not interrupt.
        let c = self
            .conversations
            .iter()
            .find(|c| c.id == message.conversation && !c.is_request)?;
        let summary = fl!(
            "notify-summary",
            name = self.title(c),
            network = self.network_of(&c.account)
        );
        let mut body: String = message.content.text.chars().take(MAX_BODY).collect();
        if message.content.text.chars().count() > MAX_BODY {
            body.push('…');
        }
        if body.is_empty() {
            body = fl!(
                "message-attachments",
                count = message.content.attachments.len()
            );
        }
        Some(Effect::Notify { summary, body })
    }
}

/// Shows a notification. Blocking: call it on the blocking pool.
pub fn show(summary: &str, body: &str) -> Result<(), String> {
    notify_rust::Notification::new()
        .appname("Koine")
        .icon("im.koine.Koine")
        .summary(summary)
        .body(body)
        .show()
        .map(|_| ())
        .map_err(|e| e.to_string())
}
