-- The users list: substring search and the status filter.
--
-- `user_search` indexes every run of three characters of the username, first name, last
-- name and email (FTS5 trigram, case-insensitive across Unicode), so a search finds text
-- anywhere in a field. It reads its text from `user` and the triggers below keep it in step.

CREATE VIRTUAL TABLE user_search USING fts5(
    username, first_name, last_name, email,
    content = 'user', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO user_search (user_search) VALUES ('rebuild');

CREATE TRIGGER user_search_insert AFTER INSERT ON user BEGIN
    INSERT INTO user_search (rowid, username, first_name, last_name, email)
    VALUES (new.id, new.username, new.first_name, new.last_name, new.email);
END;
CREATE TRIGGER user_search_delete AFTER DELETE ON user BEGIN
    INSERT INTO user_search (user_search, rowid, username, first_name, last_name, email)
    VALUES ('delete', old.id, old.username, old.first_name, old.last_name, old.email);
END;
CREATE TRIGGER user_search_update AFTER UPDATE OF username, first_name, last_name, email ON user
BEGIN
    INSERT INTO user_search (user_search, rowid, username, first_name, last_name, email)
    VALUES ('delete', old.id, old.username, old.first_name, old.last_name, old.email);
    INSERT INTO user_search (rowid, username, first_name, last_name, email)
    VALUES (new.id, new.username, new.first_name, new.last_name, new.email);
END;

-- The prefix search's indexes; nothing reads them any more.
DROP INDEX user_first_name;
DROP INDEX user_last_name;
DROP INDEX user_email_username;

-- Each status filter walks its own users in username order.
CREATE INDEX user_enrolled ON user (username) WHERE is_active = 1 AND password_hash IS NOT NULL;
CREATE INDEX user_not_enrolled ON user (username) WHERE is_active = 1 AND password_hash IS NULL;
CREATE INDEX user_disabled ON user (username) WHERE is_active = 0;
-- "Invited" and "Invitation expired" start from the unused enrollment tokens.
CREATE INDEX token_unused_enrollment ON token (user_id)
    WHERE purpose = 'enrollment' AND consumed_at IS NULL AND revoked_at IS NULL;
