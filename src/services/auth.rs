//! Login for every user (with the second factor when they have one), sessions and logout
//! (docs/security.md, item 9–11, 15–17).

use super::Actor;
use crate::crypto::{random_alphanumeric, sha256_hex};
use crate::db::{audit, sessions, users};
use crate::domain::password;
use crate::domain::session::SessionKind;
use crate::error::AppError;
use crate::state::AppState;
use time::Duration;

/// Idle limit of a session.
pub const IDLE: Duration = Duration::minutes(30);
/// Absolute limit of a session.
pub const ABSOLUTE: Duration = Duration::hours(12);
/// Activity is written back at most this often, so reads stay reads.
const TOUCH_EVERY: i64 = 60;
/// Failed logins allowed per account within [`ACCOUNT_WINDOW`].
const ACCOUNT_FAILURES: usize = 10;
const ACCOUNT_WINDOW: Duration = Duration::minutes(15);
/// Failed logins allowed per IP within [`IP_WINDOW`].
const IP_FAILURES: usize = 10;
const IP_WINDOW: Duration = Duration::minutes(1);

/// The one message for an unknown user and a wrong password.
pub const BAD_CREDENTIALS: &str = "The username or password is incorrect.";

/// A signed-in user (an admin or anyone else).
#[derive(Debug, Clone)]
pub struct UserSession {
    /// Hash of the cookie value.
    pub id_hash: String,
    /// The user's id.
    pub user_id: i64,
    /// The user's username.
    pub username: String,
    /// The session's synchronizer CSRF token.
    pub csrf_token: String,
    /// The user may use the admin pages.
    pub is_admin: bool,
    /// A second factor was part of this sign-in.
    pub mfa: bool,
    /// When the user signed in, unix seconds.
    pub auth_time: i64,
    /// Two-factor is required for everyone and this user has none yet: nothing but setting
    /// one up (and logging out) is allowed.
    pub must_set_up_mfa: bool,
}

/// A signed-in admin: a [`UserSession`] whose user may use the admin pages.
#[derive(Debug, Clone)]
pub struct AdminSession {
    /// Hash of the cookie value.
    pub id_hash: String,
    /// The admin's user id.
    pub user_id: i64,
    /// The admin's username.
    pub username: String,
    /// The session's synchronizer CSRF token.
    pub csrf_token: String,
    /// Whether the admin pages link to the setup checklist (until an admin hides it).
    pub checklist_link: bool,
}

impl UserSession {
    /// The admin view of this session, when the user is an admin.
    pub fn admin(&self) -> Option<AdminSession> {
        self.is_admin.then(|| AdminSession {
            id_hash: self.id_hash.clone(),
            user_id: self.user_id,
            username: self.username.clone(),
            csrf_token: self.csrf_token.clone(),
            checklist_link: false,
        })
    }
}

/// A session just created at login.
#[derive(Debug)]
pub struct NewSession {
    /// The cookie value (only the client keeps it).
    pub cookie_value: String,
    /// Who logged in.
    pub username: String,
    /// Whether they may use the admin pages (where they land).
    pub is_admin: bool,
}

/// Where a correct password leads.
#[derive(Debug)]
pub enum LoginStep {
    /// Signed in.
    Done(NewSession),
    /// The user has a second factor: the session waits for its code.
    SecondFactor(NewSession),
}

/// Why a login failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown user, wrong password, or not allowed: one message for all.
    #[error("{BAD_CREDENTIALS}")]
    BadCredentials,
    /// Too many failures lately.
    #[error("Too many failed attempts. Try again in {0} seconds.")]
    RateLimited(u64),
    /// Something else broke.
    #[error(transparent)]
    App(#[from] AppError),
}

/// How long a login may wait for its second factor.
pub const SECOND_FACTOR_WINDOW: Duration = Duration::minutes(5);

fn limit_keys(username: &str, actor: &Actor) -> (String, String) {
    (
        format!("login-user:{username}"),
        format!("login-ip:{}", actor.limit_key()),
    )
}

/// Reserves one failed attempt for the account and the address; given back on success.
fn reserve_attempt(state: &AppState, username: &str, actor: &Actor) -> Result<(), LoginError> {
    let (account_key, ip_key) = limit_keys(username, actor);
    state
        .limits
        .reserve(
            &[
                (&account_key, ACCOUNT_FAILURES, ACCOUNT_WINDOW),
                (&ip_key, IP_FAILURES, IP_WINDOW),
            ],
            state.now(),
        )
        .map_err(LoginError::RateLimited)
}

fn attempt_succeeded(state: &AppState, username: &str, actor: &Actor) {
    let (account_key, ip_key) = limit_keys(username, actor);
    state.limits.clear(&account_key);
    state.limits.refund(&ip_key, state.now());
}

/// Checks credentials; opens a session, or a login waiting for the second factor.
pub async fn login(
    state: &AppState,
    actor: &Actor,
    username: &str,
    password: &str,
) -> Result<LoginStep, LoginError> {
    let now = state.now();
    // No username is longer than 32 characters; a longer one only costs memory in the
    // limiter's keys and the audit log.
    let username: String = username.trim().to_lowercase().chars().take(64).collect();
    // The attempt is counted before the password is hashed: reading the limit first and
    // recording after the slow hash let 200 parallel attempts all pass the check.
    reserve_attempt(state, &username, actor)?;

    // A password the policy could never have produced is refused before any hashing.
    let too_long = password.chars().count() > password::MAX_CHARS;
    let lookup = username.clone();
    let user = state
        .db
        .read(move |c| Ok(users::find_by_username(c, &lookup)?))
        .await?;
    let allowed = user.as_ref().is_some_and(|u| u.is_active);
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let verified = if too_long {
        false
    } else {
        state.hasher.verify(password.to_owned(), hash).await?
    };

    let at = now.unix_timestamp();
    if !(verified && allowed) {
        // The reservation stays: it was a failure.
        let actor = actor.clone();
        let reason = if user.is_none() {
            "unknown user"
        } else if !verified {
            "wrong password"
        } else {
            "disabled user"
        };
        state
            .db
            .write(move |tx| {
                let mut e = actor.event(at, "login.failure", Some(&username));
                e.detail = Some(reason);
                Ok(audit::insert(tx, &e)?)
            })
            .await?;
        return Err(LoginError::BadCredentials);
    }
    let user = user.ok_or(LoginError::BadCredentials)?;
    // Only failures count: a success clears the account and gives the address its attempt back.
    attempt_succeeded(state, &username, actor);
    let user_id = user.id;
    let factors = state
        .db
        .read(move |c| super::mfa::factors_of(c, user_id))
        .await?;
    if factors.any() {
        let (cookie_value, row) = new_session_row(
            SessionKind::SecondFactor,
            user.id,
            at,
            (now + SECOND_FACTOR_WINDOW).unix_timestamp(),
            false,
        );
        let actor = actor.clone();
        let name = user.username.clone();
        state
            .db
            .write(move |tx| {
                sessions::insert(tx, &row, actor.ip.as_deref(), actor.user_agent.as_deref())?;
                let mut e = actor.event(at, "login.password_ok", Some(&name));
                e.detail = Some("waiting for the second factor");
                audit::insert(tx, &e)?;
                Ok(())
            })
            .await?;
        return Ok(LoginStep::SecondFactor(NewSession {
            cookie_value,
            username: user.username,
            is_admin: user.is_admin,
        }));
    }
    let session = open_session(state, actor, &user, None, false).await?;
    Ok(LoginStep::Done(session))
}

fn new_session_row(
    kind: SessionKind,
    user_id: i64,
    at: i64,
    expires_at: i64,
    mfa: bool,
) -> (String, sessions::SessionRow) {
    let cookie_value = random_alphanumeric(43); // 256 bits
    let row = sessions::SessionRow {
        id_hash: sha256_hex(&cookie_value),
        kind,
        user_id,
        csrf_token: random_alphanumeric(43),
        created_at: at,
        last_seen_at: at,
        expires_at,
        auth_time: at,
        mfa,
    };
    (cookie_value, row)
}

/// Opens a signed-in session for `user`, ending `replaces` (the login's second-factor
/// session) in the same transaction.
async fn open_session(
    state: &AppState,
    actor: &Actor,
    user: &users::UserRow,
    replaces: Option<String>,
    mfa: bool,
) -> Result<NewSession, AppError> {
    let now = state.now();
    let at = now.unix_timestamp();
    let (cookie_value, row) = new_session_row(
        SessionKind::User,
        user.id,
        at,
        (now + ABSOLUTE).unix_timestamp(),
        mfa,
    );
    let actor = actor.clone();
    let name = user.username.clone();
    state
        .db
        .write(move |tx| {
            if let Some(old) = &replaces {
                sessions::delete(tx, old)?;
            }
            sessions::insert(tx, &row, actor.ip.as_deref(), actor.user_agent.as_deref())?;
            let actor = Actor {
                username: name.clone(),
                ..actor
            };
            let mut e = actor.event(at, "login.success", Some(&name));
            if mfa {
                e.detail = Some("with a second factor");
            }
            audit::insert(tx, &e)?;
            Ok(())
        })
        .await?;
    Ok(NewSession {
        cookie_value,
        username: user.username.clone(),
        is_admin: user.is_admin,
    })
}

/// A login waiting for its second factor.
#[derive(Debug, Clone)]
pub struct PendingLogin {
    /// Hash of the cookie value.
    pub id_hash: String,
    /// Who.
    pub user_id: i64,
    /// Their username.
    pub username: String,
    /// The form's CSRF token.
    pub csrf_token: String,
    /// Which factors they have.
    pub factors: super::mfa::Factors,
}

/// The login waiting for a second factor that a cookie belongs to.
pub async fn pending_login(
    state: &AppState,
    cookie_value: &str,
) -> Result<Option<PendingLogin>, AppError> {
    let id_hash = sha256_hex(cookie_value);
    let now = state.now().unix_timestamp();
    state
        .db
        .read(move |c| {
            let Some(found) = sessions::find(c, &id_hash)? else {
                return Ok(None);
            };
            let s = &found.session;
            if s.kind != SessionKind::SecondFactor || s.expires_at <= now || !found.is_active {
                return Ok(None);
            }
            let factors = super::mfa::factors_of(c, s.user_id)?;
            Ok(Some(PendingLogin {
                id_hash: s.id_hash.clone(),
                user_id: s.user_id,
                username: found.username,
                csrf_token: s.csrf_token.clone(),
                factors,
            }))
        })
        .await
}

/// Why a second-factor code was refused.
#[derive(Debug, thiserror::Error)]
pub enum CodeError {
    /// Wrong, reused or expired code.
    #[error("That code is not right. Check the code in your authenticator app (or the email) and try again.")]
    Wrong,
    /// Too many failures lately.
    #[error("Too many failed attempts. Try again in {0} seconds.")]
    RateLimited(u64),
    /// Something else broke.
    #[error(transparent)]
    App(#[from] AppError),
}

/// Finishes a login with its second factor (a TOTP code, an emailed code or a recovery code).
/// Failed codes count against the same limits as failed passwords.
pub async fn finish_login(
    state: &AppState,
    actor: &Actor,
    pending: &PendingLogin,
    code: &str,
) -> Result<NewSession, CodeError> {
    reserve_attempt(state, &pending.username, actor).map_err(|e| match e {
        LoginError::RateLimited(s) => CodeError::RateLimited(s),
        LoginError::App(e) => CodeError::App(e),
        LoginError::BadCredentials => CodeError::Wrong,
    })?;
    let used =
        super::mfa::check_code(state, actor, pending.user_id, &pending.username, code).await?;
    let Some(method) = used else {
        let at = state.now().unix_timestamp();
        let actor = actor.clone();
        let name = pending.username.clone();
        state
            .db
            .write(move |tx| {
                let mut e = actor.event(at, "login.failure", Some(&name));
                e.detail = Some("wrong second-factor code");
                Ok(audit::insert(tx, &e)?)
            })
            .await?;
        return Err(CodeError::Wrong);
    };
    attempt_succeeded(state, &pending.username, actor);
    tracing::debug!(method = method.as_str(), "second factor accepted");
    let user_id = pending.user_id;
    let user = state
        .db
        .read(move |c| Ok(users::get(c, user_id)?))
        .await?
        .ok_or(CodeError::Wrong)?;
    Ok(open_session(state, actor, &user, Some(pending.id_hash.clone()), true).await?)
}

/// The signed-in session a cookie value belongs to, if it is still alive.
pub async fn authenticate(
    state: &AppState,
    cookie_value: &str,
) -> Result<Option<UserSession>, AppError> {
    let id_hash = sha256_hex(cookie_value);
    let now = state.now().unix_timestamp();
    let idle_before = now - IDLE.whole_seconds();
    state
        .db
        .read(move |c| {
            let Some(found) = sessions::find(c, &id_hash)? else {
                return Ok(None);
            };
            let s = &found.session;
            if s.kind != SessionKind::User {
                return Ok(None);
            }
            let alive = s.expires_at > now && s.last_seen_at > idle_before && found.is_active;
            if !alive {
                sessions::delete(c, &id_hash)?;
                return Ok(None);
            }
            if now - s.last_seen_at >= TOUCH_EVERY {
                sessions::touch(c, &id_hash, now)?;
            }
            let must_set_up_mfa =
                super::mfa::required(c)? && !super::mfa::factors_of(c, s.user_id)?.any();
            Ok(Some(UserSession {
                id_hash: found.session.id_hash,
                user_id: found.session.user_id,
                username: found.username,
                csrf_token: found.session.csrf_token,
                is_admin: found.is_admin,
                mfa: found.session.mfa,
                auth_time: found.session.auth_time,
                must_set_up_mfa,
            }))
        })
        .await
}

/// Ends a session on the server.
pub async fn logout(state: &AppState, actor: &Actor, id_hash: &str) -> Result<(), AppError> {
    let at = state.now().unix_timestamp();
    let id_hash = id_hash.to_owned();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            sessions::delete(tx, &id_hash)?;
            audit::insert(tx, &actor.event(at, "logout", None))?;
            Ok(())
        })
        .await
}

/// Deletes sessions that have ended, and token cards nobody looked at in time; run
/// periodically. Returns how many sessions ended.
pub async fn prune_sessions(state: &AppState) -> Result<usize, AppError> {
    let now = state.now().unix_timestamp();
    let idle_before = now - IDLE.whole_seconds();
    state
        .db
        .write(move |tx| {
            crate::db::token_cards::delete_expired(tx, now)?;
            crate::db::oidc_tokens::delete_expired(tx, now)?;
            Ok(sessions::delete_stale(tx, now, idle_before)?)
        })
        .await
}
