//! The `api_token` table: bearer tokens of the admin REST API, stored as SHA-256 hashes.

use rusqlite::{params, Connection, OptionalExtension, Row};

/// A token as stored (without its hash).
#[derive(Debug, Clone)]
pub struct ApiTokenRow {
    /// Row id.
    pub id: i64,
    /// The name the admin gave it; audit entries carry it.
    pub name: String,
    /// Who created it.
    pub created_by: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last accepted request.
    pub last_used_at: Option<i64>,
    /// Unix seconds; set once revoked.
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str = "t.id, t.name, u.username, t.created_at, t.last_used_at, t.revoked_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<ApiTokenRow> {
    Ok(ApiTokenRow {
        id: r.get(0)?,
        name: r.get(1)?,
        created_by: r.get(2)?,
        created_at: r.get(3)?,
        last_used_at: r.get(4)?,
        revoked_at: r.get(5)?,
    })
}

/// Stores a token; returns its id.
pub fn insert(
    conn: &Connection,
    name: &str,
    hash: &str,
    created_by: i64,
    now: i64,
) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO api_token (name, hash, created_by, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![name, hash, created_by, now],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Every token, newest first.
pub fn all(conn: &Connection) -> rusqlite::Result<Vec<ApiTokenRow>> {
    conn.prepare(&format!(
        "SELECT {COLUMNS} FROM api_token t LEFT JOIN user u ON u.id = t.created_by
         ORDER BY t.id DESC"
    ))?
    .query_map([], from_row)?
    .collect()
}

/// One token.
pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<ApiTokenRow>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM api_token t LEFT JOIN user u ON u.id = t.created_by WHERE t.id = ?1"),
        [id],
        from_row,
    )
    .optional()
}

/// Whether a token with this name is live.
pub fn live_name_taken(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM api_token WHERE name = ?1 AND revoked_at IS NULL)",
        [name],
        |r| r.get(0),
    )
}

/// The live token whose secret hashes to `hash`, marked used at `now`.
pub fn use_live(
    conn: &Connection,
    hash: &str,
    now: i64,
) -> rusqlite::Result<Option<(i64, String)>> {
    conn.query_row(
        "UPDATE api_token SET last_used_at = ?2 WHERE hash = ?1 AND revoked_at IS NULL
         RETURNING id, name",
        params![hash, now],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Revokes a token; false when it was revoked already or does not exist.
pub fn revoke(conn: &Connection, id: i64, now: i64) -> rusqlite::Result<bool> {
    conn.execute(
        "UPDATE api_token SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, now],
    )
    .map(|n| n > 0)
}
