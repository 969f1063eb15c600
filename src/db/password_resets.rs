//! The `password_reset` table: links that let a user set a new password. Only the SHA-256 of
//! each secret is stored.

use rusqlite::{params, Connection, OptionalExtension, Row};

/// A reset link as stored.
#[derive(Debug, Clone)]
pub struct ResetRow {
    /// Id.
    pub id: i64,
    /// Whose password it resets.
    pub user_id: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// When "Continue" was first pressed.
    pub started_at: Option<i64>,
    /// End of the window that opened at start.
    pub session_deadline: Option<i64>,
    /// Used up.
    pub consumed_at: Option<i64>,
    /// Revoked by a newer link or an admin.
    pub revoked_at: Option<i64>,
}

impl ResetRow {
    /// Whether the link can still be used at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        self.consumed_at.is_none()
            && self.revoked_at.is_none()
            && now < self.expires_at
            && self.session_deadline.is_none_or(|d| now < d)
    }
}

fn row(r: &Row<'_>) -> rusqlite::Result<ResetRow> {
    Ok(ResetRow {
        id: r.get(0)?,
        user_id: r.get(1)?,
        expires_at: r.get(2)?,
        started_at: r.get(3)?,
        session_deadline: r.get(4)?,
        consumed_at: r.get(5)?,
        revoked_at: r.get(6)?,
    })
}

const COLUMNS: &str =
    "id, user_id, expires_at, started_at, session_deadline, consumed_at, revoked_at";

/// A new link.
#[derive(Debug)]
pub struct NewReset<'a> {
    /// SHA-256 of the secret.
    pub hash: &'a str,
    /// Whose.
    pub user_id: i64,
    /// The admin who sent it; `None` when the user asked.
    pub admin_id: Option<i64>,
    /// Where it was emailed; `None` when shown on a card.
    pub email: Option<&'a str>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Stores a link after revoking the user's earlier ones (the newest link wins).
pub fn insert(conn: &Connection, n: &NewReset<'_>) -> rusqlite::Result<i64> {
    conn.execute(
        "UPDATE password_reset SET revoked_at = ?2
         WHERE user_id = ?1 AND consumed_at IS NULL AND revoked_at IS NULL",
        params![n.user_id, n.created_at],
    )?;
    conn.execute(
        "INSERT INTO password_reset (hash, user_id, admin_id, email, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            n.hash,
            n.user_id,
            n.admin_id,
            n.email,
            n.created_at,
            n.expires_at
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Looks a link up by the hash of its secret.
pub fn find_by_hash(conn: &Connection, hash: &str) -> rusqlite::Result<Option<ResetRow>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM password_reset WHERE hash = ?1"),
        [hash],
        row,
    )
    .optional()
}

/// Looks a link up by id.
pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<ResetRow>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM password_reset WHERE id = ?1"),
        [id],
        row,
    )
    .optional()
}

/// Records the first start and the window's end.
pub fn mark_started(conn: &Connection, id: i64, now: i64, deadline: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE password_reset SET started_at = COALESCE(started_at, ?2),
             session_deadline = COALESCE(session_deadline, ?3)
         WHERE id = ?1",
        params![id, now, deadline],
    )?;
    Ok(())
}

/// Uses the link up; false when it already was or was revoked.
pub fn consume(conn: &Connection, id: i64, now: i64) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE password_reset SET consumed_at = ?2
         WHERE id = ?1 AND consumed_at IS NULL AND revoked_at IS NULL",
        params![id, now],
    )? == 1)
}

/// Revokes every unused link of a user.
pub fn revoke_for_user(conn: &Connection, user_id: i64, now: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE password_reset SET revoked_at = ?2
         WHERE user_id = ?1 AND consumed_at IS NULL AND revoked_at IS NULL",
        params![user_id, now],
    )
}
