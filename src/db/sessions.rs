//! The `session` table: only a hash of each cookie value is stored.

use crate::domain::session::SessionKind;
use rusqlite::{params, Connection, OptionalExtension};

/// A session as stored, with the owner's flags.
#[derive(Debug, Clone)]
pub struct SessionRow {
    /// Hex SHA-256 of the cookie value.
    pub id_hash: String,
    /// What it is for.
    pub kind: SessionKind,
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
    /// When the user proved who they are, unix seconds.
    pub auth_time: i64,
    /// Whether a second factor was part of that proof.
    pub mfa: bool,
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
        "INSERT INTO session (id_hash, kind, user_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent, auth_time, mfa)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![s.id_hash, s.kind.as_str(), s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, ip, user_agent, s.auth_time, s.mfa],
    )?;
    Ok(())
}

/// Looks a session up by its hash.
pub fn find(conn: &Connection, id_hash: &str) -> rusqlite::Result<Option<SessionWithUser>> {
    conn.prepare_cached(
        "SELECT s.id_hash, s.kind, s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at,
                u.username, u.is_admin, u.is_active, COALESCE(s.auth_time, s.created_at), s.mfa
         FROM session s JOIN user u ON u.id = s.user_id WHERE s.id_hash = ?1",
    )?
    .query_row([id_hash], |r| {
        Ok(SessionWithUser {
            session: SessionRow {
                id_hash: r.get(0)?,
                kind: super::enum_column(r, 1, SessionKind::parse)?,
                user_id: r.get(2)?,
                csrf_token: r.get(3)?,
                created_at: r.get(4)?,
                last_seen_at: r.get(5)?,
                expires_at: r.get(6)?,
                auth_time: r.get(10)?,
                mfa: r.get(11)?,
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

/// Ends every session of a user; their enrollment sessions count as cancelled.
pub fn delete_for_user(conn: &Connection, user_id: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "INSERT OR IGNORE INTO cancelled_session (id_hash, expires_at)
         SELECT id_hash, expires_at FROM session WHERE user_id = ?1 AND kind = 'enrollment'",
        [user_id],
    )?;
    conn.execute("DELETE FROM session WHERE user_id = ?1", [user_id])
}

/// Ends every sign-in of a user but `keep` (a password change keeps the session it came from).
pub fn delete_logins_except(
    conn: &Connection,
    user_id: i64,
    keep: &str,
) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM session WHERE user_id = ?1 AND kind IN ('user', 'mfa') AND id_hash <> ?2",
        params![user_id, keep],
    )
}

/// Ties a reset session to the link that opened it.
pub fn set_reset(conn: &Connection, id_hash: &str, reset_id: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE session SET reset_id = ?2 WHERE id_hash = ?1",
        params![id_hash, reset_id],
    )?;
    Ok(())
}

/// The reset link a reset session was opened with.
pub fn reset_of(conn: &Connection, id_hash: &str) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT reset_id FROM session WHERE id_hash = ?1 AND kind = 'reset'",
        [id_hash],
        |r| r.get(0),
    )
    .optional()
    .map(Option::flatten)
}

/// Ends every session opened with a reset link (the newest session wins).
pub fn delete_for_reset(conn: &Connection, reset_id: i64) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM session WHERE reset_id = ?1", [reset_id])
}

/// Whether an admin ended this enrollment session (see [`delete_for_user`]).
pub fn was_cancelled(conn: &Connection, id_hash: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM cancelled_session WHERE id_hash = ?1)",
        [id_hash],
        |r| r.get(0),
    )
}

/// Removes sessions that ended: past their absolute end or idle since `idle_before`.
pub fn delete_stale(conn: &Connection, now: i64, idle_before: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM cancelled_session WHERE expires_at <= ?1",
        [now],
    )?;
    conn.execute(
        "DELETE FROM session WHERE expires_at <= ?1 OR (kind = 'user' AND last_seen_at < ?2)",
        params![now, idle_before],
    )
}

/// Ends every session opened with a token (the newest session wins).
pub fn delete_for_token(conn: &Connection, token_id: i64) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM session WHERE token_id = ?1", [token_id])
}

/// Keeps the phone typed in the wizard until the enrollment completes.
pub fn set_pending_phone(
    conn: &Connection,
    id_hash: &str,
    phone: Option<&str>,
) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE session SET pending_phone = ?2 WHERE id_hash = ?1",
        params![id_hash, phone],
    )
}

/// Keeps the hash of the password chosen in the wizard until the enrollment completes.
pub fn set_pending_password_hash(
    conn: &Connection,
    id_hash: &str,
    hash: &str,
) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE session SET pending_password_hash = ?2 WHERE id_hash = ?1",
        params![id_hash, hash],
    )
}

/// Ties a session to the token that opened it.
pub fn set_token(conn: &Connection, id_hash: &str, token_id: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE session SET token_id = ?2 WHERE id_hash = ?1",
        params![id_hash, token_id],
    )?;
    Ok(())
}

/// A desktop-client API session with what decides whether it still works.
#[derive(Debug, Clone)]
pub struct ApiSessionRow {
    /// Whose.
    pub user_id: i64,
    /// The token that opened it.
    pub token_id: i64,
    /// Absolute end, unix seconds.
    pub expires_at: i64,
    /// The token was used up.
    pub token_consumed: bool,
    /// The token was revoked.
    pub token_revoked: bool,
    /// The owner is enabled.
    pub user_active: bool,
}

/// Looks an API session up by its hash.
pub fn find_api(conn: &Connection, id_hash: &str) -> rusqlite::Result<Option<ApiSessionRow>> {
    conn.prepare_cached(
        "SELECT s.user_id, s.token_id, s.expires_at, t.consumed_at IS NOT NULL,
                t.revoked_at IS NOT NULL, u.is_active
         FROM session s JOIN token t ON t.id = s.token_id JOIN user u ON u.id = s.user_id
         WHERE s.id_hash = ?1 AND s.kind = 'api'",
    )?
    .query_row([id_hash], |r| {
        Ok(ApiSessionRow {
            user_id: r.get(0)?,
            token_id: r.get(1)?,
            expires_at: r.get(2)?,
            token_consumed: r.get(3)?,
            token_revoked: r.get(4)?,
            user_active: r.get(5)?,
        })
    })
    .optional()
}
