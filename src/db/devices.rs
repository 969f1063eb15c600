//! The `device` and `polling_token` tables. A device is one WireGuard key of a user; its
//! addresses live in `device_address` (see `db::locations`).

use rusqlite::{params, Connection, OptionalExtension, Row};

/// A device as stored.
#[derive(Debug, Clone)]
pub struct DeviceRow {
    /// Row id.
    pub id: i64,
    /// Owner.
    pub user_id: i64,
    /// Name, unique per user.
    pub name: String,
    /// WireGuard public key, unique.
    pub public_key: String,
    /// Unix seconds.
    pub created_at: i64,
    /// The token of the unfinished enrollment that registered it, if that enrollment is
    /// still unfinished.
    pub pending_token_id: Option<i64>,
}

const COLUMNS: &str = "id, user_id, name, public_key, created_at, pending_token_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<DeviceRow> {
    Ok(DeviceRow {
        id: r.get(0)?,
        user_id: r.get(1)?,
        name: r.get(2)?,
        public_key: r.get(3)?,
        created_at: r.get(4)?,
        pending_token_id: r.get(5)?,
    })
}

/// A device to insert.
#[derive(Debug)]
pub struct NewDevice<'a> {
    /// Owner.
    pub user_id: i64,
    /// Name.
    pub name: &'a str,
    /// Public key.
    pub public_key: &'a str,
    /// Unix seconds.
    pub created_at: i64,
    /// The unfinished enrollment's token, when registered through one.
    pub pending_token_id: Option<i64>,
}

/// Inserts a device; returns its id.
pub fn insert(conn: &Connection, d: &NewDevice<'_>) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO device (user_id, name, public_key, created_at, pending_token_id)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            d.user_id,
            d.name,
            d.public_key,
            d.created_at,
            d.pending_token_id
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// One device.
pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<DeviceRow>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM device WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()
}

/// The device with this public key.
pub fn find_by_key(conn: &Connection, public_key: &str) -> rusqlite::Result<Option<DeviceRow>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM device WHERE public_key = ?1"
    ))?
    .query_row([public_key], from_row)
    .optional()
}

/// Whether the user has a device with this name.
pub fn name_taken(conn: &Connection, user_id: i64, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM device WHERE user_id = ?1 AND name = ?2)",
        params![user_id, name],
        |r| r.get(0),
    )
}

/// How many devices the user has.
pub fn count_for_user(conn: &Connection, user_id: i64) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM device WHERE user_id = ?1",
        [user_id],
        |r| r.get(0),
    )
}

/// The user's device names, oldest first.
pub fn names_for_user(conn: &Connection, user_id: i64) -> rusqlite::Result<Vec<String>> {
    conn.prepare_cached("SELECT name FROM device WHERE user_id = ?1 ORDER BY id")?
        .query_map([user_id], |r| r.get(0))?
        .collect()
}

/// The user's devices, oldest first.
pub fn for_user(conn: &Connection, user_id: i64) -> rusqlite::Result<Vec<DeviceRow>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM device WHERE user_id = ?1 ORDER BY id"
    ))?
    .query_map([user_id], from_row)?
    .collect()
}

/// Renames a device.
pub fn rename(conn: &Connection, id: i64, name: &str) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE device SET name = ?2 WHERE id = ?1",
        params![id, name],
    )
}

/// Deletes a device; its addresses, statistics and polling token go with it, and the
/// polling token is retired.
pub fn delete(conn: &Connection, id: i64) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM device WHERE id = ?1", [id])
}

/// The devices an unfinished enrollment registered with this token.
pub fn pending_for_token(conn: &Connection, token_id: i64) -> rusqlite::Result<Vec<DeviceRow>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM device WHERE pending_token_id = ?1 ORDER BY id"
    ))?
    .query_map([token_id], from_row)?
    .collect()
}

/// The user's enrollment finished: their pending devices become ordinary devices.
pub fn finish_pending(conn: &Connection, user_id: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE device SET pending_token_id = NULL WHERE user_id = ?1 AND pending_token_id IS NOT NULL",
        [user_id],
    )
}

/// Deletes the user's pending devices (their addresses and polling tokens go with them);
/// returns their names.
pub fn delete_pending_for_user(conn: &Connection, user_id: i64) -> rusqlite::Result<Vec<String>> {
    conn.prepare_cached(
        "DELETE FROM device WHERE user_id = ?1 AND pending_token_id IS NOT NULL RETURNING name",
    )?
    .query_map([user_id], |r| r.get(0))?
    .collect()
}

/// The device's addresses as (location id, address), ordered by address.
pub fn addresses(conn: &Connection, device_id: i64) -> rusqlite::Result<Vec<(i64, String)>> {
    conn.prepare_cached(
        "SELECT location_id, address FROM device_address WHERE device_id = ?1 ORDER BY address",
    )?
    .query_map([device_id], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect()
}

/// Sets the device's polling token (the previous one stops working).
pub fn set_polling_token(
    conn: &Connection,
    device_id: i64,
    hash: &str,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO polling_token (device_id, hash, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (device_id) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at",
        params![device_id, hash, now],
    )?;
    Ok(())
}

/// What a presented polling token's hash is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollingTokenLookup {
    /// A device's current token; its owner is enabled.
    Active(i64),
    /// A device's current token, but its owner is disabled.
    OwnerDisabled,
    /// A token that worked once: its device was deleted or registered again.
    Retired,
    /// Never issued.
    Unknown,
}

/// Looks a polling token's hash up.
pub fn find_by_polling_hash(conn: &Connection, hash: &str) -> rusqlite::Result<PollingTokenLookup> {
    let current: Option<(i64, bool)> = conn
        .prepare_cached(
            "SELECT p.device_id, u.is_active FROM polling_token p
             JOIN device d ON d.id = p.device_id JOIN user u ON u.id = d.user_id
             WHERE p.hash = ?1",
        )?
        .query_row([hash], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(match current {
        Some((id, true)) => PollingTokenLookup::Active(id),
        Some((_, false)) => PollingTokenLookup::OwnerDisabled,
        None => {
            let retired: bool = conn
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM retired_polling_token WHERE hash = ?1)",
                )?
                .query_row([hash], |r| r.get(0))?;
            if retired {
                PollingTokenLookup::Retired
            } else {
                PollingTokenLookup::Unknown
            }
        }
    })
}

/// What a gateway last reported of a device's peer in one location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerStats {
    /// Location id.
    pub location_id: i64,
    /// Latest handshake, unix seconds; `None` if never.
    pub last_handshake: Option<i64>,
    /// Bytes received by the gateway from the device.
    pub rx_bytes: i64,
    /// Bytes sent by the gateway to the device.
    pub tx_bytes: i64,
    /// When the gateway reported it.
    pub reported_at: i64,
}

/// What gateways last reported of a device, per location.
pub fn stats(conn: &Connection, device_id: i64) -> rusqlite::Result<Vec<PeerStats>> {
    conn.prepare_cached(
        "SELECT location_id, last_handshake, rx_bytes, tx_bytes, reported_at
         FROM device_stats WHERE device_id = ?1 ORDER BY location_id",
    )?
    .query_map([device_id], |r| {
        Ok(PeerStats {
            location_id: r.get(0)?,
            last_handshake: r.get(1)?,
            rx_bytes: r.get(2)?,
            tx_bytes: r.get(3)?,
            reported_at: r.get(4)?,
        })
    })?
    .collect()
}

/// The latest handshake of a device in any location, unix seconds.
pub fn last_handshake(conn: &Connection, device_id: i64) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT max(last_handshake) FROM device_stats WHERE device_id = ?1",
        [device_id],
        |r| r.get(0),
    )
}

/// Every device with its owner's username, by owner and name.
pub fn all_with_owner(conn: &Connection) -> rusqlite::Result<Vec<(DeviceRow, String)>> {
    conn.prepare(&format!(
        "SELECT {cols}, u.username FROM device d JOIN user u ON u.id = d.user_id
         ORDER BY u.username, d.name",
        cols = COLUMNS
            .split(", ")
            .map(|c| format!("d.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))?
    .query_map([], |r| Ok((from_row(r)?, r.get(6)?)))?
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::test_connection;

    fn user(conn: &Connection, name: &str) -> i64 {
        conn.execute(
            "INSERT INTO user (username, first_name, last_name, email, created_at) VALUES (?1, 'A', 'B', ?1 || '@example.com', 0)",
            [name],
        )
        .unwrap();
        conn.last_insert_rowid()
    }

    #[test]
    fn pending_devices_are_finished_or_deleted_per_user() {
        let conn = test_connection();
        let (a, b) = (user(&conn, "a"), user(&conn, "b"));
        conn.execute(
            "INSERT INTO token (hash, purpose, user_id, created_at, expires_at) VALUES ('h', 'enrollment', ?1, 0, 10)",
            [a],
        )
        .unwrap();
        let token = conn.last_insert_rowid();
        let new = |user_id, name, key, pending| NewDevice {
            user_id,
            name,
            public_key: key,
            created_at: 0,
            pending_token_id: pending,
        };
        insert(&conn, &new(a, "cli", "k1", Some(token))).unwrap();
        insert(&conn, &new(a, "laptop", "k2", None)).unwrap();
        insert(&conn, &new(b, "cli", "k3", None)).unwrap();
        assert_eq!(pending_for_token(&conn, token).unwrap().len(), 1);
        assert_eq!(
            delete_pending_for_user(&conn, b).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(delete_pending_for_user(&conn, a).unwrap(), vec!["cli"]);
        assert_eq!(names_for_user(&conn, a).unwrap(), vec!["laptop"]);
        insert(&conn, &new(a, "cli", "k1", Some(token))).unwrap();
        assert_eq!(finish_pending(&conn, a).unwrap(), 1);
        assert!(pending_for_token(&conn, token).unwrap().is_empty());
        assert_eq!(count_for_user(&conn, a).unwrap(), 2);
    }

    #[test]
    fn replaced_and_deleted_polling_tokens_are_retired() {
        let conn = test_connection();
        let a = user(&conn, "a");
        let device = insert(
            &conn,
            &NewDevice {
                user_id: a,
                name: "pc",
                public_key: "k",
                created_at: 0,
                pending_token_id: None,
            },
        )
        .unwrap();
        assert_eq!(
            find_by_polling_hash(&conn, "h1").unwrap(),
            PollingTokenLookup::Unknown
        );
        set_polling_token(&conn, device, "h1", 0).unwrap();
        assert_eq!(
            find_by_polling_hash(&conn, "h1").unwrap(),
            PollingTokenLookup::Active(device)
        );
        set_polling_token(&conn, device, "h2", 1).unwrap();
        assert_eq!(
            find_by_polling_hash(&conn, "h1").unwrap(),
            PollingTokenLookup::Retired
        );
        conn.execute("UPDATE user SET is_active = 0 WHERE id = ?1", [a])
            .unwrap();
        assert_eq!(
            find_by_polling_hash(&conn, "h2").unwrap(),
            PollingTokenLookup::OwnerDisabled
        );
        conn.execute("DELETE FROM device WHERE id = ?1", [device])
            .unwrap();
        assert_eq!(
            find_by_polling_hash(&conn, "h2").unwrap(),
            PollingTokenLookup::Retired
        );
    }
}
