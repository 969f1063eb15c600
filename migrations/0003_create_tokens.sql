-- Enrollment and desktop tokens (only their SHA-256 is stored), wizard sessions, and the
-- encrypted secret an outbox email carries until it is delivered.

CREATE TABLE token (
    id               INTEGER PRIMARY KEY,
    hash             TEXT    NOT NULL UNIQUE,   -- hex SHA-256 of the secret
    purpose          TEXT    NOT NULL CHECK (purpose IN ('enrollment', 'desktop')),
    user_id          INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
    admin_id         INTEGER REFERENCES user (id) ON DELETE SET NULL,
    email            TEXT,                      -- where it was sent; NULL when handed over by the admin
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    started_at       INTEGER,
    session_deadline INTEGER,
    consumed_at      INTEGER,
    revoked_at       INTEGER
) STRICT;

CREATE INDEX token_user ON token (user_id, consumed_at, revoked_at);

ALTER TABLE session ADD COLUMN token_id INTEGER REFERENCES token (id) ON DELETE CASCADE;
ALTER TABLE session ADD COLUMN step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE session ADD COLUMN pending_phone TEXT;
ALTER TABLE session ADD COLUMN pending_password_hash TEXT;
ALTER TABLE session ADD COLUMN device_id INTEGER REFERENCES device (id) ON DELETE SET NULL;

CREATE INDEX session_token ON session (token_id);

-- Emails that carry a token keep it here, encrypted with the instance key file, until sent.
ALTER TABLE outbox ADD COLUMN secret_enc BLOB;
