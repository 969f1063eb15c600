//! The OpenID Connect tables of apps and keys: `oidc_key`, `oidc_subject`, `oidc_client`,
//! `oidc_client_group`, `oidc_consent`.

use crate::domain::oidc::ClientKind;
use rusqlite::{params, Connection, OptionalExtension, Row};

/// A signing key as stored.
#[derive(Debug, Clone)]
pub struct KeyRow {
    /// Key id (`kid`).
    pub kid: String,
    /// The sealed base64 PKCS#1 DER.
    pub private_key: Vec<u8>,
    /// base64url modulus.
    pub n: String,
    /// base64url exponent.
    pub e: String,
    /// Unix seconds it signs from.
    pub active_from: i64,
}

/// Every key, oldest first.
pub fn keys(conn: &Connection) -> rusqlite::Result<Vec<KeyRow>> {
    let mut st = conn.prepare_cached(
        "SELECT kid, private_key, n, e, active_from FROM oidc_key ORDER BY active_from, id",
    )?;
    let rows = st.query_map([], |r| {
        Ok(KeyRow {
            kid: r.get(0)?,
            private_key: r.get(1)?,
            n: r.get(2)?,
            e: r.get(3)?,
            active_from: r.get(4)?,
        })
    })?;
    rows.collect()
}

/// Stores a key.
pub fn insert_key(conn: &Connection, k: &KeyRow, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO oidc_key (kid, private_key, n, e, created_at, active_from) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![k.kid, k.private_key, k.n, k.e, now, k.active_from],
    )?;
    Ok(())
}

/// Deletes a key that no token can need any more.
pub fn delete_key(conn: &Connection, kid: &str) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM oidc_key WHERE kid = ?1", [kid])
}

/// The user's `sub`, if one was made.
pub fn subject(conn: &Connection, user_id: i64) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT sub FROM oidc_subject WHERE user_id = ?1",
        [user_id],
        |r| r.get(0),
    )
    .optional()
}

/// Records the user's `sub` unless they have one.
pub fn insert_subject(conn: &Connection, user_id: i64, sub: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO oidc_subject (user_id, sub) VALUES (?1, ?2)",
        params![user_id, sub],
    )?;
    Ok(())
}

/// A registered app as stored.
#[derive(Debug, Clone)]
pub struct ClientRow {
    /// Row id.
    pub id: i64,
    /// The public `client_id`.
    pub client_id: String,
    /// Display name.
    pub name: String,
    /// Confidential or public.
    pub kind: ClientKind,
    /// Hex SHA-256 of the secret.
    pub secret_hash: Option<String>,
    /// Registered redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Registered post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// Refuses users without a second factor.
    pub require_mfa: bool,
    /// Accepts sign-ins.
    pub is_enabled: bool,
}

const CLIENT_COLUMNS: &str = "id, client_id, name, kind, secret_hash, redirect_uris, post_logout_redirect_uris, require_mfa, is_enabled";

fn lines(s: String) -> Vec<String> {
    s.lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn client_row(r: &Row<'_>) -> rusqlite::Result<ClientRow> {
    let kind: String = r.get(3)?;
    Ok(ClientRow {
        id: r.get(0)?,
        client_id: r.get(1)?,
        name: r.get(2)?,
        kind: ClientKind::parse(&kind).unwrap_or(ClientKind::Confidential),
        secret_hash: r.get(4)?,
        redirect_uris: lines(r.get(5)?),
        post_logout_redirect_uris: lines(r.get(6)?),
        require_mfa: r.get(7)?,
        is_enabled: r.get(8)?,
    })
}

/// Every app, by name.
pub fn clients(conn: &Connection) -> rusqlite::Result<Vec<ClientRow>> {
    let mut st = conn.prepare(&format!(
        "SELECT {CLIENT_COLUMNS} FROM oidc_client ORDER BY name"
    ))?;
    let rows = st.query_map([], client_row)?;
    rows.collect()
}

/// The app with this `client_id`.
pub fn client_by_client_id(
    conn: &Connection,
    client_id: &str,
) -> rusqlite::Result<Option<ClientRow>> {
    conn.prepare_cached(&format!(
        "SELECT {CLIENT_COLUMNS} FROM oidc_client WHERE client_id = ?1"
    ))?
    .query_row([client_id], client_row)
    .optional()
}

/// The app with this row id.
pub fn client(conn: &Connection, id: i64) -> rusqlite::Result<Option<ClientRow>> {
    conn.prepare_cached(&format!(
        "SELECT {CLIENT_COLUMNS} FROM oidc_client WHERE id = ?1"
    ))?
    .query_row([id], client_row)
    .optional()
}

/// Whether another app has this name.
pub fn name_taken(conn: &Connection, name: &str, except: i64) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM oidc_client WHERE name = ?1 AND id <> ?2)",
        params![name, except],
        |r| r.get(0),
    )
}

/// Registers an app; returns its row id.
pub fn insert_client(conn: &Connection, c: &ClientRow, now: i64) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO oidc_client (client_id, name, kind, secret_hash, redirect_uris, post_logout_redirect_uris, require_mfa, is_enabled, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            c.client_id,
            c.name,
            c.kind.as_str(),
            c.secret_hash,
            c.redirect_uris.join("\n"),
            c.post_logout_redirect_uris.join("\n"),
            c.require_mfa,
            c.is_enabled,
            now
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Replaces an app's secret hash.
pub fn set_secret_hash(conn: &Connection, id: i64, hash: &str) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE oidc_client SET secret_hash = ?2 WHERE id = ?1",
        params![id, hash],
    )
}

/// Turns an app on or off.
pub fn set_enabled(conn: &Connection, id: i64, enabled: bool) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE oidc_client SET is_enabled = ?2 WHERE id = ?1",
        params![id, enabled],
    )
}

/// Deletes an app with its consents and tokens.
pub fn delete_client(conn: &Connection, id: i64) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM oidc_client WHERE id = ?1", [id])
}

/// The groups an app is limited to: (id, name).
pub fn client_groups(conn: &Connection, id: i64) -> rusqlite::Result<Vec<(i64, String)>> {
    let mut st = conn.prepare_cached(
        "SELECT g.id, g.name FROM oidc_client_group cg JOIN user_group g ON g.id = cg.group_id
         WHERE cg.client_id = ?1 ORDER BY g.name",
    )?;
    let rows = st.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Limits an app to these groups (none: everyone).
pub fn set_client_groups(conn: &Connection, id: i64, group_ids: &[i64]) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM oidc_client_group WHERE client_id = ?1", [id])?;
    for g in group_ids {
        conn.execute(
            "INSERT INTO oidc_client_group (client_id, group_id) VALUES (?1, ?2)",
            params![id, g],
        )?;
    }
    Ok(())
}

/// Whether the user may use the app by its groups (an app without groups admits everyone).
pub fn user_admitted(conn: &Connection, client: i64, user_id: i64) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM oidc_client_group WHERE client_id = ?1)
             OR EXISTS (SELECT 1 FROM oidc_client_group cg JOIN group_member m ON m.group_id = cg.group_id
                        WHERE cg.client_id = ?1 AND m.user_id = ?2)",
        params![client, user_id],
        |r| r.get(0),
    )
}

/// The scope the user consented to for the app, if they did.
pub fn consent(conn: &Connection, user_id: i64, client: i64) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT scope FROM oidc_consent WHERE user_id = ?1 AND client_id = ?2",
        params![user_id, client],
        |r| r.get(0),
    )
    .optional()
}

/// Records (or widens) a consent.
pub fn upsert_consent(
    conn: &Connection,
    user_id: i64,
    client: i64,
    scope: &str,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO oidc_consent (user_id, client_id, scope, granted_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at",
        params![user_id, client, scope, now],
    )?;
    Ok(())
}

/// Withdraws a consent; returns whether there was one.
pub fn delete_consent(conn: &Connection, user_id: i64, client: i64) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "DELETE FROM oidc_consent WHERE user_id = ?1 AND client_id = ?2",
        params![user_id, client],
    )? > 0)
}

/// The apps a user consented to: (app row id, name, granted at).
pub fn consents_of(conn: &Connection, user_id: i64) -> rusqlite::Result<Vec<(i64, String, i64)>> {
    let mut st = conn.prepare(
        "SELECT c.id, c.name, k.granted_at FROM oidc_consent k JOIN oidc_client c ON c.id = k.client_id
         WHERE k.user_id = ?1 ORDER BY c.name",
    )?;
    let rows = st.query_map([user_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    rows.collect()
}
