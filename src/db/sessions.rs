//! The `session` table: only a hash of each cookie value is stored.

use rusqlite::{params, Connection, OptionalExtension};

/// A session as stored, with the owner's flags.
#[derive(Debug, Clone)]
pub struct SessionRow {
    /// Hex SHA-256 of the cookie value.
    pub id_hash: String,
    /// `admin`, `enrollment` or `api`.
    pub kind: String,
    /// Owner.
    pub user_id: i64,
    /// Synchronizer token for forms.
    pub csrf_token: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last request.
    pub last_seen_at: i64,
    /// Absolute end, unix seconds.
    pub expires_at: i64,
}

/// A session with the owner's name and flags.
#[derive(Debug, Clone)]
pub struct SessionWithUser {
    /// The session.
    pub session: SessionRow,
    /// Owner's username.
    pub username: String,
    /// Owner may use admin screens.
    pub is_admin: bool,
    /// Owner is enabled.
    pub is_active: bool,
}

/// Stores a new session.
pub fn insert(
    conn: &Connection,
    s: &SessionRow,
    ip: Option<&str>,
    user_agent: Option<&str>,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO session (id_hash, kind, user_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![s.id_hash, s.kind, s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, ip, user_agent],
    )?;
    Ok(())
}

/// Looks a session up by its hash.
pub fn find(conn: &Connection, id_hash: &str) -> rusqlite::Result<Option<SessionWithUser>> {
    conn.prepare_cached(
        "SELECT s.id_hash, s.kind, s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at,
                u.username, u.is_admin, u.is_active
         FROM session s JOIN user u ON u.id = s.user_id WHERE s.id_hash = ?1",
    )?
    .query_row([id_hash], |r| {
        Ok(SessionWithUser {
            session: SessionRow {
                id_hash: r.get(0)?,
                kind: r.get(1)?,
                user_id: r.get(2)?,
                csrf_token: r.get(3)?,
                created_at: r.get(4)?,
                last_seen_at: r.get(5)?,
                expires_at: r.get(6)?,
            },
            username: r.get(7)?,
            is_admin: r.get(8)?,
            is_active: r.get(9)?,
        })
    })
    .optional()
}

/// Records activity on a session.
pub fn touch(conn: &Connection, id_hash: &str, now: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE session SET last_seen_at = ?2 WHERE id_hash = ?1",
        params![id_hash, now],
    )
}

/// Ends one session.
pub fn delete(conn: &Connection, id_hash: &str) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM session WHERE id_hash = ?1", [id_hash])
}

/// Ends every session of a user.
pub fn delete_for_user(conn: &Connection, user_id: i64) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM session WHERE user_id = ?1", [user_id])
}

/// Removes sessions that ended: past their absolute end or idle since `idle_before`.
pub fn delete_stale(conn: &Connection, now: i64, idle_before: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM session WHERE expires_at <= ?1 OR (kind = 'admin' AND last_seen_at < ?2)",
        params![now, idle_before],
    )
}
