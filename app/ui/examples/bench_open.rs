//! Opening a long conversation: from the user's click to the chat's first
//! screenful drawn, through the window's own code: `App::update(Select)`,
//! the page query the shell runs for `Effect::LoadMessages`
//! (`Engine::messages(id, None, PAGE)`), `App::update(MessagesLoaded)`,
//! `view::view` with its layout (only the rows near the visible part become
//! widgets), and the drawing of a 1180×760 frame with the CPU renderer
//! (tiny-skia, offscreen, scale 1). The window's thread hop to the blocking
//! pool and the present to the screen are not in it.
//!
//! ```text
//! cargo run --release -p koine-ui --example bench_open -- PROFILE_DIR [RUNS]
//! ```
//!
//! Opens the profile's largest conversation (seed one with koine-core's
//! `bench_seed DIR 110000 100000`). Between runs another chat is selected.

use iced::{Font, Pixels, Size, Theme, mouse};
use iced_test::core::renderer::{Headless, Style};
use iced_test::runtime::user_interface::{Cache, UserInterface};
use koine_core::{Engine, EngineConfig, Profile, Registry};
use koine_ui::app::{App, Effect, Message, PAGE};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error>;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn percentile(v: &[Duration], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort();
    ms(v[((v.len() as f64 - 1.0) * p).round() as usize])
}

fn main() -> Result<(), Error> {
    let mut args = std::env::args_os().skip(1);
    let dir: PathBuf = args
        .next()
        .map(PathBuf::from)
        .ok_or("usage: bench_open PROFILE_DIR [RUNS]")?;
    let runs: usize = args
        .next()
        .map(|a| a.to_string_lossy().parse())
        .transpose()?
        .unwrap_or(50);
    let engine = Engine::open(Profile::at(&dir), Registry::new(), EngineConfig::default())?;
    let mut app = App::new(HashMap::new());
    let conversations = engine.conversations()?;
    let mut sizes = Vec::new();
    for c in &conversations {
        sizes.push((engine.message_count(c.id)?, c.id));
    }
    sizes.sort();
    let (count, big) = *sizes.last().ok_or("no conversation")?;
    let other = sizes[0].1;
    let _ = app.update(Message::ListsLoaded {
        accounts: engine.accounts()?,
        conversations,
    });

    let mut renderer = iced_test::futures::futures::executor::block_on(
        <iced::Renderer as Headless>::new(Font::DEFAULT, Pixels(16.0), Some("tiny-skia")),
    )
    .ok_or("no tiny-skia renderer")?;
    let theme = Theme::Light;
    let size = Size::new(1180.0, 760.0);

    let (mut query, mut model, mut layout, mut draw, mut total) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut rows = 0;
    for n in 0..=runs {
        let _ = app.update(Message::Select(other));
        let t0 = Instant::now();
        let effects = app.update(Message::Select(big));
        if !effects.contains(&Effect::LoadMessages(big)) {
            return Err("selecting did not ask for the messages".into());
        }
        let t1 = Instant::now();
        let page = engine.messages(big, None, PAGE)?;
        let t2 = Instant::now();
        let _ = app.update(Message::MessagesLoaded(big, page));
        let t3 = Instant::now();
        let mut ui = UserInterface::build(
            koine_ui::view::view(&app),
            size,
            Cache::default(),
            &mut renderer,
        );
        let t4 = Instant::now();
        ui.draw(
            &mut renderer,
            &theme,
            &Style {
                text_color: theme.palette().text,
            },
            mouse::Cursor::Unavailable,
        );
        let pixels = renderer.screenshot(Size::new(1180, 760), 1.0, theme.palette().background);
        let t5 = Instant::now();
        std::hint::black_box(pixels);
        if n == 0 {
            // Warm-up: fonts and glyph caches.
            let w = app.visible_rows();
            rows = w.end - w.start;
            continue;
        }
        model.push((t1 - t0) + (t3 - t2));
        query.push(t2 - t1);
        layout.push(t4 - t3);
        draw.push(t5 - t4);
        total.push(t5 - t0);
    }
    println!(
        "{{\"conversation_messages\": {count}, \"page\": {PAGE}, \"rows_drawn\": {rows}, \"runs\": {runs}, \
         \"query_p50_ms\": {:.2}, \"update_p50_ms\": {:.2}, \"view_layout_p50_ms\": {:.2}, \
         \"draw_p50_ms\": {:.2}, \"total_p50_ms\": {:.2}, \"total_p95_ms\": {:.2}, \"total_max_ms\": {:.2}}}",
        percentile(&query, 0.5),
        percentile(&model, 0.5),
        percentile(&layout, 0.5),
        percentile(&draw, 0.5),
        percentile(&total, 0.5),
        percentile(&total, 0.95),
        percentile(&total, 1.0),
    );
    Ok(())
}
