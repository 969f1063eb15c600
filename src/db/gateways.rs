//! The `gateway` table (one per location: the agent's token hash and what it last said) and
//! the per-device peer statistics gateways report into `device_stats`.

use rusqlite::{params, Connection, OptionalExtension};

/// A location's gateway as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayRow {
    /// The location it serves.
    pub location_id: i64,
    /// When its token was made.
    pub created_at: i64,
    /// Its agent's last request, unix seconds.
    pub last_seen_at: Option<i64>,
    /// The version its agent reported.
    pub version: Option<String>,
    /// The host name its agent reported.
    pub hostname: Option<String>,
}

const COLUMNS: &str = "location_id, created_at, last_seen_at, version, hostname";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<GatewayRow> {
    Ok(GatewayRow {
        location_id: r.get(0)?,
        created_at: r.get(1)?,
        last_seen_at: r.get(2)?,
        version: r.get(3)?,
        hostname: r.get(4)?,
    })
}

/// Sets a location's gateway token hash (a new or rotated token; the old one stops working).
pub fn set_token(
    conn: &Connection,
    location_id: i64,
    token_hash: &str,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO gateway (location_id, token_hash, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (location_id) DO UPDATE SET token_hash = excluded.token_hash,
             created_at = excluded.created_at",
        params![location_id, token_hash, now],
    )?;
    Ok(())
}

/// The location whose gateway token hashes to `token_hash`.
pub fn location_for_token(conn: &Connection, token_hash: &str) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT location_id FROM gateway WHERE token_hash = ?1")?
        .query_row([token_hash], |r| r.get(0))
        .optional()
}

/// Whether the location has a gateway token.
pub fn exists(conn: &Connection, location_id: i64) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM gateway WHERE location_id = ?1)",
        [location_id],
        |r| r.get(0),
    )
}

/// Every gateway.
pub fn all(conn: &Connection) -> rusqlite::Result<Vec<GatewayRow>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM gateway ORDER BY location_id"
    ))?
    .query_map([], from_row)?
    .collect()
}

/// Records that the agent called.
pub fn touch(
    conn: &Connection,
    location_id: i64,
    now: i64,
    version: Option<&str>,
    hostname: Option<&str>,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE gateway SET last_seen_at = ?2, version = coalesce(?3, version),
             hostname = coalesce(?4, hostname)
         WHERE location_id = ?1",
        params![location_id, now, version, hostname],
    )?;
    Ok(())
}

/// What a gateway saw of one peer.
#[derive(Debug, Clone)]
pub struct PeerReport<'a> {
    /// The peer's public key.
    pub public_key: &'a str,
    /// Latest handshake, unix seconds; `None` if never.
    pub last_handshake: Option<i64>,
    /// Bytes received from the peer.
    pub rx_bytes: i64,
    /// Bytes sent to the peer.
    pub tx_bytes: i64,
}

/// Stores what a gateway saw of its peers; keys that match no device of the location are
/// ignored. Returns how many devices it matched.
pub fn record_stats(
    conn: &Connection,
    location_id: i64,
    peers: &[PeerReport<'_>],
    now: i64,
) -> rusqlite::Result<usize> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO device_stats (device_id, location_id, last_handshake, rx_bytes, tx_bytes, reported_at)
         SELECT d.id, ?1, ?3, ?4, ?5, ?6 FROM device d
         JOIN device_address a ON a.device_id = d.id AND a.location_id = ?1
         WHERE d.public_key = ?2 LIMIT 1
         ON CONFLICT (device_id, location_id) DO UPDATE SET
             last_handshake = excluded.last_handshake, rx_bytes = excluded.rx_bytes,
             tx_bytes = excluded.tx_bytes, reported_at = excluded.reported_at",
    )?;
    let mut matched = 0;
    for p in peers {
        matched += stmt.execute(params![
            location_id,
            p.public_key,
            p.last_handshake,
            p.rx_bytes,
            p.tx_bytes,
            now
        ])?;
    }
    Ok(matched)
}
