//! What plugins report for the user to see (`EngineEvent::Notice`): shown
//! above the chat, newest last, each with the account it concerns, until
//! closed. Progress (history sync, uploads) updates one line in place and
//! goes when done.

use crate::app::{App, Message};
use crate::fl;
use iced::widget::{button, column, container, progress_bar, row, text};
use iced::{Alignment, Element, Fill};
use koine_api::{AccountId, InputSource, Notice};

/// At most this many notices are kept; older ones drop off.
pub const KEEP: usize = 4;

/// One notice on screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    /// The account it concerns.
    pub account: AccountId,
    /// "Network · account".
    pub source: String,
    /// What happened, translated.
    pub text: String,
    /// For progress: the task, and how far along (0 to 1) when known.
    pub progress: Option<(String, Option<f32>)>,
    /// Whether it is a problem (drawn as one).
    pub problem: bool,
}

/// The notices on screen.
#[derive(Debug, Default)]
pub struct Notices {
    /// Oldest first.
    pub shown: Vec<Shown>,
}

impl Notices {
    /// Closes the notice at `index`.
    pub fn dismiss(&mut self, index: usize) {
        if index < self.shown.len() {
            self.shown.remove(index);
        }
    }

    fn add(&mut self, shown: Shown) {
        if let Some((task, _)) = &shown.progress {
            let same = |s: &Shown| {
                s.account == shown.account && s.progress.as_ref().is_some_and(|(t, _)| t == task)
            };
            if let Some(existing) = self.shown.iter_mut().find(|s| same(s)) {
                *existing = shown;
                return;
            }
        } else if self
            .shown
            .iter()
            .any(|s| s.account == shown.account && s.text == shown.text)
        {
            return;
        }
        self.shown.push(shown);
        if self.shown.len() > KEEP {
            self.shown.remove(0);
        }
    }

    fn finish(&mut self, account: &AccountId, task: &str) {
        self.shown.retain(|s| {
            !(&s.account == account && s.progress.as_ref().is_some_and(|(t, _)| t == task))
        });
    }
}

impl App {
    /// A notice from an account's plugin.
    pub(crate) fn notice(&mut self, account: AccountId, notice: Notice) {
        if let Notice::Progress { task, done, total } = &notice
            && total.is_some_and(|t| *done >= t)
        {
            self.notices.finish(&account, task);
            return;
        }
        let label = self
            .accounts
            .iter()
            .find(|a| a.record.id == account)
            .map(|a| a.record.label.clone())
            .unwrap_or_else(|| account.to_string());
        let source = format!("{} · {label}", self.network_of(&account));
        let progress = match &notice {
            Notice::Progress { task, done, total } => Some((
                task.clone(),
                total.filter(|t| *t > 0).map(|t| *done as f32 / t as f32),
            )),
            _ => None,
        };
        self.notices.add(Shown {
            account,
            source,
            text: describe(&notice),
            problem: progress.is_none() && !matches!(notice, Notice::PrekeysLow { .. }),
            progress,
        });
    }
}

/// A notice in the user's language.
pub fn describe(notice: &Notice) -> String {
    match notice {
        Notice::MalformedInput { source, .. } => {
            let from = match source {
                InputSource::Server => "server",
                InputSource::Peer => "peer",
                InputSource::Device => "device",
                InputSource::File => "file",
            };
            fl!("notice-malformed-input", source = from)
        }
        Notice::PluginFailed { .. } => fl!("notice-plugin-failed"),
        Notice::IdentityKeyChanged { contact } => {
            fl!("notice-identity-key-changed", contact = contact.to_string())
        }
        Notice::RecipientNotOptedIn { contact } => {
            fl!(
                "notice-recipient-not-opted-in",
                contact = contact.to_string()
            )
        }
        Notice::ChatReadOnly { contact } => {
            fl!("notice-chat-read-only", contact = contact.to_string())
        }
        Notice::RateLimited { retry_after_ms } => match retry_after_ms {
            Some(ms) => fl!("notice-rate-limited-for", seconds = ms.div_ceil(1000)),
            None => fl!("notice-rate-limited"),
        },
        Notice::CertificateRejected { host, reason } => fl!(
            "notice-certificate-rejected",
            host = host.clone(),
            reason = reason.clone()
        ),
        Notice::PrekeysLow { remaining } => fl!("notice-prekeys-low", remaining = remaining),
        Notice::DeviceUnreachable { device } => {
            fl!("notice-device-unreachable", device = device.clone())
        }
        Notice::AttachmentTooLarge { max_bytes } => fl!(
            "notice-attachment-too-large",
            max = crate::actions::human_size(*max_bytes)
        ),
        Notice::Unsupported { feature } => {
            fl!("notice-unsupported", feature = feature.clone())
        }
        Notice::Progress { task, done, total } => {
            let what = match task.as_str() {
                "history-sync" => fl!("notice-task-history-sync"),
                "upload" => fl!("notice-task-upload"),
                other => other.to_owned(),
            };
            match total {
                Some(total) => fl!(
                    "notice-progress-of",
                    task = what,
                    done = done,
                    total = total
                ),
                None => fl!("notice-progress", task = what, done = done),
            }
        }
        _ => fl!("notice-other"),
    }
}

/// The notices, above the chat; nothing when there are none.
pub fn view(app: &App) -> Option<Element<'_, Message>> {
    if app.notices.shown.is_empty() {
        return None;
    }
    let mut list = column![].spacing(4);
    for (i, n) in app.notices.shown.iter().enumerate() {
        let mut body = column![
            text(n.source.clone()).size(11),
            text(n.text.clone()).size(13)
        ]
        .spacing(2)
        .width(Fill);
        if let Some((_, Some(fraction))) = n.progress {
            body = body.push(progress_bar(0.0..=1.0, fraction).girth(6));
        }
        let close = button(text("✕").size(12))
            .style(button::text)
            .on_press(Message::DismissNotice(i));
        let line = row![body, close].spacing(8).align_y(Alignment::Center);
        let problem = n.problem;
        list = list.push(container(line).padding(6).width(Fill).style(
            move |theme: &iced::Theme| {
                if problem {
                    container::danger(theme)
                } else {
                    container::rounded_box(theme)
                }
            },
        ));
    }
    Some(container(list).padding([4, 10]).into())
}
