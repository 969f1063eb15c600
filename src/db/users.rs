//! The `user` table.

use rusqlite::{params, Connection, OptionalExtension, Row};

/// A user as stored.
#[derive(Debug, Clone)]
pub struct UserRow {
    /// Row id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email address.
    pub email: String,
    /// Phone number.
    pub phone: Option<String>,
    /// May use the admin screens.
    pub is_admin: bool,
    /// May log in and enroll.
    pub is_active: bool,
    /// Argon2id PHC string; `None` until enrolled.
    pub password_hash: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
}

impl UserRow {
    /// Whether the user has a password.
    pub fn is_enrolled(&self) -> bool {
        self.password_hash.is_some()
    }
}

/// A row of the users list.
#[derive(Debug, Clone)]
pub struct UserListRow {
    /// The user.
    pub user: UserRow,
    /// How many devices they have.
    pub device_count: i64,
    /// When their unused token (enrollment or desktop activation) dies, if they have one
    /// (may lie in the past).
    pub pending_until: Option<i64>,
    /// Where their latest invitation stands; filled in by the service.
    pub invitation: Option<crate::domain::token::InvitationState>,
    /// When their unused enrollment token died, if it did (set from `pending_until` by
    /// whoever knows the time).
    pub invitation_ended: Option<i64>,
}

/// When the user's unused enrollment token (the latest, if several) stops working: its
/// expiry, or the end of the enrollment session started with it if that comes first. NULL
/// without one. May lie in the past.
macro_rules! pending_until {
    () => {
        "(SELECT max(CASE WHEN t.session_deadline IS NOT NULL AND t.session_deadline < t.expires_at
                     THEN t.session_deadline ELSE t.expires_at END)
       FROM token t WHERE t.user_id = user.id AND t.purpose = 'enrollment'
        AND t.consumed_at IS NULL AND t.revoked_at IS NULL)"
    };
}
pub(crate) use pending_until;

/// The list's extra columns: device count and when the user's unused token (enrollment or
/// desktop activation, so the row menu can offer to revoke either) stops working. Only an
/// enrollment token can be live for a user who has not enrolled, so for them it is the
/// enrollment token's end, as the status filter reads it through [`pending_until`].
/// Last, the id of their latest enrollment token, whose state the row shows.
const LIST_EXTRAS: &str = "(SELECT count(*) FROM device d WHERE d.user_id = user.id),
    (SELECT max(CASE WHEN t.session_deadline IS NOT NULL AND t.session_deadline < t.expires_at
                     THEN t.session_deadline ELSE t.expires_at END)
       FROM token t WHERE t.user_id = user.id
        AND t.consumed_at IS NULL AND t.revoked_at IS NULL),
    (SELECT max(t.id) FROM token t WHERE t.user_id = user.id AND t.purpose = 'enrollment')
        AS latest_enrollment";

/// List rows of the users whose ids are in the JSON array `?1`, with the state of each one's
/// latest enrollment token (`inv`): one statement for a whole page, spelled once.
static LIST_ROWS_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT u.*, inv.created_at, inv.opened_at, inv.started_at,
                min(inv.expires_at, coalesce(inv.session_deadline, inv.expires_at)),
                inv.consumed_at IS NOT NULL OR inv.revoked_at IS NOT NULL
         FROM (SELECT {COLUMNS}, {LIST_EXTRAS} FROM user
               WHERE id IN (SELECT value FROM json_each(?1))) AS u
         LEFT JOIN token inv ON inv.id = u.latest_enrollment"
    )
});

/// Maps a row of [`LIST_ROWS_SQL`], as the list shows it at `now`.
fn list_row(r: &Row<'_>, now: i64) -> rusqlite::Result<UserListRow> {
    let created: Option<i64> = r.get(13)?;
    let invitation = match created {
        None => None,
        Some(created) => crate::domain::token::InvitationState::of(
            created,
            r.get(14)?,
            r.get(15)?,
            r.get(16)?,
            r.get(17)?,
            now,
        ),
    };
    Ok(UserListRow {
        user: from_row(r)?,
        device_count: r.get(10)?,
        pending_until: r.get(11)?,
        invitation,
        invitation_ended: None,
    })
}

/// The list rows of the users `ids`, in that order (missing ones left out).
pub fn list_rows(conn: &Connection, ids: &[i64], now: i64) -> rusqlite::Result<Vec<UserListRow>> {
    let ids_json = serde_json::to_string(ids).unwrap_or_default();
    let mut rows: Vec<UserListRow> = conn
        .prepare_cached(&LIST_ROWS_SQL)?
        .query_map([ids_json], |r| list_row(r, now))?
        .collect::<Result<_, _>>()?;
    let position = |id: i64| ids.iter().position(|&i| i == id);
    rows.sort_by_key(|row| position(row.user.id));
    Ok(rows)
}

/// One row of the list.
pub fn get_list_row(conn: &Connection, id: i64, now: i64) -> rusqlite::Result<Option<UserListRow>> {
    Ok(list_rows(conn, &[id], now)?.pop())
}

/// A user to insert.
#[derive(Debug)]
pub struct NewUser<'a> {
    /// Login name.
    pub username: &'a str,
    /// First name.
    pub first_name: &'a str,
    /// Last name.
    pub last_name: &'a str,
    /// Email address.
    pub email: &'a str,
    /// Phone number.
    pub phone: Option<&'a str>,
    /// Admin flag.
    pub is_admin: bool,
    /// Password hash, if set now.
    pub password_hash: Option<&'a str>,
    /// Unix seconds.
    pub created_at: i64,
}

pub(crate) const COLUMNS: &str = "id, username, first_name, last_name, email, phone, is_admin, is_active, password_hash, created_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        id: r.get(0)?,
        username: r.get(1)?,
        first_name: r.get(2)?,
        last_name: r.get(3)?,
        email: r.get(4)?,
        phone: r.get(5)?,
        is_admin: r.get(6)?,
        is_active: r.get(7)?,
        password_hash: r.get(8)?,
        created_at: r.get(9)?,
    })
}

/// Inserts a user and returns its id.
pub fn insert(conn: &Connection, u: &NewUser<'_>) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO user (username, first_name, last_name, email, phone, is_admin, password_hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![u.username, u.first_name, u.last_name, u.email, u.phone, u.is_admin, u.password_hash, u.created_at],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The user with this id.
pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<UserRow>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM user WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()
}

/// The user with this username (case-insensitive).
pub fn find_by_username(conn: &Connection, username: &str) -> rusqlite::Result<Option<UserRow>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM user WHERE username = ?1"),
        [username],
        from_row,
    )
    .optional()
}

/// The user whose username or email (both case-insensitive) is `login`.
pub fn find_by_login(conn: &Connection, login: &str) -> rusqlite::Result<Option<UserRow>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM user WHERE username = ?1 OR email = ?1 LIMIT 1"),
        [login],
        from_row,
    )
    .optional()
}

/// The username of whoever has this email (case-insensitive), other than `except_id`.
pub fn email_owner(
    conn: &Connection,
    email: &str,
    except_id: i64,
) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT username FROM user WHERE email = ?1 AND id != ?2",
        params![email, except_id],
        |r| r.get(0),
    )
    .optional()
}

/// Replaces a user's profile fields.
pub fn update_profile(
    conn: &Connection,
    id: i64,
    first_name: &str,
    last_name: &str,
    email: &str,
    phone: Option<&str>,
) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE user SET first_name = ?2, last_name = ?3, email = ?4, phone = ?5 WHERE id = ?1",
        params![id, first_name, last_name, email, phone],
    )
}

/// Gives or takes the right to use the admin pages.
pub fn set_admin(conn: &Connection, id: i64, admin: bool) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE user SET is_admin = ?2 WHERE id = ?1",
        params![id, admin],
    )
}

/// Turns a user on or off.
pub fn set_active(conn: &Connection, id: i64, active: bool) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE user SET is_active = ?2 WHERE id = ?1",
        params![id, active],
    )
}

/// Sets a user's password hash.
pub fn set_password_hash(conn: &Connection, id: i64, hash: &str) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE user SET password_hash = ?2 WHERE id = ?1",
        params![id, hash],
    )
}

/// Sets or clears the phone number.
pub fn set_phone(conn: &Connection, id: i64, phone: Option<&str>) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE user SET phone = ?2 WHERE id = ?1",
        params![id, phone],
    )
}

/// Deletes a user (devices and sessions go with it).
pub fn delete(conn: &Connection, id: i64) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM user WHERE id = ?1", [id])
}

/// Number of users.
pub fn count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT n FROM user_count WHERE id = 1")?
        .query_row([], |r| r.get(0))
}

/// Number of active admins other than `except_id`.
pub fn other_active_admins(conn: &Connection, except_id: i64) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM user WHERE is_admin = 1 AND is_active = 1 AND id != ?1",
        [except_id],
        |r| r.get(0),
    )
}

/// Inserts a user with an `example.com` address, for tests.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn add_for_test(conn: &Connection, username: &str, first: &str, last: &str) -> i64 {
    insert(
        conn,
        &NewUser {
            username,
            first_name: first,
            last_name: last,
            email: &format!("{username}@example.com"),
            phone: None,
            is_admin: false,
            password_hash: None,
            created_at: 0,
        },
    )
    .unwrap()
}

/// The active admin who was created first.
pub fn first_active_admin(conn: &Connection) -> rusqlite::Result<Option<UserRow>> {
    conn.query_row(
        &format!(
            "SELECT {COLUMNS} FROM user WHERE is_admin = 1 AND is_active = 1 ORDER BY id LIMIT 1"
        ),
        [],
        from_row,
    )
    .optional()
}

/// Every user by username.
pub fn all(conn: &Connection) -> rusqlite::Result<Vec<UserRow>> {
    conn.prepare(&format!("SELECT {COLUMNS} FROM user ORDER BY username"))?
        .query_map([], from_row)?
        .collect()
}

/// The usernames, at most `cap`, of users whose username, first name, last name or email
/// contains `needle`, ignoring case (Unicode-aware, so "łukasz" finds "Łukasz"). Reads every
/// row: for the audit log's user filter, not for the users list.
pub fn usernames_containing(
    conn: &Connection,
    needle: &str,
    cap: usize,
) -> rusqlite::Result<Vec<String>> {
    let needle = needle.to_lowercase();
    let mut stmt =
        conn.prepare_cached("SELECT username, first_name, last_name, email FROM user")?;
    let mut rows = stmt.query([])?;
    let mut found = Vec::new();
    while let Some(r) = rows.next()? {
        let mut hit = false;
        for i in 0..4 {
            let field = r.get_ref(i)?.as_str().unwrap_or_default();
            if contains_folded(field, &needle) {
                hit = true;
                break;
            }
        }
        if hit {
            found.push(r.get(0)?);
            if found.len() >= cap {
                break;
            }
        }
    }
    Ok(found)
}

/// Whether `hay` contains `needle` (already lowercase), ignoring case; ASCII text is compared
/// in place, anything else lowercased first.
fn contains_folded(hay: &str, needle: &str) -> bool {
    if hay.is_ascii() && needle.is_ascii() {
        let (hay, needle) = (hay.as_bytes(), needle.as_bytes());
        needle.is_empty()
            || hay
                .windows(needle.len())
                .any(|w| w.eq_ignore_ascii_case(needle))
    } else {
        hay.to_lowercase().contains(needle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containment_ignores_case_in_any_script() {
        assert!(contains_folded("Jan.Nowak@Example.COM", "example.com"));
        assert!(contains_folded("Łukasz", "łuk"));
        assert!(contains_folded("ZIELIŃSKI", "zieliń"));
        assert!(!contains_folded("Nowak", "kowal"));
    }
    use crate::db::test_connection;

    #[test]
    fn email_is_unique_regardless_of_case() {
        let conn = test_connection();
        let id = add_for_test(&conn, "jan", "Jan", "N");
        assert_eq!(
            email_owner(&conn, "JAN@example.com", 0).unwrap().as_deref(),
            Some("jan")
        );
        assert_eq!(email_owner(&conn, "jan@example.com", id).unwrap(), None);
    }
}
