//! The `user_group`, `group_member` and `location_access` tables. The rule who may connect
//! where is `locations::MAY_CONNECT`; this module only stores groups and their links.

use rusqlite::{params, Connection, OptionalExtension, Row};

/// A group as stored.
#[derive(Debug, Clone)]
pub struct GroupRow {
    /// Row id.
    pub id: i64,
    /// Unique name (case-insensitive).
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<GroupRow> {
    Ok(GroupRow {
        id: r.get(0)?,
        name: r.get(1)?,
        created_at: r.get(2)?,
    })
}

/// Inserts a group; returns its id.
pub fn insert(conn: &Connection, name: &str, now: i64) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO user_group (name, created_at) VALUES (?1, ?2)",
        params![name, now],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Renames a group.
pub fn rename(conn: &Connection, id: i64, name: &str) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE user_group SET name = ?2 WHERE id = ?1",
        params![id, name],
    )
}

/// Deletes a group with its memberships and access rows.
pub fn delete(conn: &Connection, id: i64) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM user_group WHERE id = ?1", [id])
}

/// One group.
pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<GroupRow>> {
    conn.query_row(
        "SELECT id, name, created_at FROM user_group WHERE id = ?1",
        [id],
        from_row,
    )
    .optional()
}

/// One group by name (case-insensitive).
pub fn find_by_name(conn: &Connection, name: &str) -> rusqlite::Result<Option<GroupRow>> {
    conn.query_row(
        "SELECT id, name, created_at FROM user_group WHERE name = ?1",
        [name],
        from_row,
    )
    .optional()
}

/// Every group by name, with its member count.
pub fn all_with_counts(conn: &Connection) -> rusqlite::Result<Vec<(GroupRow, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT g.id, g.name, g.created_at,
                (SELECT count(*) FROM group_member m WHERE m.group_id = g.id)
         FROM user_group g ORDER BY g.name",
    )?;
    let rows = stmt.query_map([], |r| Ok((from_row(r)?, r.get(3)?)))?;
    rows.collect()
}

/// Every group by name.
pub fn all(conn: &Connection) -> rusqlite::Result<Vec<GroupRow>> {
    let mut stmt =
        conn.prepare_cached("SELECT id, name, created_at FROM user_group ORDER BY name")?;
    let rows = stmt.query_map([], from_row)?;
    rows.collect()
}

/// A member of a group.
#[derive(Debug, Clone)]
pub struct MemberRow {
    /// User id.
    pub user_id: i64,
    /// Username.
    pub username: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
}

/// A group's members, by username.
pub fn members(conn: &Connection, group_id: i64) -> rusqlite::Result<Vec<MemberRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.id, u.username, u.first_name, u.last_name
         FROM group_member m JOIN user u ON u.id = m.user_id
         WHERE m.group_id = ?1 ORDER BY u.username",
    )?;
    let rows = stmt.query_map([group_id], |r| {
        Ok(MemberRow {
            user_id: r.get(0)?,
            username: r.get(1)?,
            first_name: r.get(2)?,
            last_name: r.get(3)?,
        })
    })?;
    rows.collect()
}

/// Adds a member; false when they already were one.
pub fn add_member(conn: &Connection, group_id: i64, user_id: i64) -> rusqlite::Result<bool> {
    conn.execute(
        "INSERT OR IGNORE INTO group_member (group_id, user_id) VALUES (?1, ?2)",
        params![group_id, user_id],
    )
    .map(|n| n > 0)
}

/// Removes a member; false when they were not one.
pub fn remove_member(conn: &Connection, group_id: i64, user_id: i64) -> rusqlite::Result<bool> {
    conn.execute(
        "DELETE FROM group_member WHERE group_id = ?1 AND user_id = ?2",
        params![group_id, user_id],
    )
    .map(|n| n > 0)
}

/// The groups a user belongs to, by name.
pub fn of_user(conn: &Connection, user_id: i64) -> rusqlite::Result<Vec<GroupRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT g.id, g.name, g.created_at FROM user_group g
         JOIN group_member m ON m.group_id = g.id WHERE m.user_id = ?1 ORDER BY g.name",
    )?;
    let rows = stmt.query_map([user_id], from_row)?;
    rows.collect()
}

/// The groups that may connect to a location, by name; empty when everyone may.
pub fn access_of(conn: &Connection, location_id: i64) -> rusqlite::Result<Vec<GroupRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT g.id, g.name, g.created_at FROM user_group g
         JOIN location_access a ON a.group_id = g.id WHERE a.location_id = ?1 ORDER BY g.name",
    )?;
    let rows = stmt.query_map([location_id], from_row)?;
    rows.collect()
}

/// Every access row as (location id, group name), by group name.
pub fn all_access(conn: &Connection) -> rusqlite::Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.location_id, g.name FROM location_access a
         JOIN user_group g ON g.id = a.group_id ORDER BY g.name",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Replaces the groups that may connect to a location; an empty list opens it to everyone.
pub fn set_access(conn: &Connection, location_id: i64, group_ids: &[i64]) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM location_access WHERE location_id = ?1",
        [location_id],
    )?;
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO location_access (location_id, group_id) VALUES (?1, ?2)",
    )?;
    for group_id in group_ids {
        insert.execute(params![location_id, group_id])?;
    }
    Ok(())
}

/// The names of the locations whose access names this group, by name.
pub fn locations_using(conn: &Connection, group_id: i64) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.name FROM location l JOIN location_access a ON a.location_id = l.id
         WHERE a.group_id = ?1 ORDER BY l.name",
    )?;
    let rows = stmt.query_map([group_id], |r| r.get(0))?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{locations, test_connection};

    #[test]
    fn a_location_with_groups_admits_only_their_members() {
        let conn = test_connection();
        conn.execute_batch(
            "INSERT INTO user (id, username, first_name, last_name, email, created_at)
                VALUES (1, 'ann', 'A', 'B', 'ann@example.com', 0), (2, 'bob', 'B', 'C', 'bob@example.com', 0);
             INSERT INTO location (id, name, addresses, endpoint, port, public_key, allowed_ips, created_at)
                VALUES (1, 'Office', '10.0.0.1/24', 'h', 1, 'k', '0.0.0.0/0', 0),
                       (2, 'Lab', '10.1.0.1/24', 'h', 2, 'k', '0.0.0.0/0', 0);",
        )
        .unwrap();
        let names = |user: i64| -> Vec<String> {
            locations::accessible_to(&conn, user)
                .unwrap()
                .into_iter()
                .map(|l| l.name)
                .collect()
        };
        assert_eq!(names(1), ["Lab", "Office"], "open to everyone by default");
        let ops = insert(&conn, "ops", 0).unwrap();
        set_access(&conn, 2, &[ops]).unwrap();
        assert_eq!(names(1), ["Office"]);
        assert!(add_member(&conn, ops, 1).unwrap());
        assert!(!add_member(&conn, ops, 1).unwrap());
        assert_eq!(names(1), ["Lab", "Office"]);
        assert_eq!(names(2), ["Office"]);
        assert_eq!(locations_using(&conn, ops).unwrap(), ["Lab"]);
        set_access(&conn, 2, &[]).unwrap();
        assert_eq!(names(2), ["Lab", "Office"]);
    }
}
