//! The password step: the submit that decides, and the live meter beside it.

use super::{expect_step, keep_and_advance, Pending, Step, Wizard, WizardError};
use crate::domain::FieldError;
use crate::error::AppError;
use crate::services::Actor;
use crate::state::AppState;

/// Failed wizard passwords allowed per session within [`PASSWORD_SESSION_WINDOW`].
const PASSWORD_SESSION_FAILURES: usize = 10;
const PASSWORD_SESSION_WINDOW: time::Duration = time::Duration::minutes(15);
/// Failed wizard passwords allowed per address within [`PASSWORD_IP_WINDOW`].
const PASSWORD_IP_FAILURES: usize = 10;
const PASSWORD_IP_WINDOW: time::Duration = time::Duration::minutes(1);

/// Password → VPN. The hash waits in the session until completion. Attempts are limited per
/// session and per address like logins, and counted before the strength estimate and the
/// hash, so parallel submissions cannot all pass.
pub async fn submit_password(
    state: &AppState,
    actor: &Actor,
    w: &Wizard,
    password: &str,
    repeat: &str,
) -> Result<(), WizardError> {
    expect_step(w, Step::Password)?;
    let now_t = state.now();
    let session_key = format!("wizard-password:{}", w.session_hash);
    let ip_key = format!("wizard-password-ip:{}", actor.limit_key());
    state
        .limits
        .reserve(
            &[
                (
                    &session_key,
                    PASSWORD_SESSION_FAILURES,
                    PASSWORD_SESSION_WINDOW,
                ),
                (&ip_key, PASSWORD_IP_FAILURES, PASSWORD_IP_WINDOW),
            ],
            now_t,
        )
        .map_err(AppError::RateLimited)?;
    let password = crate::services::check_password(password, &context(w))
        .await
        .map_err(|e| AppError::Validation(vec![FieldError::new("password", e.to_string())]))?;
    if password.expose() != repeat {
        return Err(AppError::Validation(vec![FieldError::new(
            "password_repeat",
            "The two passwords do not match.",
        )])
        .into());
    }
    let hash = state.hasher.hash(password.expose().to_owned()).await?;
    keep_and_advance(state, w, Pending::PasswordHash(hash), Step::Vpn).await?;
    // A success is no failure: the address gets its attempt back (the session moved on).
    state.limits.refund(&ip_key, now_t);
    Ok(())
}

/// What makes a password guessable for this user: their names, email, username and the
/// instance's name.
fn context(w: &Wizard) -> [&str; 5] {
    let u = &w.user;
    [
        &u.first_name,
        &u.last_name,
        &u.email,
        &u.username,
        &w.instance,
    ]
}

/// The live strength meter's verdict on a password typed on the password step; the same
/// rule as [`submit_password`], which still decides.
pub async fn password_strength(
    w: &Wizard,
    password: &str,
) -> Result<crate::domain::password::Assessment, WizardError> {
    expect_step(w, Step::Password)?;
    let context: Vec<String> = context(w).into_iter().map(str::to_owned).collect();
    let password = password.to_owned();
    let assessment = tokio::task::spawn_blocking(move || {
        let words: Vec<&str> = context.iter().map(String::as_str).collect();
        crate::domain::password::assess(&password, &words)
    })
    .await
    .map_err(AppError::internal)?;
    Ok(assessment)
}
