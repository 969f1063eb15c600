//! The `setting` key-value table.

use rusqlite::{params, Connection, OptionalExtension};

/// The instance's UUID, fixed at first start.
pub const INSTANCE_ID: &str = "instance_id";
/// The instance's display name.
pub const INSTANCE_NAME: &str = "instance_name";

/// Reads a setting.
pub fn get(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT value FROM setting WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()
}

/// Every stored setting.
pub fn all(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached("SELECT key, value FROM setting")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Writes a setting.
pub fn set(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO setting (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// Writes a setting only if it has no value yet; returns whether it wrote.
pub fn set_if_absent(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "INSERT INTO setting (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
        params![key, value],
    )? == 1)
}
