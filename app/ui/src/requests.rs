//! The Requests inbox in the sidebar: who asks, on which network, what
//! (an invite, a contact request, a first message, a third-party opt-in)
//! and a preview, with Accept / Decline / Block / Report. The list is the
//! engine's (`Engine::requests`), re-read when it says it changed.

use crate::app::{App, Effect, Message};
use crate::{badge, fl};
use iced::widget::{Column, button, column, container, row, text};
use iced::{Alignment, Element, Fill};
use koine_api::{Decision, RequestKind};
use koine_core::InboxRequest;

impl App {
    /// The engine's Requests inbox arrived.
    pub(crate) fn requests_loaded(&mut self, requests: Vec<InboxRequest>) {
        self.inbox_requests = requests;
        self.answering.clear();
        self.request_error = None;
    }

    /// The user answered the request at `index`.
    pub(crate) fn answer_request(&mut self, index: usize, decision: Decision) -> Vec<Effect> {
        let Some(request) = self.inbox_requests.get(index).cloned() else {
            return Vec::new();
        };
        if !self.answering.contains(&index) {
            self.answering.push(index);
        }
        vec![Effect::AnswerRequest(Box::new(request), decision)]
    }

    /// Answering failed: the buttons come back with the reason.
    pub(crate) fn answer_failed(&mut self, reason: String) {
        self.answering.clear();
        self.request_error = Some(fl!("request-failed", reason = reason));
    }

    /// The conversations in Requests that no entry of the engine's inbox
    /// covers (shown as plain rows).
    pub fn uncovered_requests(&self) -> Vec<&koine_core::ConversationRecord> {
        self.requests()
            .into_iter()
            .filter(|c| {
                !self
                    .inbox_requests
                    .iter()
                    .any(|r| r.conversation == Some(c.id))
            })
            .collect()
    }
}

/// What is asked, in words.
pub fn kind_text(kind: &RequestKind) -> String {
    match kind {
        RequestKind::ContactRequest => fl!("request-kind-contact"),
        RequestKind::RoomInvite {
            room_name: Some(room),
        } => fl!("request-kind-invite-named", room = room.clone()),
        RequestKind::RoomInvite { room_name: None } => fl!("request-kind-invite"),
        RequestKind::FirstMessage => fl!("request-kind-first-message"),
        RequestKind::ThirdPartyOptIn { provider } => {
            fl!("request-kind-opt-in", provider = provider.clone())
        }
        _ => fl!("request-kind-other"),
    }
}

fn card<'a>(app: &'a App, index: usize, r: &'a InboxRequest) -> Element<'a, Message> {
    let who = r
        .display_name
        .clone()
        .map_or_else(|| r.from.to_string(), |name| format!("{name} ({})", r.from));
    let network = app
        .network_names
        .get(&r.protocol)
        .cloned()
        .unwrap_or_else(|| r.protocol.to_string());
    // The name opens the conversation kept apart, when there is one.
    let name: Element<'a, Message> = match r.conversation {
        Some(id) => button(text(who).size(14))
            .style(button::text)
            .padding(0)
            .width(Fill)
            .on_press(Message::Select(id))
            .into(),
        None => text(who).size(14).width(Fill).into(),
    };
    let mut col = column![
        row![badge::view(&r.protocol, 18.0), name]
            .spacing(6)
            .align_y(Alignment::Center),
        text(format!("{network} · {}", kind_text(&r.kind))).size(11),
    ]
    .spacing(4);
    if let Some(preview) = r.preview.as_ref().filter(|p| !p.trim().is_empty()) {
        col = col.push(text(format!("“{preview}”")).size(12));
    }
    let busy = app.answering.contains(&index);
    let answer = |label: String, decision: Decision| {
        let b = button(text(label).size(11)).padding([3, 6]);
        let b = if decision == Decision::Accept {
            b.style(button::primary)
        } else if decision == Decision::Decline {
            b.style(button::secondary)
        } else {
            b.style(button::danger)
        };
        if busy {
            b
        } else {
            b.on_press(Message::AnswerRequest(index, decision))
        }
    };
    col = col.push(
        row![
            answer(fl!("request-accept"), Decision::Accept),
            answer(fl!("request-decline"), Decision::Decline),
            answer(fl!("request-block"), Decision::Block),
            answer(fl!("request-report"), Decision::Report),
        ]
        .spacing(4),
    );
    container(col)
        .padding(6)
        .width(Fill)
        .style(container::bordered_box)
        .into()
}

/// The engine's requests, one card each.
pub fn cards(app: &App) -> Column<'_, Message> {
    let mut col = Column::new().spacing(6);
    if let Some(error) = &app.request_error {
        col = col.push(text(error.clone()).size(12).style(text::danger));
    }
    for (index, r) in app.inbox_requests.iter().enumerate() {
        col = col.push(card(app, index, r));
    }
    col
}
