//! Admin login, sessions and logout (docs/security.md, item 9–11, 15–17).

use super::Actor;
use crate::crypto::{random_alphanumeric, sha256_hex};
use crate::db::{audit, sessions, users};
use crate::domain::password;
use crate::error::AppError;
use crate::state::AppState;
use time::Duration;

/// Idle limit of an admin session.
pub const IDLE: Duration = Duration::minutes(30);
/// Absolute limit of an admin session.
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

/// A logged-in admin.
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
}

/// A session just created at login.
#[derive(Debug)]
pub struct NewSession {
    /// The cookie value (only the client keeps it).
    pub cookie_value: String,
    /// Who logged in.
    pub username: String,
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

/// Checks credentials and opens a session.
pub async fn login(
    state: &AppState,
    actor: &Actor,
    username: &str,
    password: &str,
) -> Result<NewSession, LoginError> {
    let now = state.now();
    // No username is longer than 32 characters; a longer one only costs memory in the
    // limiter's keys and the audit log.
    let username: String = username.trim().to_lowercase().chars().take(64).collect();
    let account_key = format!("login-user:{username}");
    let ip_key = format!("login-ip:{}", actor.limit_key());
    // The attempt is counted before the password is hashed: reading the limit first and
    // recording after the slow hash let 200 parallel attempts all pass the check.
    state
        .limits
        .reserve(
            &[
                (&account_key, ACCOUNT_FAILURES, ACCOUNT_WINDOW),
                (&ip_key, IP_FAILURES, IP_WINDOW),
            ],
            now,
        )
        .map_err(LoginError::RateLimited)?;

    // A password the policy could never have produced is refused before any hashing.
    let too_long = password.chars().count() > password::MAX_CHARS;
    let lookup = username.clone();
    let user = state
        .db
        .read(move |c| Ok(users::find_by_username(c, &lookup)?))
        .await?;
    let allowed = user.as_ref().is_some_and(|u| u.is_admin && u.is_active);
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
            "not an active admin"
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
    state.limits.clear(&account_key);
    state.limits.refund(&ip_key, now);
    let cookie_value = random_alphanumeric(43); // 256 bits
    let row = sessions::SessionRow {
        id_hash: sha256_hex(&cookie_value),
        kind: crate::domain::session::SessionKind::Admin,
        user_id: user.id,
        csrf_token: random_alphanumeric(43),
        created_at: at,
        last_seen_at: at,
        expires_at: (now + ABSOLUTE).unix_timestamp(),
    };
    let actor = actor.clone();
    let name = user.username.clone();
    state
        .db
        .write(move |tx| {
            sessions::insert(tx, &row, actor.ip.as_deref(), actor.user_agent.as_deref())?;
            let actor = Actor {
                username: name.clone(),
                ..actor
            };
            audit::insert(tx, &actor.event(at, "login.success", Some(&name)))?;
            Ok(())
        })
        .await?;
    Ok(NewSession {
        cookie_value,
        username: user.username,
    })
}

/// The admin session a cookie value belongs to, if it is still alive.
pub async fn authenticate(
    state: &AppState,
    cookie_value: &str,
) -> Result<Option<AdminSession>, AppError> {
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
            let alive = s.kind == crate::domain::session::SessionKind::Admin
                && s.expires_at > now
                && s.last_seen_at > idle_before
                && found.is_admin
                && found.is_active;
            if !alive {
                sessions::delete(c, &id_hash)?;
                return Ok(None);
            }
            if now - s.last_seen_at >= TOUCH_EVERY {
                sessions::touch(c, &id_hash, now)?;
            }
            Ok(Some(AdminSession {
                id_hash: found.session.id_hash,
                user_id: found.session.user_id,
                username: found.username,
                csrf_token: found.session.csrf_token,
            }))
        })
        .await
}

/// Ends a session on the server.
pub async fn logout(
    state: &AppState,
    actor: &Actor,
    session: &AdminSession,
) -> Result<(), AppError> {
    let at = state.now().unix_timestamp();
    let id_hash = session.id_hash.clone();
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
            Ok(sessions::delete_stale(tx, now, idle_before)?)
        })
        .await
}
