//! Network badges from `assets/badges/*.svg`, embedded in the binary.

use crate::app::Message;
use iced::Element;
use iced::widget::{Space, svg, text};
use koine_api::ProtocolId;

fn bytes(protocol: &ProtocolId) -> Option<&'static [u8]> {
    Some(match protocol.as_str() {
        "xmpp" => include_bytes!("../../../assets/badges/xmpp.svg"),
        "matrix" => include_bytes!("../../../assets/badges/matrix.svg"),
        "sms" => include_bytes!("../../../assets/badges/sms.svg"),
        "gatekeeper" => include_bytes!("../../../assets/badges/gatekeeper.svg"),
        _ => return None,
    })
}

/// The badge of a network, `size` pixels square.
pub fn view(protocol: &ProtocolId, size: f32) -> Element<'static, Message> {
    match bytes(protocol) {
        Some(b) => svg(svg::Handle::from_memory(b))
            .width(size)
            .height(size)
            .into(),
        None if protocol.as_str().is_empty() => Space::new().width(size).into(),
        None => text(protocol.as_str().chars().take(2).collect::<String>())
            .size(size / 2.0 + 2.0)
            .width(size)
            .into(),
    }
}
