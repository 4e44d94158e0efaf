//! Keyboard shortcuts of the window, as a pure mapping so that tests check
//! it: Ctrl+K quick switcher, Ctrl+F search, Alt+Up/Down previous/next
//! chat, Up/Down/Esc in the panels.

use crate::app::Message;
use crate::overlay::Action;
use iced::keyboard::{Key, Modifiers, key::Named};

/// The message a key press means, if any.
pub fn shortcut(key: &Key, modifiers: Modifiers) -> Option<Message> {
    match key.as_ref() {
        Key::Character(c) if modifiers.command() && !modifiers.alt() => {
            match c.to_lowercase().as_str() {
                "k" => Some(Message::Overlay(Action::OpenSwitcher)),
                "f" => Some(Message::Overlay(Action::OpenSearch)),
                _ => None,
            }
        }
        Key::Named(Named::ArrowUp) if modifiers.alt() => Some(Message::NextChat(-1)),
        Key::Named(Named::ArrowDown) if modifiers.alt() => Some(Message::NextChat(1)),
        Key::Named(Named::ArrowUp) if modifiers.is_empty() => Some(Message::Arrow(-1)),
        Key::Named(Named::ArrowDown) if modifiers.is_empty() => Some(Message::Arrow(1)),
        Key::Named(Named::Escape) => Some(Message::CloseInspector),
        _ => None,
    }
}
