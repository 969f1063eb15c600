-- Search words of one or two characters, which the trigram index `user_search` cannot look up.
--
-- `user_search_short` is a second trigram index over the same text (username, first name,
-- last name and email, joined by spaces), spelled with a mark, U+0001, before and after every
-- character: "Ewa" is indexed as "␁E␁w␁a␁". Its trigrams are then exactly "x␁y" for every two
-- characters in a row and "␁x␁" for every character, so a one- or two-character word is a
-- single trigram lookup, case-folded across Unicode like `user_search`. It stores no text
-- (contentless; rows are deleted by id) and no positions (detail=none): it only answers "which
-- users", and the caller checks each of them against the words.
--
-- `search_position` holds 1…1024, the character positions the triggers spell out: more than
-- the longest text (a 64-character username, two 64-character names, a 254-character email
-- and three spaces).

CREATE TABLE search_position (n INTEGER PRIMARY KEY);
INSERT INTO search_position (n)
    WITH RECURSIVE p(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM p WHERE n < 1024)
    SELECT n FROM p;

CREATE VIRTUAL TABLE user_search_short USING fts5(
    marked, content = '', contentless_delete = 1, detail = none, tokenize = 'trigram'
);

-- The marked text of one user, `t` being their joined fields. (The subquery's order is the
-- order group_concat sees; an ORDER BY inside the aggregate needs SQLite 3.44, which older
-- sqlite3 shells would refuse to read the schema with.)
INSERT INTO user_search_short (rowid, marked)
    SELECT id, (SELECT char(1) || group_concat(c || char(1), '')
                FROM (SELECT substr(t, n, 1) AS c FROM search_position
                      WHERE n <= length(t) ORDER BY n))
    FROM (SELECT id, username || ' ' || first_name || ' ' || last_name || ' ' || email AS t
          FROM user);

CREATE TRIGGER user_search_short_insert AFTER INSERT ON user BEGIN
    INSERT INTO user_search_short (rowid, marked)
    SELECT new.id, (SELECT char(1) || group_concat(c || char(1), '')
                    FROM (SELECT substr(t, n, 1) AS c FROM search_position
                          WHERE n <= length(t) ORDER BY n))
    FROM (SELECT new.username || ' ' || new.first_name || ' ' || new.last_name || ' '
                 || new.email AS t);
END;
CREATE TRIGGER user_search_short_delete AFTER DELETE ON user BEGIN
    DELETE FROM user_search_short WHERE rowid = old.id;
END;
CREATE TRIGGER user_search_short_update
AFTER UPDATE OF username, first_name, last_name, email ON user BEGIN
    DELETE FROM user_search_short WHERE rowid = old.id;
    INSERT INTO user_search_short (rowid, marked)
    SELECT new.id, (SELECT char(1) || group_concat(c || char(1), '')
                    FROM (SELECT substr(t, n, 1) AS c FROM search_position
                          WHERE n <= length(t) ORDER BY n))
    FROM (SELECT new.username || ' ' || new.first_name || ' ' || new.last_name || ' '
                 || new.email AS t);
END;
