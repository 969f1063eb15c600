//! The admin REST API under `/api/v1`, beside the desktop client's: the calls defguard's
//! provisioning scripts make, with defguard's JSON shapes (docs/admin-api.md), plus
//! onramp's own lists of locations and devices. Callers send `Authorization: Bearer …` with
//! a token from the API tokens page; a missing or revoked token is 401, bad input 400, and
//! every error is `{"msg": "…"}`.

use super::request::actor;
use crate::error::AppError;
use crate::services::admin_api::{self as svc, TokenRequest, UserWithGroups};
use crate::services::tokens::Purpose;
use crate::services::users::{self as users_svc, NewUserInput};
use crate::services::Actor;
use crate::state::AppState;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

/// One route of the admin API: method, path below `/api/v1`, and what it does. The OpenAPI
/// description is made from this table, which lists exactly what [`configure`] registers.
pub struct Route {
    /// `get` or `post`.
    pub method: &'static str,
    /// Path below `/api/v1`, with `{parameters}`.
    pub path: &'static str,
    /// One line for the description.
    pub summary: &'static str,
    /// The request body's fields, for POSTs: (name, JSON type, required).
    pub body: &'static [(&'static str, &'static str, bool)],
}

const TOKEN_BODY: &[(&str, &str, bool)] = &[
    ("email", "string", false),
    ("send_enrollment_notification", "boolean", false),
    ("token_expiration_time", "string", false),
];

/// Every admin API route.
pub const ROUTES: &[Route] = &[
    Route { method: "get", path: "/user", summary: "List users (defguard's UserInfo).", body: &[] },
    Route {
        method: "post",
        path: "/user",
        summary: "Add a user; without a password they enroll (defguard's AddUserData).",
        body: &[
            ("username", "string", true),
            ("first_name", "string", true),
            ("last_name", "string", true),
            ("email", "string", true),
            ("phone", "string", false),
            ("password", "string", false),
        ],
    },
    Route { method: "get", path: "/user/{username}", summary: "A user with their devices (defguard's UserDetails).", body: &[] },
    Route {
        method: "post",
        path: "/user/{username}/start_enrollment",
        summary: "Issue an enrollment token, optionally emailed; answers enrollment_token and enrollment_url.",
        body: TOKEN_BODY,
    },
    Route {
        method: "post",
        path: "/user/{username}/start_desktop",
        summary: "Issue a desktop activation token for an enrolled user; answers enrollment_token and enrollment_url.",
        body: TOKEN_BODY,
    },
    Route { method: "get", path: "/group/{name}", summary: "A group's members and locations (defguard's GroupInfo).", body: &[] },
    Route { method: "get", path: "/onramp/locations", summary: "Every location (onramp's own).", body: &[] },
    Route { method: "get", path: "/onramp/devices", summary: "Every device with its owner (onramp's own).", body: &[] },
];

/// Adds the admin API's routes to the `/api/v1` scope.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/user", web::get().to(list_users))
        .route("/user", web::post().to(add_user))
        .route("/user/{username}", web::get().to(get_user))
        .route(
            "/user/{username}/start_enrollment",
            web::post().to(start_enrollment),
        )
        .route(
            "/user/{username}/start_desktop",
            web::post().to(start_desktop),
        )
        .route("/group/{name}", web::get().to(get_group))
        .route("/onramp/locations", web::get().to(list_locations))
        .route("/onramp/devices", web::get().to(list_devices));
}

fn msg(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "msg": message }))
}

/// A refused call: its status and message.
type Refusal = (StatusCode, String);

/// What an `AppError` answers.
fn refusal(e: AppError) -> Refusal {
    match e {
        AppError::Validation(errors) => {
            let text: Vec<String> = errors.into_iter().map(|e| e.message).collect();
            (StatusCode::BAD_REQUEST, text.join(" "))
        }
        AppError::BadRequest(m) | AppError::Forbidden(m) => (StatusCode::BAD_REQUEST, m),
        AppError::NotFound => (StatusCode::NOT_FOUND, "not found".to_owned()),
        AppError::RateLimited(s) => (
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many requests; try again in {s} seconds"),
        ),
        e => {
            tracing::error!(error = ?e, "admin API call failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal server error".to_owned(),
            )
        }
    }
}

/// An `AppError` in defguard's shape.
fn failure(e: AppError) -> HttpResponse {
    let (status, message) = refusal(e);
    msg(status, &message)
}

/// The caller behind the request's bearer token, with the call audited; 401 otherwise.
async fn caller(req: &HttpRequest, state: &AppState) -> Result<Actor, Refusal> {
    let secret = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    let what = format!("{} {}", req.method(), req.path());
    match svc::authenticate(state, secret, &what, actor(req, state, None)).await {
        Ok(Some(who)) => Ok(who),
        Ok(None) => Err((
            StatusCode::UNAUTHORIZED,
            "a valid API token is required (Authorization: Bearer …)".to_owned(),
        )),
        Err(e) => Err(refusal(e)),
    }
}

/// A JSON body, or 400 in defguard's shape.
fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Refusal> {
    serde_json::from_slice(bytes)
        .map_err(|e| (StatusCode::BAD_REQUEST, super::api::parse_failure(&e)))
}

macro_rules! or_answer {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err((status, message)) => return msg(status, &message),
        }
    };
}

/// defguard's `UserInfo`.
fn user_info(u: &UserWithGroups) -> Value {
    let mfa_method = if u.totp_enabled {
        "OneTimePassword"
    } else if u.email_mfa_enabled {
        "Email"
    } else {
        "None"
    };
    json!({
        "id": u.user.id,
        "username": u.user.username,
        "first_name": u.user.first_name,
        "last_name": u.user.last_name,
        "email": u.user.email,
        "phone": u.user.phone,
        "is_active": u.user.is_active,
        "is_admin": u.user.is_admin,
        "enrolled": u.user.is_enrolled(),
        "groups": u.groups,
        "mfa_enabled": u.totp_enabled || u.email_mfa_enabled,
        "totp_enabled": u.totp_enabled,
        "email_mfa_enabled": u.email_mfa_enabled,
        "mfa_method": mfa_method,
        "authorized_apps": [],
    })
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// `GET /api/v1/user`.
pub async fn list_users(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    or_answer!(caller(&req, &state).await);
    match svc::list_users(&state).await {
        Ok(users) => HttpResponse::Ok().json(users.iter().map(user_info).collect::<Vec<_>>()),
        Err(e) => failure(e),
    }
}

/// `GET /api/v1/user/{username}`.
pub async fn get_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    username: web::Path<String>,
) -> HttpResponse {
    or_answer!(caller(&req, &state).await);
    match svc::user_details(&state, &username).await {
        Ok((user, devices)) => HttpResponse::Ok().json(json!({
            "user": user_info(&user),
            "devices": devices.iter().map(|d| json!({
                "id": d.id,
                "name": d.name,
                "wireguard_pubkey": d.public_key,
                "user_id": d.user_id,
                "created": rfc3339(d.created_at),
                "networks": [],
            })).collect::<Vec<_>>(),
            "security_keys": [],
        })),
        Err(AppError::NotFound) => msg(
            StatusCode::NOT_FOUND,
            &format!("user {} not found", username.as_str()),
        ),
        Err(e) => failure(e),
    }
}

/// defguard's `AddUserData`.
#[derive(Debug, Deserialize)]
pub struct AddUserData {
    username: String,
    first_name: String,
    last_name: String,
    email: String,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// `POST /api/v1/user`: 201 with the new user's `UserInfo`.
pub async fn add_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    bytes: web::Bytes,
) -> HttpResponse {
    let who = or_answer!(caller(&req, &state).await);
    let data: AddUserData = or_answer!(body(&bytes));
    let password = data.password.unwrap_or_default();
    let input = NewUserInput {
        username: data.username.clone(),
        first_name: data.first_name,
        last_name: data.last_name,
        email: data.email,
        phone: data.phone.unwrap_or_default(),
        use_enrollment: password.is_empty(),
        password_repeat: password.clone(),
        password,
        groups: None,
    };
    if let Err(e) = users_svc::create_user(&state, &who, input).await {
        return failure(e);
    }
    match svc::user_details(&state, &data.username).await {
        Ok((user, _)) => HttpResponse::Created().json(user_info(&user)),
        Err(e) => failure(e),
    }
}

/// defguard's `StartEnrollmentRequest`.
#[derive(Debug, Deserialize)]
pub struct StartEnrollmentRequest {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    send_enrollment_notification: bool,
    #[serde(default)]
    token_expiration_time: Option<String>,
}

async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    username: String,
    bytes: web::Bytes,
    purpose: Purpose,
) -> HttpResponse {
    let who = or_answer!(caller(&req, &state).await);
    // An empty body is a request with every field at its default.
    let data: StartEnrollmentRequest = if bytes.iter().all(u8::is_ascii_whitespace) {
        StartEnrollmentRequest {
            email: None,
            send_enrollment_notification: false,
            token_expiration_time: None,
        }
    } else {
        or_answer!(body(&bytes))
    };
    let request = TokenRequest {
        email: data.email,
        send_email: data.send_enrollment_notification,
        validity: data.token_expiration_time,
    };
    match svc::issue(&state, &who, &username, purpose, request).await {
        Ok(invitation) => HttpResponse::Created().json(json!({
            "enrollment_token": invitation.secret,
            "enrollment_url": state.config.public_url,
        })),
        Err(AppError::NotFound) => {
            msg(StatusCode::NOT_FOUND, &format!("user {username} not found"))
        }
        Err(e) => failure(e),
    }
}

/// `POST /api/v1/user/{username}/start_enrollment`.
pub async fn start_enrollment(
    req: HttpRequest,
    state: web::Data<AppState>,
    username: web::Path<String>,
    bytes: web::Bytes,
) -> HttpResponse {
    start(
        req,
        state,
        username.into_inner(),
        bytes,
        Purpose::Enrollment,
    )
    .await
}

/// `POST /api/v1/user/{username}/start_desktop`.
pub async fn start_desktop(
    req: HttpRequest,
    state: web::Data<AppState>,
    username: web::Path<String>,
    bytes: web::Bytes,
) -> HttpResponse {
    start(req, state, username.into_inner(), bytes, Purpose::Desktop).await
}

/// `GET /api/v1/group/{name}`: defguard's `GroupInfo`.
pub async fn get_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> HttpResponse {
    or_answer!(caller(&req, &state).await);
    match svc::group(&state, &name).await {
        Ok((name, members, locations)) => HttpResponse::Ok().json(json!({
            "name": name,
            "members": members,
            "vpn_locations": locations,
            "is_admin": false,
        })),
        Err(AppError::NotFound) => msg(
            StatusCode::NOT_FOUND,
            &format!("Group {} not found", name.as_str()),
        ),
        Err(e) => failure(e),
    }
}

/// `GET /api/v1/onramp/locations`.
pub async fn list_locations(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    or_answer!(caller(&req, &state).await);
    match svc::all_locations(&state).await {
        Ok(list) => HttpResponse::Ok().json(
            list.iter()
                .map(|l| {
                    json!({
                        "id": l.id,
                        "name": l.name,
                        "address": l.addresses,
                        "endpoint": l.endpoint,
                        "port": l.port,
                        "pubkey": l.public_key,
                        "allowed_ips": l.allowed_ips,
                        "dns": l.dns,
                        "keepalive_interval": l.keepalive,
                    })
                })
                .collect::<Vec<_>>(),
        ),
        Err(e) => failure(e),
    }
}

/// `GET /api/v1/onramp/devices`.
pub async fn list_devices(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    or_answer!(caller(&req, &state).await);
    match svc::all_devices(&state).await {
        Ok(list) => HttpResponse::Ok().json(
            list.iter()
                .map(|(d, owner)| {
                    json!({
                        "id": d.id,
                        "name": d.name,
                        "username": owner,
                        "wireguard_pubkey": d.public_key,
                        "created": rfc3339(d.created_at),
                    })
                })
                .collect::<Vec<_>>(),
        ),
        Err(e) => failure(e),
    }
}

/// `GET /api/docs/openapi.json`: the OpenAPI 3.0 description, made from [`ROUTES`].
pub async fn show_openapi(state: web::Data<AppState>) -> HttpResponse {
    let mut paths = serde_json::Map::new();
    for route in ROUTES {
        let full = format!("/api/v1{}", route.path);
        let params: Vec<Value> = route
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut op = json!({
            "summary": route.summary,
            "parameters": params,
            "security": [{"bearer": []}],
            "responses": {
                "200": {"description": "OK"},
                "400": {"description": "Bad input", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "401": {"description": "Missing or revoked API token", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "404": {"description": "Not found", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        });
        if !route.body.is_empty() {
            let properties: serde_json::Map<String, Value> = route
                .body
                .iter()
                .map(|(name, kind, _)| ((*name).to_owned(), json!({"type": kind})))
                .collect();
            let required: Vec<&str> = route
                .body
                .iter()
                .filter(|(_, _, r)| *r)
                .map(|(n, _, _)| *n)
                .collect();
            op["requestBody"] = json!({
                "required": true,
                "content": {"application/json": {"schema": {
                    "type": "object", "properties": properties, "required": required,
                }}},
            });
        }
        let entry = paths.entry(full).or_insert_with(|| json!({}));
        entry[route.method] = op;
    }
    HttpResponse::Ok().json(json!({
        "openapi": "3.0.3",
        "info": {"title": "onramp admin API", "version": env!("CARGO_PKG_VERSION")},
        "servers": [{"url": state.config.public_url}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "properties": {"msg": {"type": "string"}}, "required": ["msg"]}},
        },
    }))
}
