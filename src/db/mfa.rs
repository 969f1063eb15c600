//! Second factors: `user_totp`, `recovery_code`, `email_code` and `user.email_mfa_enabled_at`.
//! Secrets arrive sealed and codes hashed; nothing here sees a plaintext secret.

use rusqlite::{params, Connection, OptionalExtension};

/// A user's TOTP row.
#[derive(Debug, Clone)]
pub struct TotpRow {
    /// Sealed base32 secret, when TOTP is on.
    pub secret: Option<Vec<u8>>,
    /// Sealed secret being set up.
    pub pending_secret: Option<Vec<u8>>,
    /// Newest step a code was accepted for.
    pub last_step: i64,
}

/// The TOTP row of a user, if any.
pub fn totp(conn: &Connection, user_id: i64) -> rusqlite::Result<Option<TotpRow>> {
    conn.prepare_cached(
        "SELECT secret, pending_secret, last_step FROM user_totp WHERE user_id = ?1",
    )?
    .query_row([user_id], |r| {
        Ok(TotpRow {
            secret: r.get(0)?,
            pending_secret: r.get(1)?,
            last_step: r.get(2)?,
        })
    })
    .optional()
}

/// Stores a secret being set up (replacing any earlier unconfirmed one).
pub fn set_pending(conn: &Connection, user_id: i64, sealed: &[u8]) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO user_totp (user_id, pending_secret) VALUES (?1, ?2)
         ON CONFLICT (user_id) DO UPDATE SET pending_secret = excluded.pending_secret",
        params![user_id, sealed],
    )?;
    Ok(())
}

/// Turns the pending secret on, recording the step its confirming code used.
pub fn enable_pending(
    conn: &Connection,
    user_id: i64,
    now: i64,
    step: i64,
) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE user_totp SET secret = pending_secret, pending_secret = NULL, enabled_at = ?2,
                last_step = ?3
         WHERE user_id = ?1 AND pending_secret IS NOT NULL",
        params![user_id, now, step],
    )? == 1)
}

/// Records that a code for `step` was used; false when that step (or a later one) already was,
/// so two requests racing with the same code cannot both pass.
pub fn use_step(conn: &Connection, user_id: i64, step: i64) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE user_totp SET last_step = ?2 WHERE user_id = ?1 AND last_step < ?2",
        params![user_id, step],
    )? == 1)
}

/// Turns TOTP off (and forgets a pending set-up).
pub fn delete_totp(conn: &Connection, user_id: i64) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM user_totp WHERE user_id = ?1", [user_id])
}

/// Replaces a user's recovery codes.
pub fn replace_recovery_codes(
    conn: &Connection,
    user_id: i64,
    hashes: &[String],
) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM recovery_code WHERE user_id = ?1", [user_id])?;
    let mut insert =
        conn.prepare_cached("INSERT INTO recovery_code (user_id, hash) VALUES (?1, ?2)")?;
    for h in hashes {
        insert.execute(params![user_id, h])?;
    }
    Ok(())
}

/// Uses a recovery code once; false when it is unknown or already used.
pub fn use_recovery_code(
    conn: &Connection,
    user_id: i64,
    hash: &str,
    now: i64,
) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE recovery_code SET used_at = ?3
         WHERE user_id = ?1 AND hash = ?2 AND used_at IS NULL",
        params![user_id, hash, now],
    )? == 1)
}

/// Recovery codes not used yet.
pub fn unused_recovery_codes(conn: &Connection, user_id: i64) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT COUNT(*) FROM recovery_code WHERE user_id = ?1 AND used_at IS NULL",
        [user_id],
        |r| r.get(0),
    )
}

/// Deletes every recovery code of a user.
pub fn delete_recovery_codes(conn: &Connection, user_id: i64) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM recovery_code WHERE user_id = ?1", [user_id])
}

/// Whether email codes are a second factor of the user.
pub fn email_enabled(conn: &Connection, user_id: i64) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT email_mfa_enabled_at IS NOT NULL FROM user WHERE id = ?1",
        [user_id],
        |r| r.get(0),
    )
    .optional()
    .map(|v| v.unwrap_or(false))
}

/// Turns email codes on (`Some(now)`) or off (`None`).
pub fn set_email_enabled(
    conn: &Connection,
    user_id: i64,
    at: Option<i64>,
) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE user SET email_mfa_enabled_at = ?2 WHERE id = ?1",
        params![user_id, at],
    )
}

/// Stores a new emailed code for a user, replacing the previous one.
pub fn put_email_code(
    conn: &Connection,
    user_id: i64,
    hash: &str,
    expires_at: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO email_code (user_id, hash, expires_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash,
             expires_at = excluded.expires_at, attempts = 0",
        params![user_id, hash, expires_at],
    )?;
    Ok(())
}

/// An emailed code as stored.
#[derive(Debug, Clone)]
pub struct EmailCodeRow {
    /// Hash of the code.
    pub hash: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// Wrong codes tried against it.
    pub attempts: i64,
}

/// The emailed code of a user, if any.
pub fn email_code(conn: &Connection, user_id: i64) -> rusqlite::Result<Option<EmailCodeRow>> {
    conn.query_row(
        "SELECT hash, expires_at, attempts FROM email_code WHERE user_id = ?1",
        [user_id],
        |r| {
            Ok(EmailCodeRow {
                hash: r.get(0)?,
                expires_at: r.get(1)?,
                attempts: r.get(2)?,
            })
        },
    )
    .optional()
}

/// Counts a wrong code.
pub fn email_code_failed(conn: &Connection, user_id: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE email_code SET attempts = attempts + 1 WHERE user_id = ?1",
        [user_id],
    )
}

/// Deletes the emailed code (used, or no longer wanted).
pub fn delete_email_code(conn: &Connection, user_id: i64) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM email_code WHERE user_id = ?1", [user_id])
}

/// Removes every second factor of a user (an admin's "Reset two-factor").
pub fn reset_all(conn: &Connection, user_id: i64) -> rusqlite::Result<()> {
    delete_totp(conn, user_id)?;
    delete_recovery_codes(conn, user_id)?;
    delete_email_code(conn, user_id)?;
    set_email_enabled(conn, user_id, None)?;
    Ok(())
}
