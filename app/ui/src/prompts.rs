//! Questions from plugins (`EngineEvent::PromptRaised`) as modal dialogs:
//! a certificate to pin, emoji or a safety number to compare, a device to
//! pair, a contact's changed identity key, a recovery key to save. One at a time, in arrival order;
//! the answer goes back as `Command::AnswerPrompt`.

use crate::app::{App, Effect, Message};
use crate::fl;
use iced::widget::{Row, button, column, container, opaque, row, text};
use iced::{Color, Element, Fill, Font};
use koine_api::{AccountId, Prompt, PromptAnswer, PromptKind};

impl App {
    /// Queues a question (the same prompt raised again is kept once).
    pub(crate) fn prompt_raised(&mut self, account: AccountId, prompt: Prompt) {
        if !self.prompts.iter().any(|(_, p)| p.id == prompt.id) {
            self.prompts.push((account, prompt));
        }
    }

    /// Copies the recovery key on screen to the clipboard (the only detail
    /// worth copying: the others are compared, not kept).
    pub(crate) fn copy_prompt_detail(&self) -> Vec<Effect> {
        match self.prompts.first() {
            Some((
                _,
                Prompt {
                    kind: PromptKind::SaveRecoveryKey { key, .. },
                    ..
                },
            )) => vec![Effect::Copy(key.expose().to_owned())],
            _ => Vec::new(),
        }
    }

    /// Answers the question on screen.
    pub(crate) fn answer_prompt(&mut self, answer: PromptAnswer) -> Vec<Effect> {
        if self.prompts.is_empty() {
            return Vec::new();
        }
        let (account, prompt) = self.prompts.remove(0);
        let mut effects = Vec::new();
        // Only a web page is opened, never a local file or another scheme.
        if let (PromptKind::SignInInBrowser { url, .. }, PromptAnswer::Confirm) =
            (&prompt.kind, answer)
            && (url.starts_with("https://") || url.starts_with("http://"))
        {
            effects.push(Effect::OpenUrl(url.clone()));
        }
        effects.push(Effect::AnswerPrompt {
            account,
            prompt: prompt.id,
            answer,
        });
        effects
    }
}

struct Texts {
    title: String,
    body: String,
    detail: Option<String>,
    confirm: String,
    reject: String,
}

fn texts(kind: &PromptKind) -> Texts {
    match kind {
        PromptKind::PinCertificate {
            host,
            fingerprint,
            reason,
        } => Texts {
            title: fl!("prompt-pin-title", host = host.clone()),
            body: fl!(
                "prompt-pin-body",
                host = host.clone(),
                reason = reason.clone()
            ),
            detail: Some(fingerprint.clone()),
            confirm: fl!("prompt-pin-confirm"),
            reject: fl!("prompt-pin-reject"),
        },
        PromptKind::CompareEmoji { with, .. } => Texts {
            title: fl!("prompt-emoji-title", with = with.to_string()),
            body: fl!("prompt-emoji-body", with = with.to_string()),
            detail: None,
            confirm: fl!("prompt-match"),
            reject: fl!("prompt-differ"),
        },
        PromptKind::CompareSafetyNumber { with, number } => Texts {
            title: fl!("prompt-number-title", with = with.to_string()),
            body: fl!("prompt-number-body", with = with.to_string()),
            detail: Some(number.clone()),
            confirm: fl!("prompt-match"),
            reject: fl!("prompt-differ"),
        },
        PromptKind::PairDevice { device, key } => Texts {
            title: fl!("prompt-pair-title", device = device.clone()),
            body: fl!("prompt-pair-body", device = device.clone()),
            detail: Some(key.clone()),
            confirm: fl!("prompt-pair-confirm"),
            reject: fl!("prompt-pair-reject"),
        },
        PromptKind::IdentityChanged {
            with,
            new_fingerprint,
        } => Texts {
            title: fl!("prompt-identity-title", with = with.to_string()),
            body: fl!("prompt-identity-body"),
            detail: Some(new_fingerprint.clone()),
            confirm: fl!("prompt-identity-confirm"),
            reject: fl!("prompt-identity-reject"),
        },
        PromptKind::SendUnencrypted { to, reason } => Texts {
            title: fl!("prompt-plaintext-title", to = to.to_string()),
            body: fl!("prompt-plaintext-body", to = to.to_string()),
            detail: Some(reason.clone()),
            confirm: fl!("prompt-plaintext-confirm"),
            reject: fl!("prompt-plaintext-reject"),
        },
        PromptKind::SignInInBrowser { server, url } => Texts {
            title: fl!("prompt-browser-title", server = server.clone()),
            body: fl!("prompt-browser-body"),
            detail: Some(url.clone()),
            confirm: fl!("prompt-browser-confirm"),
            reject: fl!("prompt-browser-reject"),
        },
        PromptKind::SaveRecoveryKey { account, key } => Texts {
            title: fl!("prompt-recovery-title", account = account.to_string()),
            body: fl!("prompt-recovery-body"),
            detail: Some(key.expose().to_owned()),
            confirm: fl!("prompt-recovery-confirm"),
            reject: fl!("prompt-recovery-reject"),
        },
        _ => Texts {
            title: fl!("prompt-other-title"),
            body: String::new(),
            detail: None,
            confirm: fl!("prompt-other-confirm"),
            reject: fl!("prompt-other-reject"),
        },
    }
}

fn emoji_row(emoji: &[(String, String)]) -> Row<'_, Message> {
    let mut line = row![].spacing(14);
    for (symbol, name) in emoji {
        line = line.push(
            column![text(symbol.clone()).size(30), text(name.clone()).size(11)]
                .spacing(2)
                .align_x(iced::Alignment::Center),
        );
    }
    line
}

/// The dialog, over `base`, while a question waits.
pub fn view<'a>(app: &'a App, base: Element<'a, Message>) -> Element<'a, Message> {
    let Some((account, prompt)) = app.prompts.first() else {
        return base;
    };
    let t = texts(&prompt.kind);
    let from = app
        .accounts
        .iter()
        .find(|a| &a.record.id == account)
        .map(|a| format!("{} · {}", app.network_of(account), a.record.label))
        .unwrap_or_default();
    let mut card = column![text(t.title).size(18), text(from).size(12)].spacing(10);
    if !t.body.is_empty() {
        card = card.push(text(t.body).size(14));
    }
    if let PromptKind::CompareEmoji { emoji, .. } = &prompt.kind {
        card = card.push(emoji_row(emoji));
    }
    if let Some(detail) = t.detail {
        card = card.push(
            container(text(detail).size(15).font(Font::MONOSPACE))
                .padding(8)
                .style(container::rounded_box),
        );
    }
    if matches!(prompt.kind, PromptKind::SaveRecoveryKey { .. }) {
        card = card.push(
            button(text(fl!("prompt-copy")))
                .style(button::secondary)
                .on_press(Message::CopyPromptDetail),
        );
    }
    card = card.push(
        row![
            button(text(t.confirm))
                .style(button::primary)
                .on_press(Message::AnswerPrompt(PromptAnswer::Confirm)),
            button(text(t.reject))
                .style(button::secondary)
                .on_press(Message::AnswerPrompt(PromptAnswer::Reject)),
        ]
        .spacing(10),
    );
    if app.prompts.len() > 1 {
        let waiting = app.prompts.len() - 1;
        card = card.push(text(fl!("prompt-more", count = waiting)).size(12));
    }
    let dialog = container(card.padding(18).width(520)).style(container::bordered_box);
    let layer = opaque(container(dialog).center(Fill).style(|_| container::Style {
        background: Some(Color::from_rgba(0.0, 0.0, 0.0, 0.45).into()),
        ..container::Style::default()
    }));
    iced::widget::stack![base, layer].into()
}
