//! The main window: accounts and lists on the left, the chat on the right,
//! the route inspector beside the chat when open.

use crate::app::{App, ListFilter, Message, Screen};
use crate::{badge, fl, inspector, route, time};
use iced::keyboard::{Key, key::Named};
use iced::widget::{Space, button, column, container, row, rule, scrollable, text, text_editor};
use iced::{Alignment, Element, Fill, Length};
use koine_core::{AccountStatus, ConversationRecord};

/// The id of the composer (tests focus it).
pub const COMPOSER_ID: &str = "composer";
/// The id of the chat's message list.
pub const CHAT_ID: &str = "chat";

/// The whole window.
pub fn view(app: &App) -> Element<'_, Message> {
    let sidebar = container(sidebar(app)).width(320).height(Fill);
    let right = match &app.screen {
        Screen::Setup(_) => crate::account_setup::view(app),
        Screen::Settings => crate::settings_screen::view(app),
        Screen::People => crate::people_view::view(app),
        Screen::Chat if app.accounts.is_empty() && app.lists_loaded => crate::welcome::view(app),
        Screen::Chat => chat(app),
    };
    let right: Element<'_, Message> = match crate::notices::view(app) {
        Some(notices) => column![notices, right].into(),
        None => right,
    };
    let mut main = row![sidebar, rule::vertical(1), right].height(Fill);
    if app.inspector_open && app.screen == Screen::Chat {
        let net = app
            .current()
            .map(|c| app.network_of(&c.account))
            .unwrap_or_default();
        main = main.push(rule::vertical(1)).push(
            container(inspector::view(
                app.current_route(),
                &net,
                app.history_encrypted,
            ))
            .width(420)
            .height(Fill),
        );
    }
    let main = crate::composer_route::dialog(app, main.into());
    crate::prompts::view(app, crate::overlay::view(app, main))
}

fn sidebar(app: &App) -> Element<'_, Message> {
    let settings = button(text(fl!("settings-open")).size(13))
        .style(if app.screen == Screen::Settings {
            button::primary
        } else {
            button::secondary
        })
        .on_press(Message::ToggleSettings);
    let people = button(text(fl!("people-open")).size(13))
        .style(if app.screen == Screen::People {
            button::primary
        } else {
            button::secondary
        })
        .on_press(Message::People(crate::people_screen::Action::Toggle));
    let heading = row![
        text(fl!("accounts-heading")).size(18).width(Fill),
        people,
        settings
    ]
    .spacing(6)
    .align_y(Alignment::Center);
    let mut col = column![heading].spacing(6);
    if app.accounts.is_empty() {
        col = col.push(text(fl!("accounts-empty")).size(13));
    }
    col = col.push(
        button(text(fl!("setup-open")).size(13))
            .style(button::secondary)
            .on_press(Message::Setup(crate::account_setup::Action::Open)),
    );
    for account in &app.accounts {
        let (status, retry) = match &account.status {
            AccountStatus::Stopped => (fl!("account-stopped"), false),
            AccountStatus::Connecting => (fl!("account-connecting"), false),
            AccountStatus::Online { .. } => (fl!("account-online"), false),
            AccountStatus::Offline {
                reason,
                retry_in_ms,
            } => (
                fl!(
                    "account-offline",
                    reason = crate::status_reasons::text(reason),
                    seconds = retry_in_ms.div_ceil(1000)
                ),
                true,
            ),
            AccountStatus::Failed { reason } => (
                fl!(
                    "account-failed",
                    reason = crate::status_reasons::text(reason)
                ),
                true,
            ),
        };
        let mut line = row![
            badge::view(&account.record.protocol, 18.0),
            column![
                text(account.record.label.clone()).size(14),
                text(status).size(12),
            ]
            .width(Fill),
        ]
        .spacing(8)
        .align_y(Alignment::Center);
        if retry {
            line = line.push(
                button(text(fl!("account-retry")).size(12))
                    .on_press(Message::Retry(account.record.id.clone())),
            );
        }
        col = col.push(line);
    }

    col = col.push(rule::horizontal(1));
    col = col.push(text(fl!("inbox-heading")).size(18));
    col = col.push(filters(app));
    let inbox = app.visible_inbox();
    if inbox.is_empty() {
        col = col.push(text(fl!("inbox-empty")).size(13));
    }
    for c in inbox {
        col = col.push(conversation_row(app, c));
    }

    col = col.push(rule::horizontal(1));
    let requests = app.uncovered_requests();
    let count = requests.len() + app.inbox_requests.len();
    col = col.push(text(format!("{} ({count})", fl!("requests-heading"))).size(18));
    if count == 0 {
        col = col.push(text(fl!("requests-empty")).size(13));
    } else {
        col = col.push(text(fl!("requests-hint")).size(12));
    }
    col = col.push(crate::requests::cards(app));
    for c in requests {
        col = col.push(conversation_row(app, c));
    }
    scrollable(col.padding(10)).height(Fill).into()
}

/// The filter chips above the list: all, unread, one per network in use.
fn filters(app: &App) -> Element<'_, Message> {
    let chip = |label: String, filter: ListFilter| {
        let on = app.filter == filter;
        button(text(label).size(12))
            .padding([2, 8])
            .style(if on {
                button::primary
            } else {
                button::secondary
            })
            .on_press(Message::Filter(filter))
    };
    let mut chips = row![
        chip(fl!("filter-all"), ListFilter::All),
        chip(fl!("filter-unread"), ListFilter::Unread),
    ]
    .spacing(4);
    for p in app.account_networks() {
        let name = app
            .network_names
            .get(p)
            .cloned()
            .unwrap_or_else(|| p.to_string());
        chips = chips.push(chip(name, ListFilter::Network(p.clone())));
    }
    chips.wrap().into()
}

fn conversation_row<'a>(app: &'a App, c: &'a ConversationRecord) -> Element<'a, Message> {
    let mut title = row![text(app.title(c)).size(15).width(Fill)].spacing(6);
    if c.pinned {
        title = title.push(text(fl!("pinned-marker")).size(11));
    }
    title = title.push(text(time::activity(c.last_activity, app.now)).size(11));
    let mut second = match crate::preview::line(app, c) {
        Some(line) => row![
            text(line)
                .size(12)
                .width(Fill)
                .wrapping(iced::widget::text::Wrapping::None),
            text(app.network_of(&c.account)).size(11)
        ]
        .spacing(6),
        None => row![text(app.network_of(&c.account)).size(11).width(Fill)],
    };
    if c.unread > 0 {
        second = second.push(text(fl!("unread-count", count = c.unread)).size(11));
    }
    let badge = match app.protocol_of(&c.account) {
        Some(p) => badge::view(p, 22.0),
        None => Space::new().width(22).into(),
    };
    let dot = app
        .presence_of(c)
        .and_then(|(a, _)| crate::presence::dot(a));
    let badge: Element<'a, Message> = match dot {
        Some((glyph, colour)) => column![badge, text(glyph).size(10).color(colour)]
            .align_x(Alignment::Center)
            .into(),
        None => badge,
    };
    let content = row![badge, column![title, second].spacing(2)]
        .spacing(8)
        .align_y(Alignment::Center);
    let selected = app.selected == Some(c.id);
    button(content)
        .width(Fill)
        .style(if selected {
            button::primary
        } else {
            button::text
        })
        .on_press(Message::Select(c.id))
        .into()
}

fn chat(app: &App) -> Element<'_, Message> {
    let Some(c) = app.current() else {
        return container(text(fl!("chat-none-selected")))
            .center(Fill)
            .into();
    };
    let network = app.network_of(&c.account);
    let line = route::route_line(&network, app.current_route());
    let line = if route::is_end_to_end(app.current_route()) {
        text(line).size(13).style(text::success)
    } else {
        text(line).size(13).style(text::danger)
    };
    let mut titles = column![text(app.title(c)).size(20)].spacing(2);
    if let Some((availability, status)) = app.presence_of(c) {
        titles = titles.push(text(crate::presence::label(availability, status)).size(12));
    }
    let mut header = row![titles.push(line).width(Fill)];
    if app.jump_to.is_some() {
        header = header.push(
            button(text(fl!("chat-show-latest")).size(13))
                .style(button::secondary)
                .on_press(Message::ShowLatest),
        );
    }
    let header = header
        .push(button(text(fl!("route-details")).size(13)).on_press(Message::ToggleInspector))
        .spacing(8)
        .padding(10)
        .align_y(Alignment::Center);

    // Only the rows near the visible part are drawn (crate::history).
    let mut list = column![].padding(10);
    if app.messages.is_empty() {
        list = list.push(text(fl!("chat-empty")).size(13));
    }
    let rows = app.visible_rows();
    list = list.push(Space::new().height(rows.above));
    let mut last_day = rows
        .start
        .checked_sub(1)
        .and_then(|i| app.messages.get(i))
        .map(|m| time::day(m.timestamp));
    for m in app.messages.iter().take(rows.end).skip(rows.start) {
        let mut row_col = column![].spacing(6).padding(iced::Padding::ZERO.bottom(6));
        let d = time::day(m.timestamp);
        if last_day != Some(d) {
            last_day = Some(d);
            row_col = row_col.push(
                container(text(time::day_label(m.timestamp, app.now)).size(12)).center_x(Fill),
            );
        }
        list =
            list.push(row_col.push(crate::message_view::view(app, m, app.jump_to == Some(m.id))));
    }
    list = list.push(Space::new().height(rows.below));
    let messages = scrollable(list)
        .id(CHAT_ID)
        .anchor_bottom()
        .on_scroll(|v| {
            Message::ChatScrolled(crate::history::Scroll {
                from_bottom: v.absolute_offset().y,
                viewport: v.bounds().height,
                content: v.content_bounds().height,
            })
        })
        .height(Fill)
        .width(Fill);

    let mut bottom = column![].spacing(4).padding(10);
    if let Some(typing) = crate::preview::in_chat(app, c) {
        bottom = bottom.push(text(typing).size(12));
    }
    if let Some(error) = &app.error {
        bottom = bottom.push(text(error.clone()).style(text::danger).size(13));
    }
    if let Some(note) = crate::composer_route::sent_elsewhere(app) {
        bottom = bottom.push(note);
    }
    if let Some(bar) = crate::composer_route::bar(app) {
        bottom = bottom.push(bar);
    }
    if let Some(extras) = crate::message_view::composer_extras(app) {
        bottom = bottom.push(extras);
    }
    if c.read_only {
        bottom = bottom.push(text(fl!("chat-read-only")));
    } else {
        let editor = text_editor(&app.composer)
            .id(COMPOSER_ID)
            .placeholder(fl!("composer-placeholder"))
            .on_action(Message::Compose)
            .height(Length::Shrink)
            .key_binding(|press| {
                let enter = matches!(press.key, Key::Named(Named::Enter));
                if enter
                    && !press.modifiers.shift()
                    && matches!(press.status, text_editor::Status::Focused { .. })
                {
                    Some(text_editor::Binding::Custom(Message::Send))
                } else {
                    text_editor::Binding::from_key_press(press)
                }
            });
        bottom = bottom.push(
            row![
                button(text(fl!("composer-attach")))
                    .style(button::secondary)
                    .on_press_maybe(
                        (!app.compose.picking)
                            .then_some(Message::Act(crate::actions::Action::Attach))
                    ),
                editor,
                button(text(fl!("composer-send"))).on_press(Message::Send)
            ]
            .spacing(8)
            .align_y(Alignment::End),
        );
    }
    column![header, rule::horizontal(1), messages, bottom]
        .width(Fill)
        .height(Fill)
        .into()
}
