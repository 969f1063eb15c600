//! "Send test email": one attempt with the SMTP settings on the screen, saved or not,
//! reported at once. A test email is recorded in the outbox but never retried, so a test
//! that failed cannot arrive later.

use super::settings::{check_smtp, effective_smtp, get_settings, SettingsInput};
use super::Actor;
use crate::config::{Secret, SmtpConfig, SmtpSecurity};
use crate::db::{audit, outbox as repo};
use crate::error::AppError;
use crate::mail;
use crate::state::AppState;

/// What became of a test email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestMailOutcome {
    /// Accepted by the SMTP server.
    Sent,
    /// No SMTP server is configured; nothing was sent or queued.
    NotConfigured,
    /// Refused or unreachable; not retried.
    NotSent {
        /// The SMTP error.
        error: String,
        /// What to check.
        hint: Option<String>,
    },
}

/// The SMTP server the test goes to: `ONRAMP_SMTP_URL` when set; else the fields on the
/// screen (`on_screen`, when they were submitted), with the stored password unless a new
/// one was typed or its removal checked; else the stored settings.
async fn smtp_to_test(
    state: &AppState,
    on_screen: Option<&SettingsInput>,
) -> Result<Option<SmtpConfig>, AppError> {
    let settings = get_settings(state).await?;
    let Some(input) = on_screen.filter(|i| !i.keep_smtp && state.config.smtp.is_none()) else {
        return Ok(effective_smtp(state, &settings));
    };
    let mut errors = Vec::new();
    let smtp = check_smtp(input, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if smtp.host.is_empty() {
        return Ok(None);
    }
    let password = if input.smtp_password_clear {
        String::new()
    } else if smtp.password.is_empty() {
        settings.smtp.password
    } else {
        smtp.password
    };
    let non_empty = |s: String| (!s.is_empty()).then_some(s);
    Ok(Some(SmtpConfig {
        host: smtp.host,
        port: smtp.port.parse().unwrap_or(587),
        security: smtp.security.parse().unwrap_or(SmtpSecurity::Starttls),
        username: non_empty(smtp.username),
        password: non_empty(password).map(Secret::new),
        sender: non_empty(smtp.sender),
    }))
}

/// Sends a test email to `to` once and reports the outcome.
pub async fn send_test_email(
    state: &AppState,
    actor: &Actor,
    to: &str,
    on_screen: Option<&SettingsInput>,
) -> Result<TestMailOutcome, AppError> {
    let to =
        crate::domain::user::Email::parse("to", to).map_err(|e| AppError::Validation(vec![e]))?;
    let Some(smtp) = smtp_to_test(state, on_screen).await? else {
        return Ok(TestMailOutcome::NotConfigured);
    };
    let settings = get_settings(state).await?;
    let email = mail::templates::test_email(
        to.as_str(),
        &settings.instance_name,
        &state.config.public_url,
        &actor.username,
    );
    let result = mail::send(&smtp, &state.config.public_url, &email).await;
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    let failure = result.as_ref().err().cloned();
    state
        .db
        .write(move |tx| {
            let id = super::outbox::queue(tx, "test", &email, now)?;
            let error = failure
                .as_ref()
                .map(|e| (e.error.as_str(), e.hint.as_deref()));
            repo::record_single_attempt(tx, id, now, error)?;
            let mut e = actor.event(now, "email.tested", Some(email.to.as_str()));
            e.detail = Some(if failure.is_some() {
                "not sent"
            } else {
                "sent"
            });
            audit::insert(tx, &e)?;
            Ok(())
        })
        .await?;
    Ok(match result {
        Ok(()) => TestMailOutcome::Sent,
        Err(e) => TestMailOutcome::NotSent {
            error: e.error,
            hint: e.hint,
        },
    })
}
