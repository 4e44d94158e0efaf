//! The first start: what Koine is, what "route" means, each network in one
//! line (in the plugin's own words), and two ways in: try the demo, or add
//! an account.

use crate::app::{App, Message};
use crate::{badge, fl};
use iced::widget::{button, column, container, row, scrollable, text};
use iced::{Alignment, Element, Fill};

/// Shown in place of the chat while the profile has no account.
pub fn view(app: &App) -> Element<'_, Message> {
    let mut networks = column![].spacing(10);
    for p in &app.protocols {
        let about = p
            .face
            .about
            .as_ref()
            .map(crate::faces::label)
            .unwrap_or_default();
        networks = networks.push(
            row![
                badge::view(&p.id, 24.0),
                column![text(p.name.clone()).size(15), text(about).size(13)]
                    .spacing(2)
                    .width(Fill),
            ]
            .spacing(10)
            .align_y(Alignment::Start),
        );
    }
    let actions = row![
        button(text(fl!("welcome-add-account")))
            .on_press(Message::Setup(crate::account_setup::Action::Open)),
        button(text(fl!("welcome-try-demo")))
            .style(button::secondary)
            .on_press(Message::TryDemo),
    ]
    .spacing(10);
    let body = column![
        text(fl!("welcome-title")).size(26),
        text(fl!("welcome-body")).size(15),
        text(fl!("welcome-route")).size(14),
        text(fl!("welcome-networks")).size(18),
        networks,
        actions,
        text(fl!("welcome-demo-note")).size(12),
    ]
    .spacing(14)
    .padding(24)
    .max_width(640);
    scrollable(container(body).center_x(Fill))
        .height(Fill)
        .into()
}
