-- WireGuard locations, device addresses in them, and the mail outbox.

CREATE TABLE location (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    addresses   TEXT    NOT NULL,           -- "10.10.0.1/24, fd00::1/64": the gateway's own addresses
    endpoint    TEXT    NOT NULL,           -- host clients connect to
    port        INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    public_key  TEXT    NOT NULL,
    private_key TEXT,                       -- only when onramp generated the pair, for the gateway config
    allowed_ips TEXT    NOT NULL,
    dns         TEXT    NOT NULL DEFAULT '',
    keepalive   INTEGER NOT NULL DEFAULT 25 CHECK (keepalive BETWEEN 0 AND 65535),
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE device_address (
    device_id   INTEGER NOT NULL REFERENCES device (id) ON DELETE CASCADE,
    location_id INTEGER NOT NULL REFERENCES location (id) ON DELETE CASCADE,
    address     TEXT    NOT NULL,
    PRIMARY KEY (device_id, location_id, address),
    UNIQUE (location_id, address)
) STRICT;

CREATE INDEX device_user ON device (user_id);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL,       -- test, enrollment, desktop, welcome, ...
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    body_text       TEXT    NOT NULL,
    body_html       TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    last_hint       TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
) STRICT;

CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

CREATE INDEX audit_event_target ON audit_event (target, at);
