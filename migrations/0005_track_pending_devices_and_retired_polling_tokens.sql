-- A device registered through an enrollment that has not finished yet remembers the token it
-- came with. Finishing the enrollment clears the link; an admin revoking the unfinished
-- enrollment removes the device, so no device outlives an enrollment that was called off.

ALTER TABLE device ADD COLUMN pending_token_id INTEGER REFERENCES token (id) ON DELETE SET NULL;

CREATE INDEX device_pending_token ON device (pending_token_id) WHERE pending_token_id IS NOT NULL;

-- Polling tokens that once worked: the token of a deleted device, or one replaced when the
-- device registered again. A client still polling with one is stale, not guessing, so its
-- failures never count against its address's limit (many clients share one NAT address).
CREATE TABLE retired_polling_token (
    hash TEXT PRIMARY KEY
) STRICT, WITHOUT ROWID;

CREATE TRIGGER polling_token_retire_on_delete AFTER DELETE ON polling_token
BEGIN
    INSERT OR IGNORE INTO retired_polling_token (hash) VALUES (old.hash);
END;

CREATE TRIGGER polling_token_retire_on_rotate AFTER UPDATE OF hash ON polling_token
WHEN old.hash != new.hash
BEGIN
    INSERT OR IGNORE INTO retired_polling_token (hash) VALUES (old.hash);
END;
