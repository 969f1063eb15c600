//! The desktop client's enrollment API (CLIENT_API.md): the same token rules as the wizard,
//! spoken as JSON. Enrollment tokens run the full flow; desktop tokens only add or refresh a
//! device of their own user.

use super::enrollment::{
    add_device, client_config, device_locations, parse_device_name, tag_values,
};
use super::settings::{effective_smtp, load as load_settings, VpnStep};
use super::Actor;
use crate::crypto::{random_alphanumeric, sha256_hex};
use crate::db::{audit, sessions, tokens, users};
use crate::domain::template::substitute;
use crate::domain::user::Phone;
use crate::domain::wireguard::{key_problem, WgKey};
use crate::error::AppError;
use crate::mail::templates;
use crate::state::AppState;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// Starts per IP per minute; poll failures per IP per minute (SECURITY.md 24).
const START_LIMIT: usize = 10;
const POLL_FAILURE_LIMIT: usize = 10;

/// An API failure: HTTP status and the `error` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// `{"error": …}`.
    pub message: String,
    /// Seconds for `Retry-After` on 429.
    pub retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            retry_after: None,
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Validation(errors) => Self::new(
                400,
                errors
                    .first()
                    .map(|e| e.message.clone())
                    .unwrap_or_default(),
            ),
            AppError::BadRequest(m) => Self::new(400, m),
            AppError::NotFound => Self::new(404, "not found"),
            AppError::Forbidden(m) => Self::new(403, m),
            AppError::RateLimited(s) => Self {
                status: 429,
                message: "too many requests".into(),
                retry_after: Some(s),
            },
            AppError::Unavailable(err) => {
                tracing::error!(error = format!("{err:#}"), "api: database unavailable");
                Self::new(503, "service unavailable")
            }
            AppError::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "api: internal error");
                Self::new(500, "internal error")
            }
        }
    }
}

/// `InstanceInfo`.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceInfo {
    id: String,
    name: String,
    url: String,
    proxy_url: String,
    username: String,
    enterprise_enabled: bool,
    disable_all_traffic: bool,
    openid_display_name: Option<String>,
    client_traffic_policy: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
struct AdminInfo {
    name: String,
    phone_number: Option<String>,
    email: String,
}

#[derive(Debug, Clone, Serialize)]
struct UserInfo {
    first_name: String,
    last_name: String,
    login: String,
    email: String,
    phone_number: Option<String>,
    is_active: bool,
    device_names: Vec<String>,
    enrolled: bool,
    is_admin: bool,
}

#[derive(Debug, Clone, Serialize)]
struct StartSettings {
    vpn_setup_optional: bool,
    only_client_activation: bool,
    admin_device_management: bool,
    smtp_configured: bool,
    mfa_required: bool,
}

/// `EnrollmentStartResponse`.
#[derive(Debug, Clone, Serialize)]
pub struct StartResponse {
    admin: Option<AdminInfo>,
    user: UserInfo,
    deadline_timestamp: i64,
    final_page_content: String,
    instance: InstanceInfo,
    settings: StartSettings,
}

/// `DeviceConfig`.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceConfig {
    network_id: i64,
    network_name: String,
    config: String,
    endpoint: String,
    assigned_ip: String,
    pubkey: String,
    allowed_ips: String,
    dns: Option<String>,
    mfa_enabled: bool,
    keepalive_interval: i64,
    location_mfa_mode: Option<i64>,
    service_location_mode: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
struct DeviceInfo {
    id: i64,
    name: String,
    pubkey: String,
    user_id: i64,
    created_at: i64,
}

/// `DeviceConfigResponse`.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceConfigResponse {
    device: Option<DeviceInfo>,
    configs: Vec<DeviceConfig>,
    instance: Option<InstanceInfo>,
    token: Option<String>,
}

/// `InstanceInfoResponse` (poll).
#[derive(Debug, Clone, Serialize)]
pub struct PollResponse {
    device_config: Option<DeviceConfigResponse>,
}

fn instance_info(
    c: &Connection,
    state: &AppState,
    username: &str,
) -> Result<InstanceInfo, AppError> {
    let settings = load_settings(c)?;
    let url = format!("{}/", state.config.public_url);
    Ok(InstanceInfo {
        id: settings.instance_id,
        name: settings.instance_name,
        url: url.clone(),
        proxy_url: url,
        username: username.to_owned(),
        enterprise_enabled: true,
        disable_all_traffic: false,
        openid_display_name: None,
        client_traffic_policy: Some(0),
    })
}

/// Starts an API session with a token; returns the response and the cookie value.
pub async fn start(
    state: &AppState,
    actor: &Actor,
    token: &str,
) -> Result<(StartResponse, String, i64), ApiError> {
    let now_t = state.now();
    let ip_key = format!("api-start:{}", actor.ip.as_deref().unwrap_or("-"));
    state
        .limits
        .hit(&ip_key, START_LIMIT, time::Duration::minutes(1), now_t)
        .map_err(|s| ApiError {
            status: 429,
            message: "too many attempts; try again later".into(),
            retry_after: Some(s),
        })?;
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
            let invalid =
                |tx: &Connection, detail: &str| -> Result<Result<_, ApiError>, AppError> {
                    let mut e = actor.event(now, "token.invalid", None);
                    e.detail = Some(detail);
                    audit::insert(tx, &e)?;
                    Ok(Err(ApiError::new(401, "invalid token")))
                };
            let Some(t) = found else {
                return invalid(tx, "client API: unknown token");
            };
            if t.consumed_at.is_some() || t.revoked_at.is_some() {
                return invalid(tx, "client API: used or revoked token");
            }
            if now >= t.dies_at() {
                let mut e = actor.event(now, "token.invalid", None);
                e.detail = Some("client API: expired token");
                audit::insert(tx, &e)?;
                return Ok(Err(ApiError::new(401, "token expired")));
            }
            let user = users::get(tx, t.user_id)?.ok_or(AppError::NotFound)?;
            if !user.is_active {
                return Ok(Err(ApiError::new(403, "user is disabled")));
            }
            match t.purpose.as_str() {
                "enrollment" if user.is_enrolled() => {
                    return Ok(Err(ApiError::new(
                        403,
                        "this enrollment token is for a user who has already enrolled",
                    )))
                }
                "desktop" if !user.is_enrolled() => {
                    return Ok(Err(ApiError::new(
                        403,
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
            tx.execute("DELETE FROM session WHERE token_id = ?1", [t.id])?;
            sessions::insert(
                tx,
                &sessions::SessionRow {
                    id_hash: id_hash.clone(),
                    kind: "api".into(),
                    user_id: user.id,
                    csrf_token: String::new(),
                    created_at: now,
                    last_seen_at: now,
                    expires_at: deadline,
                },
                actor.ip.as_deref(),
                actor.user_agent.as_deref(),
            )?;
            tx.execute(
                "UPDATE session SET token_id = ?2 WHERE id_hash = ?1",
                params![id_hash, t.id],
            )?;
            let mut e = actor.event(now, "token.started", Some(&user.username));
            e.detail = Some(if t.purpose == "desktop" {
                "desktop client, desktop token"
            } else {
                "desktop client, enrollment token"
            });
            audit::insert(tx, &e)?;
            let admin = match t.admin_id {
                Some(id) => users::get(tx, id)?,
                None => None,
            };
            let settings = load_settings(tx)?;
            let device_names: Vec<String> = tx
                .prepare("SELECT name FROM device WHERE user_id = ?1 ORDER BY id")?
                .query_map([user.id], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let values = tag_values(&user, admin.as_ref(), &st.config.public_url);
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
                    device_names,
                    enrolled: user.is_enrolled(),
                    is_admin: user.is_admin,
                },
                deadline_timestamp: deadline,
                final_page_content: substitute(&settings.welcome_message, &values),
                instance: instance_info(tx, &st, &user.username)?,
                settings: StartSettings {
                    vpn_setup_optional: settings.vpn_step == VpnStep::Optional,
                    only_client_activation: t.purpose == "desktop",
                    admin_device_management: false,
                    smtp_configured,
                    mfa_required: false,
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
    purpose: String,
}

/// Looks up a live API session.
pub async fn session(state: &AppState, cookie_value: &str) -> Result<ApiSession, ApiError> {
    let id_hash = sha256_hex(cookie_value);
    let now = state.now().unix_timestamp();
    let found =
        state
            .db
            .read(move |c| {
                Ok(c.query_row(
                "SELECT s.user_id, s.token_id, t.purpose, s.expires_at, t.revoked_at, u.is_active
                 FROM session s JOIN token t ON t.id = s.token_id JOIN user u ON u.id = s.user_id
                 WHERE s.id_hash = ?1 AND s.kind = 'api'",
                [&id_hash],
                |r| {
                    Ok((
                        ApiSession { user_id: r.get(0)?, token_id: r.get(1)?, purpose: r.get(2)? },
                        r.get::<_, i64>(3)?,
                        r.get::<_, Option<i64>>(4)?,
                        r.get::<_, bool>(5)?,
                    ))
                },
            )
            .optional()?)
            })
            .await?;
    match found {
        Some((s, expires, None, true)) if now < expires => Ok(s),
        Some((_, _, _, false)) => Err(ApiError::new(403, "user is disabled")),
        _ => Err(ApiError::new(
            401,
            "session expired or invalid; start again with your token",
        )),
    }
}

fn device_config_response(
    c: &Connection,
    state: &AppState,
    device_id: i64,
    polling_token: Option<String>,
) -> Result<DeviceConfigResponse, AppError> {
    let (name, pubkey, user_id, created_at): (String, String, i64, i64) = c.query_row(
        "SELECT name, public_key, user_id, created_at FROM device WHERE id = ?1",
        [device_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    let user = users::get(c, user_id)?.ok_or(AppError::NotFound)?;
    let mut configs = Vec::new();
    for (l, addrs) in device_locations(c, device_id)? {
        let config = client_config(&l, &addrs)?.replace(
            super::enrollment::PRIVATE_KEY_PLACEHOLDER,
            "YOUR_PRIVATE_KEY",
        );
        let allowed: Vec<String> = l
            .allowed_ips
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        let dns: Vec<String> = l
            .dns
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        configs.push(DeviceConfig {
            network_id: l.id,
            network_name: l.name.clone(),
            config,
            endpoint: crate::domain::wireguard::endpoint(&l.endpoint, l.port),
            assigned_ip: addrs.join(","),
            pubkey: l.public_key.clone(),
            allowed_ips: allowed.join(","),
            dns: (!dns.is_empty()).then(|| dns.join(",")),
            mfa_enabled: false,
            keepalive_interval: i64::from(l.keepalive),
            location_mfa_mode: Some(1),
            service_location_mode: Some(1),
        });
    }
    Ok(DeviceConfigResponse {
        device: Some(DeviceInfo {
            id: device_id,
            name,
            pubkey,
            user_id,
            created_at,
        }),
        configs,
        instance: Some(instance_info(c, state, &user.username)?),
        token: polling_token,
    })
}

/// Gives a device a new polling token (the old one stops working); returns the secret.
fn rotate_polling_token(c: &Connection, device_id: i64, now: i64) -> Result<String, AppError> {
    let secret = random_alphanumeric(32);
    c.execute(
        "INSERT INTO polling_token (device_id, hash, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (device_id) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at",
        params![device_id, sha256_hex(&secret), now],
    )?;
    Ok(secret)
}

fn parse_key(raw: &str) -> Result<WgKey, ApiError> {
    match key_problem(raw) {
        Some(problem) => Err(ApiError::new(400, format!("invalid public key: {problem}"))),
        None => WgKey::parse("pubkey", raw).map_err(|e| ApiError::new(400, e.message)),
    }
}

/// `create_device`: a new device in every location, and its polling token.
pub async fn create_device(
    state: &AppState,
    actor: &Actor,
    s: &ApiSession,
    name: &str,
    pubkey: &str,
) -> Result<DeviceConfigResponse, ApiError> {
    let name = parse_device_name(name).map_err(|e| ApiError::new(400, e.message))?;
    let key = parse_key(pubkey)?;
    let now = state.now().unix_timestamp();
    let s = s.clone();
    let actor = actor.clone();
    let st = state.clone();
    let response = state
        .db
        .write(move |tx| {
            let user = users::get(tx, s.user_id)?.ok_or(AppError::NotFound)?;
            let device_id = add_device(tx, user.id, &name, &key, now).map_err(|e| match e {
                AppError::Validation(errs) => AppError::BadRequest(
                    errs.first().map(|e| e.message.clone()).unwrap_or_default(),
                ),
                other => other,
            })?;
            let polling = rotate_polling_token(tx, device_id, now)?;
            let actor = Actor {
                username: user.username.clone(),
                user_id: Some(user.id),
                ..actor
            };
            let mut e = actor.event(now, "device.added", Some(&user.username));
            let detail = format!("{name} (desktop client)");
            e.detail = Some(&detail);
            audit::insert(tx, &e)?;
            if s.purpose == "desktop" {
                tokens::consume(tx, s.token_id, now)?;
                let mut e = actor.event(now, "token.consumed", Some(&user.username));
                e.detail = Some("desktop token");
                audit::insert(tx, &e)?;
            }
            let settings = load_settings(tx)?;
            let locations: Vec<templates::DeviceLocation> = device_locations(tx, device_id)?
                .into_iter()
                .map(|(l, a)| templates::DeviceLocation {
                    name: l.name,
                    addresses: a.join(", "),
                })
                .collect();
            let mail = templates::new_device_email(
                &user.email,
                &settings.instance_name,
                &name,
                key.as_str(),
                &locations,
            );
            super::outbox::queue(tx, "new-device", &mail, now)?;
            device_config_response(tx, &st, device_id, Some(polling))
        })
        .await?;
    state.mail_wake.notify_one();
    Ok(response)
}

/// `activate_user`: password and phone for an enrollment token's user; consumes the token.
pub async fn activate_user(
    state: &AppState,
    actor: &Actor,
    s: &ApiSession,
    password: &str,
    phone: Option<&str>,
) -> Result<(), ApiError> {
    if s.purpose != "enrollment" {
        return Err(ApiError::new(403, "a desktop token cannot activate a user"));
    }
    let user = {
        let id = s.user_id;
        state
            .db
            .read(move |c| users::get(c, id)?.ok_or(AppError::NotFound))
            .await?
    };
    if user.is_enrolled() {
        return Err(ApiError::new(400, "user already activated"));
    }
    let phone = Phone::parse_optional("phone_number", phone.unwrap_or(""))
        .map_err(|e| ApiError::new(400, e.message))?;
    let instance = super::settings::get_settings(state).await?.instance_name;
    let context = [
        user.first_name.as_str(),
        user.last_name.as_str(),
        user.email.as_str(),
        user.username.as_str(),
        instance.as_str(),
    ];
    let password = super::check_password(password, &context)
        .await
        .map_err(|e| ApiError::new(400, e.0))?;
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
            tx.execute(
                "UPDATE user SET phone = ?2 WHERE id = ?1",
                params![user.id, phone.as_ref().map(|p| p.as_str().to_owned())],
            )?;
            audit::insert(
                tx,
                &actor.event(now, "token.consumed", Some(&user.username)),
            )?;
            audit::insert(tx, &actor.event(now, "password.set", Some(&user.username)))?;
            // The session stays until its deadline so a repeated call gets "user already activated".
            super::enrollment::queue_welcome_and_notice(tx, &url, &user, s.token_id, now)?;
            Ok(())
        })
        .await?;
    state.mail_wake.notify_one();
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
    let outcome = state
        .db
        .write(move |tx| {
            let device: Option<(i64, i64)> = tx
                .query_row(
                    "SELECT id, user_id FROM device WHERE public_key = ?1",
                    [key.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((device_id, owner)) = device else {
                return Ok(Err(ApiError::new(404, "device not found")));
            };
            if owner != s.user_id {
                return Ok(Err(ApiError::new(
                    401,
                    "this device belongs to another user",
                )));
            }
            let polling = rotate_polling_token(tx, device_id, now)?;
            Ok(Ok(device_config_response(
                tx,
                &st,
                device_id,
                Some(polling),
            )?))
        })
        .await?;
    outcome
}

/// `poll`: the configuration for the device a polling token belongs to.
pub async fn poll(state: &AppState, actor: &Actor, token: &str) -> Result<PollResponse, ApiError> {
    let now_t = state.now();
    let ip_key = format!("api-poll-fail:{}", actor.ip.as_deref().unwrap_or("-"));
    state
        .limits
        .check(
            &ip_key,
            POLL_FAILURE_LIMIT,
            time::Duration::minutes(1),
            now_t,
        )
        .map_err(|s| ApiError {
            status: 429,
            message: "too many attempts; try again later".into(),
            retry_after: Some(s),
        })?;
    let hash = sha256_hex(token.trim());
    let st = state.clone();
    let outcome = state
        .db
        .read(move |c| {
            let found: Option<(i64, bool)> = c
                .prepare_cached(
                    "SELECT p.device_id, u.is_active FROM polling_token p JOIN device d ON d.id = p.device_id
                     JOIN user u ON u.id = d.user_id WHERE p.hash = ?1",
                )?
                .query_row([&hash], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            match found {
                None => Ok(Err(ApiError::new(403, "invalid polling token"))),
                Some((_, false)) => Ok(Err(ApiError::new(403, "user is disabled"))),
                Some((device_id, true)) => Ok(Ok(PollResponse { device_config: Some(device_config_response(c, &st, device_id, None)?) })),
            }
        })
        .await?;
    if let Err(e) = &outcome {
        if e.status == 403 {
            state
                .limits
                .record(&ip_key, time::Duration::minutes(1), now_t);
        }
    }
    outcome
}
