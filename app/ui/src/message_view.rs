//! One message in the chat: sender, time, delivery ticks, the message it
//! answers, its text, files, reactions, and (when clicked) what can be done
//! with it: reply, react, correct, delete.

use crate::actions::{Action, QUICK_REACTIONS, editable, human_size};
use crate::app::{App, Message};
use crate::{fl, time};
use iced::widget::{Space, button, column, container, image, mouse_area, row, text};
use iced::{ContentFit, Element, Fill};
use koine_api::{AttachmentSource, DeliveryState, Direction};
use koine_core::StoredMessage;

fn ticks(state: DeliveryState) -> (&'static str, String) {
    match state {
        DeliveryState::Queued => ("◷", fl!("delivery-queued")),
        DeliveryState::Handed => ("→", fl!("delivery-handed")),
        DeliveryState::Sent => ("✓", fl!("delivery-sent")),
        DeliveryState::Delivered => ("✓✓", fl!("delivery-delivered")),
        DeliveryState::Read => ("✓✓", fl!("delivery-read")),
        DeliveryState::Failed => ("!", String::new()),
    }
}

/// The name to show for a sender: the person's, else the network's.
pub fn sender_name(app: &App, m: &StoredMessage) -> String {
    app.names
        .get(&koine_core::people::address_key(&m.sender))
        .cloned()
        .or_else(|| m.sender_name.clone())
        .unwrap_or_else(|| m.sender.to_string())
}

/// The first line of a message, shortened, for quotes.
pub fn snippet(m: &StoredMessage) -> String {
    if m.deleted {
        return fl!("message-deleted");
    }
    let line = m.content.text.lines().next().unwrap_or_default();
    let mut short: String = line.chars().take(80).collect();
    if line.chars().count() > 80 {
        short.push('…');
    }
    if short.is_empty() && !m.content.attachments.is_empty() {
        short = m.content.attachments[0].name.clone();
    }
    short
}

fn quote<'a>(app: &App, m: &StoredMessage) -> Option<Element<'a, Message>> {
    let target = m.reply_to.as_ref()?;
    let line = match app.replied(target) {
        Some(original) => format!("↩ {}: {}", sender_name(app, original), snippet(original)),
        None => format!("↩ {}", fl!("message-reply-unknown")),
    };
    Some(
        container(text(line).size(12))
            .padding([2, 6])
            .style(container::bordered_box)
            .into(),
    )
}

/// The height of an image preview.
pub const PREVIEW_HEIGHT: f32 = 200.0;
/// Larger images are not previewed (decoding them would stall drawing).
pub const PREVIEW_MAX_BYTES: u64 = 20_000_000;

/// The local file to preview, for an image on this machine.
pub fn preview_path(a: &koine_api::Attachment) -> Option<&str> {
    match &a.source {
        AttachmentSource::LocalPath(path)
            if a.mime.starts_with("image/") && a.size <= PREVIEW_MAX_BYTES =>
        {
            Some(path)
        }
        _ => None,
    }
}

fn files<'a>(app: &App, m: &StoredMessage) -> Option<Element<'a, Message>> {
    if m.content.attachments.is_empty() {
        return None;
    }
    let mut list = column![].spacing(2);
    for (i, a) in m.content.attachments.iter().enumerate() {
        let icon = if a.mime.starts_with("image/") {
            "🖼"
        } else {
            "📄"
        };
        let mut line = row![text(format!("{icon} {}", a.name)).size(13)].spacing(6);
        if a.size > 0 {
            line = line.push(text(human_size(a.size)).size(11));
        }
        if let AttachmentSource::Remote(_) = a.source {
            line = line.push(text(fl!("attachment-remote")).size(11));
        }
        if crate::files::can_open(a) {
            line = line.push(
                button(text(fl!("file-open")).size(11))
                    .style(button::text)
                    .padding([0, 4])
                    .on_press(Message::Act(Action::OpenFile(m.id, i))),
            );
        }
        list = list.push(line);
        let preview = match preview_path(a) {
            Some(path) => Some(image::Handle::from_path(path)),
            None => app.previews.get((m.id, i)).cloned(),
        };
        if let Some(handle) = preview {
            list = list.push(
                image(handle)
                    .height(PREVIEW_HEIGHT)
                    .content_fit(ContentFit::ScaleDown),
            );
        }
    }
    Some(list.into())
}

fn actions<'a>(app: &App, m: &StoredMessage) -> Element<'a, Message> {
    let caps = app.capabilities();
    let can = |f: fn(&koine_api::Capabilities) -> bool| caps.is_none_or(f);
    let mut bar = row![].spacing(4);
    if m.remote_id.is_none() {
        return text(fl!("message-actions-unsent")).size(11).into();
    }
    if can(|c| c.reactions) {
        for emoji in QUICK_REACTIONS {
            bar = bar.push(
                button(text(emoji).size(14))
                    .style(button::text)
                    .on_press(Message::Act(Action::React(m.id, emoji.to_owned()))),
            );
        }
    }
    if can(|c| c.replies) {
        bar = bar.push(
            button(text(fl!("message-reply")).size(12))
                .style(button::secondary)
                .on_press(Message::Act(Action::Reply(m.id))),
        );
    }
    if editable(m) && can(|c| c.edits) {
        bar = bar.push(
            button(text(fl!("message-edit")).size(12))
                .style(button::secondary)
                .on_press(Message::Act(Action::Edit(m.id))),
        );
    }
    if editable(m) && can(|c| c.deletes) {
        bar = bar.push(
            button(text(fl!("message-delete")).size(12))
                .style(button::danger)
                .on_press(Message::Act(Action::Delete(m.id))),
        );
    }
    bar.into()
}

/// A message's row.
pub fn view<'a>(app: &App, m: &'a StoredMessage, highlighted: bool) -> Element<'a, Message> {
    let outgoing = m.direction == Direction::Outgoing;
    let mut meta = row![text(time::clock(m.timestamp)).size(11)].spacing(6);
    if !outgoing {
        meta = row![
            text(sender_name(app, m)).size(12),
            text(time::clock(m.timestamp)).size(11)
        ]
        .spacing(6);
    }
    if m.edited_at.is_some() {
        meta = meta.push(text(fl!("message-edited")).size(11));
    }
    if outgoing {
        let (symbol, words) = ticks(m.state);
        let words = if m.state == DeliveryState::Failed {
            fl!(
                "delivery-failed",
                reason = m.error.clone().unwrap_or_default()
            )
        } else {
            words
        };
        meta = meta.push(text(format!("{symbol} {words}")).size(11));
    }
    let mut bubble = column![meta].spacing(2);
    if let Some(words) = crate::route::message_route_text(m, app.current_route()) {
        let words = text(words).size(11);
        bubble = bubble.push(if crate::route::is_end_to_end(m.route.as_ref()) {
            words
        } else {
            words.style(text::danger)
        });
    }
    if let Some(q) = quote(app, m) {
        bubble = bubble.push(q);
    }
    if m.deleted {
        bubble = bubble.push(text(fl!("message-deleted")).size(14));
    } else if !m.content.text.is_empty() {
        bubble = bubble.push(text(m.content.text.clone()).size(14));
    }
    if let Some(f) = files(app, m).filter(|_| !m.deleted) {
        bubble = bubble.push(f);
    }
    if !m.reactions.is_empty() {
        let reactions: Vec<&str> = m.reactions.iter().map(|(_, e)| e.as_str()).collect();
        bubble = bubble.push(text(reactions.join(" ")).size(13));
    }
    let bubble = container(bubble)
        .padding(8)
        .max_width(560)
        .style(move |theme: &iced::Theme| {
            let mut style = if outgoing {
                container::primary(theme)
            } else {
                container::rounded_box(theme)
            };
            if highlighted {
                // The message a search result opened the chat at.
                style.border = style
                    .border
                    .width(3)
                    .color(theme.extended_palette().danger.base.color);
            }
            style
        });
    let bubble = mouse_area(bubble).on_press(Message::Act(Action::Focus(m.id)));
    let mut line = column![].spacing(4);
    line = if outgoing {
        line.push(row![Space::new().width(Fill), bubble])
    } else {
        line.push(row![bubble, Space::new().width(Fill)])
    };
    if app.compose.focus == Some(m.id) && !m.deleted {
        let bar = actions(app, m);
        line = if outgoing {
            line.push(row![Space::new().width(Fill), bar])
        } else {
            line.push(row![bar, Space::new().width(Fill)])
        };
    }
    line.into()
}

/// Above the composer: what it answers or corrects, and the files that go
/// with the next message.
pub fn composer_extras(app: &App) -> Option<Element<'_, Message>> {
    let mut extras = column![].spacing(4);
    let mut any = false;
    let mode = app.compose.mode.as_ref().and_then(|mode| match mode {
        crate::actions::Mode::Reply(id) => app.message(*id).map(|m| {
            fl!(
                "composer-replying",
                name = sender_name(app, m),
                text = snippet(m)
            )
        }),
        crate::actions::Mode::Edit(_) => Some(fl!("composer-editing")),
    });
    if let Some(line) = mode {
        any = true;
        extras = extras.push(
            row![
                text(line).size(12).width(Fill),
                button(text(fl!("composer-cancel")).size(12))
                    .style(button::text)
                    .on_press(Message::Act(Action::Cancel))
            ]
            .spacing(6),
        );
    }
    for (i, a) in app.compose.files.iter().enumerate() {
        any = true;
        extras = extras.push(
            row![
                text(format!("📎 {} · {}", a.name, human_size(a.size)))
                    .size(12)
                    .width(Fill),
                button(text("✕").size(12))
                    .style(button::text)
                    .on_press(Message::Act(Action::RemoveFile(i)))
            ]
            .spacing(6),
        );
    }
    any.then(|| extras.into())
}
