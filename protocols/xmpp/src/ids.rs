//! Remote ids of incoming messages.
//!
//! A sender chooses its message ids (origin-id or stanza `id`), and some
//! reuse them: a bot may send `id="1"` every time. Taken as they are, each
//! later message would be dropped as a duplicate of the first. The server's
//! `<stanza-id/>` (XEP-0359, set by our own server or the room, which strip
//! forged ones) is unique, so the first message a sender calls `X` keeps
//! `X` as its remote id (corrections and markers name it so), and any other
//! message the same sender also calls `X` gets its stanza-id instead.
//!
//! The first stanza-id of each `(conversation, sender id)` is kept in
//! `sender-ids.log` (one JSON array a line), so a message seen live and
//! again from the archive after a restart gets the same id. The log holds
//! at most [`SenderIds::CAP`] entries, the newest (a flood of unique ids
//! must not grow it, nor the time to read it at login, without bound):
//! past the cap it is rewritten with the newest half. An entry forgotten so
//! only matters for a message seen again long after, which the store
//! already holds.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};

type Key = (String, String);

/// What the plugin knows of senders' ids.
#[derive(Debug, Default)]
pub struct SenderIds {
    first: HashMap<Key, String>,
    /// The keys of `first`, oldest first.
    order: VecDeque<Key>,
    latest: HashMap<Key, String>,
    path: PathBuf,
    log: Option<std::fs::File>,
    cap: usize,
}

/// A sender's id longer than this is not remembered: the message is named
/// by the server's stanza-id instead (real ids are short).
const MAX_ID: usize = 512;
/// A log line longer than this is not written (a long conversation name).
const MAX_LINE: usize = 2048;

impl SenderIds {
    /// The log's file name.
    pub const FILE: &'static str = "sender-ids.log";

    /// How many entries the log keeps.
    pub const CAP: usize = 100_000;

    /// Loads the log in `dir` (a line that cannot be read is skipped).
    pub fn load(dir: &Path) -> Self {
        Self::load_with_cap(dir, Self::CAP)
    }

    /// [`SenderIds::load`] with another cap (tests).
    #[doc(hidden)]
    pub fn load_with_cap(dir: &Path, cap: usize) -> Self {
        let path = dir.join(Self::FILE);
        let mut ids = Self {
            path,
            cap: cap.max(2),
            ..Self::default()
        };
        let text = std::fs::read_to_string(&ids.path).unwrap_or_default();
        let mut lines = 0usize;
        for (conversation, id, stanza_id) in text
            .lines()
            .filter_map(|l| serde_json::from_str::<(String, String, String)>(l).ok())
        {
            lines = lines.saturating_add(1);
            ids.remember((conversation, id), stanza_id);
        }
        drop(text);
        if lines > ids.first.len() {
            // Entries were dropped (over the cap): keep the file as small.
            ids.rewrite();
        }
        ids.log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&ids.path)
            .ok();
        ids
    }

    /// Keeps `key`'s first stanza-id, forgetting the oldest past the cap.
    fn remember(&mut self, key: Key, stanza_id: String) {
        if self.first.insert(key.clone(), stanza_id).is_none() {
            self.order.push_back(key);
        }
        if self.order.len() > self.cap {
            let keep = self.cap / 2;
            while self.order.len() > keep {
                if let Some(old) = self.order.pop_front() {
                    self.first.remove(&old);
                }
            }
        }
    }

    /// Writes the entries kept to a new file that replaces the log.
    fn rewrite(&mut self) {
        let tmp = self.path.with_extension("log.new");
        let written = (|| -> std::io::Result<()> {
            let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            for key in &self.order {
                let Some(stanza_id) = self.first.get(key) else {
                    continue;
                };
                let line = serde_json::to_string(&(&key.0, &key.1, stanza_id))
                    .map_err(std::io::Error::other)?;
                if line.len() <= MAX_LINE {
                    writeln!(f, "{line}")?;
                }
            }
            f.flush()?;
            std::fs::rename(&tmp, &self.path)
        })();
        if let Err(e) = written {
            tracing::warn!(error = %e, "could not compact the senders' ids");
        }
        self.log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .ok();
    }

    /// The remote id of an incoming message of `conversation` that its
    /// sender calls `id` and the server stamped `stanza_id`.
    pub fn remote_id(&mut self, conversation: &str, id: &str, stanza_id: Option<&str>) -> String {
        let Some(stanza_id) = stanza_id else {
            return id.to_owned();
        };
        if id.len() > MAX_ID {
            // Not remembered (memory and the log stay bounded): the
            // server's unique id names it.
            return stanza_id.to_owned();
        }
        let key = (conversation.to_owned(), id.to_owned());
        self.latest.insert(key.clone(), stanza_id.to_owned());
        match self.first.get(&key) {
            Some(first) if first == stanza_id => id.to_owned(),
            Some(_) => stanza_id.to_owned(),
            None => {
                if let (Some(f), Ok(line)) = (
                    &mut self.log,
                    serde_json::to_string(&(conversation, id, stanza_id)),
                ) && line.len() <= MAX_LINE
                    && let Err(e) = writeln!(f, "{line}")
                {
                    tracing::warn!(error = %e, "could not record a sender's message id");
                }
                let before = self.first.len();
                self.remember(key, stanza_id.to_owned());
                if self.first.len() < before {
                    // The oldest half was forgotten: the file follows.
                    self.rewrite();
                }
                id.to_owned()
            }
        }
    }

    /// The message a sender means by `id` in `conversation` (the target of
    /// its correction): its latest message it called so.
    pub fn target(&self, conversation: &str, id: &str) -> String {
        let key = (conversation.to_owned(), id.to_owned());
        match (self.first.get(&key), self.latest.get(&key)) {
            (Some(first), Some(latest)) if first != latest => latest.clone(),
            _ => id.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_id_names_a_new_message_by_its_stanza_id_across_restarts() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut ids = SenderIds::load(dir.path());
        assert_eq!(ids.remote_id("bot@x", "1", Some("s1")), "1");
        assert_eq!(ids.remote_id("bot@x", "1", Some("s1")), "1", "seen again");
        assert_eq!(ids.remote_id("bot@x", "1", Some("s2")), "s2");
        assert_eq!(
            ids.target("bot@x", "1"),
            "s2",
            "a correction means the latest"
        );
        assert_eq!(
            ids.remote_id("eve@x", "1", Some("s3")),
            "1",
            "per conversation"
        );
        assert_eq!(
            ids.remote_id("bot@x", "2", None),
            "2",
            "no stanza-id: as sent"
        );
        drop(ids);
        let mut again = SenderIds::load(dir.path());
        assert_eq!(again.remote_id("bot@x", "1", Some("s2")), "s2");
        assert_eq!(again.remote_id("bot@x", "1", Some("s1")), "1");
    }

    #[test]
    fn a_flood_of_unique_ids_keeps_the_log_bounded_and_the_newest() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut ids = SenderIds::load_with_cap(dir.path(), 100);
        for n in 0..1000 {
            let id = format!("m{n}");
            assert_eq!(ids.remote_id("flood@x", &id, Some(&format!("s{n}"))), id);
        }
        let lines = || {
            std::fs::read_to_string(dir.path().join(SenderIds::FILE))
                .expect("log")
                .lines()
                .count()
        };
        assert!(lines() <= 100, "the log grew to {} lines", lines());
        drop(ids);
        let mut again = SenderIds::load_with_cap(dir.path(), 100);
        // The newest are remembered: a reuse of a recent id is caught.
        assert_eq!(again.remote_id("flood@x", "m999", Some("other")), "other");
        assert!(lines() <= 100);
        // An oversized id is named by the server's id, not remembered.
        let huge = "x".repeat(10_000);
        assert_eq!(again.remote_id("flood@x", &huge, Some("s-huge")), "s-huge");
        assert!(
            !std::fs::read_to_string(dir.path().join(SenderIds::FILE))
                .expect("log")
                .contains(&huge)
        );
    }
}
