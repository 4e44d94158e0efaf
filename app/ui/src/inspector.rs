//! The route inspector: the path drawn from you to them (iced `canvas`), the
//! end-to-end span as one continuous band, hops that read plaintext marked in
//! red; then every hop listed with host, operator, transport and what it reads.

use crate::app::Message;
use crate::{fl, route};
use iced::widget::canvas::{self, Frame, Geometry, Path, Stroke, Text};
use iced::widget::{Canvas, button, column, row, scrollable, text};
use iced::{Color, Element, Length, Point, Rectangle, Renderer, Size, Theme, mouse};
use koine_api::{Route, Visibility};

/// The drawing of a route.
#[derive(Debug)]
pub struct Diagram<'a> {
    route: &'a Route,
    you: String,
    them: String,
}

impl canvas::Program<Message> for Diagram<'_> {
    type State = ();

    fn draw(
        &self,
        _state: &(),
        renderer: &Renderer,
        theme: &Theme,
        bounds: Rectangle,
        _cursor: mouse::Cursor,
    ) -> Vec<Geometry> {
        let palette = theme.extended_palette();
        let mut frame = Frame::new(renderer, bounds.size());
        let count = self.route.hops.len() + 2;
        let margin = 60.0;
        let step = (bounds.width - 2.0 * margin) / (count.saturating_sub(1).max(1) as f32);
        let y = 44.0;
        let x = |i: usize| margin + step * i as f32;

        // The end-to-end band: from you to the node where encryption ends.
        let span = route::band_span(self.route);
        if !span.is_empty() || (span.end == 0 && route::is_end_to_end(Some(self.route))) {
            let end_node = if span.end >= self.route.hops.len() {
                count - 1
            } else {
                span.end + 1
            };
            let band = Path::rectangle(
                Point::new(x(0) - 14.0, y - 14.0),
                Size::new(x(end_node) - x(0) + 28.0, 28.0),
            );
            frame.fill(&band, palette.success.weak.color);
            frame.fill_text(Text {
                content: fl!("inspector-band"),
                position: Point::new(x(0) - 14.0, y - 34.0),
                color: palette.success.strong.color,
                size: 13.0.into(),
                ..Text::default()
            });
        }

        // The links.
        let line = Path::line(Point::new(x(0), y), Point::new(x(count - 1), y));
        frame.stroke(
            &line,
            Stroke::default()
                .with_width(2.0)
                .with_color(palette.background.strong.color),
        );

        // The nodes.
        let labels = std::iter::once((self.you.clone(), false))
            .chain(
                self.route
                    .hops
                    .iter()
                    .map(|h| (h.host.clone(), h.reads == Visibility::Content)),
            )
            .chain(std::iter::once((self.them.clone(), false)));
        for (i, (label, reads)) in labels.enumerate() {
            let center = Point::new(x(i), y);
            let color = if reads {
                palette.danger.base.color
            } else {
                palette.primary.base.color
            };
            frame.fill(&Path::circle(center, 9.0), color);
            if reads {
                frame.stroke(
                    &Path::circle(center, 13.0),
                    Stroke::default().with_width(2.0).with_color(color),
                );
            }
            let text_color = if reads {
                color
            } else {
                palette.background.base.text
            };
            frame.fill_text(Text {
                content: label,
                // Alternate rows so long names of neighbours never overlap.
                position: Point::new(center.x, y + 22.0 + (i % 2) as f32 * 17.0),
                color: text_color,
                size: 13.0.into(),
                align_x: iced::widget::text::Alignment::Center,
                ..Text::default()
            });
        }
        let _ = Color::TRANSPARENT;
        vec![frame.into_geometry()]
    }
}

/// The inspector panel for a route.
/// `history_encrypted`: the engine keeps the history encrypted at rest; the
/// panel says so then, and only then.
pub fn view<'a>(
    route: Option<&'a Route>,
    network: &str,
    history_encrypted: bool,
) -> Element<'a, Message> {
    let header = row![
        text(fl!("inspector-title")).size(18).width(Length::Fill),
        button(text(fl!("inspector-close"))).on_press(Message::CloseInspector),
    ]
    .spacing(8);
    let Some(route) = route else {
        return column![header, text(route::route_line(network, None))]
            .spacing(12)
            .padding(12)
            .into();
    };
    let diagram = Canvas::new(Diagram {
        route,
        you: fl!("inspector-you"),
        them: fl!("inspector-them"),
    })
    .width(Length::Fill)
    .height(110);
    let mut hops = column![].spacing(10);
    for (i, hop) in route.hops.iter().enumerate() {
        let reads = route::reads_text(hop);
        let reads = if hop.reads == Visibility::Content {
            text(reads).style(text::danger)
        } else {
            text(reads)
        };
        let mut entry = column![
            text(format!(
                "{}. {} ({})",
                i + 1,
                hop.host,
                route::hop_kind_text(hop)
            ))
            .size(15),
            text(route::operator_text(hop)).size(13),
            text(route::transport_text(&hop.transport)).size(13),
            reads.size(13),
        ]
        .spacing(2);
        if hop.sees_your_ip {
            entry = entry.push(text(fl!("inspector-sees-ip")).size(13));
        }
        hops = hops.push(entry);
    }
    let mut e2e = column![].spacing(4);
    for line in route::end_to_end_lines(route) {
        e2e = e2e.push(text(line).size(14));
    }
    if history_encrypted {
        e2e = e2e.push(text(fl!("inspector-history-encrypted")).size(14));
    }
    column![
        header,
        text(route::route_line(network, Some(route))).size(14),
        diagram,
        scrollable(column![e2e, hops].spacing(14)).height(Length::Fill),
    ]
    .spacing(12)
    .padding(12)
    .into()
}
