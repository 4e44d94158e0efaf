//! What the phone received while Koine was away. The phone answers
//! `request_conversations` with the newest message of each thread only, so
//! the session keeps, per thread, the date of the newest message the engine
//! has stored (in the data dir), and asks a thread whose newest message is
//! past that mark for its messages down to it, a page at a time.

use koine_api::SessionError;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// Messages asked for per page.
pub const PAGE: i64 = 100;

/// The per-thread marks, and the threads being caught up.
pub struct CatchUp {
    path: PathBuf,
    /// Thread → date (ms) of the newest message stored.
    marks: BTreeMap<i64, i64>,
    /// The marks as they were when the session started: threads not
    /// looked at yet.
    unchecked: BTreeMap<i64, i64>,
    /// Threads asked for: the mark to go down to, and the `before` of the
    /// page asked for (none for the newest).
    asked: HashMap<i64, (i64, Option<i64>)>,
}

/// What to do with a page of one thread.
pub struct Page {
    /// The messages at or past the mark, to ingest.
    pub newer: Vec<crate::kdeconnect::sms::SmsMessage>,
    /// Ask for the page before this date (ms) next.
    pub next_before: Option<i64>,
}

impl CatchUp {
    /// The marks kept at `path` (none when it is missing or unreadable).
    pub fn load(path: PathBuf) -> Self {
        let marks: BTreeMap<i64, i64> = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Self {
            path,
            unchecked: marks.clone(),
            marks,
            asked: HashMap::new(),
        }
    }

    /// The newest message of `thread` is dated `newest`: whether to ask for
    /// the thread (once per session, when it is past the mark).
    pub fn should_ask(&mut self, thread: i64, newest: i64) -> bool {
        match self.unchecked.remove(&thread) {
            Some(mark) if newest > mark => {
                self.asked.insert(thread, (mark, None));
                true
            }
            _ => false,
        }
    }

    /// A page of `thread` arrived: `None` when the thread was not asked for.
    pub fn page(
        &mut self,
        thread: i64,
        messages: Vec<crate::kdeconnect::sms::SmsMessage>,
    ) -> Result<Page, Vec<crate::kdeconnect::sms::SmsMessage>> {
        let Some((mark, before)) = self.asked.remove(&thread) else {
            return Err(messages);
        };
        let full = i64::try_from(messages.len()).unwrap_or(i64::MAX) >= PAGE;
        let oldest = messages.iter().map(|m| m.date).min();
        // At the mark too: a message of the same millisecond as the newest
        // stored one is new as well (the engine drops what it already has).
        let newer: Vec<_> = messages.into_iter().filter(|m| m.date >= mark).collect();
        // The next page ends at the oldest date of this one, included (a
        // page may end inside a millisecond), as long as that moves down.
        let next_before = oldest
            .filter(|o| full && *o > mark)
            .map(|o| o.saturating_add(1))
            .filter(|b| before.is_none_or(|prev| *b < prev));
        if let Some(b) = next_before {
            self.asked.insert(thread, (mark, Some(b)));
        }
        Ok(Page { newer, next_before })
    }

    /// The engine stored these messages: their threads' marks move on.
    pub fn stored<'a>(
        &mut self,
        messages: impl IntoIterator<Item = &'a crate::kdeconnect::sms::SmsMessage>,
    ) -> Result<(), SessionError> {
        let mut changed = false;
        for m in messages {
            let mark = self.marks.entry(m.thread_id).or_insert(i64::MIN);
            if m.date > *mark {
                *mark = m.date;
                changed = true;
            }
        }
        if !changed {
            return Ok(());
        }
        let json =
            serde_json::to_vec(&self.marks).map_err(|e| SessionError::Storage(e.to_string()))?;
        std::fs::write(&self.path, json).map_err(|e| SessionError::Storage(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kdeconnect::sms::{SmsAddress, SmsMessage};

    fn sms(uid: i64, date: i64) -> SmsMessage {
        SmsMessage {
            event: 1,
            body: format!("m{uid}"),
            addresses: vec![SmsAddress {
                address: "+33698765432".into(),
            }],
            date,
            kind: 1,
            read: 0,
            thread_id: 7,
            uid,
            sub_id: -1,
            attachments: Vec::new(),
        }
    }

    fn with_mark(mark: i64) -> (tempfile::TempDir, CatchUp) {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("marks.json");
        let mut c = CatchUp::load(path.clone());
        c.stored(&[sms(1, mark)]).expect("stored");
        (dir, CatchUp::load(path))
    }

    #[test]
    fn a_thread_past_its_mark_is_asked_for_once_and_paged_down_to_the_mark() {
        let (_dir, mut c) = with_mark(1000);
        assert!(!c.should_ask(8, 5000), "no mark: nothing to catch up");
        assert!(c.should_ask(7, 2000));
        assert!(!c.should_ask(7, 3000), "once per session");
        // A full page that does not reach the mark: the next one ends at
        // its oldest date, included.
        let full: Vec<_> = (0..PAGE).map(|i| sms(100 + i, 2000 - i)).collect();
        let page = c.page(7, full).expect("asked");
        assert_eq!(page.newer.len(), 100);
        let before = page.next_before.expect("more");
        assert_eq!(before, 2000 - (PAGE - 1) + 1);
        // The last page: what is at the mark comes too, older does not.
        let last = vec![sms(3, 1001), sms(2, 1000), sms(1, 999)];
        let page = c.page(7, last).expect("still asked");
        assert_eq!(page.newer.iter().map(|m| m.uid).collect::<Vec<_>>(), [3, 2]);
        assert!(page.next_before.is_none());
        assert!(c.page(7, vec![sms(9, 5000)]).is_err(), "done");
    }

    #[test]
    fn a_page_all_of_one_millisecond_ends_the_paging() {
        let (_dir, mut c) = with_mark(10);
        assert!(c.should_ask(7, 50));
        let same: Vec<_> = (0..PAGE).map(|i| sms(i, 50)).collect();
        let first = c.page(7, same.clone()).expect("asked");
        assert_eq!(first.next_before, Some(51));
        let second = c.page(7, same).expect("asked again");
        assert_eq!(second.next_before, None, "no progress: stop");
    }
}
