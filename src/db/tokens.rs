//! The `token` table. Only the SHA-256 of a token's secret is stored.

use crate::domain::token::Purpose;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{params, Connection, OptionalExtension, Row};

/// A token as stored.
#[derive(Debug, Clone)]
pub struct TokenRow {
    /// Row id.
    pub id: i64,
    /// What it is for.
    pub purpose: Purpose,
    /// Whose token.
    pub user_id: i64,
    /// Who issued it.
    pub admin_id: Option<i64>,
    /// Where it was sent.
    pub email: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Absolute end.
    pub expires_at: i64,
    /// First start of the wizard.
    pub started_at: Option<i64>,
    /// End of the enrollment window, set at first start.
    pub session_deadline: Option<i64>,
    /// When it was used up.
    pub consumed_at: Option<i64>,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
}

impl TokenRow {
    /// When it stops working: its expiry, or the end of its window once started.
    pub fn dies_at(&self) -> i64 {
        self.session_deadline
            .map_or(self.expires_at, |d| d.min(self.expires_at))
    }

    /// Whether it can still be used at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        self.consumed_at.is_none() && self.revoked_at.is_none() && now < self.dies_at()
    }
}

const COLUMNS: &str =
    "id, purpose, user_id, admin_id, email, created_at, expires_at, started_at, session_deadline, consumed_at, revoked_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<TokenRow> {
    Ok(TokenRow {
        id: r.get(0)?,
        purpose: r.get::<_, StoredPurpose>(1)?.0,
        user_id: r.get(2)?,
        admin_id: r.get(3)?,
        email: r.get(4)?,
        created_at: r.get(5)?,
        expires_at: r.get(6)?,
        started_at: r.get(7)?,
        session_deadline: r.get(8)?,
        consumed_at: r.get(9)?,
        revoked_at: r.get(10)?,
    })
}

/// Stored as its name; an unknown name in the database is a corrupt row, not a panic.
#[derive(Debug, Clone, Copy)]
struct StoredPurpose(Purpose);

impl FromSql for StoredPurpose {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        Purpose::parse(text)
            .map(StoredPurpose)
            .ok_or_else(|| FromSqlError::Other(format!("unknown token purpose {text:?}").into()))
    }
}

impl ToSql for StoredPurpose {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0.as_str()))
    }
}

/// A token to store.
#[derive(Debug)]
pub struct NewToken<'a> {
    /// SHA-256 hex of the secret.
    pub hash: &'a str,
    /// Purpose.
    pub purpose: Purpose,
    /// Owner.
    pub user_id: i64,
    /// Issuer; `None` when the admin who issued the original is gone.
    pub admin_id: Option<i64>,
    /// Where it is sent.
    pub email: Option<&'a str>,
    /// Unix seconds.
    pub created_at: i64,
    /// Absolute end.
    pub expires_at: i64,
}

/// Stores a token.
pub fn insert(conn: &Connection, t: &NewToken<'_>) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO token (hash, purpose, user_id, admin_id, email, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![t.hash, StoredPurpose(t.purpose), t.user_id, t.admin_id, t.email, t.created_at, t.expires_at],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The token whose secret hashes to `hash`.
pub fn find_by_hash(conn: &Connection, hash: &str) -> rusqlite::Result<Option<TokenRow>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM token WHERE hash = ?1"))?
        .query_row([hash], from_row)
        .optional()
}

/// One token.
pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<TokenRow>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM token WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()
}

/// Revokes every unused token of a user; returns how many.
pub fn revoke_for_user(conn: &Connection, user_id: i64, now: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE token SET revoked_at = ?2 WHERE user_id = ?1 AND consumed_at IS NULL AND revoked_at IS NULL",
        params![user_id, now],
    )
}

/// Ends the wizard and API sessions opened with a user's tokens; the wizard's count as
/// cancelled.
pub fn end_token_sessions(conn: &Connection, user_id: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "INSERT OR IGNORE INTO cancelled_session (id_hash, expires_at)
         SELECT id_hash, expires_at FROM session
         WHERE kind = 'enrollment' AND token_id IN (SELECT id FROM token WHERE user_id = ?1)",
        [user_id],
    )?;
    conn.execute(
        "DELETE FROM session WHERE token_id IN (SELECT id FROM token WHERE user_id = ?1)",
        [user_id],
    )
}

/// Ends the desktop-client API sessions opened with a token: its enrollment finished or
/// its one device was registered.
pub fn end_api_sessions(conn: &Connection, token_id: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM session WHERE token_id = ?1 AND kind = 'api'",
        [token_id],
    )
}

/// Whether the user has a live token other than `except`.
pub fn has_other_live(
    conn: &Connection,
    user_id: i64,
    except: i64,
    now: i64,
) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM token WHERE user_id = ?1 AND id != ?2
           AND consumed_at IS NULL AND revoked_at IS NULL AND expires_at > ?3
           AND (session_deadline IS NULL OR session_deadline > ?3))",
        params![user_id, except, now],
        |r| r.get(0),
    )
}

/// Opens the enrollment window at the first start.
pub fn mark_started(
    conn: &Connection,
    id: i64,
    now: i64,
    deadline: i64,
) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE token SET started_at = ?2, session_deadline = ?3 WHERE id = ?1 AND started_at IS NULL",
        params![id, now, deadline],
    )
}

/// Uses a token up: succeeds for exactly one caller (docs/security.md, item 5).
pub fn consume(conn: &Connection, id: i64, now: i64) -> rusqlite::Result<bool> {
    let changed = conn.execute(
        "UPDATE token SET consumed_at = ?2
         WHERE id = ?1 AND consumed_at IS NULL AND revoked_at IS NULL AND expires_at > ?2
           AND (session_deadline IS NULL OR session_deadline > ?2)",
        params![id, now],
    )?;
    Ok(changed == 1)
}

/// The live token of a user with this purpose, if any.
pub fn pending_for_user(
    conn: &Connection,
    user_id: i64,
    now: i64,
) -> rusqlite::Result<Option<TokenRow>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM token WHERE user_id = ?1 AND consumed_at IS NULL AND revoked_at IS NULL
           AND expires_at > ?2 AND (session_deadline IS NULL OR session_deadline > ?2)
         ORDER BY id DESC LIMIT 1"
    ))?
    .query_row(params![user_id, now], from_row)
    .optional()
}

/// When the user's tokens sent by email since `since` were issued, newest first (for the
/// limit on invitation emails; tokens handed over by the admin do not count).
pub fn emailed_since(conn: &Connection, user_id: i64, since: i64) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT created_at FROM token WHERE user_id = ?1 AND email IS NOT NULL AND created_at > ?2
         ORDER BY created_at DESC",
    )?;
    let rows = stmt.query_map(params![user_id, since], |r| r.get(0))?;
    rows.collect()
}

/// Enrollment tokens emailed at or before `sent_before` that are still live at `now` and were
/// never opened, started or reminded of.
pub fn due_reminders(
    conn: &Connection,
    sent_before: i64,
    now: i64,
) -> rusqlite::Result<Vec<TokenRow>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM token WHERE purpose = 'enrollment' AND email IS NOT NULL
           AND created_at <= ?1 AND expires_at > ?2 AND consumed_at IS NULL AND revoked_at IS NULL
           AND opened_at IS NULL AND started_at IS NULL AND reminded_at IS NULL"
    ))?
    .query_map(params![sent_before, now], from_row)?
    .collect()
}

/// Enrollment tokens an admin issued that expired unused between `since` and `now` and whose
/// admin has not been told.
pub fn expired_unnotified(
    conn: &Connection,
    since: i64,
    now: i64,
) -> rusqlite::Result<Vec<TokenRow>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM token WHERE purpose = 'enrollment' AND admin_id IS NOT NULL
           AND expires_at > ?1 AND expires_at <= ?2 AND consumed_at IS NULL AND revoked_at IS NULL
           AND expiry_notified_at IS NULL"
    ))?
    .query_map(params![since, now], from_row)?
    .collect()
}

/// Records the reminder of token `id`.
pub fn mark_reminded(conn: &Connection, id: i64, now: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE token SET reminded_at = ?2 WHERE id = ?1",
        params![id, now],
    )
}

/// Records that the admin heard token `id` expired.
pub fn mark_expiry_notified(conn: &Connection, id: i64, now: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE token SET expiry_notified_at = ?2 WHERE id = ?1",
        params![id, now],
    )
}

/// Records the first time the link of the token hashing to `hash` was opened.
pub fn mark_opened(conn: &Connection, hash: &str, now: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE token SET opened_at = ?2 WHERE hash = ?1 AND opened_at IS NULL",
        params![hash, now],
    )
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::db::test_connection;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Consume,
        Revoke,
        Disable,
        Start,
        Wait(i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => Just(Op::Consume),
            1 => Just(Op::Revoke),
            1 => Just(Op::Disable),
            2 => Just(Op::Start),
            2 => (1i64..40_000).prop_map(Op::Wait),
        ]
    }

    proptest! {
        /// The token state machine in any order: at most one successful consumption, and
        /// never after a revocation, a disabled user, expiry or the end of the window.
        #[test]
        fn no_two_consumptions_and_none_after_the_end(ops in proptest::collection::vec(op(), 1..30)) {
            let conn = test_connection();
            let user = crate::db::users::insert(&conn, &crate::db::users::NewUser {
                username: "jan", first_name: "J", last_name: "N", email: "j@example.com", phone: None,
                is_admin: false, password_hash: None, created_at: 0,
            }).unwrap();
            let ttl = 86_400;
            let window = 600;
            let id = insert(&conn, &NewToken { hash: "h", purpose: Purpose::Enrollment, user_id: user, admin_id: Some(user), email: None, created_at: 0, expires_at: ttl }).unwrap();
            let mut now = 0;
            let (mut consumed, mut dead) = (false, false);
            let mut deadline = i64::MAX;
            for op in ops {
                match op {
                    Op::Wait(s) => now += s,
                    Op::Revoke => { revoke_for_user(&conn, user, now).unwrap(); dead = true; }
                    Op::Disable => {
                        // What disabling a user does to their tokens (services::users::set_active).
                        crate::db::users::set_active(&conn, user, false).unwrap();
                        revoke_for_user(&conn, user, now).unwrap();
                        dead = true;
                    }
                    Op::Start => {
                        if mark_started(&conn, id, now, (now + window).min(ttl)).unwrap() == 1 {
                            deadline = (now + window).min(ttl);
                        }
                    }
                    Op::Consume => {
                        let ok = consume(&conn, id, now).unwrap();
                        let allowed = !consumed && !dead && now < ttl && now < deadline;
                        prop_assert_eq!(ok, allowed, "now={} consumed={} dead={} deadline={}", now, consumed, dead, deadline);
                        consumed |= ok;
                    }
                }
                // The count the "Not enrolled" filter reads follows the token (migration 0017).
                let open: i64 = conn
                    .query_row("SELECT open_invitations FROM user WHERE id = ?1", [user], |r| r.get(0))
                    .unwrap();
                prop_assert_eq!(open, i64::from(!consumed && !dead));
            }
            let row = get(&conn, id).unwrap().unwrap();
            prop_assert_eq!(row.consumed_at.is_some(), consumed);
        }
    }
}
