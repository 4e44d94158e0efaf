//! Received files in the chat: previews of images opened from their sealed
//! copies (in memory, never written out), and "Open", which asks the engine
//! for a private temporary copy and hands it to the desktop.

use crate::app::{App, Effect};
use crate::message_view::PREVIEW_MAX_BYTES;
use iced::widget::image;
use koine_api::{Attachment, AttachmentSource};
use koine_core::{MessageId, StoredMessage};
use std::collections::HashMap;

/// A file of a message: the message and the file's place in it.
pub type FileRef = (MessageId, usize);

/// The previews of the open chat's sealed images.
#[derive(Debug, Default)]
pub struct Previews {
    /// Opened previews; `None` while loading or when the file did not open.
    loaded: HashMap<FileRef, Option<image::Handle>>,
}

impl Previews {
    /// The preview of a file, once opened.
    pub fn get(&self, file: FileRef) -> Option<&image::Handle> {
        self.loaded.get(&file).and_then(Option::as_ref)
    }

    /// Forgets every preview (another chat was opened).
    pub fn clear(&mut self) {
        self.loaded.clear();
    }
}

/// Whether the window previews this file from its sealed copy.
pub fn has_sealed_preview(a: &Attachment) -> bool {
    matches!(a.source, AttachmentSource::Sealed(_))
        && a.mime.starts_with("image/")
        && a.size <= PREVIEW_MAX_BYTES
}

/// Whether the file is on this computer, so that it can be opened.
pub fn can_open(a: &Attachment) -> bool {
    !matches!(a.source, AttachmentSource::Remote(_))
}

impl App {
    /// The previews to open for these messages (each once).
    pub(crate) fn want_previews<'a>(
        &mut self,
        messages: impl IntoIterator<Item = &'a StoredMessage>,
    ) -> Vec<Effect> {
        let mut effects = Vec::new();
        for m in messages {
            if m.deleted {
                continue;
            }
            for (i, a) in m.content.attachments.iter().enumerate() {
                let key = (m.id, i);
                if has_sealed_preview(a) && !self.previews.loaded.contains_key(&key) {
                    self.previews.loaded.insert(key, None);
                    effects.push(Effect::LoadPreview(m.id, i));
                }
            }
        }
        effects
    }

    /// A preview was opened (or not: the file then shows without one).
    pub(crate) fn preview_loaded(&mut self, file: FileRef, handle: Option<image::Handle>) {
        // Only for the open chat's messages: a late answer is dropped.
        if self.messages.iter().any(|m| m.id == file.0) {
            self.previews.loaded.insert(file, handle);
        }
    }
}
