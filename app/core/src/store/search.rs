//! Full-text search across every network's history.

use super::messages::{COLUMNS, raw};
use super::{Result, Store};
use crate::model::StoredMessage;
use koine_api::AccountId;
use serde::Serialize;

/// One search result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchHit {
    /// The account the conversation belongs to.
    pub account: AccountId,
    /// The conversation's title.
    pub conversation_title: String,
    /// The message.
    pub message: StoredMessage,
}

/// Turns what a user typed into an FTS5 query that cannot be a syntax error:
/// each word becomes a quoted term (all must match), the last one a prefix.
pub fn fts_query(input: &str) -> Option<String> {
    let words: Vec<String> = input
        .split_whitespace()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    if words.is_empty() {
        return None;
    }
    let mut query = words.join(" ");
    query.push('*');
    Some(query)
}

impl Store {
    /// Messages matching `input` (accent- and case-insensitive, every word
    /// must match, the last one as a prefix), newest first.
    pub fn search(&self, input: &str, limit: u32) -> Result<Vec<SearchHit>> {
        let Some(query) = fts_query(input) else {
            return Ok(Vec::new());
        };
        // FTS5 walks its index in rowid order and stops at the limit, so the
        // newest matches come back without ranking every match (a common word
        // matches a third of a million-message history).
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS}, c.account_id, c.title
             FROM (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1
                   ORDER BY rowid DESC LIMIT ?2) f
             JOIN messages m ON m.id = f.rowid
             JOIN conversations c ON c.id = m.conversation_id
             WHERE m.deleted = 0
             ORDER BY m.id DESC"
        ))?;
        let rows = stmt
            .query_map(rusqlite::params![query, limit], |r| {
                Ok((raw(r)?, r.get::<_, String>(17)?, r.get::<_, String>(18)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(m, account, title)| {
                Ok(SearchHit {
                    account: AccountId::new(account),
                    conversation_title: title,
                    message: m.decode(self)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn user_input_is_quoted_so_it_cannot_break_the_query() {
        assert_eq!(fts_query("  "), None);
        assert_eq!(fts_query("café ok"), Some("\"café\" \"ok\"*".into()));
        assert_eq!(fts_query("a\"b AND("), Some("\"a\"\"b\" \"AND(\"*".into()));
    }
}
