//! The phone's message store: threads and messages, like Android's.

use crate::kdeconnect::sms::{AttachmentRef, SmsAddress, SmsMessage, event};
use std::collections::{BTreeMap, HashMap};

/// An MMS part held by the phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The file name.
    pub name: String,
    /// The MIME type.
    pub mime: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// Threads and messages.
#[derive(Debug, Default)]
pub struct Store {
    threads: BTreeMap<i64, Vec<String>>,
    /// Thread ids by their normalised addresses (a phone with tens of
    /// thousands of threads finds one at once).
    thread_ids: HashMap<Vec<String>, i64>,
    messages: Vec<SmsMessage>,
    parts: BTreeMap<String, Part>,
    next_uid: i64,
    next_part: i64,
    region: String,
}

impl Store {
    /// An empty store whose threads match numbers as in `region` (the way
    /// Android matches `06…` and `+336…` to one thread).
    pub fn new(region: &str) -> Self {
        Self {
            region: region.to_owned(),
            ..Self::default()
        }
    }

    fn key(&self, addresses: &[String]) -> Vec<String> {
        let mut k: Vec<String> = addresses
            .iter()
            .map(|a| {
                crate::phone::normalize(a, &self.region)
                    .map(|n| n.as_str().to_owned())
                    .unwrap_or_else(|_| a.clone())
            })
            .collect();
        k.sort();
        k.dedup();
        k
    }

    /// The thread of these addresses, created when new.
    pub fn thread_for(&mut self, addresses: &[String]) -> i64 {
        let k = self.key(addresses);
        if let Some(id) = self.thread_ids.get(&k) {
            return *id;
        }
        let id = (self.threads.len() as i64).saturating_add(1);
        self.threads.insert(id, addresses.to_vec());
        self.thread_ids.insert(k, id);
        id
    }

    /// Adds a message.
    pub fn add(
        &mut self,
        addresses: &[String],
        body: &str,
        kind: i32,
        date: i64,
        sub_id: i64,
        parts: &[Part],
    ) -> SmsMessage {
        let thread_id = self.thread_for(addresses);
        self.next_uid = self.next_uid.saturating_add(1);
        let mut attachments = Vec::new();
        for p in parts {
            self.next_part = self.next_part.saturating_add(1);
            let unique = format!("part{}_{}", self.next_part, sanitize(&p.name));
            attachments.push(AttachmentRef {
                part_id: self.next_part,
                mime_type: p.mime.clone(),
                encoded_thumbnail: String::new(),
                unique_identifier: unique.clone(),
            });
            self.parts.insert(unique, p.clone());
        }
        let msg = SmsMessage {
            event: if addresses.len() > 1 {
                event::TEXT_MESSAGE | event::MULTI_TARGET
            } else {
                event::TEXT_MESSAGE
            },
            body: body.to_owned(),
            addresses: addresses
                .iter()
                .map(|a| SmsAddress { address: a.clone() })
                .collect(),
            date,
            kind,
            read: 0,
            thread_id,
            uid: self.next_uid,
            sub_id,
            attachments,
        };
        self.messages.push(msg.clone());
        msg
    }

    /// Keeps a part under the unique name `unique`, as it is.
    pub fn add_part(&mut self, unique: &str, part: Part) {
        self.parts.insert(unique.to_owned(), part);
    }

    /// Changes a message's box type; returns the updated message.
    pub fn set_type(&mut self, uid: i64, kind: i32) -> Option<SmsMessage> {
        let m = self.messages.iter_mut().find(|m| m.uid == uid)?;
        m.kind = kind;
        Some(m.clone())
    }

    /// The newest message of every thread.
    pub fn latest_per_thread(&self) -> Vec<SmsMessage> {
        let mut latest: BTreeMap<i64, &SmsMessage> = BTreeMap::new();
        for m in &self.messages {
            let e = latest.entry(m.thread_id).or_insert(m);
            if (m.date, m.uid) >= (e.date, e.uid) {
                *e = m;
            }
        }
        latest.into_values().cloned().collect()
    }

    /// Messages of a thread older than `before` (ms), newest first, at most
    /// `limit` (-1 or absent: all).
    pub fn thread(
        &self,
        thread_id: i64,
        before: Option<i64>,
        limit: Option<i64>,
    ) -> Vec<SmsMessage> {
        let mut ms: Vec<SmsMessage> = self
            .messages
            .iter()
            .filter(|m| m.thread_id == thread_id && before.is_none_or(|b| m.date < b))
            .cloned()
            .collect();
        ms.sort_by_key(|m| std::cmp::Reverse((m.date, m.uid)));
        if let Some(n) = limit.filter(|n| *n >= 0) {
            ms.truncate(usize::try_from(n).unwrap_or(usize::MAX));
        }
        ms
    }

    /// All messages, in the order stored.
    pub fn messages(&self) -> &[SmsMessage] {
        &self.messages
    }

    /// A part by its unique identifier.
    pub fn part(&self, unique: &str) -> Option<&Part> {
        self.parts.get(unique)
    }

    /// Whether any message or part holds `text` in the clear (a phone keeps
    /// every SMS it sends or receives as it is).
    pub fn holds(&self, text: &str) -> bool {
        let needle = text.as_bytes();
        !needle.is_empty()
            && (self.messages.iter().any(|m| m.body.contains(text))
                || self
                    .parts
                    .values()
                    .any(|p| p.bytes.windows(needle.len()).any(|w| w == needle)))
    }
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    reason = "tests index data they built themselves; a panic is a test failure"
)]
mod tests {
    use super::*;

    #[test]
    fn national_and_international_forms_share_a_thread() {
        let mut s = Store::new("FR");
        let a = s.add(&["06 11 22 33 44".into()], "in", 1, 1, -1, &[]);
        let b = s.add(&["+33611223344".into()], "out", 2, 2, -1, &[]);
        let c = s.add(&["+33611223355".into()], "other", 2, 3, -1, &[]);
        assert_eq!(a.thread_id, b.thread_id);
        assert_ne!(a.thread_id, c.thread_id);
        assert_eq!(s.thread(a.thread_id, None, Some(1))[0].body, "out");
        assert_eq!(s.latest_per_thread().len(), 2);
    }

    #[test]
    fn the_store_is_searched_in_bodies_and_parts() {
        let mut s = Store::new("FR");
        s.add(&["+33611223344".into()], "a body", 2, 1, -1, &[]);
        let part = Part {
            name: "f.txt".into(),
            mime: "text/plain".into(),
            bytes: b"in a part".to_vec(),
        };
        s.add(&["+33611223344".into()], "", 2, 2, -1, &[part]);
        assert!(s.holds("a body"));
        assert!(s.holds("in a part"));
        assert!(!s.holds("elsewhere"));
        assert!(!s.holds(""));
    }
}
