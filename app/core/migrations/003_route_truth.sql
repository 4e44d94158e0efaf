-- Route truth: an outgoing message is queued with the route its
-- conversation had then, marked provisional; the route the plugin reports
-- when it actually sends replaces it and clears the mark.
ALTER TABLE messages ADD COLUMN route_provisional INTEGER NOT NULL DEFAULT 0;

-- The routes of edits, reactions and deletions sent from here, kept the
-- same way: provisional when queued, replaced by what the plugin reports.
CREATE TABLE change_routes (
    local_id    TEXT PRIMARY KEY,
    message_id  INTEGER REFERENCES messages(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    route       TEXT,
    provisional INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL
);
CREATE INDEX change_routes_message ON change_routes(message_id);
