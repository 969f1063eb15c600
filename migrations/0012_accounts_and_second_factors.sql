-- Every user signs in (the account pages), second factors, password reset links.

-- Sessions: 'user' replaces 'admin' (whether the user may use the admin pages is read from the
-- user on every request); 'mfa' is a login whose password was right and that waits for its
-- second factor; 'reset' is a password reset link being used. `auth_time` is when the user
-- proved who they are and `mfa` whether a second factor was part of it (OpenID Connect reports
-- both). Nothing references `session`, so it is rebuilt in place.
CREATE TABLE session_new (
    id_hash               TEXT    PRIMARY KEY,
    kind                  TEXT    NOT NULL CHECK (kind IN ('user', 'mfa', 'reset', 'enrollment', 'api')),
    user_id               INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
    csrf_token            TEXT    NOT NULL,
    created_at            INTEGER NOT NULL,
    last_seen_at          INTEGER NOT NULL,
    expires_at            INTEGER NOT NULL,
    ip                    TEXT,
    user_agent            TEXT,
    token_id              INTEGER REFERENCES token (id) ON DELETE CASCADE,
    step                  INTEGER NOT NULL DEFAULT 0,
    pending_phone         TEXT,
    pending_password_hash TEXT,
    device_id             INTEGER REFERENCES device (id) ON DELETE SET NULL,
    reset_id              INTEGER REFERENCES password_reset (id) ON DELETE CASCADE,
    auth_time             INTEGER,
    mfa                   INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE password_reset (
    id               INTEGER PRIMARY KEY,
    hash             TEXT    NOT NULL UNIQUE,   -- hex SHA-256 of the secret
    user_id          INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
    admin_id         INTEGER REFERENCES user (id) ON DELETE SET NULL,  -- NULL: the user asked
    email            TEXT,                      -- where it was sent; NULL when shown on a card
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    started_at       INTEGER,
    session_deadline INTEGER,
    consumed_at      INTEGER,
    revoked_at       INTEGER
) STRICT;

CREATE INDEX password_reset_user ON password_reset (user_id, consumed_at, revoked_at);

INSERT INTO session_new (id_hash, kind, user_id, csrf_token, created_at, last_seen_at, expires_at,
                         ip, user_agent, token_id, step, pending_phone, pending_password_hash,
                         device_id, auth_time)
SELECT id_hash, CASE kind WHEN 'admin' THEN 'user' ELSE kind END, user_id, csrf_token, created_at,
       last_seen_at, expires_at, ip, user_agent, token_id, step, pending_phone,
       pending_password_hash, device_id, created_at
FROM session;

DROP TABLE session;
ALTER TABLE session_new RENAME TO session;
CREATE INDEX session_user ON session (user_id);
CREATE INDEX session_token ON session (token_id);

-- A user's TOTP second factor. The secret is sealed like the outbox's tokens. `pending_secret`
-- is one being set up and not yet confirmed by a code. `last_step` is the newest time step a
-- code was accepted for, so no code works twice.
CREATE TABLE user_totp (
    user_id        INTEGER PRIMARY KEY REFERENCES user (id) ON DELETE CASCADE,
    secret         BLOB,
    pending_secret BLOB,
    enabled_at     INTEGER,
    last_step      INTEGER NOT NULL DEFAULT 0
) STRICT;

-- One-time codes sent by email, as a second factor or to set it up. Only the hash is stored.
CREATE TABLE email_code (
    user_id    INTEGER PRIMARY KEY REFERENCES user (id) ON DELETE CASCADE,
    hash       TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Email as a second factor is on when this is set.
ALTER TABLE user ADD COLUMN email_mfa_enabled_at INTEGER;

-- Recovery codes: each works once. Only the hash is stored.
CREATE TABLE recovery_code (
    id      INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
    hash    TEXT    NOT NULL,
    used_at INTEGER
) STRICT;

CREATE INDEX recovery_code_user ON recovery_code (user_id);
