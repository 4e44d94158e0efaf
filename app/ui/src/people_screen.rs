//! The People screen: everyone the engine knows, each with their addresses
//! per network; merge suggestions (strong or weak, with the reason) to merge
//! or dismiss; a manual merge of picked people; an address split out; Undo
//! after each change; vCard import and export (the desktop's file chooser, or a
//! file dropped on the screen); and a person's
//! history across all their networks, each message with its route line.
//! The state and its update; the look is in [`crate::people_view`].

use crate::app::{App, Effect};
use crate::fl;
use koine_api::{AccountId, Address};
use koine_core::people::PeopleChange;
use koine_core::{ImportReport, Person, PersonId, PersonMessage, Suggestion};
use std::path::PathBuf;

/// How many messages a person's history shows.
pub const HISTORY: u32 = 200;

/// An address being typed for a person.
#[derive(Debug, Clone)]
pub struct Adding {
    /// For whom.
    pub person: PersonId,
    /// The address typed so far.
    pub text: String,
    /// The account that reaches it (none: kept for the address book).
    pub account: Option<AccountId>,
}

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
    /// What the last action did (or why it failed).
    pub notice: Option<String>,
    /// The person being renamed and the name typed so far.
    pub renaming: Option<(PersonId, String)>,
    /// An address being added.
    pub adding: Option<Adding>,
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
    /// Start typing an address for a person.
    StartAdd(PersonId),
    /// The address typed so far.
    AddText(String),
    /// The account that reaches the address.
    AddAccount(AccountId),
    /// Save the address (Enter or the button).
    SaveAdd,
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
    /// Choose a vCard file to import (the desktop's file chooser).
    Import,
    /// Choose where to export everyone (the desktop's file chooser).
    Export,
    /// Import this vCard file (chosen, or dropped on the People screen).
    ImportFrom(PathBuf),
    /// Export everyone to this file (chosen).
    ExportTo(PathBuf),
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
    /// Add an address the user typed to a person.
    AddAddress(PersonId, Option<AccountId>, Address),
    /// Read a person's history.
    History(PersonId),
    /// Ask the desktop for a vCard file to import.
    PickImport,
    /// Ask the desktop where to export.
    PickExport,
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
                self.screen = match self.screen {
                    crate::app::Screen::People => crate::app::Screen::Chat,
                    _ => crate::app::Screen::People,
                };
                if self.screen == crate::app::Screen::People {
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
            Action::StartAdd(person) => {
                p.adding = Some(Adding {
                    person,
                    text: String::new(),
                    // Kept for the address book until an account is picked.
                    account: None,
                });
            }
            Action::AddText(text) => {
                if let Some(adding) = &mut p.adding {
                    adding.text = text;
                }
            }
            Action::AddAccount(account) => {
                if let Some(adding) = &mut p.adding {
                    adding.account = Some(account);
                }
            }
            Action::SaveAdd => {
                let Some(adding) = p.adding.take() else {
                    return Vec::new();
                };
                match Address::parse_any(&adding.text) {
                    Ok(address) => {
                        p.notice = None;
                        return vec![Effect::People(Job::AddAddress(
                            adding.person,
                            adding.account,
                            address,
                        ))];
                    }
                    Err(error) => {
                        p.notice = Some(fl!("people-add-invalid", reason = error.to_string()));
                        p.adding = Some(adding);
                    }
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
            Action::Import => return vec![Effect::People(Job::PickImport)],
            Action::Export => return vec![Effect::People(Job::PickExport)],
            Action::ImportFrom(path) => return vec![Effect::People(Job::Import(path))],
            Action::ExportTo(path) => return vec![Effect::People(Job::Export(path))],
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

    /// The engine's people arrived: names and ids by address, the list.
    pub(crate) fn people_loaded(&mut self, people: Vec<Person>) -> Vec<Effect> {
        self.person_ids = people
            .iter()
            .flat_map(|p| {
                p.addresses
                    .iter()
                    .map(|a| (koine_core::people::address_key(&a.address), p.id))
            })
            .collect();
        self.people
            .picked
            .retain(|id| people.iter().any(|p| p.id == *id));
        self.names = people
            .iter()
            .filter(|p| !p.name.trim().is_empty())
            .flat_map(|p| {
                p.addresses
                    .iter()
                    .map(|a| (koine_core::people::address_key(&a.address), p.name.clone()))
            })
            .collect();
        self.people.list = people;
        self.refresh_route()
    }

    /// After the engine's people changed: what to re-read.
    pub(crate) fn people_changed(&mut self) -> Vec<Effect> {
        let mut effects = vec![Effect::People(Job::LoadSuggestions)];
        effects.extend(self.people.open.map(|id| Effect::People(Job::History(id))));
        effects
    }

    /// A person's name (their id when unknown).
    pub(crate) fn person_name(&self, id: PersonId) -> String {
        self.people
            .list
            .iter()
            .find(|p| p.id == id)
            .map_or_else(|| id.to_string(), |p| p.name.clone())
    }
}
