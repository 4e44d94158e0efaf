//! Network badges, as each plugin gives its own (see [`crate::faces`]).

use crate::app::Message;
use iced::Element;
use iced::widget::{Space, svg, text};
use koine_api::ProtocolId;

/// The badge of a network, `size` pixels square.
pub fn view(protocol: &ProtocolId, size: f32) -> Element<'static, Message> {
    match crate::faces::badge(protocol) {
        Some(handle) => svg(handle).width(size).height(size).into(),
        None if protocol.as_str().is_empty() => Space::new().width(size).into(),
        None => text(protocol.as_str().chars().take(2).collect::<String>())
            .size(size / 2.0 + 2.0)
            .width(size)
            .into(),
    }
}
