//! The window's state and its pure `update`: no I/O here. Every effect on the
//! engine is returned as an [`Effect`] that the shell (`crate::run`) turns
//! into a task, so the simulator tests drive this exact code.

use iced::widget::text_editor;
use koine_api::{AccountId, ProtocolId, Timestamp};
use koine_core::{AccountRecord, AccountStatus, ConversationId, ConversationRecord, StoredMessage};
use std::collections::HashMap;

pub use crate::message::{Effect, Message};

/// How many messages a chat loads at once.
pub const PAGE: u32 = 200;

/// One account row.
#[derive(Debug, Clone)]
pub struct AccountRow {
    /// The stored account.
    pub record: AccountRecord,
    /// Its last known status.
    pub status: AccountStatus,
}

/// What the right side of the window shows, beside the lists.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Screen {
    /// The open chat (or the hint to pick one).
    #[default]
    Chat,
    /// The settings.
    Settings,
    /// The People screen.
    People,
    /// The account setup form.
    Setup(crate::account_setup::Setup),
}

/// Which conversations the list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ListFilter {
    /// All of them.
    #[default]
    All,
    /// Those with unread messages (and the open one).
    Unread,
    /// Those of one network.
    Network(ProtocolId),
}

/// The whole window's state.
pub struct App {
    /// Accounts in order.
    pub accounts: Vec<AccountRow>,
    /// Every conversation (inbox and requests).
    pub conversations: Vec<ConversationRecord>,
    /// Display names of the networks.
    pub network_names: HashMap<ProtocolId, String>,
    /// The open chat.
    pub selected: Option<ConversationId>,
    /// Its loaded messages, oldest first.
    pub messages: Vec<StoredMessage>,
    /// The composer of the open chat.
    pub composer: text_editor::Content,
    /// Drafts of the other chats.
    pub drafts: HashMap<ConversationId, String>,
    /// Whether the route inspector is shown.
    pub inspector_open: bool,
    /// Whether the engine keeps the history encrypted on this computer
    /// (the inspector says so only then).
    pub history_encrypted: bool,
    /// The last error to show above the composer.
    pub error: Option<String>,
    /// "Now", for day separators (fixed in tests).
    pub now: Timestamp,
    /// The settings in use.
    pub settings: crate::settings::Settings,
    /// What the right side of the window shows.
    pub screen: Screen,
    /// Which conversations the list shows.
    pub filter: ListFilter,
    /// Whether the lists were read once (the welcome screen waits for it).
    pub lists_loaded: bool,
    /// What went wrong with the settings file, if anything.
    pub settings_notice: Option<String>,
    /// A colour scheme forced from outside (`KOINE_THEME`) until the user
    /// picks one.
    pub theme_override: Option<crate::settings::ThemeChoice>,
    /// A language forced from outside (`KOINE_LANG`) until the user picks one.
    pub language_override: Option<String>,
    /// The quick switcher or the search panel, when open.
    pub overlay: Option<crate::overlay::Overlay>,
    /// The message a search result opened the chat at.
    pub jump_to: Option<koine_core::MessageId>,
    /// What each network needs to add an account.
    pub protocols: Vec<koine_api::ProtocolInfo>,
    /// Questions from plugins waiting for an answer, oldest first.
    pub prompts: Vec<(AccountId, koine_api::Prompt)>,
    /// Whether the window has the focus (no notifications then).
    pub focused: bool,
    /// Where the chat is scrolled to.
    pub scroll: crate::history::Scroll,
    /// Whether older messages may remain to be loaded.
    pub older_remain: bool,
    /// Whether a page of older messages is on its way.
    pub loading_older: bool,
    /// Who may reach the user directly, per network (the engine's).
    pub stranger_policies: HashMap<ProtocolId, koine_core::StrangerPolicy>,
    /// People's names by address (the engine's people).
    pub names: HashMap<String, String>,
    /// People's ids by address.
    pub person_ids: HashMap<String, koine_core::PersonId>,
    /// The engine's Requests inbox, newest first.
    pub inbox_requests: Vec<koine_core::InboxRequest>,
    /// Requests answered and not yet gone from the inbox (by index).
    pub answering: Vec<usize>,
    /// Why the last answer to a request failed.
    pub request_error: Option<String>,
    /// The last status seen per account (also before the account is listed).
    pub statuses: HashMap<AccountId, AccountStatus>,
    /// The addresses blocked in Koine, newest first.
    pub blocked: Vec<(AccountId, String)>,
    /// The People screen.
    pub people: crate::people_screen::People,
    /// The route a message in the open chat would take (chat with a person).
    pub route_choice: Option<koine_core::RouteChoice>,
    /// How that route is selected.
    pub route_selection: koine_core::RouteSelection,
    /// The account the user picked as route, if they picked one.
    pub route_picked: Option<AccountId>,
    /// A message waiting for the downgrade question.
    pub downgrade: Option<crate::composer_route::Pending>,
    /// The last message to the open chat's person went by another route:
    /// that network and its chat, if known.
    pub sent_elsewhere: Option<(String, Option<ConversationId>)>,
    /// Replying, correcting, the message whose actions are shown, and the
    /// files for the next message.
    pub compose: crate::actions::Compose,
    /// Previews of the open chat's received images.
    pub previews: crate::files::Previews,
    /// Who is online, as the accounts reported it.
    pub presences: crate::presence::Presences,
    /// What plugins reported that the user should see.
    pub notices: crate::notices::Notices,
    /// The chat whose other side was told that the user is typing.
    pub typing_in: Option<ConversationId>,
    /// Who is typing, per conversation (the networks' chat states).
    pub typing: HashMap<ConversationId, Vec<koine_api::Address>>,
    /// Whether the lists are being read, and whether they changed since.
    pub(crate) refresh: crate::refresh::ListRefresh,
}

impl App {
    /// The account setup form, when it is shown.
    pub fn setup(&self) -> Option<&crate::account_setup::Setup> {
        match &self.screen {
            Screen::Setup(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn setup_mut(&mut self) -> Option<&mut crate::account_setup::Setup> {
        match &mut self.screen {
            Screen::Setup(s) => Some(s),
            _ => None,
        }
    }

    /// An empty window.
    pub fn new(network_names: HashMap<ProtocolId, String>) -> Self {
        Self {
            accounts: Vec::new(),
            conversations: Vec::new(),
            network_names,
            selected: None,
            messages: Vec::new(),
            composer: text_editor::Content::new(),
            drafts: HashMap::new(),
            inspector_open: false,
            history_encrypted: false,
            error: None,
            now: Timestamp::now(),
            typing_in: None,
            typing: HashMap::new(),
            settings: crate::settings::Settings::default(),
            screen: Screen::Chat,
            filter: ListFilter::All,
            lists_loaded: false,
            settings_notice: None,
            theme_override: None,
            language_override: None,
            overlay: None,
            jump_to: None,
            protocols: Vec::new(),
            prompts: Vec::new(),
            focused: true,
            scroll: crate::history::Scroll::default(),
            older_remain: false,
            loading_older: false,
            stranger_policies: HashMap::new(),
            names: HashMap::new(),
            person_ids: HashMap::new(),
            inbox_requests: Vec::new(),
            answering: Vec::new(),
            request_error: None,
            statuses: HashMap::new(),
            blocked: Vec::new(),
            people: crate::people_screen::People::default(),
            route_choice: None,
            route_selection: koine_core::RouteSelection::Best,
            route_picked: None,
            downgrade: None,
            sent_elsewhere: None,
            compose: crate::actions::Compose::default(),
            previews: crate::files::Previews::default(),
            presences: crate::presence::Presences::default(),
            notices: crate::notices::Notices::default(),
            refresh: crate::refresh::ListRefresh::default(),
        }
    }

    /// The theme for the window: `None` for "system", so that iced follows
    /// the desktop's light or dark preference.
    pub fn window_theme(&self) -> Option<iced::Theme> {
        let choice = self.theme_override.unwrap_or(self.settings.theme);
        (choice != crate::settings::ThemeChoice::System).then(|| choice.theme())
    }

    /// The colour scheme in use (light for "system" when drawn off-screen).
    pub fn theme(&self) -> iced::Theme {
        self.theme_override.unwrap_or(self.settings.theme).theme()
    }

    /// The open conversation.
    pub fn current(&self) -> Option<&ConversationRecord> {
        let id = self.selected?;
        self.conversations.iter().find(|c| c.id == id)
    }

    /// The route of the open conversation: the one the network reported
    /// for the conversation, else the one its latest message travelled.
    pub fn current_route(&self) -> Option<&koine_api::Route> {
        self.current()?
            .route
            .as_ref()
            .or_else(|| self.messages.iter().rev().find_map(|m| m.route.as_ref()))
    }

    /// The name to show for a conversation: the person's name for a direct
    /// chat with someone the engine knows, else the network's title.
    pub fn title(&self, c: &ConversationRecord) -> String {
        c.peer
            .as_ref()
            .filter(|_| c.kind == koine_api::ConversationKind::Direct)
            .and_then(|peer| self.names.get(&koine_core::people::address_key(peer)))
            .cloned()
            .unwrap_or_else(|| c.title.clone())
    }

    /// The network name of an account.
    pub fn network_of(&self, account: &AccountId) -> String {
        self.accounts
            .iter()
            .find(|a| &a.record.id == account)
            .map(|a| {
                self.network_names
                    .get(&a.record.protocol)
                    .cloned()
                    .unwrap_or_else(|| a.record.protocol.to_string())
            })
            .unwrap_or_default()
    }

    /// The protocol of an account (for the badge).
    pub fn protocol_of(&self, account: &AccountId) -> Option<&ProtocolId> {
        self.accounts
            .iter()
            .find(|a| &a.record.id == account)
            .map(|a| &a.record.protocol)
    }

    /// The inbox as the filter shows it.
    pub fn visible_inbox(&self) -> Vec<&ConversationRecord> {
        let mut list = self.inbox();
        match &self.filter {
            ListFilter::All => {}
            ListFilter::Unread => list.retain(|c| c.unread > 0 || self.selected == Some(c.id)),
            ListFilter::Network(p) => list.retain(|c| self.protocol_of(&c.account) == Some(p)),
        }
        list
    }

    /// The networks of the user's accounts, each once, in account order.
    pub fn account_networks(&self) -> Vec<&ProtocolId> {
        let mut seen = Vec::new();
        for a in &self.accounts {
            if !seen.contains(&&a.record.protocol) {
                seen.push(&a.record.protocol);
            }
        }
        seen
    }

    /// The inbox: accepted conversations, pinned first, then most recent.
    pub fn inbox(&self) -> Vec<&ConversationRecord> {
        let mut list: Vec<_> = self
            .conversations
            .iter()
            .filter(|c| !c.is_request)
            .collect();
        list.sort_by(|a, b| {
            b.pinned
                .cmp(&a.pinned)
                .then(b.last_activity.cmp(&a.last_activity))
        });
        list
    }

    /// The requests, most recent first.
    pub fn requests(&self) -> Vec<&ConversationRecord> {
        let mut list: Vec<_> = self.conversations.iter().filter(|c| c.is_request).collect();
        list.sort_by_key(|c| std::cmp::Reverse(c.last_activity));
        list
    }

    /// Handles one message; returns what the engine must do. See
    /// [`App::update`], which also coalesces list reloads.
    pub(crate) fn apply(&mut self, message: Message) -> Vec<Effect> {
        match message {
            Message::ListsLoaded {
                accounts,
                conversations,
            } => {
                let old: HashMap<AccountId, AccountStatus> = self
                    .accounts
                    .drain(..)
                    .map(|a| (a.record.id, a.status))
                    .collect();
                self.accounts = accounts
                    .into_iter()
                    .map(|record| AccountRow {
                        status: old
                            .get(&record.id)
                            .or_else(|| self.statuses.get(&record.id))
                            .cloned()
                            .unwrap_or(AccountStatus::Stopped),
                        record,
                    })
                    .collect();
                for c in &conversations {
                    if Some(c.id) != self.selected
                        && let Some(draft) = &c.draft
                    {
                        self.drafts.entry(c.id).or_insert_with(|| draft.clone());
                    }
                }
                self.conversations = conversations;
                self.lists_loaded = true;
                // The open chat is being read.
                if let Some(c) = self
                    .selected
                    .and_then(|id| self.conversations.iter_mut().find(|c| c.id == id))
                {
                    c.unread = 0;
                }
                Vec::new()
            }
            Message::PeopleLoaded(people) => self.people_loaded(people),
            Message::Engine(event) => self.on_engine(*event),
            Message::Resync => {
                let mut effects = vec![Effect::LoadLists];
                effects.extend(self.selected.map(Effect::LoadMessages));
                effects
            }
            Message::Select(id) => self.select(id),
            Message::MessagesLoaded(id, messages) => {
                if Some(id) == self.selected {
                    self.older_remain = messages.len() as u32 >= PAGE;
                    self.loading_older = false;
                    self.previews.clear();
                    let mut effects = self.want_previews(&messages);
                    self.messages = messages;
                    effects.extend(self.refresh_route());
                    return effects;
                }
                Vec::new()
            }
            Message::Compose(action) => {
                let edit = action.is_edit();
                self.composer.perform(action);
                if edit {
                    self.typing_changed()
                } else {
                    Vec::new()
                }
            }
            Message::Send => self.send(),
            // The engine's event carried the queued message: nothing to
            // read again.
            Message::Sent(_) => Vec::new(),
            Message::SendFailed(reason) => {
                self.error = Some(crate::fl!("send-failed", reason = reason));
                Vec::new()
            }
            Message::TryDemo => vec![Effect::LaunchDemo],
            Message::Filter(filter) => {
                self.filter = filter;
                Vec::new()
            }
            Message::ToggleInspector => {
                self.inspector_open = !self.inspector_open && self.selected.is_some();
                Vec::new()
            }
            Message::CloseInspector => {
                // Esc closes the topmost panel.
                if self.downgrade.is_some() {
                    return self.on_route(crate::composer_route::Action::Consent(None));
                }
                if self.compose.mode.is_some() {
                    return self.on_action(crate::actions::Action::Cancel);
                }
                if self.overlay.is_some() {
                    self.overlay = None;
                } else {
                    self.inspector_open = false;
                    self.screen = Screen::Chat;
                }
                Vec::new()
            }
            Message::Overlay(action) => self.on_overlay(action),
            Message::SearchResults(query, hits) => {
                self.search_results(query, hits);
                Vec::new()
            }
            Message::NextChat(step) => {
                if self.overlay.is_some() {
                    Vec::new()
                } else {
                    self.next_chat(step)
                }
            }
            Message::Arrow(step) => {
                if self.overlay.is_some() {
                    self.on_overlay(crate::overlay::Action::Move(step))
                } else {
                    Vec::new()
                }
            }
            Message::Setup(action) => self.on_setup(action),
            Message::AnswerPrompt(answer) => self.answer_prompt(answer),
            Message::CopyPromptDetail => self.copy_prompt_detail(),
            Message::ChatScrolled(scroll) => self.scrolled(scroll),
            Message::OlderLoaded(id, older) => {
                let effects = if Some(id) == self.selected {
                    self.want_previews(&older)
                } else {
                    Vec::new()
                };
                self.older_loaded(id, older);
                effects
            }
            Message::WindowFocus(focused) => {
                self.focused = focused;
                Vec::new()
            }
            Message::ShowLatest => {
                self.jump_to = None;
                self.selected
                    .map(Effect::LoadMessages)
                    .into_iter()
                    .collect()
            }
            Message::Retry(account) => vec![Effect::Retry(account)],
            Message::ToggleSettings => {
                self.screen = match self.screen {
                    Screen::Settings => Screen::Chat,
                    _ => Screen::Settings,
                };
                if self.screen == Screen::Settings {
                    vec![Effect::LoadBlocked]
                } else {
                    Vec::new()
                }
            }
            Message::SettingsLoaded(loaded) => {
                self.settings_loaded(*loaded);
                Vec::new()
            }
            Message::Setting(change) => self.change_setting(change),
            Message::PoliciesLoaded(policies) => {
                self.stranger_policies = policies.into_iter().collect();
                Vec::new()
            }
            Message::SettingsSaveFailed(reason) => {
                self.settings_notice = Some(crate::fl!("settings-save-failed", reason = reason));
                Vec::new()
            }
            Message::RequestsLoaded(requests) => {
                self.requests_loaded(requests);
                Vec::new()
            }
            Message::AnswerRequest(index, decision) => self.answer_request(index, decision),
            Message::BlockedLoaded(blocked) => {
                self.blocked_loaded(blocked);
                Vec::new()
            }
            Message::Unblock(index) => self.unblock(index),
            Message::AnswerFailed(reason) => {
                self.answer_failed(reason);
                Vec::new()
            }
            Message::StatusesLoaded(statuses) => {
                self.statuses_loaded(statuses);
                Vec::new()
            }
            Message::People(action) => self.on_people(action),
            Message::Route(action) => self.on_route(action),
            Message::SentToPerson(account, conversation) => {
                self.sent_to_person(account, conversation)
            }
            Message::Act(action) => self.on_action(action),
            Message::DismissNotice(index) => {
                self.notices.dismiss(index);
                Vec::new()
            }
            Message::Done | Message::ListsFailed => Vec::new(),
        }
    }

    /// Shows no chat (the open one is gone: a declined request).
    pub(crate) fn close_chat(&mut self) {
        self.selected = None;
        self.messages.clear();
        self.route_choice = None;
        self.route_picked = None;
        self.downgrade = None;
        self.sent_elsewhere = None;
        self.jump_to = None;
        self.typing_in = None;
        self.reset_compose();
        self.composer = text_editor::Content::new();
    }

    pub(crate) fn select(&mut self, id: ConversationId) -> Vec<Effect> {
        self.screen = Screen::Chat;
        if self.selected == Some(id) {
            return Vec::new();
        }
        self.route_choice = None;
        self.route_picked = None;
        self.route_selection = koine_core::RouteSelection::Best;
        self.downgrade = None;
        self.sent_elsewhere = None;
        self.jump_to = None;
        self.reset_compose();
        let mut effects = Vec::new();
        if let Some(previous) = self.selected {
            let text = composer_text(&self.composer);
            let draft = (!text.trim().is_empty()).then_some(text);
            match &draft {
                Some(d) => {
                    self.drafts.insert(previous, d.clone());
                }
                None => {
                    self.drafts.remove(&previous);
                }
            }
            effects.push(Effect::SaveDraft(previous, draft));
        }
        // Leaving a chat mid-sentence: its other side stops seeing "typing".
        if let Some(typing) = self.typing_in.take() {
            effects.push(Effect::Typing(typing, false));
        }
        self.selected = Some(id);
        self.messages.clear();
        self.scroll = crate::history::Scroll::default();
        self.older_remain = false;
        self.loading_older = false;
        self.error = None;
        let draft = self.drafts.get(&id).cloned().unwrap_or_default();
        self.composer = text_editor::Content::with_text(&draft);
        self.composer
            .perform(text_editor::Action::Move(text_editor::Motion::DocumentEnd));
        if let Some(c) = self.conversations.iter_mut().find(|c| c.id == id)
            && c.unread > 0
        {
            c.unread = 0;
            effects.push(Effect::MarkRead(id));
        }
        effects.push(Effect::LoadMessages(id));
        // However the chat was opened (a click, Alt+arrows, the quick
        // switcher, a search result), what the user types next goes in.
        effects.push(Effect::Focus(crate::view::COMPOSER_ID));
        effects
    }

    /// The other side learns that the user started typing (the composer
    /// went from empty to text) or stopped (it is empty again, or the
    /// message went). Never in Requests: a stranger does not learn that
    /// the user is looking at their message.
    fn typing_changed(&mut self) -> Vec<Effect> {
        let Some(c) = self.current() else {
            return Vec::new();
        };
        let (id, quiet) = (c.id, c.read_only || c.is_request);
        let typing = !composer_text(&self.composer).trim().is_empty();
        match (typing, self.typing_in) {
            (true, Some(t)) if t == id => Vec::new(),
            (true, _) if quiet => Vec::new(),
            (true, previous) => {
                self.typing_in = Some(id);
                let mut effects: Vec<Effect> = previous
                    .map(|p| Effect::Typing(p, false))
                    .into_iter()
                    .collect();
                effects.push(Effect::Typing(id, true));
                effects
            }
            (false, Some(t)) => {
                self.typing_in = None;
                vec![Effect::Typing(t, false)]
            }
            (false, None) => Vec::new(),
        }
    }

    fn send(&mut self) -> Vec<Effect> {
        if let Some(effects) = self.send_edit() {
            return effects;
        }
        let text = composer_text(&self.composer);
        let text = text.trim_end_matches('\n').to_owned();
        if text.trim().is_empty() && self.compose.files.is_empty() {
            return Vec::new();
        }
        let Some(c) = self.current() else {
            return Vec::new();
        };
        if c.read_only {
            return Vec::new();
        }
        let (account, id, key) = (c.account.clone(), c.id, c.key.clone());
        let reply_to = self.take_reply();
        let attachments = std::mem::take(&mut self.compose.files);
        self.composer = text_editor::Content::new();
        // The message itself ends "typing" on the other side.
        self.typing_in = None;
        self.drafts.remove(&id);
        self.error = None;
        // To a known person: by the chosen route, asking before a downgrade.
        // A reply or a file goes into this very chat.
        let plain = reply_to.is_none() && attachments.is_empty();
        let mut effects = match (self.current_person(), &self.route_choice) {
            (Some(person), Some(_)) if plain => self.send_to_person(person, text),
            _ => vec![Effect::Send {
                account,
                conversation: id,
                key,
                text,
                reply_to,
                attachments,
            }],
        };
        effects.push(Effect::SaveDraft(id, None));
        effects
    }
}

/// The composer's text without the trailing newline the editor keeps.
pub fn composer_text(content: &text_editor::Content) -> String {
    let mut text = content.text();
    if text.ends_with('\n') {
        text.pop();
    }
    text
}
