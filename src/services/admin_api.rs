//! The admin REST API for automation: named bearer tokens, and what the calls read and do.
//! Every accepted call is audited with its token's name.

use super::tokens::{invite_in_tx, Invitation, InviteContext, Purpose};
use super::Actor;
use crate::crypto::{random_alphanumeric, sha256_hex};
use crate::db::{api_tokens, audit, devices, groups, locations, mfa, users};
use crate::domain::user::Email;
use crate::domain::{has_control_chars, FieldError};
use crate::error::AppError;
use crate::state::AppState;

pub use crate::db::api_tokens::ApiTokenRow;

/// Characters in an API token after its `onramp_` prefix.
const SECRET_LEN: usize = 40;

/// Creates a token named `name`; returns the secret, which is shown once and stored hashed.
pub async fn create_token(state: &AppState, actor: &Actor, name: &str) -> Result<String, AppError> {
    let name = name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 64 || has_control_chars(&name) {
        return Err(AppError::field(
            "name",
            "Name the token in 1–64 characters, for example terraform or hr-sync.",
        ));
    }
    let admin_id = actor
        .user_id
        .ok_or_else(|| AppError::Forbidden("Only an admin can create API tokens.".into()))?;
    let secret = format!("onramp_{}", random_alphanumeric(SECRET_LEN));
    let hash = sha256_hex(&secret);
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            if api_tokens::live_name_taken(tx, &name)? {
                return Err(AppError::field(
                    "name",
                    format!("A token named {name} exists already; revoke it first or choose another name."),
                ));
            }
            api_tokens::insert(tx, &name, &hash, admin_id, now)?;
            audit::insert(tx, &actor.event(now, "api_token.created", Some(&name)))?;
            Ok(())
        })
        .await?;
    Ok(secret)
}

/// Every token, newest first.
pub async fn list_tokens(state: &AppState) -> Result<Vec<ApiTokenRow>, AppError> {
    state.db.read(|c| Ok(api_tokens::all(c)?)).await
}

/// Revokes token `id`; returns its name.
pub async fn revoke_token(state: &AppState, actor: &Actor, id: i64) -> Result<String, AppError> {
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            let token = api_tokens::get(tx, id)?.ok_or(AppError::NotFound)?;
            if api_tokens::revoke(tx, id, now)? {
                audit::insert(
                    tx,
                    &actor.event(now, "api_token.revoked", Some(&token.name)),
                )?;
            }
            Ok(token.name)
        })
        .await
}

/// The caller of a request with bearer `secret`, after recording the call (`what`, such as
/// `GET /api/v1/user`) in the audit log; `None` for a missing, unknown or revoked token.
pub async fn authenticate(
    state: &AppState,
    secret: &str,
    what: &str,
    mut caller: Actor,
) -> Result<Option<Actor>, AppError> {
    if secret.is_empty() || secret.len() > 200 {
        return Ok(None);
    }
    let hash = sha256_hex(secret);
    let now = state.now().unix_timestamp();
    let what = what.to_owned();
    state
        .db
        .write(move |tx| {
            let Some((_, name)) = api_tokens::use_live(tx, &hash, now)? else {
                return Ok(None);
            };
            caller.username = format!("api:{name}");
            audit::insert(
                tx,
                &caller.event(now, "api.request", None).with_detail(&what),
            )?;
            Ok(Some(caller))
        })
        .await
}

/// A user with the names of their groups.
#[derive(Debug, Clone)]
pub struct UserWithGroups {
    /// The user.
    pub user: users::UserRow,
    /// Their groups' names.
    pub groups: Vec<String>,
    /// Whether an authenticator app is their second factor.
    pub totp_enabled: bool,
    /// Whether email codes are their second factor.
    pub email_mfa_enabled: bool,
}

fn with_groups(c: &rusqlite::Connection, user: users::UserRow) -> Result<UserWithGroups, AppError> {
    let groups = groups::of_user(c, user.id)?
        .into_iter()
        .map(|g| g.name)
        .collect();
    let totp_enabled = mfa::totp(c, user.id)?.is_some_and(|t| t.secret.is_some());
    let email_mfa_enabled = mfa::email_enabled(c, user.id)?;
    Ok(UserWithGroups {
        user,
        groups,
        totp_enabled,
        email_mfa_enabled,
    })
}

/// Every user, by username.
pub async fn list_users(state: &AppState) -> Result<Vec<UserWithGroups>, AppError> {
    state
        .db
        .read(|c| {
            users::all(c)?
                .into_iter()
                .map(|u| with_groups(c, u))
                .collect()
        })
        .await
}

/// One user with their devices, or `NotFound`.
pub async fn user_details(
    state: &AppState,
    username: &str,
) -> Result<(UserWithGroups, Vec<devices::DeviceRow>), AppError> {
    let username = username.to_owned();
    state
        .db
        .read(move |c| {
            let user = users::find_by_username(c, &username)?.ok_or(AppError::NotFound)?;
            let devices = devices::for_user(c, user.id)?;
            Ok((with_groups(c, user)?, devices))
        })
        .await
}

/// A group's members and the locations it opens, or `NotFound`.
pub async fn group(
    state: &AppState,
    name: &str,
) -> Result<(String, Vec<String>, Vec<String>), AppError> {
    let name = name.to_owned();
    state
        .db
        .read(move |c| {
            let group = groups::find_by_name(c, &name)?.ok_or(AppError::NotFound)?;
            let members = groups::members(c, group.id)?
                .into_iter()
                .map(|m| m.username)
                .collect();
            Ok((group.name, members, groups::locations_using(c, group.id)?))
        })
        .await
}

/// Every location.
pub async fn all_locations(state: &AppState) -> Result<Vec<locations::LocationRow>, AppError> {
    state.db.read(|c| Ok(locations::all(c)?)).await
}

/// Every device with its owner's username.
pub async fn all_devices(state: &AppState) -> Result<Vec<(devices::DeviceRow, String)>, AppError> {
    state.db.read(|c| Ok(devices::all_with_owner(c)?)).await
}

/// A request to issue a token through the API.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// Where to email it; the user's own address when `None`.
    pub email: Option<String>,
    /// Whether to email it at all.
    pub send_email: bool,
    /// Validity such as `24h`; the configured default when `None`.
    pub validity: Option<String>,
}

/// Issues an enrollment or desktop token for `username`; returns the secret. Whatever
/// breaks a rule is `Validation` (field `email` or `token_expiration_time`) or `Forbidden`.
pub async fn issue(
    state: &AppState,
    actor: &Actor,
    username: &str,
    purpose: Purpose,
    request: TokenRequest,
) -> Result<Invitation, AppError> {
    let ttl = match request.validity.as_deref() {
        Some(raw) => crate::domain::token::parse_validity(raw)
            .map_err(|m| AppError::field("token_expiration_time", m))?,
        None => super::tokens::default_validity(state, purpose),
    };
    let email = match (&request.email, request.send_email) {
        (Some(raw), _) => {
            Some(Email::parse("email", raw).map_err(|e| AppError::Validation(vec![e]))?)
        }
        (None, _) => None,
    };
    let now = state.now().unix_timestamp();
    let (st, actor, username) = (state.clone(), actor.clone(), username.to_owned());
    let send = request.send_email;
    let invitation = state
        .db
        .write(move |tx| {
            let user = users::find_by_username(tx, &username)?.ok_or(AppError::NotFound)?;
            super::tokens::check_eligible(tx, &user, purpose)?;
            let to = match email {
                Some(e) => Some(e),
                None if send => Some(Email::parse("email", &user.email).map_err(|e| {
                    AppError::Validation(vec![FieldError::new("email", e.message)])
                })?),
                None => None,
            };
            let ctx = InviteContext::load(tx, &st, &actor, ttl)?;
            invite_in_tx(
                tx,
                &st,
                &actor,
                &user,
                purpose,
                to.as_ref().filter(|_| send),
                &ctx,
                now,
            )
        })
        .await?;
    if request.send_email {
        state.mail_wake.notify_one();
    }
    Ok(invitation)
}
