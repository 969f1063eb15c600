//! The mail outbox: emails are queued in the transaction of the action that causes them and
//! delivered by a background worker with exponential backoff, so an SMTP outage delays mail
//! but never fails an admin's action or loses a message.

use super::settings::{effective_smtp, load as load_settings};
use crate::db::outbox::{self as repo, MailRow, NewMail};
use crate::domain::outbox::OutboxStatus;
use crate::error::AppError;
use crate::mail::{self, Email};
use crate::state::AppState;
use rusqlite::Connection;
use std::time::Duration;

/// Attempts before an email is marked failed.
pub const MAX_ATTEMPTS: i64 = 10;
/// First retry delay; doubles each time up to [`MAX_DELAY`].
const FIRST_DELAY: i64 = 30;
const MAX_DELAY: i64 = 3600;
/// How often the worker looks for due mail when nobody wakes it.
const POLL: Duration = Duration::from_secs(5);

/// Seconds to wait after the `attempt`-th failure: 30 s, 60 s, ... up to 1 h.
pub fn backoff(attempt: i64) -> i64 {
    let exp = u32::try_from((attempt - 1).clamp(0, 16)).unwrap_or(16);
    FIRST_DELAY.saturating_mul(1_i64 << exp).min(MAX_DELAY)
}

/// Queues `email` inside the caller's transaction; returns the outbox id.
pub fn queue(conn: &Connection, kind: &str, email: &Email, now: i64) -> Result<i64, AppError> {
    queue_sealed(conn, kind, email, None, now)
}

/// Queues an email whose bodies hold [`mail::SECRET_MARKER`] where `secret` goes; the secret
/// is stored sealed and put in only when the email is sent.
pub fn queue_with_secret(
    conn: &Connection,
    state: &AppState,
    kind: &str,
    email: &Email,
    secret: &str,
    now: i64,
) -> Result<i64, AppError> {
    let sealed = state.secrets.seal(secret)?;
    queue_sealed(conn, kind, email, Some(&sealed), now)
}

/// Queues an email whose bodies hold [`mail::SECRET_MARKER`] where the secret sealed in
/// `sealed` goes (or a plain email when `None`).
pub fn queue_sealed(
    conn: &Connection,
    kind: &str,
    email: &Email,
    sealed: Option<&[u8]>,
    now: i64,
) -> Result<i64, AppError> {
    Ok(repo::insert(
        conn,
        &NewMail {
            kind,
            recipient: &email.to,
            subject: &email.subject,
            body_text: &email.text,
            body_html: &email.html,
            secret_enc: sealed,
        },
        now,
    )?)
}

/// Delivers every email that is due now; returns how many were attempted. Without SMTP
/// configured it attempts nothing: mail waits, readable at `/admin/outbox`.
pub async fn deliver_due(state: &AppState) -> Result<usize, AppError> {
    let settings = state.db.read(load_settings).await?;
    let Some(smtp) = effective_smtp(state, &settings) else {
        return Ok(0);
    };
    let mut attempted = 0;
    loop {
        let now = state.now().unix_timestamp();
        let Some(row) = state
            .db
            .write(move |tx| Ok(repo::claim_due(tx, now)?))
            .await?
        else {
            return Ok(attempted);
        };
        attempted += 1;
        let secret = match &row.secret_enc {
            Some(sealed) => Some(state.secrets.open(sealed)?),
            None => None,
        };
        let fill = |body: &str| match &secret {
            Some(s) => body.replace(mail::SECRET_MARKER, s),
            None => body.to_owned(),
        };
        let email = Email {
            to: row.recipient.clone(),
            subject: row.subject.clone(),
            text: fill(&row.body_text),
            html: fill(&row.body_html),
        };
        let result = mail::send(&smtp, &state.config.public_url, &email).await;
        let done = state.now().unix_timestamp();
        let (id, attempts) = (row.id, row.attempts);
        match result {
            Ok(()) => {
                tracing::info!(outbox_id = id, kind = %row.kind, "email sent");
                state
                    .db
                    .write(move |tx| Ok(repo::mark_sent(tx, id, done)?))
                    .await?;
            }
            Err(e) => {
                let give_up = e.permanent || attempts >= MAX_ATTEMPTS;
                tracing::warn!(outbox_id = id, attempts, give_up, error = %e.error, "email not sent");
                let next = done + backoff(attempts);
                state
                    .db
                    .write(move |tx| {
                        Ok(repo::mark_failed(
                            tx,
                            id,
                            give_up,
                            next,
                            &e.error,
                            e.hint.as_deref(),
                        )?)
                    })
                    .await?;
            }
        }
    }
}

/// Runs the delivery loop until the process ends: wakes when mail is queued, and every few
/// seconds for retries.
pub async fn run_worker(state: AppState) {
    if let Err(e) = state
        .db
        .write(|tx| Ok(repo::requeue_interrupted(tx)?))
        .await
    {
        tracing::error!(error = %e, "cannot requeue interrupted mail");
    }
    loop {
        if let Err(e) = deliver_due(&state).await {
            tracing::error!(error = %e, "mail delivery failed");
        }
        let _ = tokio::time::timeout(POLL, state.mail_wake.notified()).await;
    }
}

/// Makes a queued or failed email due now and wakes the worker; refused while no SMTP
/// server is configured, since nothing could send it.
pub async fn retry_now(state: &AppState, id: i64) -> Result<(), AppError> {
    let settings = state.db.read(load_settings).await?;
    if effective_smtp(state, &settings).is_none() {
        return Err(AppError::BadRequest(
            "SMTP is not configured, so there is nothing to retry with. Set it up in Settings first.".into(),
        ));
    }
    let now = state.now().unix_timestamp();
    let changed = state
        .db
        .write(move |tx| Ok(repo::retry_now(tx, id, now)?))
        .await?;
    if changed == 0 {
        return Err(AppError::BadRequest(
            "This email was already sent, or is a test email (sent once; send a new one from Settings).".into(),
        ));
    }
    state.mail_wake.notify_one();
    Ok(())
}

/// A page of the outbox, newest first.
pub async fn list(
    state: &AppState,
    status: Option<OutboxStatus>,
    before: Option<i64>,
) -> Result<(Vec<MailRow>, Vec<(OutboxStatus, i64)>), AppError> {
    state
        .db
        .read(move |c| Ok((repo::recent(c, status, before, 50)?, repo::counts(c)?)))
        .await
}

/// One email.
pub async fn get(state: &AppState, id: i64) -> Result<MailRow, AppError> {
    state
        .db
        .read(move |c| repo::get(c, id)?.ok_or(AppError::NotFound))
        .await
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_doubles_from_30_seconds_to_an_hour() {
        let delays: Vec<i64> = (1..=10).map(backoff).collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
    }
}
