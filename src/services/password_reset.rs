//! Password reset links. They follow the enrollment link's rules: only the SHA-256 of the
//! secret is stored; a link works for `ONRAMP_RESET_TOKEN_TTL` (24 h by default); opening it
//! (GET) changes nothing, so mail scanners cannot use it up; pressing "Continue" (POST) starts a
//! window of `ONRAMP_RESET_SESSION_TTL` (10 minutes) in which the new password must be chosen;
//! the newest session wins. Setting the password uses the link up, ends every session of the
//! user and queues "your password was changed".

use super::Actor;
use crate::crypto::{random_alphanumeric, sha256_hex};
use crate::db::{audit, password_resets as repo, sessions, users};
use crate::domain::session::SessionKind;
use crate::error::AppError;
use crate::mail::account as mails;
use crate::state::AppState;
use time::Duration;

/// Characters in a reset secret (about 190 bits).
const SECRET_LEN: usize = 32;
/// Reset requests per address within [`REQUEST_WINDOW`], whatever the answer.
const REQUESTS_PER_ADDRESS: usize = 5;
/// Reset emails per account within [`REQUEST_WINDOW`].
const REQUESTS_PER_ACCOUNT: usize = 3;
const REQUEST_WINDOW: Duration = Duration::minutes(15);

/// How the admin hands a link over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Emailed to the user.
    Email,
    /// Shown to the admin once.
    Card,
}

/// A link an admin issued.
#[derive(Debug, Clone)]
pub struct IssuedReset {
    /// The link, when shown on a card (never when emailed).
    pub link: Option<String>,
    /// Where it was emailed.
    pub emailed_to: Option<String>,
    /// Whose.
    pub username: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Issues a link inside `tx`: revokes earlier ones, stores the hash, queues the email when
/// `email` is set. Returns the secret.
fn issue(
    tx: &rusqlite::Connection,
    state: &AppState,
    user: &users::UserRow,
    admin_id: Option<i64>,
    email: bool,
    instance: &str,
    now: i64,
) -> Result<(String, i64), AppError> {
    let secret = random_alphanumeric(SECRET_LEN);
    let ttl = state.config.reset_token_ttl.whole_seconds();
    let expires_at = now + ttl;
    repo::insert(
        tx,
        &repo::NewReset {
            hash: &sha256_hex(&secret),
            user_id: user.id,
            admin_id,
            email: email.then_some(user.email.as_str()),
            created_at: now,
            expires_at,
        },
    )?;
    if email {
        let mail = mails::password_reset(
            &user.email,
            instance,
            &user.first_name,
            &state.config.public_url,
            ttl,
            state.config.reset_session_ttl.whole_seconds(),
        );
        super::outbox::queue_with_secret(tx, state, "password_reset", &mail, &secret, now)?;
    }
    Ok((secret, expires_at))
}

/// "Forgot your password?": emails a link to the user with this username or email, if there is
/// one who can sign in. The answer is the same either way, so the form tells nobody who has an
/// account; only the address limit is visible.
pub async fn request(state: &AppState, actor: &Actor, login: &str) -> Result<(), AppError> {
    let now_t = state.now();
    let ip_key = format!("reset-ip:{}", actor.limit_key());
    state
        .limits
        .hit(&ip_key, REQUESTS_PER_ADDRESS, REQUEST_WINDOW, now_t)
        .map_err(AppError::RateLimited)?;
    let login: String = login.trim().chars().take(254).collect();
    if login.is_empty() {
        return Ok(());
    }
    let lookup = login.clone();
    let user = state
        .db
        .read(move |c| Ok(users::find_by_login(c, &lookup)?))
        .await?;
    let now = now_t.unix_timestamp();
    let Some(user) = user.filter(|u| u.is_active && u.password_hash.is_some()) else {
        let actor = actor.clone();
        state
            .db
            .write(move |tx| {
                let mut e = actor.event(now, "password_reset.refused", Some(&login));
                e.detail = Some("no active enrolled account");
                Ok(audit::insert(tx, &e)?)
            })
            .await?;
        return Ok(());
    };
    // Silently capped per account, so nobody can flood a mailbox through this form.
    let account_key = format!("reset-user:{}", user.id);
    if state
        .limits
        .hit(&account_key, REQUESTS_PER_ACCOUNT, REQUEST_WINDOW, now_t)
        .is_err()
    {
        return Ok(());
    }
    let instance = super::bootstrap::instance_name(state).await?;
    let st = state.clone();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            issue(tx, &st, &user, None, true, &instance, now)?;
            audit::insert(
                tx,
                &actor.event(now, "password_reset.requested", Some(&user.username)),
            )?;
            Ok(())
        })
        .await?;
    state.mail_wake.notify_one();
    Ok(())
}

/// An admin's "Send password reset": emailed, or shown once on a card.
pub async fn admin_issue(
    state: &AppState,
    actor: &Actor,
    user_id: i64,
    delivery: Delivery,
) -> Result<IssuedReset, AppError> {
    let admin_id = actor.user_id;
    let now = state.now().unix_timestamp();
    let instance = super::bootstrap::instance_name(state).await?;
    let st = state.clone();
    let actor = actor.clone();
    let issued = state
        .db
        .write(move |tx| {
            let user = users::get(tx, user_id)?.ok_or(AppError::NotFound)?;
            if !user.is_active {
                return Err(AppError::Forbidden(format!(
                    "{} is disabled; enable the account first.",
                    user.username
                )));
            }
            if user.password_hash.is_none() {
                return Err(AppError::Forbidden(format!(
                    "{} has not enrolled yet, so there is no password to reset. Start the enrollment instead.",
                    user.username
                )));
            }
            let email = delivery == Delivery::Email;
            let (secret, expires_at) = issue(tx, &st, &user, admin_id, email, &instance, now)?;
            let mut e = actor.event(now, "password_reset.issued", Some(&user.username));
            e.detail = Some(if email { "emailed" } else { "shown to the admin" });
            audit::insert(tx, &e)?;
            Ok(IssuedReset {
                link: (!email).then(|| format!("{}/reset?token={secret}", st.config.public_url)),
                emailed_to: email.then(|| user.email.clone()),
                username: user.username,
                expires_at,
            })
        })
        .await?;
    state.mail_wake.notify_one();
    Ok(issued)
}

/// Whether a link can still be used (for the GET, which changes nothing).
pub async fn link_is_live(state: &AppState, secret: &str) -> Result<bool, AppError> {
    let hash = sha256_hex(secret.trim());
    let now = state.now().unix_timestamp();
    state
        .db
        .read(move |c| Ok(repo::find_by_hash(c, &hash)?.is_some_and(|r| r.is_live(now))))
        .await
}

/// A reset in progress.
#[derive(Debug, Clone)]
pub struct ResetSession {
    /// Hash of the cookie.
    pub id_hash: String,
    /// The link.
    pub reset_id: i64,
    /// Whose.
    pub user_id: i64,
    /// Their username.
    pub username: String,
    /// The form's CSRF token.
    pub csrf_token: String,
    /// End of the window, unix seconds.
    pub deadline: i64,
}

/// Starts using a link: opens the window (once), ends any earlier session of the same link,
/// and returns the new session's cookie value. `None` when the link cannot be used.
pub async fn start(
    state: &AppState,
    actor: &Actor,
    secret: &str,
) -> Result<Option<String>, AppError> {
    let hash = sha256_hex(secret.trim());
    let now = state.now().unix_timestamp();
    let window = state.config.reset_session_ttl.whole_seconds();
    let cookie_value = random_alphanumeric(43);
    let id_hash = sha256_hex(&cookie_value);
    let actor = actor.clone();
    let started = state
        .db
        .write(move |tx| {
            let Some(link) = repo::find_by_hash(tx, &hash)? else {
                return Ok(false);
            };
            if !link.is_live(now) {
                return Ok(false);
            }
            let Some(user) = users::get(tx, link.user_id)?.filter(|u| u.is_active) else {
                return Ok(false);
            };
            let deadline = link
                .session_deadline
                .unwrap_or(now + window)
                .min(link.expires_at);
            repo::mark_started(tx, link.id, now, deadline)?;
            sessions::delete_for_reset(tx, link.id)?;
            sessions::insert(
                tx,
                &sessions::SessionRow {
                    id_hash: id_hash.clone(),
                    kind: SessionKind::Reset,
                    user_id: user.id,
                    csrf_token: random_alphanumeric(43),
                    created_at: now,
                    last_seen_at: now,
                    expires_at: deadline,
                    auth_time: now,
                    mfa: false,
                },
                actor.ip.as_deref(),
                actor.user_agent.as_deref(),
            )?;
            sessions::set_reset(tx, &id_hash, link.id)?;
            audit::insert(
                tx,
                &actor.event(now, "password_reset.started", Some(&user.username)),
            )?;
            Ok(true)
        })
        .await?;
    Ok(started.then_some(cookie_value))
}

/// The reset in progress that a cookie belongs to, if it is still open.
pub async fn session(
    state: &AppState,
    cookie_value: &str,
) -> Result<Option<ResetSession>, AppError> {
    let id_hash = sha256_hex(cookie_value);
    let now = state.now().unix_timestamp();
    state
        .db
        .read(move |c| {
            let Some(found) = sessions::find(c, &id_hash)? else {
                return Ok(None);
            };
            let s = found.session;
            if s.kind != SessionKind::Reset || s.expires_at <= now || !found.is_active {
                return Ok(None);
            }
            let Some(reset_id) = sessions::reset_of(c, &id_hash)? else {
                return Ok(None);
            };
            let live = repo::get(c, reset_id)?.is_some_and(|r| r.is_live(now));
            Ok(live.then_some(ResetSession {
                id_hash: s.id_hash,
                reset_id,
                user_id: s.user_id,
                username: found.username,
                csrf_token: s.csrf_token,
                deadline: s.expires_at,
            }))
        })
        .await
}

/// Sets the new password: the policy first (nothing written if it fails), then, in one
/// transaction, the link is used up, the password stored and every session of the user ended.
pub async fn finish(
    state: &AppState,
    actor: &Actor,
    rs: &ResetSession,
    password: &str,
    repeat: &str,
) -> Result<(), AppError> {
    let p = super::account::new_password(state, rs.user_id, password, repeat).await?;
    let reset_id = rs.reset_id;
    let user_id = rs.user_id;
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            if !repo::consume(tx, reset_id, now)? {
                return Err(AppError::Forbidden(
                    "This reset link was already used or revoked. Ask for a new one.".into(),
                ));
            }
            super::account::store_password(tx, &actor, &p, None, now)?;
            sessions::delete_for_user(tx, user_id)?;
            Ok(())
        })
        .await?;
    state.mail_wake.notify_one();
    Ok(())
}
