//! Filling the gap of a `limited` sync.
//!
//! When more events arrived in a room than the sync's timeline limit, the
//! server sends only the newest ones, marks the timeline `limited` and gives
//! a `prev_batch` token. Everything between the previous sync position and
//! `prev_batch` is fetched here with `/messages`, backwards from `prev_batch`
//! and stopping at the previous sync token (`to`), so every message lands in
//! Koine's store, not only the newest few.

use matrix_sdk::Room;
use matrix_sdk::deserialized_responses::TimelineEvent;
use matrix_sdk::room::MessagesOptions;
use matrix_sdk::ruma::uint;

/// A ceiling on pages per gap, against a server that never ends a gap.
const MAX_PAGES: usize = 200;

/// The events between `since` (the previous sync position) and `prev_batch`,
/// oldest first.
pub async fn fill_gap(
    room: &Room,
    prev_batch: &str,
    since: &str,
) -> Result<Vec<TimelineEvent>, matrix_sdk::Error> {
    let mut newest_first = Vec::new();
    let mut from = prev_batch.to_owned();
    for _ in 0..MAX_PAGES {
        let mut options = MessagesOptions::backward().from(Some(from.as_str()));
        options.to = Some(since.to_owned());
        options.limit = uint!(500); // events per page
        let page = room.messages(options).await?;
        let empty = page.chunk.is_empty();
        newest_first.extend(page.chunk);
        match page.end {
            Some(end) if !empty && end != from => from = end,
            _ => break,
        }
    }
    newest_first.reverse();
    Ok(newest_first)
}
