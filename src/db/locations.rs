//! The `location` and `device_address` tables.

use rusqlite::{params, Connection, OptionalExtension, Row};

/// A location as stored.
#[derive(Debug, Clone)]
pub struct LocationRow {
    /// Row id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// The gateway's own addresses with prefix, comma-separated.
    pub addresses: String,
    /// Host clients connect to.
    pub endpoint: String,
    /// UDP port.
    pub port: u16,
    /// Gateway public key.
    pub public_key: String,
    /// Gateway private key, when onramp generated it.
    pub private_key: Option<String>,
    /// Routed networks, comma-separated.
    pub allowed_ips: String,
    /// DNS servers, comma-separated; may be empty.
    pub dns: String,
    /// Keepalive seconds.
    pub keepalive: u16,
    /// Unix seconds.
    pub created_at: i64,
}

/// A location's fields to write.
#[derive(Debug, Clone)]
pub struct LocationFields<'a> {
    /// Name.
    pub name: &'a str,
    /// Pool, written form.
    pub addresses: &'a str,
    /// Endpoint host.
    pub endpoint: &'a str,
    /// Port.
    pub port: u16,
    /// Gateway public key.
    pub public_key: &'a str,
    /// Gateway private key.
    pub private_key: Option<&'a str>,
    /// Allowed IPs, written form.
    pub allowed_ips: &'a str,
    /// DNS, written form.
    pub dns: &'a str,
    /// Keepalive.
    pub keepalive: u16,
}

const COLUMNS: &str = "id, name, addresses, endpoint, port, public_key, private_key, allowed_ips, dns, keepalive, created_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<LocationRow> {
    Ok(LocationRow {
        id: r.get(0)?,
        name: r.get(1)?,
        addresses: r.get(2)?,
        endpoint: r.get(3)?,
        port: r.get(4)?,
        public_key: r.get(5)?,
        private_key: r.get(6)?,
        allowed_ips: r.get(7)?,
        dns: r.get(8)?,
        keepalive: r.get(9)?,
        created_at: r.get(10)?,
    })
}

/// Inserts a location.
pub fn insert(conn: &Connection, f: &LocationFields<'_>, now: i64) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO location (name, addresses, endpoint, port, public_key, private_key, allowed_ips, dns, keepalive, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![f.name, f.addresses, f.endpoint, f.port, f.public_key, f.private_key, f.allowed_ips, f.dns, f.keepalive, now],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Replaces a location's fields.
pub fn update(conn: &Connection, id: i64, f: &LocationFields<'_>) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE location SET name = ?2, addresses = ?3, endpoint = ?4, port = ?5, public_key = ?6, private_key = ?7,
         allowed_ips = ?8, dns = ?9, keepalive = ?10 WHERE id = ?1",
        params![id, f.name, f.addresses, f.endpoint, f.port, f.public_key, f.private_key, f.allowed_ips, f.dns, f.keepalive],
    )
}

/// Deletes a location (its device addresses go with it).
pub fn delete(conn: &Connection, id: i64) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM location WHERE id = ?1", [id])
}

/// One location.
pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<LocationRow>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM location WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()
}

/// One location by name (case-insensitive).
pub fn find_by_name(conn: &Connection, name: &str) -> rusqlite::Result<Option<LocationRow>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM location WHERE name = ?1"),
        [name],
        from_row,
    )
    .optional()
}

/// Who may connect to a location, as an SQL condition on the expressions `location` (a
/// location id) and `user` (a user id). A location without `location_access` rows is open to
/// everyone; one with rows admits only members of those groups. Every query that hands out a
/// location (client configs, gateway peers) goes through this one rule.
fn may_connect(location: &str, user: &str) -> String {
    format!(
        "(NOT EXISTS (SELECT 1 FROM location_access la WHERE la.location_id = {location})
          OR EXISTS (SELECT 1 FROM location_access la JOIN group_member gm ON gm.group_id = la.group_id
                     WHERE la.location_id = {location} AND gm.user_id = {user}))"
    )
}

/// The locations a user may connect to, by name.
pub fn accessible_to(conn: &Connection, user_id: i64) -> rusqlite::Result<Vec<LocationRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM location WHERE {} ORDER BY name",
        may_connect("location.id", "?1")
    ))?;
    let rows = stmt.query_map([user_id], from_row)?;
    rows.collect()
}

/// Whether a user may connect to at least one location.
pub fn any_accessible_to(conn: &Connection, user_id: i64) -> rusqlite::Result<bool> {
    conn.prepare_cached(&format!(
        "SELECT EXISTS (SELECT 1 FROM location WHERE {})",
        may_connect("location.id", "?1")
    ))?
    .query_row([user_id], |r| r.get(0))
}

/// Active users with at least one device who may connect to a location: email and first
/// name, by username.
pub fn device_owners_with_access(
    conn: &Connection,
    location_id: i64,
) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT u.email, u.first_name FROM user u
         WHERE u.is_active = 1 AND EXISTS (SELECT 1 FROM device d WHERE d.user_id = u.id) AND {}
         ORDER BY u.username",
        may_connect("?1", "u.id")
    ))?;
    let rows = stmt.query_map([location_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Every location, by name.
pub fn all(conn: &Connection) -> rusqlite::Result<Vec<LocationRow>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM location ORDER BY name"))?;
    let rows = stmt.query_map([], from_row)?;
    rows.collect()
}

/// Number of locations.
pub fn count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM location", [], |r| r.get(0))
}

/// Addresses already given out in a location.
pub fn used_addresses(conn: &Connection, location_id: i64) -> rusqlite::Result<Vec<(i64, String)>> {
    let mut stmt = conn
        .prepare_cached("SELECT device_id, address FROM device_address WHERE location_id = ?1")?;
    let rows = stmt.query_map([location_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Gives a device an address in a location.
pub fn add_address(
    conn: &Connection,
    device_id: i64,
    location_id: i64,
    address: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO device_address (device_id, location_id, address) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![device_id, location_id, address])?;
    Ok(())
}

/// Takes an address back.
pub fn remove_address(conn: &Connection, location_id: i64, address: &str) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM device_address WHERE location_id = ?1 AND address = ?2",
        params![location_id, address],
    )?;
    Ok(())
}

/// Every device id (all devices join every location).
pub fn all_device_ids(conn: &Connection) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached("SELECT id FROM device ORDER BY id")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    rows.collect()
}

/// A device in a location, as the gateway config lists it.
#[derive(Debug, Clone)]
pub struct PeerRow {
    /// Owner's username.
    pub username: String,
    /// Device name.
    pub device_name: String,
    /// Device public key.
    pub public_key: String,
    /// Addresses, comma-separated.
    pub addresses: String,
}

/// The devices with addresses in a location whose owners are active and may connect to it.
pub fn peers(conn: &Connection, location_id: i64) -> rusqlite::Result<Vec<PeerRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT u.username, d.name, d.public_key, group_concat(a.address, ',')
         FROM device_address a JOIN device d ON d.id = a.device_id JOIN user u ON u.id = d.user_id
         WHERE a.location_id = ?1 AND u.is_active = 1 AND {}
         GROUP BY d.id ORDER BY d.id",
        may_connect("?1", "u.id")
    ))?;
    let rows = stmt.query_map([location_id], |r| {
        Ok(PeerRow {
            username: r.get(0)?,
            device_name: r.get(1)?,
            public_key: r.get(2)?,
            addresses: r.get(3)?,
        })
    })?;
    rows.collect()
}

/// Devices per location id.
pub fn device_counts(conn: &Connection) -> rusqlite::Result<Vec<(i64, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT location_id, count(DISTINCT device_id) FROM device_address GROUP BY location_id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}
