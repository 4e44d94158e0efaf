//! Route choice in the composer when the chat is with a known person: the
//! route a message will take (its protection), the other routes as a
//! picker, and a question before a downgrade ("Send by SMS? Your carrier
//! can read it" — once, always for this person, or cancel). A reply goes
//! back by the route the last message came from.

use crate::app::{App, Effect, Message};
use crate::fl;
use iced::widget::{button, column, container, opaque, row, text};
use iced::{Alignment, Color, Element, Fill};
use koine_api::{AccountId, Direction, Protection};
use koine_core::{DowngradeConsent, PersonId, RouteChoice, RouteOption, RouteSelection};

/// What the user did with the route of the composer.
#[derive(Debug, Clone)]
pub enum Action {
    /// The engine chose a route for the open chat's person.
    Chosen(PersonId, Option<Box<RouteChoice>>),
    /// The user picked the route through this account.
    Pick(AccountId),
    /// The downgrade question was answered (`None`: cancel).
    Consent(Option<DowngradeConsent>),
    /// The engine asked for consent after all (the text to send again).
    NeedsConsent(String),
}

/// A message waiting for the downgrade question.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// To whom.
    pub person: PersonId,
    /// By which route.
    pub selection: RouteSelection,
    /// The text.
    pub text: String,
}

/// The protection of a route, in words.
pub fn protection_words(o: &RouteOption) -> String {
    let mut words = match o.protection {
        Protection::EndToEndVerified => fl!("protection-e2e-verified"),
        Protection::EndToEndUnverified => fl!("protection-e2e-unverified"),
        Protection::TransportOnly => fl!("protection-transport"),
        Protection::Exposed => fl!("protection-exposed"),
    };
    if o.bridged {
        words = format!("{words}, {}", fl!("protection-bridged"));
    }
    if o.estimated {
        words = format!("{words} ({})", fl!("protection-estimated"));
    }
    words
}

impl App {
    /// The person the open chat is with, if the engine knows them.
    pub fn current_person(&self) -> Option<PersonId> {
        let c = self.current()?;
        if c.kind != koine_api::ConversationKind::Direct {
            return None;
        }
        let peer = c.peer.as_ref()?;
        self.person_ids
            .get(&koine_core::people::address_key(peer))
            .copied()
    }

    /// The selection for a new message in the open chat: back by the route
    /// the latest incoming message came by, else the best.
    pub(crate) fn default_selection(&self) -> RouteSelection {
        self.messages
            .iter()
            .rev()
            .find(|m| m.direction == Direction::Incoming)
            .map_or(RouteSelection::Best, |m| RouteSelection::CameBy(m.id))
    }

    /// Asks the engine for the route of the open chat (when with a person).
    pub(crate) fn refresh_route(&mut self) -> Vec<Effect> {
        match self.current_person() {
            Some(person) => {
                if self.route_picked.is_none() {
                    self.route_selection = self.default_selection();
                }
                vec![Effect::ChooseRoute(person, self.route_selection.clone())]
            }
            None => {
                self.route_choice = None;
                Vec::new()
            }
        }
    }

    /// Handles a route action.
    pub(crate) fn on_route(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Chosen(person, choice) => {
                if self.current_person() == Some(person) {
                    self.route_choice = choice.map(|c| *c);
                }
                Vec::new()
            }
            Action::Pick(account) => {
                self.route_picked = Some(account.clone());
                self.route_selection = RouteSelection::Via(account);
                self.refresh_route()
            }
            Action::Consent(answer) => {
                let Some(pending) = self.downgrade.take() else {
                    return Vec::new();
                };
                match answer {
                    Some(consent) => vec![Effect::SendToPerson {
                        person: pending.person,
                        selection: pending.selection,
                        text: pending.text,
                        consent,
                    }],
                    None => {
                        // Cancelled: the text goes back into the composer.
                        self.composer =
                            iced::widget::text_editor::Content::with_text(&pending.text);
                        Vec::new()
                    }
                }
            }
            Action::NeedsConsent(text) => {
                if let Some(person) = self.current_person() {
                    self.downgrade = Some(Pending {
                        person,
                        selection: self.route_selection.clone(),
                        text,
                    });
                }
                Vec::new()
            }
        }
    }

    /// A message to the person went out through `account` into
    /// `conversation`: when that is another route, the open chat says so.
    pub(crate) fn sent_to_person(
        &mut self,
        account: AccountId,
        conversation: Option<koine_core::ConversationId>,
    ) -> Vec<Effect> {
        self.sent_elsewhere = (conversation != self.selected
            || self.current().is_some_and(|c| c.account != account))
        .then(|| (self.network_of(&account), conversation));
        // The engine's event carried the queued message to the chat it went
        // to; the list is read for the chat's new place.
        vec![Effect::LoadLists]
    }

    /// Sending to a person: asks first when the route is a downgrade.
    pub(crate) fn send_to_person(&mut self, person: PersonId, text: String) -> Vec<Effect> {
        let selection = self.route_selection.clone();
        if self
            .route_choice
            .as_ref()
            .is_some_and(|c| c.needs_consent_for_downgrade)
        {
            self.downgrade = Some(Pending {
                person,
                selection,
                text,
            });
            return Vec::new();
        }
        vec![Effect::SendToPerson {
            person,
            selection,
            text,
            consent: DowngradeConsent::NotGiven,
        }]
    }
}

/// The route line over the composer: the chosen route and the others.
pub fn bar(app: &App) -> Option<Element<'_, Message>> {
    let choice = app.route_choice.as_ref()?;
    let chosen = &choice.chosen;
    let label = fl!(
        "compose-route",
        network = app.network_of(&chosen.account),
        protection = protection_words(chosen)
    );
    let label = if matches!(
        chosen.protection,
        Protection::EndToEndVerified | Protection::EndToEndUnverified
    ) && !chosen.bridged
    {
        text(label).size(12).style(text::success)
    } else {
        text(label).size(12).style(text::danger)
    };
    let mut line = row![label].spacing(6).align_y(Alignment::Center);
    if !choice.alternatives.is_empty() {
        line = line.push(text(fl!("compose-route-other")).size(12));
    }
    for o in &choice.alternatives {
        line = line.push(
            button(
                text(format!(
                    "{} · {}",
                    app.network_of(&o.account),
                    protection_words(o)
                ))
                .size(11),
            )
            .style(button::secondary)
            .padding([2, 6])
            .on_press(Message::Route(Action::Pick(o.account.clone()))),
        );
    }
    Some(line.wrap().into())
}

/// A note that the last message went to another route's chat.
pub fn sent_elsewhere(app: &App) -> Option<Element<'_, Message>> {
    let (network, conversation) = app.sent_elsewhere.as_ref()?;
    let mut line = row![text(fl!("compose-sent-elsewhere", network = network.clone())).size(12)]
        .spacing(8)
        .align_y(Alignment::Center);
    if let Some(id) = conversation {
        line = line.push(
            button(text(fl!("compose-open-that-chat")).size(11))
                .style(button::secondary)
                .padding([2, 6])
                .on_press(Message::Select(*id)),
        );
    }
    Some(line.into())
}

/// The downgrade question, over `base`.
pub fn dialog<'a>(app: &'a App, base: Element<'a, Message>) -> Element<'a, Message> {
    let (Some(_), Some(choice)) = (&app.downgrade, &app.route_choice) else {
        return base;
    };
    let chosen = &choice.chosen;
    let network = app.network_of(&chosen.account);
    let why = match chosen.protection {
        Protection::Exposed => fl!("downgrade-exposed"),
        Protection::TransportOnly => fl!("downgrade-transport"),
        _ if chosen.bridged => fl!("downgrade-bridged"),
        _ => fl!("downgrade-unverified"),
    };
    let name = app.current().map(|c| app.title(c)).unwrap_or_default();
    let card = column![
        text(fl!("downgrade-title", network = network.clone())).size(18),
        text(why).size(14),
        row![
            button(text(fl!("downgrade-once")))
                .style(button::primary)
                .on_press(Message::Route(Action::Consent(Some(
                    DowngradeConsent::Once
                )))),
            button(text(fl!("downgrade-always", name = name)))
                .style(button::secondary)
                .on_press(Message::Route(Action::Consent(Some(
                    DowngradeConsent::Always
                )))),
            button(text(fl!("downgrade-cancel")))
                .style(button::secondary)
                .on_press(Message::Route(Action::Consent(None))),
        ]
        .spacing(10),
    ]
    .spacing(12)
    .padding(18)
    .width(520);
    let layer = opaque(
        container(container(card).style(container::bordered_box))
            .center(Fill)
            .style(|_| container::Style {
                background: Some(Color::from_rgba(0.0, 0.0, 0.0, 0.45).into()),
                ..container::Style::default()
            }),
    );
    iced::widget::stack![base, layer].into()
}
