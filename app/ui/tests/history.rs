//! Long histories (`ICED_TEST_BACKEND=tiny-skia`): the chat draws only the
//! rows near the visible part, follows the scroll, and asks for older pages
//! at the top.

mod common;

use common::*;
use iced::mouse::{Event as Mouse, ScrollDelta};
use iced_test::core::Event;
use koine_api::{DeliveryState, Direction};
use koine_core::MessageId;
use koine_ui::app::{App, Effect, Message, PAGE};
use koine_ui::history::Scroll;

fn numbered(range: std::ops::Range<i64>) -> Vec<koine_core::StoredMessage> {
    range
        .map(|i| {
            message(
                1000 + i,
                ALICE,
                Direction::Incoming,
                2,
                &format!("message #{i}"),
                DeliveryState::Delivered,
            )
        })
        .collect()
}

fn open_alice(messages: Vec<koine_core::StoredMessage>) -> App {
    let mut app = app();
    let clicked = click(&app, "Alice");
    let _ = apply(&mut app, clicked);
    let _ = app.update(Message::MessagesLoaded(ALICE, messages));
    app
}

fn drawn(app: &App) -> Vec<String> {
    texts(app)
        .into_iter()
        .filter(|t| t.starts_with("message #"))
        .collect()
}

#[test]
fn five_thousand_messages_draw_only_a_screenful() {
    let app = open_alice(numbered(0..5000));
    let rows = drawn(&app);
    assert!(rows.len() < 80, "{} rows drawn", rows.len());
    assert!(
        rows.contains(&"message #4999".to_owned()),
        "the newest is in view"
    );
    assert!(!rows.contains(&"message #0".to_owned()));
}

#[test]
fn scrolling_to_the_top_draws_the_oldest_rows() {
    let mut app = open_alice(numbered(0..5000));
    let total: f32 = app.row_heights().iter().sum();
    let _ = app.update(Message::ChatScrolled(Scroll {
        from_bottom: total - 600.0,
        viewport: 600.0,
        content: total,
    }));
    let rows = drawn(&app);
    assert!(rows.contains(&"message #0".to_owned()), "{rows:?}");
    assert!(!rows.contains(&"message #4999".to_owned()));
    assert!(rows.len() < 80);
}

#[test]
fn the_wheel_over_the_chat_reports_the_distance_from_the_bottom() {
    let app = open_alice(numbered(0..300));
    let mut sim = simulator(&app);
    // The middle of the chat (rows report content coordinates, not screen
    // ones, inside a scrolled list).
    sim.point_at(iced::Point::new(860.0, 400.0));
    let _ = sim.simulate([Event::Mouse(Mouse::WheelScrolled {
        delta: ScrollDelta::Lines { x: 0.0, y: 10.0 },
    })]);
    let scrolled: Vec<Scroll> = sim
        .into_messages()
        .filter_map(|m| match m {
            Message::ChatScrolled(s) => Some(s),
            _ => None,
        })
        .collect();
    let last = scrolled.last().expect("a scroll message");
    assert!(last.from_bottom > 100.0, "{last:?}");
    assert!(last.content > last.viewport);
}

#[test]
fn older_pages_are_asked_for_at_the_top_once_at_a_time() {
    let mut app = open_alice(numbered(100..100 + PAGE as i64));
    let total: f32 = app.row_heights().iter().sum();
    let top = Scroll {
        from_bottom: total - 600.0,
        viewport: 600.0,
        content: total,
    };
    let effects = app.update(Message::ChatScrolled(top));
    assert_eq!(effects, [Effect::LoadOlder(ALICE, MessageId(1100))]);
    assert!(
        app.update(Message::ChatScrolled(top)).is_empty(),
        "one at a time"
    );

    let _ = app.update(Message::OlderLoaded(ALICE, numbered(40..100)));
    assert_eq!(app.messages.len(), PAGE as usize + 60);
    assert_eq!(app.messages[0].content.text, "message #40");
    // Fewer than a page came: that was the beginning.
    assert!(app.update(Message::ChatScrolled(top)).is_empty());

    // Near the bottom nothing is asked for.
    let mut app = open_alice(numbered(100..100 + PAGE as i64));
    let effects = app.update(Message::ChatScrolled(Scroll {
        from_bottom: 0.0,
        viewport: 600.0,
        content: total,
    }));
    assert!(effects.is_empty());
}
