//! How the People screen looks: suggestions, the list with addresses and
//! their network badges, the person's history with route lines (the state
//! and its update are in [`crate::people_screen`]).

use crate::app::{App, Message};
use crate::people_screen::Action;
use crate::{badge, fl, route, time};
use iced::widget::{
    Column, button, checkbox, column, container, row, rule, scrollable, text, text_input,
};
use iced::{Alignment, Element, Fill};
use koine_api::Direction;
use koine_core::people::SuggestionReason;
use koine_core::{Person, PersonId, Strength, Suggestion};

/// Why a suggestion is made, in words.
pub fn reason_text(reason: &SuggestionReason) -> String {
    match reason {
        SuggestionReason::SamePhoneNumber(v) => fl!("suggest-same-number", value = v.clone()),
        SuggestionReason::SameAddress(v) => fl!("suggest-same-address", value = v.clone()),
        SuggestionReason::InProfile(v) => fl!("suggest-in-profile", value = v.clone()),
        SuggestionReason::TypedByYou(v) => fl!("suggest-typed", value = v.clone()),
        SuggestionReason::InAddressBook(v) => fl!("suggest-address-book", value = v.clone()),
        SuggestionReason::SameDisplayName(v) => fl!("suggest-same-name", value = v.clone()),
        _ => fl!("suggest-other"),
    }
}

fn suggestion_row<'a>(app: &'a App, s: &'a Suggestion) -> Element<'a, Message> {
    let (label, style): (String, fn(&iced::Theme) -> text::Style) = match s.strength {
        Strength::Strong => (fl!("suggest-strong"), text::success),
        Strength::Weak => (fl!("suggest-weak"), text::warning),
    };
    let names = fl!(
        "suggest-pair",
        a = app.person_name(s.a),
        b = app.person_name(s.b)
    );
    container(
        column![
            row![text(label).size(12).style(style), text(names).size(14)].spacing(8),
            text(reason_text(&s.reason)).size(12),
            row![
                button(text(fl!("suggest-merge")).size(12))
                    .style(button::primary)
                    .on_press(Message::People(Action::MergeSuggested(s.a, s.b))),
                button(text(fl!("suggest-dismiss")).size(12))
                    .style(button::secondary)
                    .on_press(Message::People(Action::Dismiss(s.a, s.b))),
            ]
            .spacing(6),
        ]
        .spacing(4),
    )
    .padding(8)
    .width(Fill)
    .style(container::bordered_box)
    .into()
}

fn person_row<'a>(app: &'a App, p: &'a Person) -> Element<'a, Message> {
    let picked = app.people.picked.contains(&p.id);
    let id = p.id;
    let name: Element<'a, Message> = match &app.people.renaming {
        Some((who, typed)) if *who == id => row![
            text_input(&fl!("people-rename-placeholder"), typed)
                .on_input(|s| Message::People(Action::RenameText(s)))
                .on_submit(Message::People(Action::SaveRename))
                .size(14)
                .width(Fill),
            button(text(fl!("people-rename-save")).size(12))
                .on_press(Message::People(Action::SaveRename)),
        ]
        .spacing(6)
        .width(Fill)
        .into(),
        _ => row![
            text(p.name.clone()).size(15).width(Fill),
            button(text(fl!("people-rename")).size(12))
                .style(button::text)
                .on_press(Message::People(Action::StartRename(id))),
        ]
        .align_y(Alignment::Center)
        .width(Fill)
        .into(),
    };
    let mut col = column![
        row![
            checkbox(picked).on_toggle(move |on| Message::People(Action::Pick(id, on))),
            name,
            button(text(fl!("people-history")).size(12))
                .style(button::secondary)
                .on_press(Message::People(Action::OpenPerson(id))),
        ]
        .spacing(8)
        .align_y(Alignment::Center)
    ]
    .spacing(3);
    for a in &p.addresses {
        let (badge, network) = match a.account.as_ref().and_then(|acc| app.protocol_of(acc)) {
            Some(protocol) => (
                badge::view(protocol, 16.0),
                a.account
                    .as_ref()
                    .map(|acc| app.network_of(acc))
                    .unwrap_or_default(),
            ),
            None => (
                iced::widget::Space::new().width(16).into(),
                fl!("people-no-account"),
            ),
        };
        let mut line = row![
            badge,
            text(format!("{} · {network}", a.address))
                .size(12)
                .width(Fill)
        ]
        .spacing(6)
        .align_y(Alignment::Center);
        if p.addresses.len() > 1 {
            line = line.push(
                button(text(fl!("people-split")).size(11))
                    .style(button::text)
                    .on_press(Message::People(Action::Split(
                        id,
                        a.account.clone(),
                        a.address.clone(),
                    ))),
            );
        }
        col = col.push(line.padding(iced::Padding::ZERO.left(28)));
    }
    let add: Element<'a, Message> = match &app.people.adding {
        Some(adding) if adding.person == id => add_form(app, adding),
        _ => button(text(fl!("people-add-address")).size(11))
            .style(button::text)
            .on_press(Message::People(Action::StartAdd(id)))
            .into(),
    };
    col.push(container(add).padding(iced::Padding::ZERO.left(28)))
        .into()
}

/// Typing an address for a person, and the account that reaches it.
fn add_form<'a>(app: &'a App, adding: &'a crate::people_screen::Adding) -> Element<'a, Message> {
    let mut accounts = row![text(fl!("people-add-reached-by")).size(11)]
        .spacing(4)
        .align_y(Alignment::Center);
    for a in &app.accounts {
        let chosen = adding.account.as_ref() == Some(&a.record.id);
        accounts = accounts.push(
            button(
                text(format!(
                    "{} · {}",
                    app.network_of(&a.record.id),
                    a.record.label
                ))
                .size(11),
            )
            .padding([2, 6])
            .style(if chosen {
                button::primary
            } else {
                button::secondary
            })
            .on_press(Message::People(Action::AddAccount(a.record.id.clone()))),
        );
    }
    column![
        row![
            text_input(&fl!("people-add-placeholder"), &adding.text)
                .on_input(|s| Message::People(Action::AddText(s)))
                .on_submit(Message::People(Action::SaveAdd))
                .size(13)
                .width(Fill),
            button(text(fl!("people-add-save")).size(12))
                .on_press(Message::People(Action::SaveAdd)),
        ]
        .spacing(6),
        accounts.wrap(),
    ]
    .spacing(4)
    .into()
}

fn history<'a>(app: &'a App, id: PersonId) -> Element<'a, Message> {
    let mut col = Column::new().spacing(8).push(
        row![
            text(fl!("people-history-title", name = app.person_name(id)))
                .size(18)
                .width(Fill),
            button(text(fl!("people-history-close")).size(12))
                .style(button::secondary)
                .on_press(Message::People(Action::CloseHistory)),
        ]
        .align_y(Alignment::Center),
    );
    if app.people.history.is_empty() {
        col = col.push(text(fl!("people-history-empty")).size(13));
    }
    for pm in &app.people.history {
        let m = &pm.message;
        let network = app
            .network_names
            .get(&pm.protocol)
            .cloned()
            .unwrap_or_else(|| pm.protocol.to_string());
        let who = if m.direction == Direction::Outgoing {
            fl!("people-history-you")
        } else {
            m.sender_name
                .clone()
                .unwrap_or_else(|| m.sender.to_string())
        };
        let line = route::route_line(&network, m.route.as_ref());
        let line = if route::is_end_to_end(m.route.as_ref()) {
            text(line).size(11).style(text::success)
        } else {
            text(line).size(11).style(text::danger)
        };
        col = col.push(
            row![
                badge::view(&pm.protocol, 18.0),
                column![
                    text(format!("{who} · {}", time::activity(m.timestamp, app.now))).size(12),
                    text(m.content.text.clone()).size(14),
                    line,
                ]
                .spacing(2)
                .width(Fill),
            ]
            .spacing(8),
        );
    }
    scrollable(col.padding(10)).height(Fill).width(Fill).into()
}

/// The People screen (right of the sidebar).
pub fn view(app: &App) -> Element<'_, Message> {
    let p = &app.people;
    let mut top = row![text(fl!("people-title")).size(22).width(Fill)]
        .spacing(8)
        .align_y(Alignment::Center);
    if p.can_undo {
        top = top.push(
            button(text(fl!("people-undo")).size(13))
                .style(button::primary)
                .on_press(Message::People(Action::Undo)),
        );
    }
    let merge = if p.picked.len() >= 2 {
        button(text(fl!("people-merge-picked", count = p.picked.len())).size(13))
            .style(button::primary)
            .on_press(Message::People(Action::MergePicked))
    } else {
        button(text(fl!("people-pick-to-merge")).size(13)).style(button::secondary)
    };
    top = top.push(merge);
    let vcard = row![
        button(text(fl!("people-import")).size(13)).on_press(Message::People(Action::Import)),
        button(text(fl!("people-export")).size(13)).on_press(Message::People(Action::Export)),
        text(fl!("people-drop-hint")).size(12),
    ]
    .spacing(6)
    .align_y(Alignment::Center);
    let mut col = column![top, vcard].spacing(10);
    if let Some(notice) = &p.notice {
        col = col.push(text(notice.clone()).size(13));
    }
    if !p.suggestions.is_empty() {
        col = col.push(text(fl!("suggest-heading")).size(17));
        for s in &p.suggestions {
            col = col.push(suggestion_row(app, s));
        }
    }
    col = col.push(rule::horizontal(1));
    if p.list.is_empty() {
        col = col.push(text(fl!("people-empty")).size(13));
    }
    for person in &p.list {
        col = col.push(person_row(app, person));
    }
    let list = scrollable(col.padding(10)).height(Fill).width(Fill);
    match p.open {
        Some(id) => row![
            container(list).width(Fill),
            rule::vertical(1),
            container(history(app, id)).width(Fill)
        ]
        .height(Fill)
        .into(),
        None => list.into(),
    }
}
