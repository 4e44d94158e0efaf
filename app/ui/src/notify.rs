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

/// Text as the desktop's notification server will show it, never as
/// markup. Freedesktop servers read a subset of HTML in the body (`<b>`,
/// `<a href>`, `<img src>`): a stranger's `<img src="file:///…">` or a
/// link dressed as something else must arrive as the characters they
/// typed. Control characters go too (the server may not expect them).
/// Elsewhere (Windows, macOS) the body is plain text already.
pub fn plain(text: &str) -> String {
    let markup = cfg!(all(unix, not(target_os = "macos")));
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' if markup => out.push_str("&amp;"),
            '<' if markup => out.push_str("&lt;"),
            '>' if markup => out.push_str("&gt;"),
            '"' if markup => out.push_str("&quot;"),
            '\'' if markup => out.push_str("&apos;"),
            '\n' => out.push('\n'),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Shows a notification. Blocking: call it on the blocking pool.
pub fn show(summary: &str, body: &str) -> Result<(), String> {
    notify_rust::Notification::new()
        .appname("Koine")
        .icon("im.koine.Koine")
        // The summary is plain text by the specification: only controls go.
        .summary(&summary.replace(|c: char| c.is_control(), " "))
        .body(&plain(body))
        .show()
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn a_strangers_markup_is_shown_as_text() {
        let hostile = "<img src=\"file:///etc/passwd\"/><a href='https://evil.example'>bank</a> & <b>\u{1b}[31m";
        let shown = plain(hostile);
        if cfg!(all(unix, not(target_os = "macos"))) {
            assert!(!shown.contains('<') && !shown.contains('>'), "{shown}");
            assert_eq!(
                shown,
                "&lt;img src=&quot;file:///etc/passwd&quot;/&gt;&lt;a href=&apos;https://evil.example&apos;&gt;bank&lt;/a&gt; &amp; &lt;b&gt; [31m"
            );
        }
        assert!(!shown.contains('\u{1b}'));
        assert_eq!(plain("Café 👍\nsecond line"), "Café 👍\nsecond line");
    }
}
