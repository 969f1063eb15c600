//! What happens to invitations nobody acts on, run from the background loop with time from
//! the clock: one reminder to the invited person N days after an unopened invitation (never
//! after it expired, was opened or used), and a note to the issuing admin when it expires
//! unused. Both are settings, off by default.

use super::Actor;
use crate::db::{audit, settings as repo, tokens, users};
use crate::error::AppError;
use crate::mail::invitations::{expired_email, reminder_email, Expired, Reminder};
use crate::state::AppState;

/// Setting: days after which an unopened invitation gets its reminder; absent is off.
pub const REMINDER_DAYS: &str = "invitation_reminder_days";
/// Setting: `1` when the issuing admin hears of an invitation that expired unused.
pub const NOTIFY_EXPIRED: &str = "invitation_notify_expired";
/// Most days a reminder may wait: the longest invitation lasts 30.
pub const MAX_REMINDER_DAYS: i64 = 29;
/// Invitations that expired longer ago than this when the note was turned on are left alone.
const EXPIRED_LOOKBACK: i64 = 7 * 86_400;

/// The two settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InvitationSettings {
    /// Days until the reminder; `None` sends none.
    pub reminder_days: Option<i64>,
    /// Whether the issuing admin hears of an invitation that expired unused.
    pub notify_expired: bool,
}

fn load(c: &rusqlite::Connection) -> Result<InvitationSettings, AppError> {
    Ok(InvitationSettings {
        reminder_days: repo::get(c, REMINDER_DAYS)?.and_then(|d| d.parse().ok()),
        notify_expired: repo::get(c, NOTIFY_EXPIRED)?.as_deref() == Some("1"),
    })
}

/// The settings as stored.
pub async fn get_settings(state: &AppState) -> Result<InvitationSettings, AppError> {
    state.db.read(load).await
}

/// Saves the settings; `reminder_days` as typed (empty turns reminders off).
pub async fn save_settings(
    state: &AppState,
    actor: &Actor,
    reminder_days: &str,
    notify_expired: bool,
) -> Result<InvitationSettings, AppError> {
    let raw = reminder_days.trim();
    let days = if raw.is_empty() {
        None
    } else {
        match raw.parse::<i64>() {
            Ok(d) if (1..=MAX_REMINDER_DAYS).contains(&d) => Some(d),
            _ => {
                return Err(AppError::field(
                    "reminder_days",
                    format!("Enter a whole number of days from 1 to {MAX_REMINDER_DAYS}, or leave it empty for no reminder."),
                ))
            }
        }
    };
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            match days {
                Some(d) => repo::set(tx, REMINDER_DAYS, &d.to_string())?,
                None => {
                    repo::set(tx, REMINDER_DAYS, "")?;
                }
            }
            repo::set(tx, NOTIFY_EXPIRED, if notify_expired { "1" } else { "0" })?;
            let detail = format!(
                "reminder: {}; expiry note to the admin: {}",
                days.map_or_else(|| "off".to_owned(), |d| format!("after {d} days")),
                if notify_expired { "on" } else { "off" }
            );
            audit::insert(
                tx,
                &actor
                    .event(now, "settings.invitations", None)
                    .with_detail(&detail),
            )?;
            load(tx)
        })
        .await
}

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Run {
    /// Reminders queued.
    pub reminded: usize,
    /// Admins told of an expired invitation.
    pub expired: usize,
}

/// Queues the reminders and expiry notes that are due now, in one transaction.
pub async fn run_due(state: &AppState) -> Result<Run, AppError> {
    let now = state.now().unix_timestamp();
    let users_url = format!("{}/admin/users", state.config.public_url);
    let run = state
        .db
        .write(move |tx| {
            let settings = load(tx)?;
            let instance = repo::get(tx, repo::INSTANCE_NAME)?.unwrap_or_else(|| "onramp".into());
            let system = Actor {
                username: "system".to_owned(),
                ..Actor::default()
            };
            let mut run = Run::default();
            if let Some(days) = settings.reminder_days {
                for token in tokens::due_reminders(tx, now - days * 86_400, now)? {
                    let (Some(user), Some(to)) = (users::get(tx, token.user_id)?, &token.email)
                    else {
                        continue;
                    };
                    let mail = reminder_email(&Reminder {
                        to,
                        first_name: &user.first_name,
                        instance: &instance,
                        sent: token.created_at,
                        expires: token.expires_at,
                    });
                    super::outbox::queue(tx, "reminder", &mail, now)?;
                    tokens::mark_reminded(tx, token.id, now)?;
                    let detail = format!("enrollment token #{}, reminder to {to}", token.id);
                    audit::insert(
                        tx,
                        &system
                            .event(now, "token.reminded", Some(&user.username))
                            .with_detail(&detail),
                    )?;
                    run.reminded += 1;
                }
            }
            if settings.notify_expired {
                for token in tokens::expired_unnotified(tx, now - EXPIRED_LOOKBACK, now)? {
                    tokens::mark_expiry_notified(tx, token.id, now)?;
                    let Some(user) = users::get(tx, token.user_id)? else {
                        continue;
                    };
                    let Some(admin) = token
                        .admin_id
                        .map(|id| users::get(tx, id))
                        .transpose()?
                        .flatten()
                    else {
                        continue;
                    };
                    let mail = expired_email(&Expired {
                        to: &admin.email,
                        instance: &instance,
                        username: &user.username,
                        expired: token.expires_at,
                        users_url: &users_url,
                    });
                    super::outbox::queue(tx, "invitation-expired", &mail, now)?;
                    let detail = format!(
                        "enrollment token #{} expired unused; {} told",
                        token.id, admin.username
                    );
                    audit::insert(
                        tx,
                        &system
                            .event(now, "token.expired_unused", Some(&user.username))
                            .with_detail(&detail),
                    )?;
                    run.expired += 1;
                }
            }
            Ok(run)
        })
        .await?;
    if run != Run::default() {
        state.mail_wake.notify_one();
    }
    Ok(run)
}
