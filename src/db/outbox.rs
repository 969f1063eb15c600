//! The `outbox` table: every email, written in the transaction of the action that causes it.

use crate::domain::outbox::OutboxStatus;
use rusqlite::{params, Connection, OptionalExtension, Row};

/// An email to queue.
#[derive(Debug, Clone)]
pub struct NewMail<'a> {
    /// What kind of email (test, enrollment, ...).
    pub kind: &'a str,
    /// The address it goes to.
    pub recipient: &'a str,
    /// Subject line.
    pub subject: &'a str,
    /// Plain-text body.
    pub body_text: &'a str,
    /// HTML body.
    pub body_html: &'a str,
    /// The sealed secret the bodies' marker stands for.
    pub secret_enc: Option<&'a [u8]>,
}

/// A stored email.
#[derive(Debug, Clone)]
pub struct MailRow {
    /// Row id.
    pub id: i64,
    /// Kind.
    pub kind: String,
    /// Recipient.
    pub recipient: String,
    /// Subject.
    pub subject: String,
    /// Text body.
    pub body_text: String,
    /// HTML body.
    pub body_html: String,
    /// Where it stands.
    pub status: OutboxStatus,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// When the worker may try next (unix seconds).
    pub next_attempt_at: i64,
    /// The SMTP error of the last attempt.
    pub last_error: Option<String>,
    /// What to do about it.
    pub last_hint: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub sent_at: Option<i64>,
    /// The sealed secret (a token) until the email is delivered.
    pub secret_enc: Option<Vec<u8>>,
}

const COLUMNS: &str =
    "id, kind, recipient, subject, body_text, body_html, status, attempts, next_attempt_at, last_error, last_hint, created_at, sent_at, secret_enc";

fn from_row(r: &Row<'_>) -> rusqlite::Result<MailRow> {
    Ok(MailRow {
        id: r.get(0)?,
        kind: r.get(1)?,
        recipient: r.get(2)?,
        subject: r.get(3)?,
        body_text: r.get(4)?,
        body_html: r.get(5)?,
        status: super::enum_column(r, 6, OutboxStatus::parse)?,
        attempts: r.get(7)?,
        next_attempt_at: r.get(8)?,
        last_error: r.get(9)?,
        last_hint: r.get(10)?,
        created_at: r.get(11)?,
        sent_at: r.get(12)?,
        secret_enc: r.get(13)?,
    })
}

/// Queues an email for the worker.
pub fn insert(conn: &Connection, m: &NewMail<'_>, now: i64) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO outbox (kind, recipient, subject, body_text, body_html, next_attempt_at, created_at, secret_enc)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)",
    )?
    .execute(params![m.kind, m.recipient, m.subject, m.body_text, m.body_html, now, m.secret_enc])?;
    Ok(conn.last_insert_rowid())
}

/// Claims the oldest due email: marks it `sending` and counts the attempt.
pub fn claim_due(conn: &Connection, now: i64) -> rusqlite::Result<Option<MailRow>> {
    conn.query_row(
        &format!(
            "UPDATE outbox SET status = 'sending', attempts = attempts + 1
             WHERE id = (SELECT id FROM outbox WHERE status = 'queued' AND next_attempt_at <= ?1 ORDER BY id LIMIT 1)
             RETURNING {COLUMNS}"
        ),
        [now],
        from_row,
    )
    .optional()
}

/// Records a delivery.
pub fn mark_sent(conn: &Connection, id: i64, now: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE outbox SET status = 'sent', sent_at = ?2, last_error = NULL, last_hint = NULL, secret_enc = NULL
         WHERE id = ?1 AND status = 'sending'",
        params![id, now],
    )
}

/// Records a failed attempt: back to the queue until `next_attempt_at`, or `failed` for good.
pub fn mark_failed(
    conn: &Connection,
    id: i64,
    give_up: bool,
    next_attempt_at: i64,
    error: &str,
    hint: Option<&str>,
) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE outbox SET status = ?2, next_attempt_at = ?3, last_error = ?4, last_hint = ?5 WHERE id = ?1 AND status = 'sending'",
        params![
            id,
            if give_up { OutboxStatus::Failed } else { OutboxStatus::Queued }.as_str(),
            next_attempt_at,
            error,
            hint
        ],
    )
}

/// Records the one attempt of an email that is never retried (a test email): `sent`, or
/// `failed` with the error.
pub fn record_single_attempt(
    conn: &Connection,
    id: i64,
    now: i64,
    error: Option<(&str, Option<&str>)>,
) -> rusqlite::Result<usize> {
    let status = if error.is_some() {
        OutboxStatus::Failed
    } else {
        OutboxStatus::Sent
    };
    conn.execute(
        "UPDATE outbox SET status = ?2, attempts = 1, sent_at = ?3, last_error = ?4, last_hint = ?5 WHERE id = ?1",
        params![
            id,
            status.as_str(),
            error.is_none().then_some(now),
            error.map(|e| e.0),
            error.and_then(|e| e.1)
        ],
    )
}

/// After a crash, emails caught mid-send go back to the queue.
pub fn requeue_interrupted(conn: &Connection) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE outbox SET status = 'queued' WHERE status = 'sending'",
        [],
    )
}

/// Makes an unsent email due now ("Retry now"); test emails are sent once, never again.
pub fn retry_now(conn: &Connection, id: i64, now: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE outbox SET status = 'queued', next_attempt_at = ?2 WHERE id = ?1 AND status IN ('queued', 'failed') AND kind != 'test'",
        params![id, now],
    )
}

/// One email.
pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<MailRow>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()
}

/// The newest emails first, before `before_id` when paging.
pub fn recent(
    conn: &Connection,
    status: Option<OutboxStatus>,
    before_id: Option<i64>,
    limit: i64,
) -> rusqlite::Result<Vec<MailRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM outbox WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT {limit}"
    ))?;
    let rows = stmt.query_map(
        params![status.map(OutboxStatus::as_str), before_id],
        from_row,
    )?;
    rows.collect()
}

/// Emails per status.
pub fn counts(conn: &Connection) -> rusqlite::Result<Vec<(OutboxStatus, i64)>> {
    let mut stmt = conn.prepare_cached("SELECT status, count(*) FROM outbox GROUP BY status")?;
    let rows = stmt.query_map([], |r| {
        Ok((super::enum_column(r, 0, OutboxStatus::parse)?, r.get(1)?))
    })?;
    rows.collect()
}
