-- Onboarding a whole team: CSV imports waiting for the admin's confirmation, API tokens for
-- automation, and what the invitation reminders have done.

-- A checked CSV file between its dry run and the admin's confirmation: the rows to create,
-- as JSON, for the admin session that uploaded it only, for an hour.
CREATE TABLE user_import (
    id           TEXT    PRIMARY KEY,   -- hex SHA-256 of the random id in the confirm form
    session_hash TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    rows         TEXT    NOT NULL
) STRICT;

-- Bearer tokens of the admin REST API; only their SHA-256 is stored.
CREATE TABLE api_token (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    hash         TEXT    NOT NULL UNIQUE,
    created_by   INTEGER REFERENCES user (id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
) STRICT;

-- The invitation lifecycle: when the link was first opened, when the one reminder went out,
-- and when the issuing admin heard that it expired unused.
ALTER TABLE token ADD COLUMN opened_at INTEGER;
ALTER TABLE token ADD COLUMN reminded_at INTEGER;
ALTER TABLE token ADD COLUMN expiry_notified_at INTEGER;
