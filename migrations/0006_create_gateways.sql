-- Gateway sync: each location's gateway agent authenticates with a token (only its hash is
-- stored), reports when it last called and which version it runs, and reports per device
-- the latest handshake and transfer counters that WireGuard shows for its peer.

CREATE TABLE gateway (
    location_id  INTEGER PRIMARY KEY REFERENCES location (id) ON DELETE CASCADE,
    token_hash   TEXT    NOT NULL UNIQUE,   -- hex SHA-256 of the gateway token
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER,                   -- the agent's last request
    version      TEXT,                      -- what the agent reported
    hostname     TEXT
) STRICT;

CREATE TABLE device_stats (
    device_id      INTEGER NOT NULL REFERENCES device (id) ON DELETE CASCADE,
    location_id    INTEGER NOT NULL REFERENCES location (id) ON DELETE CASCADE,
    last_handshake INTEGER,                 -- unix seconds; NULL: never
    rx_bytes       INTEGER NOT NULL DEFAULT 0,
    tx_bytes       INTEGER NOT NULL DEFAULT 0,
    reported_at    INTEGER NOT NULL,
    PRIMARY KEY (device_id, location_id)
) STRICT, WITHOUT ROWID;
