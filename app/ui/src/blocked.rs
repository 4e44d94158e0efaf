//! The addresses blocked in Koine itself (from a request's Block or
//! Report), listed in the settings with an Unblock button each
//! (`Engine::blocked_addresses`, `Engine::unblock_address`).

use crate::app::{App, Effect, Message};
use crate::fl;
use iced::widget::{Column, button, row, text};
use iced::{Alignment, Element, Fill};
use koine_api::{AccountId, Address};

impl App {
    /// The blocked addresses arrived.
    pub(crate) fn blocked_loaded(&mut self, blocked: Vec<(AccountId, String)>) {
        self.blocked = blocked;
    }

    /// Unblock the address at `index` of the list.
    pub(crate) fn unblock(&mut self, index: usize) -> Vec<Effect> {
        let Some((account, address)) = self.blocked.get(index) else {
            return Vec::new();
        };
        let Ok(address) = Address::parse_any(address) else {
            return Vec::new();
        };
        let account = account.clone();
        self.blocked.remove(index);
        vec![Effect::Unblock(account, address)]
    }
}

/// The list for the settings screen.
pub fn list(app: &App) -> Element<'_, Message> {
    let mut col = Column::new().spacing(6);
    if app.blocked.is_empty() {
        col = col.push(text(fl!("blocked-none")).size(13));
    }
    for (index, (account, address)) in app.blocked.iter().enumerate() {
        let mut line = row![
            text(format!("{address} · {}", app.network_of(account)))
                .size(14)
                .width(Fill)
        ]
        .spacing(8)
        .align_y(Alignment::Center);
        if Address::parse_any(address).is_ok() {
            line = line.push(
                button(text(fl!("blocked-unblock")).size(12))
                    .style(button::secondary)
                    .on_press(Message::Unblock(index)),
            );
        }
        col = col.push(line);
    }
    col.into()
}
