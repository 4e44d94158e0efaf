//! Adding an account: the form is built from the fields the network's plugin
//! declares (`ProtocolInfo::account_fields`), checked in place, and handed
//! to the engine's `add_account` (the password goes to the keyring there,
//! never into the settings).

use crate::app::{App, Effect, Message, Screen};
use crate::fl;
use iced::widget::{Column, button, column, container, row, scrollable, text, text_input};
use iced::{Alignment, Element, Fill};
use koine_api::{AccountField, FieldKind, Label, ProtocolId, ProtocolInfo, Secret, Settings};
use koine_core::AccountRecord;
use std::collections::BTreeMap;

/// The open form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Setup {
    /// The chosen network.
    pub protocol: Option<ProtocolId>,
    /// What was typed, by settings key.
    pub values: BTreeMap<String, String>,
    /// What is wrong with a field, by settings key.
    pub errors: BTreeMap<String, String>,
    /// Why the engine refused the account.
    pub failure: Option<String>,
    /// Waiting for the engine.
    pub busy: bool,
}

/// What the user did in the form, or the engine's answer.
#[derive(Debug, Clone)]
pub enum Action {
    /// Open the form.
    Open,
    /// Close it.
    Close,
    /// Choose the network.
    Network(ProtocolId),
    /// A field changed.
    Field(String, String),
    /// Add the account.
    Submit,
    /// The engine added it, or said why not.
    Added(Result<AccountRecord, String>),
}

/// The id of a field's text input (tests type into it).
pub fn input_id(key: &str) -> String {
    format!("setup-{key}")
}

/// A plugin's label in the window's language (see [`crate::faces`]).
pub fn label_text(label: &Label) -> String {
    crate::faces::label(label)
}

fn initial_value(field: &AccountField) -> String {
    match &field.kind {
        FieldKind::Choice(choices) => field
            .default
            .clone()
            .or_else(|| choices.first().cloned())
            .unwrap_or_default(),
        FieldKind::Toggle => field.default.clone().unwrap_or_else(|| "false".into()),
        _ => String::new(),
    }
}

impl App {
    fn setup_info(&self) -> Option<&ProtocolInfo> {
        let id = self.setup()?.protocol.as_ref()?;
        self.protocols.iter().find(|p| &p.id == id)
    }

    /// Handles the form.
    pub(crate) fn on_setup(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Open => {
                self.inspector_open = false;
                self.screen = Screen::Setup(Setup::default());
                Vec::new()
            }
            Action::Close => {
                self.screen = Screen::Chat;
                Vec::new()
            }
            Action::Network(id) => {
                let values = self
                    .protocols
                    .iter()
                    .find(|p| p.id == id)
                    .map(|p| {
                        p.account_fields
                            .iter()
                            .map(|f| (f.key.clone(), initial_value(f)))
                            .collect()
                    })
                    .unwrap_or_default();
                self.screen = Screen::Setup(Setup {
                    protocol: Some(id),
                    values,
                    ..Setup::default()
                });
                Vec::new()
            }
            Action::Field(key, value) => {
                if let Some(s) = self.setup_mut() {
                    s.errors.remove(&key);
                    s.values.insert(key, value);
                }
                Vec::new()
            }
            Action::Submit => self.submit_setup(),
            Action::Added(Ok(record)) => {
                self.screen = Screen::Chat;
                vec![Effect::LoadLists, Effect::Retry(record.id)]
            }
            Action::Added(Err(reason)) => {
                if let Some(s) = self.setup_mut() {
                    s.busy = false;
                    s.failure = Some(fl!("setup-failed", reason = reason));
                }
                Vec::new()
            }
        }
    }

    fn submit_setup(&mut self) -> Vec<Effect> {
        let Some(info) = self.setup_info().cloned() else {
            return Vec::new();
        };
        let Some(setup) = self.setup_mut() else {
            return Vec::new();
        };
        if setup.busy {
            return Vec::new();
        }
        setup.errors.clear();
        setup.failure = None;
        let mut settings = Settings::default();
        let mut secret = None;
        let mut label = None;
        for field in &info.account_fields {
            let value = setup
                .values
                .get(&field.key)
                .map(|v| v.trim().to_owned())
                .unwrap_or_default();
            if value.is_empty() {
                if field.required && field.default.is_none() {
                    setup
                        .errors
                        .insert(field.key.clone(), fl!("setup-required"));
                }
                continue;
            }
            if field.kind == FieldKind::Number && value.parse::<i64>().is_err() {
                setup
                    .errors
                    .insert(field.key.clone(), fl!("setup-not-a-number"));
                continue;
            }
            if field.kind == FieldKind::Secret {
                secret.get_or_insert_with(|| Secret::new(value));
                continue;
            }
            if field.label.id == info.account_label.id || (label.is_none() && field.required) {
                label = Some(value.clone());
            }
            settings.set(field.key.clone(), value);
        }
        if !setup.errors.is_empty() {
            return Vec::new();
        }
        setup.busy = true;
        // The password leaves the form's memory with the request.
        for field in &info.account_fields {
            if field.kind == FieldKind::Secret {
                setup.values.insert(field.key.clone(), String::new());
            }
        }
        vec![Effect::AddAccount {
            protocol: info.id.clone(),
            label: label.unwrap_or_else(|| info.name.clone()),
            settings,
            secret,
        }]
    }
}

fn field_view<'a>(field: &'a AccountField, setup: &'a Setup) -> Column<'a, Message> {
    let mut name = label_text(&field.label);
    if field.required && field.default.is_none() {
        name.push_str(" *");
    }
    let value = setup.values.get(&field.key).cloned().unwrap_or_default();
    let key = field.key.clone();
    let input: Element<'a, Message> = match &field.kind {
        FieldKind::Choice(choices) => choice_row(choices.clone(), &value, &field.key),
        FieldKind::Toggle => choice_row(vec!["true".into(), "false".into()], &value, &field.key),
        kind => text_input(field.default.as_deref().unwrap_or(""), &value)
            .id(input_id(&field.key))
            .secure(*kind == FieldKind::Secret)
            .on_input(move |v| Message::Setup(Action::Field(key.clone(), v)))
            .on_submit(Message::Setup(Action::Submit))
            .padding(6)
            .into(),
    };
    let mut col = column![text(name).size(13), input].spacing(4);
    if let Some(error) = setup.errors.get(&field.key) {
        col = col.push(text(error.clone()).size(12).style(text::danger));
    }
    col
}

fn choice_row<'a>(choices: Vec<String>, value: &str, key: &str) -> Element<'a, Message> {
    let mut line = row![].spacing(6);
    for choice in choices {
        let style = if choice == value {
            button::primary
        } else {
            button::secondary
        };
        let message = Message::Setup(Action::Field(key.to_owned(), choice.clone()));
        line = line.push(button(text(choice).size(13)).style(style).on_press(message));
    }
    line.into()
}

/// The form, in place of the chat.
pub fn view(app: &App) -> Element<'_, Message> {
    let Some(setup) = app.setup() else {
        return column![].into();
    };
    let header = row![
        text(fl!("setup-title")).size(20).width(Fill),
        button(text(fl!("setup-cancel")).size(13)).on_press(Message::Setup(Action::Close)),
    ]
    .align_y(Alignment::Center);
    let mut body = column![header, text(fl!("setup-network")).size(14)]
        .spacing(14)
        .padding(16);
    let mut networks = row![].spacing(6);
    for p in &app.protocols {
        let chosen = setup.protocol.as_ref() == Some(&p.id);
        networks = networks.push(
            button(text(p.name.clone()).size(13))
                .style(if chosen {
                    button::primary
                } else {
                    button::secondary
                })
                .on_press(Message::Setup(Action::Network(p.id.clone()))),
        );
    }
    body = body.push(networks);
    if let Some(failure) = &setup.failure {
        body = body.push(text(failure.clone()).size(13).style(text::danger));
    }
    if let Some(info) = app.setup_info() {
        for field in &info.account_fields {
            body = body.push(field_view(field, setup));
        }
        body = body.push(text(fl!("setup-keyring-note")).size(12));
        let add = button(text(if setup.busy {
            fl!("setup-adding")
        } else {
            fl!("setup-add")
        }))
        .style(button::primary)
        .on_press_maybe((!setup.busy).then_some(Message::Setup(Action::Submit)));
        body = body.push(add);
    }
    container(scrollable(body)).width(Fill).height(Fill).into()
}
