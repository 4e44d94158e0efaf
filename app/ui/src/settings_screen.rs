//! The settings screen: theme, text size, language, notifications and what
//! to do with strangers on each network. Every change is applied at once
//! and saved (the shell writes the file in a task).

use crate::app::{App, Effect, Message};
use crate::fl;
use crate::settings::{FONT_SCALES, LanguageChoice, Loaded, ThemeChoice};
use iced::widget::{Column, Row, button, column, container, row, rule, scrollable, text};
use iced::{Alignment, Element, Fill};
use koine_api::ProtocolId;
use koine_core::StrangerPolicy;

/// One change made on the settings screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// The colour scheme.
    Theme(ThemeChoice),
    /// The text size.
    FontScale(f32),
    /// The language.
    Language(LanguageChoice),
    /// Desktop notifications on or off.
    Notifications(bool),
    /// Who may reach you directly on one network (the engine keeps it).
    Strangers(ProtocolId, StrangerPolicy),
}

impl App {
    /// Takes the settings read from the file.
    pub(crate) fn settings_loaded(&mut self, loaded: Loaded) {
        self.settings_notice = match (&loaded.error, loaded.unknown.is_empty()) {
            (Some(reason), _) => Some(fl!("settings-file-broken", reason = reason.clone())),
            (None, false) => Some(fl!(
                "settings-unknown-keys",
                keys = loaded.unknown.join(", ")
            )),
            (None, true) => None,
        };
        self.settings = loaded.settings;
        self.apply_language();
    }

    /// Applies one change and asks for the file to be written.
    pub(crate) fn change_setting(&mut self, change: Change) -> Vec<Effect> {
        match change {
            Change::Theme(theme) => {
                self.settings.theme = theme;
                self.theme_override = None;
            }
            Change::FontScale(scale) => self.settings.font_scale = scale,
            Change::Language(language) => {
                self.settings.language = language;
                self.language_override = None;
                self.apply_language();
            }
            Change::Notifications(on) => self.settings.notifications = on,
            Change::Strangers(protocol, policy) => {
                self.stranger_policies.insert(protocol.clone(), policy);
                return vec![Effect::SetStrangerPolicy(protocol, policy)];
            }
        }
        vec![Effect::SaveSettings(self.settings.clone())]
    }

    fn apply_language(&self) {
        let wanted = self
            .language_override
            .as_deref()
            .or(self.settings.language.code());
        crate::i18n::set_language(crate::i18n::choose_language(wanted));
    }
}

/// A row of buttons, the chosen one highlighted.
fn choices<'a, T: Copy + PartialEq + 'a>(
    all: impl IntoIterator<Item = T>,
    chosen: T,
    label: impl Fn(T) -> String,
    message: impl Fn(T) -> Message,
) -> Row<'a, Message> {
    let mut line = row![].spacing(6);
    for value in all {
        let style = if value == chosen {
            button::primary
        } else {
            button::secondary
        };
        line = line.push(
            button(text(label(value)).size(13))
                .style(style)
                .on_press(message(value)),
        );
    }
    line
}

fn section<'a>(title: String, body: impl Into<Element<'a, Message>>) -> Column<'a, Message> {
    column![text(title).size(16), body.into()].spacing(6)
}

fn theme_label(t: ThemeChoice) -> String {
    match t {
        ThemeChoice::System => fl!("theme-system"),
        ThemeChoice::Light => fl!("theme-light"),
        ThemeChoice::Dark => fl!("theme-dark"),
        ThemeChoice::HighContrast => fl!("theme-high-contrast"),
    }
}

fn language_label(l: LanguageChoice) -> String {
    match l {
        LanguageChoice::System => fl!("language-system"),
        LanguageChoice::English => fl!("language-en"),
        LanguageChoice::French => fl!("language-fr"),
    }
}

/// The engine's choices, in the order the screen shows them.
const POLICIES: [StrangerPolicy; 3] = [
    StrangerPolicy::Contacts,
    StrangerPolicy::SharedRoom,
    StrangerPolicy::Anyone,
];

fn policy_label(p: StrangerPolicy) -> String {
    match p {
        StrangerPolicy::Contacts => fl!("stranger-contacts"),
        StrangerPolicy::SharedRoom => fl!("stranger-shared-room"),
        StrangerPolicy::Anyone => fl!("stranger-anyone"),
    }
}

/// The screen, in place of the chat.
pub fn view(app: &App) -> Element<'_, Message> {
    let s = &app.settings;
    let header = row![
        text(fl!("settings-title")).size(20).width(Fill),
        button(text(fl!("settings-close")).size(13)).on_press(Message::ToggleSettings),
    ]
    .align_y(Alignment::Center);
    let mut body = column![header].spacing(18).padding(16);
    if let Some(notice) = &app.settings_notice {
        body = body.push(text(notice.clone()).size(13).style(text::danger));
    }
    let theme = app.theme_override.unwrap_or(s.theme);
    body = body.push(section(
        fl!("settings-theme"),
        choices(ThemeChoice::ALL, theme, theme_label, |t| {
            Message::Setting(Change::Theme(t))
        }),
    ));
    body = body.push(section(
        fl!("settings-font-scale"),
        choices(
            FONT_SCALES,
            s.font_scale,
            |f| fl!("font-scale-percent", percent = ((f * 100.0).round() as i64)),
            |f| Message::Setting(Change::FontScale(f)),
        ),
    ));
    body = body.push(section(
        fl!("settings-language"),
        choices(LanguageChoice::ALL, s.language, language_label, |l| {
            Message::Setting(Change::Language(l))
        }),
    ));
    body = body.push(section(
        fl!("settings-notifications"),
        choices(
            [true, false],
            s.notifications,
            |on| {
                if on {
                    fl!("settings-on")
                } else {
                    fl!("settings-off")
                }
            },
            |on| Message::Setting(Change::Notifications(on)),
        ),
    ));
    body = body.push(rule::horizontal(1));
    let mut networks: Vec<(&ProtocolId, &String)> = app.network_names.iter().collect();
    networks.sort_by(|a, b| a.1.cmp(b.1));
    let mut strangers = column![text(fl!("settings-strangers-hint")).size(13)].spacing(8);
    for (protocol, name) in networks {
        let id = protocol.clone();
        strangers = strangers.push(
            row![
                text(name.clone()).size(14).width(160),
                choices(
                    POLICIES,
                    app.stranger_policies
                        .get(protocol)
                        .copied()
                        .unwrap_or_default(),
                    policy_label,
                    move |p| Message::Setting(Change::Strangers(id.clone(), p)),
                ),
            ]
            .spacing(8)
            .align_y(Alignment::Center),
        );
    }
    body = body.push(section(fl!("settings-strangers"), strangers));
    body = body.push(section(fl!("blocked-title"), crate::blocked::list(app)));
    container(scrollable(body)).width(Fill).height(Fill).into()
}
