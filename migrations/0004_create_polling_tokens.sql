-- One polling token per device for the desktop client's configuration sync; only its hash.

CREATE TABLE polling_token (
    device_id  INTEGER PRIMARY KEY REFERENCES device (id) ON DELETE CASCADE,
    hash       TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
) STRICT;
