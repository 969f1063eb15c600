-- Groups of users, and which groups may connect to which location.
--
-- The access rule: a location without `location_access` rows is open to every user (the
-- default); a location with rows admits only members of at least one of those groups.
-- Every device still holds an address in every location; access only filters what is handed
-- out (client configs, the gateway's peers), so changing it never reallocates addresses.

CREATE TABLE user_group (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE group_member (
    group_id INTEGER NOT NULL REFERENCES user_group (id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX group_member_user ON group_member (user_id);

-- onramp refuses to delete a group that a location's access names (the cascade would open a
-- location restricted to that group alone to everyone); the cascade only keeps the table tidy.
CREATE TABLE location_access (
    location_id INTEGER NOT NULL REFERENCES location (id) ON DELETE CASCADE,
    group_id    INTEGER NOT NULL REFERENCES user_group (id) ON DELETE CASCADE,
    PRIMARY KEY (location_id, group_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX location_access_group ON location_access (group_id);
