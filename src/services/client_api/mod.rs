//! The desktop client's enrollment API: the same token rules as the wizard, spoken as JSON.
//! Enrollment tokens run the full flow; desktop tokens only add or refresh a device of their
//! own user.
//!
//! A token is spent once, everywhere:
//! - a desktop token registers exactly one device: its session ends with that
//!   `create_device`, and the token is used up;
//! - an enrollment session registers at most one device (the same key again gets the same
//!   device back, so a client that lost the answer can retry) and ends when the enrollment
//!   completes, here with `activate_user` or in the browser wizard;
//! - every path that adds a device obeys the per-user device limit.
//!
//! The desktop client and `dg` hide some of the server's errors from their user, so the
//! refusals a user can cause are rare and recoverable: a name clash gets a free suffix, a
//! refused device is audited and emailed to the admin who issued the token, and an
//! `activate_user` refusal emails the user a link to finish in the browser.

mod messages;
mod mfa;

pub use messages::{
    DeviceConfigResponse, MfaFinishResponse, MfaStartResponse, PollResponse, StartResponse,
};
pub use mfa::{register_mfa_finish, register_mfa_start, CodeMethod};

use super::devices::{self, AddError, DEFAULT_CLIENT_NAME};
use super::enrollment::{close_enrollment, tag_values};
use super::settings::{effective_smtp, load as load_settings, VpnStep};
use super::Actor;
use crate::crypto::{random_alphanumeric, sha256_hex};
use crate::db::devices::{self as device_repo, PollingTokenLookup};
use crate::db::{audit, sessions, tokens, users};
use crate::domain::template::substitute;
use crate::domain::token::Purpose;
use crate::domain::user::Phone;
use crate::domain::wireguard::{key_problem, WgKey};
use crate::error::AppError;
use crate::mail::followups;
use crate::mail::templates;
use crate::poll_limits::Outcome;
use crate::state::AppState;
use messages::{device_config_response, instance_info, AdminInfo, StartSettings, UserInfo};
use rusqlite::Connection;

/// Starts per address per minute.
const START_LIMIT: usize = 10;

/// What kind of failure an API call had; the web layer maps it to a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiErrorKind {
    /// The request breaks a rule (400).
    BadRequest,
    /// No usable token or session (401).
    Unauthorized,
    /// The token or user may not do this (403).
    Forbidden,
    /// Nothing here (404).
    NotFound,
    /// Too many attempts; retry after this many seconds (429).
    RateLimited(u64),
    /// The database did not answer (503).
    Unavailable,
    /// A fault on our side (500).
    Internal,
}

/// An API failure: its kind and the `error` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// What kind of failure.
    pub kind: ApiErrorKind,
    /// `{"error": …}`.
    pub message: String,
}

impl ApiError {
    /// A failure of `kind` with `message`.
    pub fn new(kind: ApiErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    fn bad(message: impl Into<String>) -> Self {
        Self::new(ApiErrorKind::BadRequest, message)
    }

    fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ApiErrorKind::Unauthorized, message)
    }

    fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ApiErrorKind::Forbidden, message)
    }

    fn rate_limited(seconds: u64) -> Self {
        Self::new(
            ApiErrorKind::RateLimited(seconds),
            "too many attempts; try again later",
        )
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Validation(errors) => Self::bad(
                errors
                    .first()
                    .map(|e| e.message.clone())
                    .unwrap_or_default(),
            ),
            AppError::BadRequest(m) => Self::bad(m),
            AppError::NotFound => Self::new(ApiErrorKind::NotFound, "not found"),
            AppError::Forbidden(m) => Self::forbidden(m),
            AppError::RateLimited(s) => Self::rate_limited(s),
            AppError::Unavailable(err) => {
                tracing::error!(error = format!("{err:#}"), "api: database unavailable");
                Self::new(ApiErrorKind::Unavailable, "service unavailable")
            }
            AppError::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "api: internal error");
                Self::new(ApiErrorKind::Internal, "internal error")
            }
        }
    }
}

/// Starts an API session with a token; returns the response and the cookie value.
pub async fn start(
    state: &AppState,
    actor: &Actor,
    token: &str,
) -> Result<(StartResponse, String, i64), ApiError> {
    let now_t = state.now();
    let ip_key = format!("api-start:{}", actor.limit_key());
    state
        .limits
        .hit(&ip_key, START_LIMIT, time::Duration::minutes(1), now_t)
        .map_err(ApiError::rate_limited)?;
    let now = now_t.unix_timestamp();
    let window = state.config.enrollment_session_ttl.whole_seconds();
    let token = token.trim().to_owned();
    let cookie_value = random_alphanumeric(43);
    let id_hash = sha256_hex(&cookie_value);
    let actor = actor.clone();
    let st = state.clone();
    let smtp_configured = {
        let settings = super::settings::get_settings(state).await?;
        effective_smtp(state, &settings).is_some()
    };
    let result = state
        .db
        .write(move |tx| {
            let found = if token.len() > 64 {
                None
            } else {
                tokens::find_by_hash(tx, &sha256_hex(&token))?
            };
            let refuse = |tx: &Connection, detail: &str, e: ApiError| {
                let mut event = actor.event(now, "token.invalid", None);
                event.detail = Some(detail);
                audit::insert(tx, &event)?;
                Ok::<_, AppError>(Err(e))
            };
            let Some(t) = found else {
                return refuse(
                    tx,
                    "client API: unknown token",
                    ApiError::unauthorized("invalid token"),
                );
            };
            if t.consumed_at.is_some() || t.revoked_at.is_some() {
                return refuse(
                    tx,
                    "client API: used or revoked token",
                    ApiError::unauthorized("invalid token"),
                );
            }
            if now >= t.dies_at() {
                // The client shows its own "token expired" message for exactly this text.
                return refuse(
                    tx,
                    "client API: expired token",
                    ApiError::unauthorized("token expired"),
                );
            }
            let user = users::get(tx, t.user_id)?.ok_or(AppError::NotFound)?;
            if !user.is_active {
                return Ok(Err(ApiError::forbidden("user is disabled")));
            }
            match t.purpose {
                Purpose::Enrollment if user.is_enrolled() => {
                    return Ok(Err(ApiError::forbidden(
                        "this enrollment token is for a user who has already enrolled",
                    )))
                }
                Purpose::Desktop if !user.is_enrolled() => {
                    return Ok(Err(ApiError::forbidden(
                        "this desktop token is for a user who has not enrolled",
                    )))
                }
                _ => {}
            }
            let deadline = match t.session_deadline {
                Some(d) => d,
                None => {
                    let d = (now + window).min(t.expires_at);
                    tokens::mark_started(tx, t.id, now, d)?;
                    d
                }
            };
            // Newest session wins, as in the browser.
            sessions::delete_for_token(tx, t.id)?;
            sessions::insert(
                tx,
                &sessions::SessionRow {
                    id_hash: id_hash.clone(),
                    kind: crate::domain::session::SessionKind::Api,
                    user_id: user.id,
                    csrf_token: String::new(),
                    created_at: now,
                    last_seen_at: now,
                    expires_at: deadline,
                    auth_time: now,
                    mfa: false,
                },
                actor.ip.as_deref(),
                actor.user_agent.as_deref(),
            )?;
            sessions::set_token(tx, &id_hash, t.id)?;
            let mut e = actor.event(now, "token.started", Some(&user.username));
            e.detail = Some(match t.purpose {
                Purpose::Desktop => "desktop client, desktop token",
                Purpose::Enrollment => "desktop client, enrollment token",
            });
            audit::insert(tx, &e)?;
            let admin = match t.admin_id {
                Some(id) => users::get(tx, id)?,
                None => None,
            };
            let settings = load_settings(tx)?;
            let values = tag_values(
                &user,
                admin.as_ref(),
                &st.config.public_url,
                &settings.instance_name,
            );
            Ok(Ok(StartResponse {
                admin: admin.as_ref().map(|a| AdminInfo {
                    name: format!("{} {}", a.first_name, a.last_name),
                    phone_number: a.phone.clone(),
                    email: a.email.clone(),
                }),
                user: UserInfo {
                    first_name: user.first_name.clone(),
                    last_name: user.last_name.clone(),
                    login: user.username.clone(),
                    email: user.email.clone(),
                    phone_number: user.phone.clone(),
                    is_active: user.is_active,
                    device_names: device_repo::names_for_user(tx, user.id)?,
                    enrolled: user.is_enrolled(),
                    is_admin: user.is_admin,
                    password_management_disabled: false,
                },
                deadline_timestamp: deadline,
                final_page_content: substitute(&settings.welcome_message, &values),
                instance: instance_info(&settings, &st, &user.username),
                settings: StartSettings {
                    vpn_setup_optional: settings.vpn_step == VpnStep::Optional,
                    only_client_activation: t.purpose == Purpose::Desktop,
                    admin_device_management: false,
                    smtp_configured,
                    // Without it the client offers "Skip MFA Setup".
                    mfa_required: super::mfa::required(tx)?,
                },
            }))
        })
        .await??;
    let deadline = result.deadline_timestamp;
    Ok((result, cookie_value, deadline))
}

/// The API session a `defguard_proxy` cookie belongs to.
#[derive(Debug, Clone)]
pub struct ApiSession {
    user_id: i64,
    token_id: i64,
    purpose: Purpose,
}

/// Looks up a live API session: its token neither used up nor revoked, its window open,
/// its user enabled.
pub async fn session(state: &AppState, cookie_value: &str) -> Result<ApiSession, ApiError> {
    let id_hash = sha256_hex(cookie_value);
    let now = state.now().unix_timestamp();
    let found = state
        .db
        .read(move |c| {
            let Some(row) = sessions::find_api(c, &id_hash)? else {
                return Ok(None);
            };
            let purpose = tokens::get(c, row.token_id)?.map(|t| t.purpose);
            Ok(purpose.map(|p| (row, p)))
        })
        .await?;
    match found {
        Some((row, _)) if !row.user_active => Err(ApiError::forbidden("user is disabled")),
        Some((row, purpose))
            if now < row.expires_at && !row.token_consumed && !row.token_revoked =>
        {
            Ok(ApiSession {
                user_id: row.user_id,
                token_id: row.token_id,
                purpose,
            })
        }
        _ => Err(ApiError::unauthorized(
            "session expired or invalid; start again with your token",
        )),
    }
}

fn parse_key(raw: &str) -> Result<WgKey, ApiError> {
    match key_problem(raw) {
        Some(problem) => Err(ApiError::bad(format!("invalid public key: {problem}"))),
        None => WgKey::parse("pubkey", raw).map_err(|e| ApiError::bad(e.message)),
    }
}

/// `create_device`: a new device in every location, and its polling token. An empty name
/// (`dg` never sends one) becomes `cli`, `cli-2`, …; a name the user already has gets the
/// next free suffix, since the clients do not show the error.
pub async fn create_device(
    state: &AppState,
    actor: &Actor,
    s: &ApiSession,
    name: &str,
    pubkey: &str,
) -> Result<DeviceConfigResponse, ApiError> {
    let base = if name.trim().is_empty() {
        DEFAULT_CLIENT_NAME.to_owned()
    } else {
        devices::parse_device_name(name).map_err(|e| ApiError::bad(e.message))?
    };
    let key = parse_key(pubkey)?;
    let now = state.now().unix_timestamp();
    let s = s.clone();
    let actor = actor.clone();
    let st = state.clone();
    let limit = super::settings::get_settings(state)
        .await?
        .max_devices_per_user;
    let outcome = state
        .db
        .write(move |tx| {
            let user = users::get(tx, s.user_id)?.ok_or(AppError::NotFound)?;
            let actor = Actor {
                username: user.username.clone(),
                user_id: Some(user.id),
                ..actor
            };
            if s.purpose == Purpose::Enrollment {
                if let Some(earlier) = device_repo::pending_for_token(tx, s.token_id)?.first() {
                    if earlier.public_key != key.as_str() {
                        return Ok(Err(ApiError::bad(format!(
                            "This enrollment already registered the device {}; one enrollment registers one device.",
                            earlier.name
                        ))));
                    }
                    // The same key again: a retry of a call whose answer was lost.
                    let polling = devices::rotate_polling_token(tx, earlier.id, now)?;
                    return Ok(Ok(device_config_response(tx, &st, earlier.id, Some(polling))?));
                }
            }
            let name = devices::free_name(tx, user.id, &base)?;
            let new = devices::NewDevice {
                user_id: user.id,
                name: &name,
                key: &key,
                pending_token_id: (s.purpose == Purpose::Enrollment).then_some(s.token_id),
            };
            let device_id = match devices::add(tx, &new, limit, now) {
                Ok(id) => id,
                Err(AddError::App(e)) => return Err(e),
                Err(AddError::Invalid(f)) => return Ok(Err(ApiError::bad(f.message))),
                Err(refused) => {
                    record_refused_device(tx, &st, &actor, &s, &user, &name, &refused, now)?;
                    return Ok(Err(ApiError::bad(refused.message())));
                }
            };
            let polling = devices::rotate_polling_token(tx, device_id, now)?;
            let mut e = actor.event(now, "device.added", Some(&user.username));
            let detail = format!("{name} (desktop client)");
            e.detail = Some(&detail);
            audit::insert(tx, &e)?;
            if s.purpose == Purpose::Desktop {
                // A desktop token registers exactly one device: token and session end here.
                if !tokens::consume(tx, s.token_id, now)? {
                    return Ok(Err(ApiError::unauthorized(
                        "session expired or invalid; start again with your token",
                    )));
                }
                tokens::end_api_sessions(tx, s.token_id)?;
                let mut e = actor.event(now, "token.consumed", Some(&user.username));
                e.detail = Some("desktop token");
                audit::insert(tx, &e)?;
            }
            let settings = load_settings(tx)?;
            let mail = templates::new_device_email(
                &user.email,
                &settings.instance_name,
                &name,
                key.as_str(),
                &devices::mail_locations(tx, device_id)?,
            );
            super::outbox::queue(tx, "new-device", &mail, now)?;
            Ok(Ok(device_config_response(tx, &st, device_id, Some(polling))?))
        })
        .await?;
    state.mail_wake.notify_one();
    outcome
}

/// A device the limit or a full address pool refused: audited, and emailed to the admin
/// who issued the token, since the client does not show its user the error.
#[allow(clippy::too_many_arguments)]
fn record_refused_device(
    tx: &Connection,
    state: &AppState,
    actor: &Actor,
    s: &ApiSession,
    user: &users::UserRow,
    name: &str,
    refused: &AddError,
    now: i64,
) -> Result<(), AppError> {
    let reason = refused.message();
    let mut e = actor.event(now, "device.refused", Some(&user.username));
    let detail = format!("{name} (desktop client): {reason}");
    e.detail = Some(&detail);
    audit::insert(tx, &e)?;
    let admin = match tokens::get(tx, s.token_id)?.and_then(|t| t.admin_id) {
        Some(id) => users::get(tx, id)?,
        None => None,
    };
    let Some(admin) = admin else {
        return Ok(());
    };
    let remedy = match refused {
        AddError::LimitReached(_) => "Remove a device they no longer use, or raise \"Devices per user\" in Settings; then send them a new token.",
        _ => "Enlarge the location's address pool on the Locations page; then send them a new token.",
    };
    let settings = load_settings(tx)?;
    let mail = followups::device_refused_email(&followups::DeviceRefused {
        to: &admin.email,
        full_name: &format!("{} {}", user.first_name, user.last_name),
        username: &user.username,
        instance: &settings.instance_name,
        url: &state.config.public_url,
        device: name,
        reason: &reason,
        remedy,
    });
    super::outbox::queue(tx, "device-refused", &mail, now)?;
    Ok(())
}

/// `activate_user`: password and phone for an enrollment token's user; consumes the token
/// and ends the session.
///
/// The desktop client does not read this call's answer: on a refusal it still tells its
/// user "Configuration completed!". So a refusal also emails the user, once per
/// enrollment, a fresh link to finish in the browser, and the admin sees "Password not
/// set" in the users list.
pub async fn activate_user(
    state: &AppState,
    actor: &Actor,
    s: &ApiSession,
    password: &str,
    phone: Option<&str>,
) -> Result<(), ApiError> {
    if s.purpose != Purpose::Enrollment {
        return Err(ApiError::forbidden(
            "a desktop token cannot activate a user",
        ));
    }
    let (user, has_device) = {
        let id = s.user_id;
        state
            .db
            .read(move |c| {
                let user = users::get(c, id)?.ok_or(AppError::NotFound)?;
                Ok((user, device_repo::count_for_user(c, id)? > 0))
            })
            .await?
    };
    if user.is_enrolled() {
        return Err(ApiError::bad("user already activated"));
    }
    let settings = super::settings::get_settings(state).await?;
    let checked = async {
        if settings.vpn_step == VpnStep::Mandatory && !has_device {
            return Err(
                "A VPN device is required: add a device before finishing the enrollment."
                    .to_owned(),
            );
        }
        let phone =
            Phone::parse_optional("phone_number", phone.unwrap_or("")).map_err(|e| e.message)?;
        let context = [
            user.first_name.as_str(),
            user.last_name.as_str(),
            user.email.as_str(),
            user.username.as_str(),
            settings.instance_name.as_str(),
        ];
        let password = super::check_password(password, &context)
            .await
            .map_err(|e| e.0)?;
        Ok((phone, password))
    }
    .await;
    let (phone, password) = match checked {
        Ok(ok) => ok,
        Err(reason) => {
            send_finish_link(state, s, &reason).await?;
            return Err(ApiError::bad(reason));
        }
    };
    let hash = state.hasher.hash(password.expose().to_owned()).await?;
    let now = state.now().unix_timestamp();
    let s = s.clone();
    let actor = Actor {
        username: user.username.clone(),
        user_id: Some(user.id),
        ..actor.clone()
    };
    let url = state.config.public_url.clone();
    state
        .db
        .write(move |tx| {
            if !tokens::consume(tx, s.token_id, now)? {
                return Err(AppError::BadRequest(
                    "this enrollment token was already used or has expired".into(),
                ));
            }
            let user = users::get(tx, s.user_id)?.ok_or(AppError::NotFound)?;
            if user.is_enrolled() {
                return Err(AppError::BadRequest("user already activated".into()));
            }
            users::set_password_hash(tx, user.id, &hash)?;
            users::set_phone(tx, user.id, phone.as_ref().map(Phone::as_str))?;
            audit::insert(
                tx,
                &actor.event(now, "token.consumed", Some(&user.username)),
            )?;
            audit::insert(tx, &actor.event(now, "password.set", Some(&user.username)))?;
            close_enrollment(tx, user.id, s.token_id, now)?;
            super::enrollment::queue_welcome_and_notice(tx, &url, &user, s.token_id, now)?;
            Ok(())
        })
        .await?;
    state.mail_wake.notify_one();
    Ok(())
}

/// After a refused `activate_user`: emails the user a new enrollment link for the browser,
/// unless they already have another live token (one email per enrollment). The session
/// stays open, so a client that does read the error can still retry.
async fn send_finish_link(state: &AppState, s: &ApiSession, reason: &str) -> Result<(), AppError> {
    let now = state.now().unix_timestamp();
    let secret = random_alphanumeric(super::tokens::TOKEN_LEN);
    let ttl = state.config.enrollment_token_ttl.whole_seconds();
    let session_ttl = state.config.enrollment_session_ttl.whole_seconds();
    let (s, st, reason) = (s.clone(), state.clone(), reason.to_owned());
    let sent = state
        .db
        .write(move |tx| {
            if tokens::has_other_live(tx, s.user_id, s.token_id, now)? {
                return Ok(false);
            }
            let user = users::get(tx, s.user_id)?.ok_or(AppError::NotFound)?;
            let admin_id = tokens::get(tx, s.token_id)?.and_then(|t| t.admin_id);
            let admin = match admin_id {
                Some(id) => users::get(tx, id)?,
                None => None,
            };
            let token_id = tokens::insert(
                tx,
                &tokens::NewToken {
                    hash: &sha256_hex(&secret),
                    purpose: Purpose::Enrollment,
                    user_id: user.id,
                    admin_id,
                    email: Some(&user.email),
                    created_at: now,
                    expires_at: now + ttl,
                },
            )?;
            let detail = format!(
                "desktop client enrollment ended without a password ({reason}); emailed token #{token_id} to finish in the browser"
            );
            let mut e = audit::NewEvent {
                at: now,
                actor: "system",
                action: "enrollment.unfinished",
                target: Some(&user.username),
                ..Default::default()
            };
            e.detail = Some(&detail);
            audit::insert(tx, &e)?;
            let settings = load_settings(tx)?;
            let contact = admin.as_ref().map(super::tokens::admin_contact);
            let mail = followups::unfinished_enrollment_email(&followups::UnfinishedEnrollment {
                to: &user.email,
                first_name: &user.first_name,
                instance: &settings.instance_name,
                url: &st.config.public_url,
                reason: &reason,
                token_ttl: ttl,
                session_ttl,
                admin: contact.as_ref(),
            });
            super::outbox::queue_with_secret(tx, &st, "enrollment-unfinished", &mail, &secret, now)?;
            Ok(true)
        })
        .await?;
    if sent {
        state.mail_wake.notify_one();
    }
    Ok(())
}

/// `network_info`: the current config of one of the token user's devices, with a new
/// polling token.
pub async fn network_info(
    state: &AppState,
    s: &ApiSession,
    pubkey: &str,
) -> Result<DeviceConfigResponse, ApiError> {
    let key = parse_key(pubkey)?;
    let now = state.now().unix_timestamp();
    let s = s.clone();
    let st = state.clone();
    state
        .db
        .write(move |tx| {
            let Some(device) = device_repo::find_by_key(tx, key.as_str())? else {
                return Ok(Err(ApiError::new(
                    ApiErrorKind::NotFound,
                    "device not found",
                )));
            };
            if device.user_id != s.user_id {
                return Ok(Err(ApiError::unauthorized(
                    "this device belongs to another user",
                )));
            }
            let polling = devices::rotate_polling_token(tx, device.id, now)?;
            Ok(Ok(device_config_response(
                tx,
                &st,
                device.id,
                Some(polling),
            )?))
        })
        .await?
}

/// `poll`: the configuration for the device a polling token belongs to. The limits are
/// described in `poll_limits`: stale clients behind one address never lock out valid ones.
pub async fn poll(state: &AppState, actor: &Actor, token: &str) -> Result<PollResponse, ApiError> {
    let now = state.now();
    let address = actor.limit_key();
    let hash = sha256_hex(token.trim());
    let admission = state
        .poll_limits
        .admit(&address, &hash, now)
        .map_err(ApiError::rate_limited)?;
    let st = state.clone();
    let lookup_hash = hash.clone();
    let outcome = state.db.read(move |c| {
        Ok(match device_repo::find_by_polling_hash(c, &lookup_hash)? {
            PollingTokenLookup::Active(device_id) => Ok(PollResponse {
                device_config: Some(device_config_response(c, &st, device_id, None)?),
            }),
            PollingTokenLookup::OwnerDisabled => Err((Outcome::Stale, "user is disabled")),
            PollingTokenLookup::Retired => Err((
                Outcome::Stale,
                "this polling token was replaced or its device removed; add the instance again",
            )),
            PollingTokenLookup::Unknown => Err((Outcome::Unknown, "invalid polling token")),
        })
    });
    let outcome = match outcome.await {
        Ok(o) => o,
        Err(e) => {
            state.poll_limits.release(&address, &hash, admission);
            return Err(e.into());
        }
    };
    match outcome {
        Ok(response) => {
            state
                .poll_limits
                .settle(&address, &hash, Outcome::Valid, now);
            Ok(response)
        }
        Err((kind, message)) => {
            state.poll_limits.settle(&address, &hash, kind, now);
            Err(ApiError::forbidden(message))
        }
    }
}
