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
//! again from the archive after a restart gets the same id.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

/// What the plugin knows of senders' ids.
#[derive(Debug, Default)]
pub struct SenderIds {
    first: HashMap<(String, String), String>,
    latest: HashMap<(String, String), String>,
    log: Option<std::fs::File>,
}

impl SenderIds {
    /// The log's file name.
    pub const FILE: &'static str = "sender-ids.log";

    /// Loads the log in `dir` (a line that cannot be read is skipped).
    pub fn load(dir: &Path) -> Self {
        let first = std::fs::read_to_string(dir.join(Self::FILE))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<(String, String, String)>(l).ok())
            .map(|(conversation, id, stanza_id)| ((conversation, id), stanza_id))
            .collect();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(Self::FILE))
            .ok();
        Self {
            first,
            latest: HashMap::new(),
            log,
        }
    }

    /// The remote id of an incoming message of `conversation` that its
    /// sender calls `id` and the server stamped `stanza_id`.
    pub fn remote_id(&mut self, conversation: &str, id: &str, stanza_id: Option<&str>) -> String {
        let Some(stanza_id) = stanza_id else {
            return id.to_owned();
        };
        let key = (conversation.to_owned(), id.to_owned());
        self.latest.insert(key.clone(), stanza_id.to_owned());
        match self.first.get(&key) {
            Some(first) if first == stanza_id => id.to_owned(),
            Some(_) => stanza_id.to_owned(),
            None => {
                if let (Some(f), Ok(line)) = (
                    &mut self.log,
                    serde_json::to_string(&(conversation, id, stanza_id)),
                ) && let Err(e) = writeln!(f, "{line}")
                {
                    tracing::warn!(error = %e, "could not record a sender's message id");
                }
                self.first.insert(key, stanza_id.to_owned());
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
}
