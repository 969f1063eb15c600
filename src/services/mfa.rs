//! Second factors: TOTP (authenticator apps), codes by email, and recovery codes. Secrets are
//! sealed at rest like the outbox's tokens; recovery and emailed codes are stored hashed.

use super::Actor;
use crate::crypto::sha256_hex;
use crate::db::{audit, mfa as repo, settings as settings_repo, users};
use crate::domain::totp;
use crate::error::AppError;
use crate::mail::account as mails;
use crate::state::AppState;
use rusqlite::Connection;
use time::Duration;

/// The setting that makes a second factor mandatory for everyone.
pub const REQUIRED_SETTING: &str = "mfa_required";
/// How long an emailed code works.
pub const EMAIL_CODE_TTL: Duration = Duration::minutes(10);
/// Wrong guesses an emailed code survives.
const EMAIL_CODE_ATTEMPTS: i64 = 5;
/// Emailed codes one user may ask for per window.
const EMAIL_CODES_PER_WINDOW: usize = 5;
const EMAIL_CODE_WINDOW: Duration = Duration::minutes(15);

/// Which second factors a user has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Factors {
    /// An authenticator app.
    pub totp: bool,
    /// Codes by email.
    pub email: bool,
    /// Recovery codes left.
    pub recovery_left: i64,
}

impl Factors {
    /// Whether the user has any second factor.
    pub fn any(&self) -> bool {
        self.totp || self.email
    }
}

/// How a code was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A TOTP code.
    Totp,
    /// An emailed code.
    Email,
    /// A recovery code.
    Recovery,
}

impl Method {
    /// A name for logs and the audit.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "authenticator app",
            Self::Email => "email code",
            Self::Recovery => "recovery code",
        }
    }
}

/// The second factors of a user.
pub fn factors_of(c: &Connection, user_id: i64) -> Result<Factors, AppError> {
    let totp = repo::totp(c, user_id)?.is_some_and(|t| t.secret.is_some());
    Ok(Factors {
        totp,
        email: repo::email_enabled(c, user_id)?,
        recovery_left: repo::unused_recovery_codes(c, user_id)?,
    })
}

/// Whether everyone must have a second factor.
pub fn required(c: &Connection) -> Result<bool, AppError> {
    Ok(settings_repo::get(c, REQUIRED_SETTING)?.as_deref() == Some("true"))
}

/// The second factors of a user, read from the pool.
pub async fn factors(state: &AppState, user_id: i64) -> Result<Factors, AppError> {
    state.db.read(move |c| factors_of(c, user_id)).await
}

fn recovery_hash(user_id: i64, code: &str) -> String {
    sha256_hex(&format!(
        "{user_id}:{}",
        totp::normalise_recovery_code(code)
    ))
}

fn email_code_hash(user_id: i64, code: &str) -> String {
    let digits: String = code.chars().filter(char::is_ascii_digit).collect();
    sha256_hex(&format!("email-code:{user_id}:{digits}"))
}

/// Checks a code against every factor of the user and uses it up: a TOTP code for a step not
/// used before, an emailed code (10 minutes, 5 tries), or an unused recovery code. `None` when
/// nothing matched.
pub async fn check_code(
    state: &AppState,
    actor: &Actor,
    user_id: i64,
    username: &str,
    code: &str,
) -> Result<Option<Method>, AppError> {
    let code = code.trim().to_owned();
    if code.is_empty() || code.len() > 64 {
        return Ok(None);
    }
    let now = state.now().unix_timestamp();
    let secrets = state.secrets.clone();
    let actor = actor.clone();
    let username = username.to_owned();
    state
        .db
        .write(move |tx| {
            if let Some(row) = repo::totp(tx, user_id)? {
                if let Some(sealed) = &row.secret {
                    let secret = secrets.open(sealed)?;
                    let unix = u64::try_from(now).unwrap_or(0);
                    if let Some(step) = totp::verify(&secret, &code, unix, row.last_step) {
                        if repo::use_step(tx, user_id, step)? {
                            return Ok(Some(Method::Totp));
                        }
                    }
                }
            }
            if let Some(row) = repo::email_code(tx, user_id)? {
                if row.expires_at > now && row.attempts < EMAIL_CODE_ATTEMPTS {
                    if crate::crypto::constant_time_eq(&row.hash, &email_code_hash(user_id, &code))
                    {
                        repo::delete_email_code(tx, user_id)?;
                        return Ok(Some(Method::Email));
                    }
                    repo::email_code_failed(tx, user_id)?;
                }
            }
            if totp::normalise_recovery_code(&code).len() == 10
                && repo::use_recovery_code(tx, user_id, &recovery_hash(user_id, &code), now)?
            {
                let left = repo::unused_recovery_codes(tx, user_id)?;
                let detail = format!("{left} left");
                let mut e = actor.event(now, "mfa.recovery_code_used", Some(&username));
                e.detail = Some(&detail);
                audit::insert(tx, &e)?;
                return Ok(Some(Method::Recovery));
            }
            Ok(None)
        })
        .await
}

/// An authenticator app being set up: the secret as text and the URI its QR code holds.
#[derive(Debug, Clone)]
pub struct TotpSetup {
    /// Base32 secret, for typing in.
    pub secret: String,
    /// `otpauth://totp/…`.
    pub uri: String,
}

/// Starts (or restarts) setting up an authenticator app: a new secret, stored sealed and
/// pending until a code from the app confirms it.
pub async fn start_totp(state: &AppState, user_id: i64) -> Result<TotpSetup, AppError> {
    let secret = totp::new_secret();
    let sealed = state.secrets.seal(&secret)?;
    let username = state
        .db
        .write(move |tx| {
            repo::set_pending(tx, user_id, &sealed)?;
            username_of(tx, user_id)
        })
        .await?;
    totp_setup(state, secret, &username).await
}

/// The set-up in progress, if any (to show the same QR code again after a wrong code).
pub async fn pending_totp(state: &AppState, user_id: i64) -> Result<Option<TotpSetup>, AppError> {
    let (row, username) = state
        .db
        .read(move |c| Ok((repo::totp(c, user_id)?, username_of(c, user_id)?)))
        .await?;
    let Some(sealed) = row.and_then(|r| r.pending_secret) else {
        return Ok(None);
    };
    let secret = state.secrets.open(&sealed)?;
    totp_setup(state, secret, &username).await.map(Some)
}

/// The secret with the `otpauth://` URI an app scans: issuer the instance, account the user.
async fn totp_setup(
    state: &AppState,
    secret: String,
    username: &str,
) -> Result<TotpSetup, AppError> {
    let instance = super::bootstrap::instance_name(state).await?;
    let uri = totp::otpauth_uri(&secret, &instance, username)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("cannot build the otpauth URI")))?;
    Ok(TotpSetup { secret, uri })
}

/// A user's username for the audit log (empty if the user is gone).
fn username_of(c: &Connection, user_id: i64) -> Result<String, AppError> {
    Ok(users::get(c, user_id)?
        .map(|u| u.username)
        .unwrap_or_default())
}

/// Why setting up a factor failed.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// Nothing is being set up.
    #[error("Start the set-up again: no authenticator app is being set up.")]
    NotStarted,
    /// The code did not match.
    #[error("That code is not right. Type the 6-digit code your authenticator app shows now.")]
    WrongCode,
    /// Something else broke.
    #[error(transparent)]
    App(#[from] AppError),
}

fn store_new_recovery_codes(c: &Connection, user_id: i64) -> Result<Vec<String>, AppError> {
    let codes = totp::new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(user_id, c)).collect();
    repo::replace_recovery_codes(c, user_id, &hashes)?;
    Ok(codes)
}

/// Confirms the pending authenticator app with a code from it; returns ten new recovery codes
/// (shown once).
pub async fn confirm_totp(
    state: &AppState,
    actor: &Actor,
    user_id: i64,
    code: &str,
) -> Result<Vec<String>, SetupError> {
    let now = state.now().unix_timestamp();
    let secrets = state.secrets.clone();
    let actor = actor.clone();
    let code = code.to_owned();
    state
        .db
        .write(move |tx| {
            let pending = repo::totp(tx, user_id)?.and_then(|r| r.pending_secret);
            let Some(sealed) = pending else {
                return Ok(Err(SetupError::NotStarted));
            };
            let secret = secrets.open(&sealed)?;
            let unix = u64::try_from(now).unwrap_or(0);
            let Some(step) = totp::verify(&secret, &code, unix, 0) else {
                return Ok(Err(SetupError::WrongCode));
            };
            repo::enable_pending(tx, user_id, now, step)?;
            let codes = store_new_recovery_codes(tx, user_id)?;
            let name = username_of(tx, user_id)?;
            audit::insert(tx, &actor.event(now, "mfa.totp_enabled", Some(&name)))?;
            Ok(Ok(codes))
        })
        .await?
}

/// Ten new recovery codes; the old ones stop working.
pub async fn regenerate_recovery_codes(
    state: &AppState,
    actor: &Actor,
    user_id: i64,
) -> Result<Vec<String>, AppError> {
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            let codes = store_new_recovery_codes(tx, user_id)?;
            let name = username_of(tx, user_id)?;
            audit::insert(
                tx,
                &actor.event(now, "mfa.recovery_codes_renewed", Some(&name)),
            )?;
            Ok(codes)
        })
        .await
}

/// Emails a one-time code to the user (a second factor at login, or to set email codes up).
/// At most five per user per 15 minutes.
pub async fn send_email_code(
    state: &AppState,
    actor: &Actor,
    user_id: i64,
) -> Result<Result<(), u64>, AppError> {
    let now = state.now();
    let key = format!("email-code:{user_id}");
    if let Err(wait) = state
        .limits
        .hit(&key, EMAIL_CODES_PER_WINDOW, EMAIL_CODE_WINDOW, now)
    {
        return Ok(Err(wait));
    }
    let code = format!("{:06}", rand::random_range(0..1_000_000_u32));
    let hash = email_code_hash(user_id, &code);
    let at = now.unix_timestamp();
    let expires = (now + EMAIL_CODE_TTL).unix_timestamp();
    let instance = super::bootstrap::instance_name(state).await?;
    let st = state.clone();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            let Some(user) = users::get(tx, user_id)? else {
                return Ok(());
            };
            repo::put_email_code(tx, user_id, &hash, expires)?;
            let mail = mails::email_code(
                &user.email,
                &instance,
                &user.first_name,
                EMAIL_CODE_TTL.whole_seconds(),
            );
            super::outbox::queue_with_secret(tx, &st, "email_code", &mail, &code, at)?;
            audit::insert(
                tx,
                &actor.event(at, "mfa.email_code_sent", Some(&user.username)),
            )?;
            Ok(())
        })
        .await?;
    state.mail_wake.notify_one();
    Ok(Ok(()))
}

/// Turns email codes on after the user typed the code just emailed.
pub async fn confirm_email(
    state: &AppState,
    actor: &Actor,
    user_id: i64,
    code: &str,
) -> Result<bool, AppError> {
    let now = state.now().unix_timestamp();
    let hash = email_code_hash(user_id, code);
    let actor = actor.clone();
    state
        .db
        .write(move |tx| enable_email(tx, &actor, user_id, &hash, now))
        .await
}

/// Turns email codes on after the user typed the code just emailed, and returns ten new
/// recovery codes (shown once), in one transaction: either both happen or neither. `None`
/// when the code was not right.
pub async fn confirm_email_with_recovery_codes(
    state: &AppState,
    actor: &Actor,
    user_id: i64,
    code: &str,
) -> Result<Option<Vec<String>>, AppError> {
    let now = state.now().unix_timestamp();
    let hash = email_code_hash(user_id, code);
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            if !enable_email(tx, &actor, user_id, &hash, now)? {
                return Ok(None);
            }
            Ok(Some(store_new_recovery_codes(tx, user_id)?))
        })
        .await
}

/// Checks the emailed code (10 minutes, 5 tries) and turns email codes on when it matches.
fn enable_email(
    tx: &Connection,
    actor: &Actor,
    user_id: i64,
    hash: &str,
    now: i64,
) -> Result<bool, AppError> {
    let Some(row) = repo::email_code(tx, user_id)? else {
        return Ok(false);
    };
    let ok = row.expires_at > now
        && row.attempts < EMAIL_CODE_ATTEMPTS
        && crate::crypto::constant_time_eq(&row.hash, hash);
    if !ok {
        repo::email_code_failed(tx, user_id)?;
        return Ok(false);
    }
    repo::delete_email_code(tx, user_id)?;
    repo::set_email_enabled(tx, user_id, Some(now))?;
    let name = username_of(tx, user_id)?;
    audit::insert(tx, &actor.event(now, "mfa.email_enabled", Some(&name)))?;
    Ok(true)
}

/// Turns every second factor off; the caller checked a code (or is an admin).
fn remove_all(
    tx: &Connection,
    actor: &Actor,
    user_id: i64,
    action: &str,
    now: i64,
) -> Result<Option<users::UserRow>, AppError> {
    let Some(user) = users::get(tx, user_id)? else {
        return Ok(None);
    };
    repo::reset_all(tx, user_id)?;
    audit::insert(tx, &actor.event(now, action, Some(&user.username)))?;
    Ok(Some(user))
}

/// Turns two-factor off for the signed-in user, who proves it with a current code.
pub async fn disable(
    state: &AppState,
    actor: &Actor,
    user_id: i64,
    username: &str,
    code: &str,
) -> Result<bool, AppError> {
    if check_code(state, actor, user_id, username, code)
        .await?
        .is_none()
    {
        return Ok(false);
    }
    let now = state.now().unix_timestamp();
    let instance = super::bootstrap::instance_name(state).await?;
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            if let Some(user) = remove_all(tx, &actor, user_id, "mfa.disabled", now)? {
                let mail = mails::account_notice(
                    &user.email,
                    &instance,
                    &user.first_name,
                    "Two-factor sign-in was turned off",
                );
                super::outbox::queue(tx, "account_notice", &mail, now)?;
            }
            Ok(())
        })
        .await?;
    state.mail_wake.notify_one();
    Ok(true)
}

/// An admin's "Reset two-factor": removes the user's factors and emails them.
pub async fn admin_reset(
    state: &AppState,
    actor: &Actor,
    user_id: i64,
) -> Result<String, AppError> {
    let now = state.now().unix_timestamp();
    let instance = super::bootstrap::instance_name(state).await?;
    let actor = actor.clone();
    let name = state
        .db
        .write(move |tx| {
            let Some(user) = remove_all(tx, &actor, user_id, "mfa.reset", now)? else {
                return Err(AppError::NotFound);
            };
            let mail = mails::account_notice(
                &user.email,
                &instance,
                &user.first_name,
                "Your administrator reset your two-factor sign-in",
            );
            super::outbox::queue(tx, "account_notice", &mail, now)?;
            Ok(user.username)
        })
        .await?;
    state.mail_wake.notify_one();
    Ok(name)
}
