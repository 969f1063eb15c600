-- Enrollment sessions an admin ended (the user disabled or deleted, the token revoked or
-- replaced), kept by their hash until they would have expired, so the wizard can tell the
-- user "your administrator cancelled this enrollment" instead of "opened again elsewhere".

CREATE TABLE cancelled_session (
    id_hash    TEXT    PRIMARY KEY,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
