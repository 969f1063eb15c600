-- A token just issued waits here, sealed, until the admin's browser shows it once: issuing
-- answers with a redirect to the card's URL, and the first GET of that URL takes the row.
-- Rows belong to the admin session that issued them and die with it or after a few minutes.

CREATE TABLE token_card (
    id         TEXT    PRIMARY KEY,   -- random; the last part of the card's URL
    session_id TEXT    NOT NULL REFERENCES session (id_hash) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
    token_id   INTEGER NOT NULL REFERENCES token (id) ON DELETE CASCADE,
    secret_enc BLOB    NOT NULL,      -- the token, sealed with the database's key file
    outbox_id  INTEGER REFERENCES outbox (id) ON DELETE SET NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX token_card_expiry ON token_card (expires_at);

-- The welcome email's old default subject named the URL; rows still holding it get the
-- instance name instead. A subject the admin wrote is left alone.
UPDATE setting SET value = 'Welcome to {{ instance_name }}'
 WHERE key = 'welcome_email_subject' AND value = 'Welcome to {{ url }}';
