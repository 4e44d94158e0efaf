//! The two keyboard panels over the window: the quick switcher (Ctrl+K,
//! fuzzy over conversation titles) and the search across all history
//! (Ctrl+F, the engine's full-text search; a result opens its chat at the
//! message). Arrows choose, Enter opens, Esc closes.

use crate::app::{App, Effect, Message};
use crate::fl;
use iced::widget::{Column, button, column, container, mouse_area, opaque, text, text_input};
use iced::{Color, Element, Fill};
use koine_core::{ConversationId, ConversationRecord, MessageId, SearchHit};

/// The id of the panel's text field (focused when it opens).
pub const INPUT_ID: &str = "overlay-input";
/// How many results a panel lists.
const LIMIT: usize = 12;

/// Which panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Ctrl+K: go to a conversation.
    Switcher,
    /// Ctrl+F: search all messages.
    Search,
}

/// An open panel.
#[derive(Debug, Clone)]
pub struct Overlay {
    /// Which one.
    pub kind: Kind,
    /// What was typed.
    pub query: String,
    /// The highlighted result.
    pub selected: usize,
    /// Search results for [`Overlay::query`] (search only).
    pub hits: Vec<SearchHit>,
}

/// What the user did in a panel.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Open the quick switcher.
    OpenSwitcher,
    /// Open the search.
    OpenSearch,
    /// The text changed.
    Query(String),
    /// Arrow up (-1) or down (+1).
    Move(i32),
    /// Enter: open the highlighted result.
    Confirm,
    /// A click on a result.
    Pick(usize),
    /// Close the panel.
    Close,
}

/// Lower case without the accents of Latin letters, for matching.
fn fold(c: char) -> char {
    let c = c.to_lowercase().next().unwrap_or(c);
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        other => other,
    }
}

/// How well `query` matches `title`: every letter of the query in order,
/// ignoring case, accents and spaces; consecutive letters and word starts
/// score higher. `None` when it does not match.
pub fn fuzzy_score(query: &str, title: &str) -> Option<i32> {
    let title: Vec<char> = title.chars().map(fold).collect();
    let mut score = 0;
    let mut at = 0;
    let mut last: Option<usize> = None;
    for q in query.chars().filter(|c| !c.is_whitespace()).map(fold) {
        let found = (at..title.len()).find(|&i| title[i] == q)?;
        score += 1;
        if found == 0 || !title[found - 1].is_alphanumeric() {
            score += 8;
        }
        match last {
            Some(l) if l + 1 == found => score += 5,
            Some(l) => score -= (found - l - 1).min(5) as i32,
            None => score -= found.min(5) as i32,
        }
        last = Some(found);
        at = found + 1;
    }
    Some(score)
}

impl App {
    /// The conversations the quick switcher lists, best first.
    pub fn switcher_matches(&self) -> Vec<&ConversationRecord> {
        let query = self.overlay.as_ref().map_or("", |o| o.query.as_str());
        let mut list: Vec<(i32, &ConversationRecord)> = self
            .conversations
            .iter()
            .filter_map(|c| fuzzy_score(query, &self.title(c)).map(|s| (s, c)))
            .collect();
        list.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then(b.1.last_activity.cmp(&a.1.last_activity))
        });
        list.into_iter().take(LIMIT).map(|(_, c)| c).collect()
    }

    fn result_count(&self) -> usize {
        match &self.overlay {
            Some(o) if o.kind == Kind::Search => o.hits.len().min(LIMIT),
            Some(_) => self.switcher_matches().len(),
            None => 0,
        }
    }

    /// Handles a panel action.
    pub(crate) fn on_overlay(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::OpenSwitcher | Action::OpenSearch => {
                let kind = if action == Action::OpenSwitcher {
                    Kind::Switcher
                } else {
                    Kind::Search
                };
                self.inspector_open = false;
                if self.screen == crate::app::Screen::Settings {
                    self.screen = crate::app::Screen::Chat;
                }
                self.overlay = Some(Overlay {
                    kind,
                    query: String::new(),
                    selected: 0,
                    hits: Vec::new(),
                });
                vec![Effect::Focus(INPUT_ID)]
            }
            Action::Query(query) => {
                let Some(o) = &mut self.overlay else {
                    return Vec::new();
                };
                o.selected = 0;
                o.query = query.clone();
                if o.kind == Kind::Search {
                    if query.trim().is_empty() {
                        o.hits.clear();
                    } else {
                        return vec![Effect::Search(query)];
                    }
                }
                Vec::new()
            }
            Action::Move(step) => {
                let count = self.result_count();
                if let Some(o) = &mut self.overlay
                    && count > 0
                {
                    let next = o.selected as i64 + i64::from(step);
                    o.selected = next.clamp(0, count as i64 - 1) as usize;
                }
                Vec::new()
            }
            Action::Confirm => {
                let index = self.overlay.as_ref().map_or(0, |o| o.selected);
                self.on_overlay(Action::Pick(index))
            }
            Action::Pick(index) => self.open_result(index),
            Action::Close => {
                self.overlay = None;
                Vec::new()
            }
        }
    }

    /// Search results arrived (ignored if the query changed since).
    pub(crate) fn search_results(&mut self, query: String, hits: Vec<SearchHit>) {
        if let Some(o) = &mut self.overlay
            && o.kind == Kind::Search
            && o.query == query
        {
            o.hits = hits;
            o.selected = 0;
        }
    }

    fn open_result(&mut self, index: usize) -> Vec<Effect> {
        let Some(o) = &self.overlay else {
            return Vec::new();
        };
        let target: Option<(ConversationId, Option<MessageId>)> = match o.kind {
            Kind::Switcher => self.switcher_matches().get(index).map(|c| (c.id, None)),
            Kind::Search => o
                .hits
                .get(index)
                .map(|h| (h.message.conversation, Some(h.message.id))),
        };
        let Some((conversation, message)) = target else {
            return Vec::new();
        };
        self.overlay = None;
        let mut effects = self.select(conversation);
        if let Some(message) = message {
            effects.retain(|e| !matches!(e, Effect::LoadMessages(_)));
            self.jump_to = Some(message);
            effects.push(Effect::LoadMessagesUpTo(conversation, message));
        }
        effects
    }

    /// Alt+Up/Down: the previous or next conversation of the list.
    pub(crate) fn next_chat(&mut self, step: i32) -> Vec<Effect> {
        let order: Vec<ConversationId> = self
            .inbox()
            .into_iter()
            .chain(self.requests())
            .map(|c| c.id)
            .collect();
        if order.is_empty() {
            return Vec::new();
        }
        let last = order.len() as i64 - 1;
        let index = match self
            .selected
            .and_then(|s| order.iter().position(|&c| c == s))
        {
            Some(i) => (i as i64 + i64::from(step)).clamp(0, last),
            None if step < 0 => last,
            None => 0,
        };
        self.select(order[index as usize])
    }
}

fn result_row<'a>(
    first: String,
    second: String,
    index: usize,
    selected: bool,
) -> Element<'a, Message> {
    button(column![text(first).size(15), text(second).size(12)].spacing(2))
        .width(Fill)
        .style(if selected {
            button::primary
        } else {
            button::text
        })
        .on_press(Message::Overlay(Action::Pick(index)))
        .into()
}

/// The panel, drawn over `base`.
pub fn view<'a>(app: &'a App, base: Element<'a, Message>) -> Element<'a, Message> {
    let Some(o) = &app.overlay else {
        return base;
    };
    let placeholder = match o.kind {
        Kind::Switcher => fl!("switcher-placeholder"),
        Kind::Search => fl!("search-placeholder"),
    };
    let input = text_input(&placeholder, &o.query)
        .id(INPUT_ID)
        .on_input(|q| Message::Overlay(Action::Query(q)))
        .on_submit(Message::Overlay(Action::Confirm))
        .padding(10)
        .size(16);
    let mut list = Column::new().spacing(2);
    match o.kind {
        Kind::Switcher => {
            let matches = app.switcher_matches();
            if matches.is_empty() {
                list = list.push(text(fl!("switcher-empty")).size(13));
            }
            for (i, c) in matches.into_iter().enumerate() {
                list = list.push(result_row(
                    app.title(c),
                    app.network_of(&c.account),
                    i,
                    i == o.selected,
                ));
            }
        }
        Kind::Search => {
            if !o.query.trim().is_empty() && o.hits.is_empty() {
                list = list.push(text(fl!("search-empty")).size(13));
            }
            for (i, hit) in o.hits.iter().take(LIMIT).enumerate() {
                // The name the conversation list shows (the person's), not
                // the store's raw title (often an address).
                let title = app
                    .conversations
                    .iter()
                    .find(|c| c.id == hit.message.conversation)
                    .map_or_else(|| hit.conversation_title.clone(), |c| app.title(c));
                let first = format!(
                    "{} · {}",
                    title,
                    crate::time::activity(hit.message.timestamp, app.now)
                );
                list = list.push(result_row(
                    first,
                    hit.message.content.text.clone(),
                    i,
                    i == o.selected,
                ));
            }
        }
    }
    let card = container(
        column![input, list, text(fl!("overlay-keys-hint")).size(11)]
            .spacing(10)
            .padding(14)
            .width(560),
    )
    .style(container::bordered_box);
    let backdrop = mouse_area(
        container(opaque(card))
            .center_x(Fill)
            .padding(iced::Padding::ZERO.top(70))
            .height(Fill)
            .style(|_| container::Style {
                background: Some(Color::from_rgba(0.0, 0.0, 0.0, 0.35).into()),
                ..container::Style::default()
            }),
    )
    .on_press(Message::Overlay(Action::Close));
    iced::widget::stack![base, backdrop].into()
}
