//! The `user_import` table: checked CSV files waiting for the admin's confirmation.

use rusqlite::{params, Connection, OptionalExtension};

/// Stores the rows (JSON) of a checked file for the session `session_hash`.
pub fn insert(
    conn: &Connection,
    id_hash: &str,
    session_hash: &str,
    rows_json: &str,
    now: i64,
    expires_at: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO user_import (id, session_hash, created_at, expires_at, rows)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id_hash, session_hash, now, expires_at, rows_json],
    )?;
    Ok(())
}

/// Takes a live import of this session: returns its rows (JSON) and deletes it.
pub fn take(
    conn: &Connection,
    id_hash: &str,
    session_hash: &str,
    now: i64,
) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "DELETE FROM user_import WHERE id = ?1 AND session_hash = ?2 AND expires_at > ?3
         RETURNING rows",
        params![id_hash, session_hash, now],
        |r| r.get(0),
    )
    .optional()
}

/// Drops imports nobody confirmed in time; returns how many.
pub fn delete_expired(conn: &Connection, now: i64) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM user_import WHERE expires_at <= ?1", [now])
}
