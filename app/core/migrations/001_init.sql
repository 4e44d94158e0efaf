-- Accounts: settings only, never secrets (those are in the OS keyring).
CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    protocol    TEXT NOT NULL,
    label       TEXT NOT NULL,
    settings    TEXT NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL
);

CREATE TABLE conversations (
    id            INTEGER PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    remote_key    TEXT NOT NULL,
    title         TEXT NOT NULL,
    kind          TEXT NOT NULL,
    peer          TEXT,
    route         TEXT,
    read_only     INTEGER NOT NULL DEFAULT 0,
    is_request    INTEGER NOT NULL DEFAULT 0,
    pinned        INTEGER NOT NULL DEFAULT 0,
    unread        INTEGER NOT NULL DEFAULT 0,
    last_activity INTEGER NOT NULL DEFAULT 0,
    draft         TEXT,
    UNIQUE (account_id, remote_key)
);
CREATE INDEX conversations_activity ON conversations(last_activity DESC);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    remote_id       TEXT,
    local_id        TEXT UNIQUE,
    sender          TEXT NOT NULL,
    sender_name     TEXT,
    direction       TEXT NOT NULL,
    timestamp       INTEGER NOT NULL,
    body            TEXT NOT NULL,
    attachments     TEXT,
    reply_to        TEXT,
    edited_at       INTEGER,
    deleted         INTEGER NOT NULL DEFAULT 0,
    state           TEXT NOT NULL,
    error           TEXT,
    route           TEXT
);
-- De-duplication of everything the networks report twice.
CREATE UNIQUE INDEX messages_remote ON messages(conversation_id, remote_id) WHERE remote_id IS NOT NULL;
CREATE INDEX messages_timeline ON messages(conversation_id, timestamp, id);

CREATE TABLE reactions (
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    sender     TEXT NOT NULL,
    key        TEXT NOT NULL,
    PRIMARY KEY (message_id, sender, key)
);

-- The persisted outbox: a durable command is here before any plugin sees it,
-- and leaves only when the plugin acknowledges its local id or fails for good.
CREATE TABLE outbox (
    local_id    TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    command     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT
);
CREATE INDEX outbox_account ON outbox(account_id, seq);

CREATE TABLE contacts (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    address    TEXT NOT NULL,
    address_json TEXT NOT NULL,
    name       TEXT,
    groups     TEXT,
    mutual     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, address)
);

CREATE TABLE requests (
    account_id   TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    request_id   TEXT NOT NULL,
    body         TEXT NOT NULL,
    received     INTEGER NOT NULL,
    PRIMARY KEY (account_id, request_id)
);

-- Full-text search across every network, accent-insensitive.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    body, sender_name,
    content = 'messages', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, body, sender_name) VALUES (new.id, new.body, new.sender_name);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body, sender_name) VALUES ('delete', old.id, old.body, old.sender_name);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, sender_name ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body, sender_name) VALUES ('delete', old.id, old.body, old.sender_name);
    INSERT INTO messages_fts(rowid, body, sender_name) VALUES (new.id, new.body, new.sender_name);
END;
