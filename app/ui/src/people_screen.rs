//! The People screen: everyone the engine knows, each with their addresses
//! per network; merge suggestions (strong or weak, with the reason) to merge
//! or dismiss; a manual merge of picked people; an address split out; Undo
//! after each change; vCard import and export (a file path); and a person's
//! history across all their networks, each message with its route line.

use crate::app::{App, Effect, Message};
use crate::{badge, fl, route, time};
use iced::widget::{
    Column, button, checkbox, column, container, row, rule, scrollable, text, text_input,
};
use iced::{Alignment, Element, Fill};
use koine_api::{AccountId, Address, Direction};
use koine_core::people::{PeopleChange, SuggestionReason};
use koine_core::{ImportReport, Person, PersonId, PersonMessage, Strength, Suggestion};
use std::path::PathBuf;

/// How many messages a person's history shows.
pub const HISTORY: u32 = 200;

/// The screen's state.
#[derive(Debug, Clone, Default)]
pub struct People {
    /// Every person, by name.
    pub list: Vec<Person>,
    /// Merge suggestions, strong first.
    pub suggestions: Vec<Suggestion>,
    /// People picked for a manual merge, in picking order.
    pub picked: Vec<PersonId>,
    /// The person whose history is shown.
    pub open: Option<PersonId>,
    /// That history, oldest first.
    pub history: Vec<PersonMessage>,
    /// Whether a change was made that Undo can take back.
    pub can_undo: bool,
    /// The vCard file path typed by the user.
    pub vcard_path: String,
    /// What the last action did (or why it failed).
    pub notice: Option<String>,
    /// The person being renamed and the name typed so far.
    pub renaming: Option<(PersonId, String)>,
}

/// What the user (or the engine) did on the People screen.
#[derive(Debug, Clone)]
pub enum Action {
    /// Open or close the screen.
    Toggle,
    /// Merge suggestions arrived.
    SuggestionsLoaded(Vec<Suggestion>),
    /// Pick or unpick a person for a manual merge.
    Pick(PersonId, bool),
    /// Merge the picked people into the first picked.
    MergePicked,
    /// Merge a suggested pair.
    MergeSuggested(PersonId, PersonId),
    /// Say a suggested pair are different people.
    Dismiss(PersonId, PersonId),
    /// Move one address of a person to a new person.
    Split(PersonId, Option<AccountId>, Address),
    /// Take back the latest merge or split.
    Undo,
    /// Start renaming a person.
    StartRename(PersonId),
    /// The new name typed so far.
    RenameText(String),
    /// Save the new name (Enter or the button).
    SaveRename,
    /// A change was made (`Some`) or failed (`None`, see `Failed`).
    Changed,
    /// Undo answered: what it took back, if anything.
    Undone(Option<PeopleChange>),
    /// Show a person's history.
    OpenPerson(PersonId),
    /// Hide the history.
    CloseHistory,
    /// Their history arrived.
    HistoryLoaded(PersonId, Vec<PersonMessage>),
    /// The vCard path field changed.
    VcardPath(String),
    /// Import the vCard file at the path.
    Import,
    /// Export everyone to the path.
    Export,
    /// An import finished.
    Imported(ImportReport),
    /// An export was written (how many people).
    Exported(usize),
    /// Something failed.
    Failed(String),
}

/// Work for the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Job {
    /// Read the merge suggestions.
    LoadSuggestions,
    /// Merge `others` into the first.
    Merge(PersonId, Vec<PersonId>),
    /// No more suggestion for this pair.
    Dismiss(PersonId, PersonId),
    /// Split these addresses out of the person.
    Split(PersonId, Vec<(Option<AccountId>, Address)>),
    /// Undo the latest merge or split.
    Undo,
    /// Give a person another name.
    Rename(PersonId, String),
    /// Read a person's history.
    History(PersonId),
    /// Import a vCard file.
    Import(PathBuf),
    /// Export everyone to a vCard file.
    Export(PathBuf),
}

impl App {
    /// Handles an action of the People screen.
    pub(crate) fn on_people(&mut self, action: Action) -> Vec<Effect> {
        let p = &mut self.people;
        match action {
            Action::Toggle => {
                self.people_open = !self.people_open;
                self.settings_open = false;
                self.setup = None;
                if self.people_open {
                    return vec![Effect::People(Job::LoadSuggestions)];
                }
            }
            Action::SuggestionsLoaded(s) => p.suggestions = s,
            Action::Pick(id, on) => {
                p.picked.retain(|x| *x != id);
                if on {
                    p.picked.push(id);
                }
            }
            Action::MergePicked => {
                if p.picked.len() >= 2 {
                    let into = p.picked[0];
                    let others = p.picked[1..].to_vec();
                    p.picked.clear();
                    return vec![Effect::People(Job::Merge(into, others))];
                }
            }
            Action::MergeSuggested(a, b) => return vec![Effect::People(Job::Merge(a, vec![b]))],
            Action::Dismiss(a, b) => {
                p.suggestions.retain(|s| !(s.a == a && s.b == b));
                return vec![Effect::People(Job::Dismiss(a, b))];
            }
            Action::Split(person, account, address) => {
                return vec![Effect::People(Job::Split(person, vec![(account, address)]))];
            }
            Action::Undo => return vec![Effect::People(Job::Undo)],
            Action::StartRename(id) => {
                let name = p
                    .list
                    .iter()
                    .find(|x| x.id == id)
                    .map(|x| x.name.clone())
                    .unwrap_or_default();
                p.renaming = Some((id, name));
            }
            Action::RenameText(text) => {
                if let Some((_, name)) = &mut p.renaming {
                    *name = text;
                }
            }
            Action::SaveRename => {
                if let Some((id, name)) = p.renaming.take() {
                    let name = name.trim().to_owned();
                    if !name.is_empty() {
                        return vec![Effect::People(Job::Rename(id, name))];
                    }
                }
            }
            Action::Changed => {
                p.can_undo = true;
                p.notice = None;
            }
            Action::Undone(change) => {
                p.can_undo = false;
                p.notice = Some(match change {
                    Some(PeopleChange::Merge) => fl!("people-undone-merge"),
                    Some(PeopleChange::Split) => fl!("people-undone-split"),
                    None => fl!("people-nothing-to-undo"),
                });
            }
            Action::OpenPerson(id) => {
                p.open = Some(id);
                p.history.clear();
                return vec![Effect::People(Job::History(id))];
            }
            Action::CloseHistory => {
                p.open = None;
                p.history.clear();
            }
            Action::HistoryLoaded(id, history) => {
                if p.open == Some(id) {
                    p.history = history;
                }
            }
            Action::VcardPath(path) => p.vcard_path = path,
            Action::Import | Action::Export => {
                let path = p.vcard_path.trim();
                if path.is_empty() {
                    p.notice = Some(fl!("people-vcard-no-path"));
                    return Vec::new();
                }
                let path = PathBuf::from(path);
                return vec![Effect::People(if matches!(action, Action::Import) {
                    Job::Import(path)
                } else {
                    Job::Export(path)
                })];
            }
            Action::Imported(report) => {
                p.notice = Some(fl!(
                    "people-imported",
                    created = report.created,
                    updated = report.updated,
                    skipped = report.skipped.len()
                ));
            }
            Action::Exported(count) => p.notice = Some(fl!("people-exported", count = count)),
            Action::Failed(reason) => p.notice = Some(fl!("people-failed", reason = reason)),
        }
        Vec::new()
    }

    /// After the engine's people changed: what to re-read.
    pub(crate) fn people_changed(&mut self) -> Vec<Effect> {
        let mut effects = vec![Effect::People(Job::LoadSuggestions)];
        effects.extend(self.people.open.map(|id| Effect::People(Job::History(id))));
        effects
    }

    fn person_name(&self, id: PersonId) -> String {
        self.people
            .list
            .iter()
            .find(|p| p.id == id)
            .map_or_else(|| id.to_string(), |p| p.name.clone())
    }
}

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
    col.into()
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
        text_input(&fl!("people-vcard-path"), &p.vcard_path)
            .on_input(|s| Message::People(Action::VcardPath(s)))
            .size(13)
            .width(Fill),
        button(text(fl!("people-import")).size(13)).on_press(Message::People(Action::Import)),
        button(text(fl!("people-export")).size(13)).on_press(Message::People(Action::Export)),
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
