//! The OpenID Connect tables of what was issued: `oidc_grant`, `oidc_code`, `oidc_token`.

use rusqlite::{params, Connection, OptionalExtension};

/// A grant: one sign-in at one app and everything issued from it.
#[derive(Debug, Clone)]
pub struct GrantRow {
    /// Row id.
    pub id: i64,
    /// The app's row id.
    pub client: i64,
    /// The user.
    pub user_id: i64,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// When the user signed in, unix seconds.
    pub auth_time: i64,
    /// A second factor was part of the sign-in.
    pub mfa: bool,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
}

/// Starts a grant; returns its id.
pub fn insert_grant(conn: &Connection, g: &GrantRow, now: i64) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO oidc_grant (client_id, user_id, scope, auth_time, mfa, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![g.client, g.user_id, g.scope, g.auth_time, g.mfa, now],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Ends a grant and every token from it.
pub fn revoke_grant(conn: &Connection, id: i64, now: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE oidc_grant SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, now],
    )
}

/// Ends every grant of a user (at one app, or at all with `None`); returns how many.
pub fn revoke_grants_of(
    conn: &Connection,
    user_id: i64,
    client: Option<i64>,
    now: i64,
) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE oidc_grant SET revoked_at = ?3
         WHERE user_id = ?1 AND (?2 IS NULL OR client_id = ?2) AND revoked_at IS NULL",
        params![user_id, client, now],
    )
}

/// Ends every grant at an app.
pub fn revoke_grants_of_client(
    conn: &Connection,
    client: i64,
    now: i64,
) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE oidc_grant SET revoked_at = ?2 WHERE client_id = ?1 AND revoked_at IS NULL",
        params![client, now],
    )
}

/// A code as stored, with its grant.
#[derive(Debug, Clone)]
pub struct CodeRow {
    /// The grant it starts.
    pub grant: GrantRow,
    /// The redirect URI it was sent to.
    pub redirect_uri: String,
    /// The request's nonce.
    pub nonce: Option<String>,
    /// The PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// Unix seconds.
    pub expires_at: i64,
    /// When it was exchanged.
    pub used_at: Option<i64>,
}

/// Stores a code for a grant.
pub fn insert_code(conn: &Connection, hash: &str, grant: i64, c: &CodeRow) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO oidc_code (hash, grant_id, redirect_uri, nonce, code_challenge, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![hash, grant, c.redirect_uri, c.nonce, c.code_challenge, c.expires_at],
    )?;
    Ok(())
}

const GRANT_COLUMNS: &str =
    "g.id, g.client_id, g.user_id, g.scope, g.auth_time, g.mfa, g.revoked_at";

fn grant_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<GrantRow> {
    Ok(GrantRow {
        id: r.get(at)?,
        client: r.get(at + 1)?,
        user_id: r.get(at + 2)?,
        scope: r.get(at + 3)?,
        auth_time: r.get(at + 4)?,
        mfa: r.get(at + 5)?,
        revoked_at: r.get(at + 6)?,
    })
}

/// The code with this hash.
pub fn find_code(conn: &Connection, hash: &str) -> rusqlite::Result<Option<CodeRow>> {
    conn.prepare_cached(&format!(
        "SELECT c.redirect_uri, c.nonce, c.code_challenge, c.expires_at, c.used_at, {GRANT_COLUMNS}
         FROM oidc_code c JOIN oidc_grant g ON g.id = c.grant_id WHERE c.hash = ?1"
    ))?
    .query_row([hash], |r| {
        Ok(CodeRow {
            redirect_uri: r.get(0)?,
            nonce: r.get(1)?,
            code_challenge: r.get(2)?,
            expires_at: r.get(3)?,
            used_at: r.get(4)?,
            grant: grant_at(r, 5)?,
        })
    })
    .optional()
}

/// Marks a code used; false when it already was.
pub fn use_code(conn: &Connection, hash: &str, now: i64) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE oidc_code SET used_at = ?2 WHERE hash = ?1 AND used_at IS NULL",
        params![hash, now],
    )? == 1)
}

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A bearer token for userinfo.
    Access,
    /// Exchanged once for new tokens.
    Refresh,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }
}

/// Stores a token of a grant.
pub fn insert_token(
    conn: &Connection,
    hash: &str,
    grant: i64,
    kind: TokenKind,
    expires_at: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO oidc_token (hash, grant_id, kind, expires_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![hash, grant, kind.as_str(), expires_at])?;
    Ok(())
}

/// A token as stored, with its grant.
#[derive(Debug, Clone)]
pub struct TokenRow {
    /// Its kind.
    pub kind: TokenKind,
    /// Unix seconds.
    pub expires_at: i64,
    /// When a refresh token was exchanged.
    pub used_at: Option<i64>,
    /// Its grant.
    pub grant: GrantRow,
}

/// The token with this hash.
pub fn find_token(conn: &Connection, hash: &str) -> rusqlite::Result<Option<TokenRow>> {
    conn.prepare_cached(&format!(
        "SELECT t.kind, t.expires_at, t.used_at, {GRANT_COLUMNS}
         FROM oidc_token t JOIN oidc_grant g ON g.id = t.grant_id WHERE t.hash = ?1"
    ))?
    .query_row([hash], |r| {
        let kind: String = r.get(0)?;
        Ok(TokenRow {
            kind: if kind == "refresh" {
                TokenKind::Refresh
            } else {
                TokenKind::Access
            },
            expires_at: r.get(1)?,
            used_at: r.get(2)?,
            grant: grant_at(r, 3)?,
        })
    })
    .optional()
}

/// Marks a refresh token exchanged; false when it already was.
pub fn use_token(conn: &Connection, hash: &str, now: i64) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE oidc_token SET used_at = ?2 WHERE hash = ?1 AND used_at IS NULL",
        params![hash, now],
    )? == 1)
}

/// Deletes one token (revocation of an access token).
pub fn delete_token(conn: &Connection, hash: &str) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM oidc_token WHERE hash = ?1", [hash])
}

/// Deletes codes and tokens past their end, and grants with nothing left; run periodically.
pub fn delete_expired(conn: &Connection, now: i64) -> rusqlite::Result<usize> {
    let mut n = conn.execute("DELETE FROM oidc_code WHERE expires_at <= ?1", [now])?;
    n += conn.execute("DELETE FROM oidc_token WHERE expires_at <= ?1", [now])?;
    n += conn.execute(
        "DELETE FROM oidc_grant WHERE NOT EXISTS (SELECT 1 FROM oidc_token t WHERE t.grant_id = oidc_grant.id)
           AND NOT EXISTS (SELECT 1 FROM oidc_code c WHERE c.grant_id = oidc_grant.id)",
        [],
    )?;
    Ok(n)
}
