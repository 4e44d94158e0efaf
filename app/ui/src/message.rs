//! What the window reacts to ([`Message`]) and what it asks the engine to
//! do ([`Effect`]); both are plain data, so tests drive `App::update` and
//! assert on the effects.

use iced::widget::text_editor;
use koine_api::{AccountId, ConversationKey, ProtocolId};
use koine_core::{AccountRecord, ConversationId, ConversationRecord, EngineEvent, StoredMessage};

/// What happened: user input, or an answer from the engine.
#[derive(Debug, Clone)]
pub enum Message {
    /// Accounts and conversations as read from the store.
    ListsLoaded {
        /// Every account.
        accounts: Vec<AccountRecord>,
        /// The unified list, requests included.
        conversations: Vec<ConversationRecord>,
    },
    /// The people (one person, many addresses) as the engine knows them.
    PeopleLoaded(Vec<koine_core::Person>),
    /// An event from the engine's broadcast.
    Engine(Box<EngineEvent>),
    /// The event stream fell behind: re-read everything.
    Resync,
    /// The user picked a conversation.
    Select(ConversationId),
    /// A page of messages arrived.
    MessagesLoaded(ConversationId, Vec<StoredMessage>),
    /// The user edited the composer.
    Compose(text_editor::Action),
    /// Enter in the composer, or the send button.
    Send,
    /// A message was committed to the store (and the outbox).
    Sent(ConversationId),
    /// The engine refused a message.
    SendFailed(String),
    /// Open or close the route inspector.
    ToggleInspector,
    /// Start Koine's demo (a second window on a simulated profile).
    TryDemo,
    /// Show only some conversations in the list.
    Filter(crate::app::ListFilter),
    /// Esc: close panels.
    CloseInspector,
    /// Reconnect an account now.
    Retry(AccountId),
    /// Open or close the settings screen.
    ToggleSettings,
    /// The settings file was read.
    SettingsLoaded(Box<crate::settings::Loaded>),
    /// The user changed a setting.
    Setting(crate::settings_screen::Change),
    /// The settings could not be written.
    SettingsSaveFailed(String),
    /// Who may reach the user directly, per network, as the engine keeps it.
    PoliciesLoaded(Vec<(ProtocolId, koine_core::StrangerPolicy)>),
    /// Something in the quick switcher or the search panel.
    Overlay(crate::overlay::Action),
    /// Search results for a query.
    SearchResults(String, Vec<koine_core::SearchHit>),
    /// Alt+Up (-1) or Alt+Down (+1): the previous or next conversation.
    NextChat(i32),
    /// Up (-1) or Down (+1) with no modifier: moves in an open panel.
    Arrow(i32),
    /// Leave a search result and show the latest messages of the chat.
    ShowLatest,
    /// The account setup form.
    Setup(crate::account_setup::Action),
    /// The user answered the question on screen.
    AnswerPrompt(koine_api::PromptAnswer),
    /// Copy the recovery key of the question on screen.
    CopyPromptDetail,
    /// The window gained (true) or lost (false) the focus.
    WindowFocus(bool),
    /// The chat was scrolled.
    ChatScrolled(crate::history::Scroll),
    /// Older messages of a conversation arrived.
    OlderLoaded(ConversationId, Vec<StoredMessage>),
    /// The engine's Requests inbox.
    RequestsLoaded(Vec<koine_core::InboxRequest>),
    /// The user answered the request at this index of the inbox.
    AnswerRequest(usize, koine_api::Decision),
    /// The addresses blocked in Koine, as (account, address).
    BlockedLoaded(Vec<(AccountId, String)>),
    /// Unblock the address at this index of the list.
    Unblock(usize),
    /// The engine could not answer a request.
    AnswerFailed(String),
    /// The accounts' statuses as the engine last saw them (at startup).
    StatusesLoaded(Vec<(AccountId, koine_core::AccountStatus)>),
    /// Something on the People screen.
    People(crate::people_screen::Action),
    /// Something about the route of the composer.
    Route(crate::composer_route::Action),
    /// A message to a person was committed to the store, through this
    /// account into this conversation (if it already existed).
    SentToPerson(AccountId, Option<ConversationId>),
    /// Something done to a message, or to the composer's extras.
    Act(crate::actions::Action),
    /// Close the notice at this index.
    DismissNotice(usize),
    /// Nothing to do (a finished background write).
    Done,
    /// Reading the lists failed (logged); a later change reads them again.
    ListsFailed,
}

/// An intent for the engine, produced by [`App::update`].
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Re-read accounts and conversations (and the people).
    LoadLists,
    /// Re-read the people only.
    LoadPeople,
    /// Read the latest page of a conversation.
    LoadMessages(ConversationId),
    /// Send a text message.
    Send {
        /// From which account.
        account: AccountId,
        /// Into which conversation.
        conversation: ConversationId,
        /// Its key on the network.
        key: ConversationKey,
        /// The text.
        text: String,
        /// The message it answers.
        reply_to: Option<koine_api::RemoteId>,
        /// Files to attach.
        attachments: Vec<koine_api::Attachment>,
    },
    /// Apply the user's change to a message (correction, reaction, deletion).
    Change(koine_core::MessageId, koine_core::OwnChange),
    /// Open the file chooser.
    PickFiles,
    /// Read files dropped on the window, to attach them.
    ReadFiles(Vec<std::path::PathBuf>),
    /// Open a web page in the user's browser.
    OpenUrl(String),
    /// Open a received file with the desktop's viewer (from a private
    /// temporary copy the engine makes).
    OpenAttachment(koine_core::MessageId, usize),
    /// Open a received image in memory for its preview.
    LoadPreview(koine_core::MessageId, usize),
    /// Put text on the clipboard.
    Copy(String),
    /// Keep (or clear) a conversation's draft.
    SaveDraft(ConversationId, Option<String>),
    /// Mark a conversation read.
    MarkRead(ConversationId),
    /// Tell the conversation's other side that the user is typing (or
    /// stopped).
    Typing(ConversationId, bool),
    /// Start `koine --demo` beside this window.
    LaunchDemo,
    /// Reconnect an account.
    Retry(AccountId),
    /// Write the settings file.
    SaveSettings(crate::settings::Settings),
    /// Read who may reach the user directly on each network.
    LoadStrangerPolicies(Vec<ProtocolId>),
    /// Set who may reach the user directly on a network.
    SetStrangerPolicy(ProtocolId, koine_core::StrangerPolicy),
    /// Full-text search over all history.
    Search(String),
    /// Read the page of a conversation that ends with this message.
    LoadMessagesUpTo(ConversationId, koine_core::MessageId),
    /// Give the keyboard focus to a widget.
    Focus(&'static str),
    /// Read the page of a conversation before this message.
    LoadOlder(ConversationId, koine_core::MessageId),
    /// Show a desktop notification.
    Notify {
        /// Who wrote, on which network.
        summary: String,
        /// What they wrote.
        body: String,
    },
    /// Answer a plugin's question.
    AnswerPrompt {
        /// The account whose session asked.
        account: AccountId,
        /// The question.
        prompt: koine_api::PromptId,
        /// The answer.
        answer: koine_api::PromptAnswer,
    },
    /// Re-read the Requests inbox.
    LoadRequests,
    /// Answer a request.
    AnswerRequest(Box<koine_core::InboxRequest>, koine_api::Decision),
    /// Read the addresses blocked in Koine.
    LoadBlocked,
    /// Lift a block of Koine's.
    Unblock(AccountId, koine_api::Address),
    /// Read the accounts' last statuses.
    LoadStatuses,
    /// Work of the People screen.
    People(crate::people_screen::Job),
    /// Choose the route to a person.
    ChooseRoute(koine_core::PersonId, koine_core::RouteSelection),
    /// Send a text to a person by a route.
    SendToPerson {
        /// To whom.
        person: koine_core::PersonId,
        /// By which route.
        selection: koine_core::RouteSelection,
        /// The text.
        text: String,
        /// The user's answer to a downgrade.
        consent: koine_core::DowngradeConsent,
    },
    /// Add an account (the secret goes to the keyring).
    AddAccount {
        /// The network.
        protocol: ProtocolId,
        /// How the account is named in lists.
        label: String,
        /// The non-secret fields.
        settings: koine_api::Settings,
        /// The password or token, if the form has one.
        secret: Option<koine_api::Secret>,
    },
}
