-- People (metacontacts): one person groups addresses from any network.
CREATE TABLE people (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

-- An address of a person on one account (account_id NULL: an address kept
-- from an address book that no configured account can reach yet).
-- `source` says how it got there: seen (a contact or a conversation),
-- typed (the user entered it), imported (a vCard), accepted (a request).
CREATE TABLE person_addresses (
    person_id    INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    account_id   TEXT REFERENCES accounts(id) ON DELETE CASCADE,
    address      TEXT NOT NULL,
    address_json TEXT NOT NULL,
    source       TEXT NOT NULL
);
CREATE UNIQUE INDEX person_addresses_unique ON person_addresses(COALESCE(account_id, ''), address);
CREATE INDEX person_addresses_person ON person_addresses(person_id);
CREATE INDEX person_addresses_address ON person_addresses(address);

-- Identifiers known to belong to a person without being a route: an e-mail
-- from a vCard or a profile, a phone number read from an XMPP vCard.
CREATE TABLE person_hints (
    person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    value     TEXT NOT NULL,
    source    TEXT NOT NULL,
    PRIMARY KEY (person_id, value)
);

-- Pairs the user said are different people (dismissed suggestions, splits).
CREATE TABLE people_apart (
    a INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    b INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    PRIMARY KEY (a, b)
);

-- Undo log of merges and splits: the people as they were before.
CREATE TABLE people_log (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    action  TEXT NOT NULL,
    before  TEXT NOT NULL,
    created TEXT NOT NULL
);

-- Routes the user allowed for a person although a better one exists
-- (SMS, a bridged chat): no prompt before using them.
CREATE TABLE downgrade_allowances (
    person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, account_id)
);

-- Who may reach the user without passing through Requests, per network.
CREATE TABLE stranger_policy (
    protocol TEXT PRIMARY KEY,
    policy   TEXT NOT NULL
);

-- Addresses blocked locally on an account: their messages are dropped
-- before the store and never notified.
CREATE TABLE blocked (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    address    TEXT NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (account_id, address)
);
