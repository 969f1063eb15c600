//! The two-factor step: after the account exists, an authenticator app, set up the way
//! "My account" does it. Mandatory when two-factor is required, otherwise "Later" is allowed.

use super::{expect_step, set_step, Step, Wizard, WizardError};
use crate::error::AppError;
use crate::services::mfa::{self, Factors, SetupError, TotpSetup};
use crate::services::Actor;
use crate::state::AppState;

/// What the two-factor step shows.
#[derive(Debug, Clone)]
pub struct TwoFactorStep {
    /// The factors the user has (the desktop client may have set one up already).
    pub factors: Factors,
    /// The authenticator app being set up, if the user chose to.
    pub setup: Option<TotpSetup>,
}

/// The step's state.
pub async fn two_factor(state: &AppState, w: &Wizard) -> Result<TwoFactorStep, WizardError> {
    expect_step(w, Step::TwoFactor)?;
    let factors = mfa::factors(state, w.user.id).await?;
    let setup = if factors.totp {
        None
    } else {
        mfa::pending_totp(state, w.user.id).await?
    };
    Ok(TwoFactorStep { factors, setup })
}

/// "Set up now": a new authenticator secret, pending until a code confirms it.
pub async fn start_two_factor(state: &AppState, w: &Wizard) -> Result<(), WizardError> {
    expect_step(w, Step::TwoFactor)?;
    mfa::start_totp(state, w.user.id).await?;
    Ok(())
}

/// Moves on to the done page.
async fn finish(state: &AppState, w: &Wizard) -> Result<(), WizardError> {
    let (user, now) = (w.user.username.clone(), state.now().unix_timestamp());
    let h = w.session_hash.clone();
    state
        .db
        .write(move |tx| set_step(tx, &h, Step::Done, Step::TwoFactor, &user, now))
        .await?;
    Ok(())
}

/// Confirms the app with a code and moves on; returns the ten recovery codes (shown once).
/// A wrong code is a validation error on `code`.
pub async fn confirm_two_factor(
    state: &AppState,
    actor: &Actor,
    w: &Wizard,
    code: &str,
) -> Result<Vec<String>, WizardError> {
    expect_step(w, Step::TwoFactor)?;
    let codes = match mfa::confirm_totp(state, actor, w.user.id, code.trim()).await {
        Ok(codes) => codes,
        Err(e @ (SetupError::WrongCode | SetupError::NotStarted)) => {
            return Err(AppError::field("code", e.to_string()).into())
        }
        Err(SetupError::App(e)) => return Err(e.into()),
    };
    finish(state, w).await?;
    Ok(codes)
}

/// "Later" (or "Continue" once a factor is on). Refused while two-factor is required and the
/// user has none.
pub async fn skip_two_factor(state: &AppState, w: &Wizard) -> Result<(), WizardError> {
    expect_step(w, Step::TwoFactor)?;
    if w.mfa_required && !mfa::factors(state, w.user.id).await?.any() {
        return Err(AppError::field(
            "code",
            "Your organisation requires two-factor sign-in: set up an authenticator app to finish.",
        )
        .into());
    }
    finish(state, w).await
}
