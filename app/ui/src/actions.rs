//! What the user does to messages from the chat: reply, correct, react,
//! delete, and the files attached to the next message. Pure state and
//! update; the engine work is returned as effects.

use crate::app::{App, Effect, composer_text};
use iced::widget::text_editor;
use koine_api::{Attachment, Capabilities, Direction, RemoteId};
use koine_core::{MessageId, OwnChange, StoredMessage};

/// The reactions offered in one click.
pub const QUICK_REACTIONS: [&str; 6] = ["👍", "❤️", "😂", "😮", "😢", "🙏"];

/// What the composer is doing besides writing a new message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// The next message answers this one.
    Reply(MessageId),
    /// The composer holds a correction of this message.
    Edit(MessageId),
}

/// The composer's extras.
#[derive(Debug, Default)]
pub struct Compose {
    /// The message whose actions are shown.
    pub focus: Option<MessageId>,
    /// Replying or correcting.
    pub mode: Option<Mode>,
    /// Files attached to the next message.
    pub files: Vec<Attachment>,
    /// Whether the file chooser is open.
    pub picking: bool,
}

/// Something the user did to a message or the composer's extras.
#[derive(Debug, Clone)]
pub enum Action {
    /// Show (or hide) a message's actions.
    Focus(MessageId),
    /// Answer a message.
    Reply(MessageId),
    /// Correct one's own message.
    Edit(MessageId),
    /// Add, or take back, one's reaction.
    React(MessageId, String),
    /// Delete one's own message for everyone.
    Delete(MessageId),
    /// Leave replying or correcting.
    Cancel,
    /// Open the file chooser.
    Attach,
    /// The chooser closed: the files picked (none when cancelled), or why
    /// one could not be read.
    Picked(Result<Vec<Attachment>, String>),
    /// A file was dropped on the window: attach it to the open chat's next
    /// message.
    Dropped(std::path::PathBuf),
    /// Drop a file from the next message.
    RemoveFile(usize),
    /// The engine refused a change.
    ChangeFailed(String),
    /// Open a received file with the desktop's viewer.
    OpenFile(MessageId, usize),
    /// A received file could not be opened.
    OpenFailed(String),
    /// A preview was opened in memory (`None`: it could not be).
    PreviewLoaded(MessageId, usize, Option<iced::widget::image::Handle>),
}

impl App {
    /// The loaded message with this id.
    pub fn message(&self, id: MessageId) -> Option<&StoredMessage> {
        self.messages.iter().find(|m| m.id == id)
    }

    /// The loaded message a reply points at.
    pub fn replied(&self, target: &RemoteId) -> Option<&StoredMessage> {
        self.messages
            .iter()
            .find(|m| m.remote_id.as_ref() == Some(target))
    }

    /// What the open chat's network can do.
    pub fn capabilities(&self) -> Option<&Capabilities> {
        let account = &self.current()?.account;
        let protocol = self.protocol_of(account)?;
        self.protocols
            .iter()
            .find(|p| &p.id == protocol)
            .map(|p| &p.capabilities)
    }

    /// The user's own address in the open chat (as the account names it).
    pub fn own_address(&self) -> Option<&str> {
        let account = &self.current()?.account;
        self.accounts
            .iter()
            .find(|a| &a.record.id == account)
            .map(|a| a.record.label.as_str())
    }

    pub(crate) fn on_action(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Focus(id) => {
                self.compose.focus = (self.compose.focus != Some(id)).then_some(id);
                Vec::new()
            }
            Action::Reply(id) => {
                if self.message(id).is_some_and(|m| m.remote_id.is_some()) {
                    self.compose.mode = Some(Mode::Reply(id));
                    self.compose.focus = None;
                    return vec![Effect::Focus(crate::view::COMPOSER_ID)];
                }
                Vec::new()
            }
            Action::Edit(id) => {
                let Some(m) = self.message(id).filter(|m| editable(m)) else {
                    return Vec::new();
                };
                self.composer = text_editor::Content::with_text(&m.content.text);
                self.composer
                    .perform(text_editor::Action::Move(text_editor::Motion::DocumentEnd));
                self.compose.mode = Some(Mode::Edit(id));
                self.compose.focus = None;
                vec![Effect::Focus(crate::view::COMPOSER_ID)]
            }
            Action::React(id, key) => {
                let Some(m) = self.message(id).filter(|m| m.remote_id.is_some()) else {
                    return Vec::new();
                };
                let mine = self
                    .own_address()
                    .is_some_and(|me| m.reactions.iter().any(|(by, k)| by == me && *k == key));
                self.compose.focus = None;
                let change = if mine {
                    OwnChange::Unreact(key)
                } else {
                    OwnChange::React(key)
                };
                vec![Effect::Change(id, change)]
            }
            Action::Delete(id) => {
                self.compose.focus = None;
                if self.message(id).is_some_and(editable) {
                    vec![Effect::Change(id, OwnChange::Delete)]
                } else {
                    Vec::new()
                }
            }
            Action::Cancel => {
                if matches!(self.compose.mode, Some(Mode::Edit(_))) {
                    self.composer = text_editor::Content::new();
                }
                self.compose.mode = None;
                Vec::new()
            }
            Action::Attach => {
                if self.compose.picking || self.current().is_none() {
                    return Vec::new();
                }
                self.compose.picking = true;
                vec![Effect::PickFiles]
            }
            Action::Picked(result) => {
                self.compose.picking = false;
                match result {
                    Ok(files) => self.compose.files.extend(files),
                    Err(reason) => {
                        self.error = Some(crate::fl!("attach-failed", reason = reason));
                    }
                }
                Vec::new()
            }
            Action::Dropped(path) => {
                // On the People screen a vCard is an address book to import.
                if self.screen == crate::app::Screen::People && crate::actions_io::is_vcard(&path) {
                    return vec![Effect::People(crate::people_screen::Job::Import(path))];
                }
                let writable = self.current().is_some_and(|c| !c.read_only);
                if writable {
                    vec![Effect::ReadFiles(vec![path])]
                } else {
                    Vec::new()
                }
            }
            Action::RemoveFile(index) => {
                if index < self.compose.files.len() {
                    self.compose.files.remove(index);
                }
                Vec::new()
            }
            Action::ChangeFailed(reason) => {
                self.error = Some(crate::fl!("change-failed", reason = reason));
                Vec::new()
            }
            Action::OpenFile(id, index) => {
                let on_disk = self
                    .message(id)
                    .and_then(|m| m.content.attachments.get(index))
                    .is_some_and(crate::files::can_open);
                if on_disk {
                    vec![Effect::OpenAttachment(id, index)]
                } else {
                    Vec::new()
                }
            }
            Action::OpenFailed(reason) => {
                self.error = Some(crate::fl!("file-open-failed", reason = reason));
                Vec::new()
            }
            Action::PreviewLoaded(id, index, handle) => {
                self.preview_loaded((id, index), handle);
                Vec::new()
            }
        }
    }

    /// Enter in the composer while correcting: the correction, if the text
    /// changed. `None` when not correcting.
    pub(crate) fn send_edit(&mut self) -> Option<Vec<Effect>> {
        let Some(Mode::Edit(id)) = self.compose.mode else {
            return None;
        };
        let text = composer_text(&self.composer);
        let text = text.trim_end_matches('\n').to_owned();
        if text.trim().is_empty() {
            return Some(Vec::new());
        }
        self.compose.mode = None;
        self.composer = text_editor::Content::new();
        let unchanged = self.message(id).is_some_and(|m| m.content.text == text);
        Some(if unchanged {
            Vec::new()
        } else {
            vec![Effect::Change(id, OwnChange::Edit(text))]
        })
    }

    /// The remote id a new message answers, clearing the reply mode.
    pub(crate) fn take_reply(&mut self) -> Option<RemoteId> {
        let Some(Mode::Reply(id)) = self.compose.mode else {
            return None;
        };
        self.compose.mode = None;
        self.message(id).and_then(|m| m.remote_id.clone())
    }

    /// Forgets the extras when another chat opens.
    pub(crate) fn reset_compose(&mut self) {
        self.compose = Compose::default();
    }
}

/// One's own message, taken by the network, not deleted.
pub fn editable(m: &StoredMessage) -> bool {
    m.direction == Direction::Outgoing && m.remote_id.is_some() && !m.deleted
}

/// A size for people: "12 KB", "3.4 MB".
pub fn human_size(bytes: u64) -> String {
    const KB: f64 = 1000.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} B")
    } else if b < KB * KB {
        format!("{:.0} KB", b / KB)
    } else if b < KB * KB * KB {
        format!("{:.1} MB", b / (KB * KB))
    } else {
        format!("{:.1} GB", b / (KB * KB * KB))
    }
}
