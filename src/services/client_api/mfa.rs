//! Two-factor set-up inside the desktop client's enrollment (`register-mfa/code/start` and
//! `…/finish`), on top of the account's second-factor service.
//!
//! - Only an enrollment session may set up a factor, and only while the user has none: the
//!   first factor set up here is the one the user signs in with.
//! - Starting again replaces the set-up in progress (the client's "Resend Email" starts
//!   again); emailed codes keep their limit of five per 15 minutes.
//! - `finish` turns the factor on and stores ten recovery codes in one transaction, and
//!   returns the codes, shown once. A wrong code turns nothing on.
//! - The desktop client names `Totp` in `finish` whatever it set up, so `Totp` with no
//!   authenticator app being set up but an emailed code waiting checks the emailed code.

use super::messages::{MfaFinishResponse, MfaStartResponse};
use super::{ApiError, ApiErrorKind, ApiSession};
use crate::db::{mfa as repo, users};
use crate::domain::token::Purpose;
use crate::error::AppError;
use crate::services::mfa::{self as factors, SetupError};
use crate::services::settings::{effective_smtp, get_settings};
use crate::services::Actor;
use crate::state::AppState;

/// A second factor the client can set up with a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeMethod {
    /// An authenticator app (TOTP).
    Totp,
    /// Codes by email.
    Email,
}

/// What onramp knows about the user setting up a factor.
struct Setup {
    actor: Actor,
    user_id: i64,
    totp_pending: bool,
    email_code_pending: bool,
}

/// Checks that the session may set up a factor and reads what is in progress.
async fn setup_of(state: &AppState, actor: &Actor, s: &ApiSession) -> Result<Setup, ApiError> {
    if s.purpose != Purpose::Enrollment {
        return Err(ApiError::forbidden(
            "a desktop token cannot set up two-factor sign-in; use your account page",
        ));
    }
    let user_id = s.user_id;
    let (user, has_factor, totp_pending, email_code_pending) = state
        .db
        .read(move |c| {
            let user = users::get(c, user_id)?.ok_or(AppError::NotFound)?;
            let has_factor = factors::factors_of(c, user_id)?.any();
            let totp_pending = repo::totp(c, user_id)?.is_some_and(|t| t.pending_secret.is_some());
            let email_code_pending = repo::email_code(c, user_id)?.is_some();
            Ok((user, has_factor, totp_pending, email_code_pending))
        })
        .await?;
    if has_factor {
        return Err(ApiError::bad(
            "Two-factor sign-in is already set up for this account.",
        ));
    }
    Ok(Setup {
        actor: Actor {
            username: user.username,
            user_id: Some(user.id),
            ..actor.clone()
        },
        user_id,
        totp_pending,
        email_code_pending,
    })
}

/// `register-mfa/code/start`: a new authenticator secret, or a code by email.
pub async fn register_mfa_start(
    state: &AppState,
    actor: &Actor,
    s: &ApiSession,
    method: CodeMethod,
) -> Result<MfaStartResponse, ApiError> {
    let setup = setup_of(state, actor, s).await?;
    match method {
        CodeMethod::Totp => {
            let started = factors::start_totp(state, setup.user_id).await?;
            Ok(MfaStartResponse {
                totp_secret: Some(started.secret),
            })
        }
        CodeMethod::Email => {
            let settings = get_settings(state).await?;
            if effective_smtp(state, &settings).is_none() {
                return Err(ApiError::bad(
                    "This server cannot send email (SMTP is not configured): choose the authenticator app instead.",
                ));
            }
            if setup.totp_pending {
                // The user switched to email: the app set-up they left is forgotten, so
                // `finish` checks the emailed code.
                let user_id = setup.user_id;
                state
                    .db
                    .write(move |tx| Ok(repo::delete_totp(tx, user_id)?))
                    .await?;
            }
            factors::send_email_code(state, &setup.actor, setup.user_id)
                .await?
                .map_err(|wait| {
                    ApiError::new(
                        ApiErrorKind::RateLimited(wait),
                        "too many codes sent; wait a few minutes and resend",
                    )
                })?;
            Ok(MfaStartResponse { totp_secret: None })
        }
    }
}

/// The 6 digits of a typed code (apps show "123 456"); `None` for anything else.
fn six_digits(raw: &str) -> Option<String> {
    let code: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    (code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// `register-mfa/code/finish`: checks the code, turns the factor on and returns ten
/// recovery codes.
pub async fn register_mfa_finish(
    state: &AppState,
    actor: &Actor,
    s: &ApiSession,
    method: CodeMethod,
    code: &str,
) -> Result<MfaFinishResponse, ApiError> {
    let setup = setup_of(state, actor, s).await?;
    let code = six_digits(code).ok_or_else(|| ApiError::bad("The code is 6 digits."))?;
    let method = match method {
        CodeMethod::Totp if !setup.totp_pending && setup.email_code_pending => CodeMethod::Email,
        other => other,
    };
    let recovery_codes = match method {
        CodeMethod::Totp => factors::confirm_totp(state, &setup.actor, setup.user_id, &code)
            .await
            .map_err(|e| match e {
                SetupError::App(e) => ApiError::from(e),
                refused => ApiError::bad(refused.to_string()),
            })?,
        CodeMethod::Email => {
            factors::confirm_email_with_recovery_codes(state, &setup.actor, setup.user_id, &code)
                .await?
                .ok_or_else(|| {
                    ApiError::bad(
                "That code is not right or has expired. Resend the email and type the newest code.",
            )
                })?
        }
    };
    Ok(MfaFinishResponse { recovery_codes })
}

#[cfg(test)]
mod tests {
    use super::six_digits;

    #[test]
    fn a_code_is_six_digits_with_spaces_ignored() {
        assert_eq!(six_digits("123 456").as_deref(), Some("123456"));
        assert_eq!(six_digits(" 000001 ").as_deref(), Some("000001"));
        for bad in ["", "12345", "1234567", "12345a", "١٢٣٤٥٦"] {
            assert_eq!(six_digits(bad), None, "{bad}");
        }
    }
}
