-- Deleting a message removes its words from the full-text index at once,
-- rather than leaving them in older index segments until a merge.
INSERT INTO messages_fts(messages_fts, rank) VALUES ('secure-delete', 1);
