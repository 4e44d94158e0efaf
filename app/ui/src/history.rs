//! Long histories: the chat draws only the messages near the visible part,
//! with empty space of the estimated height above and below, and asks for
//! older pages when the view reaches the top. A chat of thousands of
//! messages costs a screenful of widgets, not thousands.
//!
//! The chat's scrollable is anchored at the bottom, so its offset is the
//! distance from the bottom (new messages stay in view).

use crate::app::{App, Effect, PAGE};
use koine_core::{ConversationId, StoredMessage};

/// The estimated height of a message's row, in logical pixels, gap included.
pub fn estimate(m: &StoredMessage, with_day_separator: bool) -> f32 {
    let lines: usize = m
        .content
        .text
        .split('\n')
        .map(|l| l.chars().count().div_ceil(70).max(1))
        .sum();
    let mut h = 40.0 + 19.0 * (lines.saturating_sub(1)) as f32;
    for a in &m.content.attachments {
        h += 18.0;
        if crate::message_view::preview_path(a).is_some() {
            h += crate::message_view::PREVIEW_HEIGHT + 2.0;
        }
    }
    if m.reply_to.is_some() {
        h += 22.0;
    }
    if !m.reactions.is_empty() {
        h += 19.0;
    }
    if with_day_separator {
        h += 26.0;
    }
    h
}

/// Which rows to draw, and the space standing for the others.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// First row drawn.
    pub start: usize,
    /// One past the last row drawn.
    pub end: usize,
    /// Height of the rows above, not drawn.
    pub above: f32,
    /// Height of the rows below, not drawn.
    pub below: f32,
}

/// The rows within `margin` of the visible part: the view is `viewport`
/// high, `from_bottom` above the end of the content.
pub fn window(heights: &[f32], from_bottom: f32, viewport: f32, margin: f32) -> Window {
    let total: f32 = heights.iter().sum();
    let bottom = (total - from_bottom.max(0.0) + margin).min(total);
    let top = (total - from_bottom.max(0.0) - viewport - margin).max(0.0);
    let (mut start, mut end) = (heights.len(), heights.len());
    let (mut above, mut y) = (0.0, 0.0);
    for (i, h) in heights.iter().enumerate() {
        let next = y + h;
        if start == heights.len() && next > top {
            start = i;
            above = y;
        }
        if next >= bottom {
            end = i + 1;
            y = next;
            break;
        }
        y = next;
    }
    if start == heights.len() {
        above = total;
    }
    Window {
        start,
        end: end.max(start),
        above,
        below: (total - y).max(0.0),
    }
}

/// Where the chat is scrolled to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scroll {
    /// Distance from the bottom of the content.
    pub from_bottom: f32,
    /// Height of the visible part.
    pub viewport: f32,
    /// Height of the whole content.
    pub content: f32,
}

impl Default for Scroll {
    fn default() -> Self {
        Self {
            from_bottom: 0.0,
            viewport: 800.0,
            content: 0.0,
        }
    }
}

impl App {
    /// The estimated heights of the loaded messages, day separators included.
    pub fn row_heights(&self) -> Vec<f32> {
        let mut last_day = None;
        self.messages
            .iter()
            .map(|m| {
                let day = crate::time::day(m.timestamp);
                let new_day = last_day != Some(day);
                last_day = Some(day);
                estimate(m, new_day)
            })
            .collect()
    }

    /// The rows the chat draws now.
    pub fn visible_rows(&self) -> Window {
        let s = self.scroll;
        window(&self.row_heights(), s.from_bottom, s.viewport, s.viewport)
    }

    /// The chat scrolled; near the top, the page before is asked for.
    pub(crate) fn scrolled(&mut self, scroll: Scroll) -> Vec<Effect> {
        self.scroll = scroll;
        let from_top = (scroll.content - scroll.viewport - scroll.from_bottom).max(0.0);
        match (self.selected, self.messages.first()) {
            (Some(id), Some(first))
                if from_top < scroll.viewport && !self.loading_older && self.older_remain =>
            {
                self.loading_older = true;
                vec![Effect::LoadOlder(id, first.id)]
            }
            _ => Vec::new(),
        }
    }

    /// A page of older messages arrived.
    pub(crate) fn older_loaded(&mut self, id: ConversationId, older: Vec<StoredMessage>) {
        if Some(id) != self.selected {
            return;
        }
        self.loading_older = false;
        self.older_remain = older.len() as u32 >= PAGE;
        let first = self.messages.first().map(|m| m.id);
        let mut older: Vec<StoredMessage> = older
            .into_iter()
            .filter(|m| first.is_none_or(|f| m.id < f))
            .collect();
        older.append(&mut self.messages);
        self.messages = older;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_covers_the_visible_part_and_the_margin() {
        let heights = vec![10.0; 100]; // 1000 px of content
        // At the bottom, 100 px visible, 50 px margin: rows 85..100.
        let w = window(&heights, 0.0, 100.0, 50.0);
        assert_eq!((w.start, w.end), (85, 100));
        assert_eq!((w.above, w.below), (850.0, 0.0));
        // 500 px up from the bottom: rows 35..60.
        let w = window(&heights, 500.0, 100.0, 50.0);
        assert_eq!((w.start, w.end), (35, 55));
        assert_eq!((w.above, w.below), (350.0, 450.0));
        // At the top.
        let w = window(&heights, 900.0, 100.0, 50.0);
        assert_eq!((w.start, w.end), (0, 15));
        assert_eq!(w.above, 0.0);
        assert!(window(&[], 0.0, 100.0, 50.0).start == 0);
    }
}
