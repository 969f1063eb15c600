-- Users, admin and API sessions, the audit trail and instance settings.

CREATE TABLE user (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    first_name    TEXT    NOT NULL COLLATE NOCASE,
    last_name     TEXT    NOT NULL COLLATE NOCASE,
    email         TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    phone         TEXT,
    is_admin      INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    is_active     INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    password_hash TEXT,
    created_at    INTEGER NOT NULL
) STRICT;

-- Prefix search: each index range yields ids and usernames without touching the table, so
-- a search sorts its candidates by username from the indexes alone.
CREATE INDEX user_first_name ON user (first_name, username);
CREATE INDEX user_last_name ON user (last_name, username);
CREATE INDEX user_email_username ON user (email, username);

-- count(*) walks a whole index; the users list shows the total on every page.
CREATE TABLE user_count (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
) STRICT;
INSERT INTO user_count (id, n) VALUES (1, 0);
CREATE TRIGGER user_count_insert AFTER INSERT ON user
BEGIN UPDATE user_count SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER user_count_delete AFTER DELETE ON user
BEGIN UPDATE user_count SET n = n - 1 WHERE id = 1; END;

CREATE TABLE session (
    id_hash      TEXT    PRIMARY KEY,   -- hex SHA-256 of the cookie value
    kind         TEXT    NOT NULL CHECK (kind IN ('admin', 'enrollment', 'api')),
    user_id      INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
    csrf_token   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,      -- absolute end
    ip           TEXT,
    user_agent   TEXT
) STRICT;

CREATE INDEX session_user ON session (user_id);

CREATE TABLE device (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    public_key TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    UNIQUE (user_id, name)
) STRICT;

CREATE TABLE audit_event (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,        -- username, or "anonymous" / "system"
    action     TEXT    NOT NULL,
    target     TEXT,
    ip         TEXT,
    user_agent TEXT,
    detail     TEXT
) STRICT;

CREATE INDEX audit_event_at ON audit_event (at);
CREATE INDEX audit_event_actor ON audit_event (actor, at);
CREATE INDEX audit_event_action ON audit_event (action, at);

CREATE TABLE setting (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
