//! The desktop client's JSON API under `/api/v1` (its rules: docs/client-api.md). Every response carries the
//! version headers the client checks; every error is `{"error": "…"}`.

use super::request::actor;
use crate::services::client_api::{self as svc, ApiError, ApiErrorKind};
use crate::state::AppState;
use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::{from_fn, DefaultHeaders, Next};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// The API level onramp implements, as the client expects it in the version headers.
pub const API_VERSION: &str = "1.6.0";
/// The session cookie's name, fixed by the client.
pub const COOKIE: &str = "defguard_proxy";

/// Registers the API scope.
pub fn scope() -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope("/api/v1")
        .wrap(from_fn(refuse_browser_requests))
        .wrap(
            DefaultHeaders::new()
                .add(("defguard-core-version", API_VERSION))
                .add(("defguard-component-version", API_VERSION))
                .add(("defguard-core-connected", "true")),
        )
        .app_data(
            web::JsonConfig::default()
                .limit(super::FORM_LIMIT)
                .content_type_required(false)
                .error_handler(|err, _| {
                    let message = match &err {
                        actix_web::error::JsonPayloadError::OverflowKnownLength { .. }
                        | actix_web::error::JsonPayloadError::Overflow { .. } => {
                            "request body too large".to_owned()
                        }
                        actix_web::error::JsonPayloadError::Deserialize(e) => parse_failure(e),
                        _ => "the body must be JSON".to_owned(),
                    };
                    actix_web::error::InternalError::from_response(
                        err,
                        error(ApiError::new(ApiErrorKind::BadRequest, message)),
                    )
                    .into()
                }),
        )
        .route("/enrollment/start", web::post().to(submit_start))
        .route(
            "/enrollment/activate_user",
            web::post().to(submit_activate_user),
        )
        .route(
            "/enrollment/create_device",
            web::post().to(submit_create_device),
        )
        .route(
            "/enrollment/network_info",
            web::post().to(submit_network_info),
        )
        .route(
            "/enrollment/register-mfa/code/start",
            web::post().to(submit_register_mfa_start),
        )
        .route(
            "/enrollment/register-mfa/code/finish",
            web::post().to(submit_register_mfa_finish),
        )
        .route("/poll", web::post().to(submit_poll))
        .route("/info", web::get().to(show_info))
        .route("/health", web::get().to(super::health::show_health))
        .configure(super::admin_api::configure)
        .default_service(web::to(|| async {
            error(ApiError::new(ApiErrorKind::NotFound, "not found"))
        }))
}

/// What a body that is JSON but not the expected request is told. serde's own message can
/// quote the input (`invalid type: integer `5``), so only a missing field, whose name comes
/// from onramp, is named.
pub(super) fn parse_failure(e: &serde_json::Error) -> String {
    let message = e.to_string();
    match message.strip_prefix("missing field ") {
        Some(rest) if e.is_data() => format!(
            "invalid request: missing field {}",
            rest.split(" at line").next().unwrap_or(rest)
        ),
        _ if e.is_data() => "invalid request: a field has the wrong type or value".to_owned(),
        _ => "the body must be JSON".to_owned(),
    }
}

/// Refuses what the desktop client never sends but a web page can: a POST whose body is not
/// declared `application/json` (a page can send `text/plain` JSON without asking the server
/// first) answers 415, and a request a browser marks `Sec-Fetch-Site: cross-site`, or whose
/// `Origin` is not onramp's own, answers 403. Without this any page visited behind the same
/// NAT could spend the per-address limits of the token endpoints.
async fn refuse_browser_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let refusal = {
        let headers = req.headers();
        let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
        let own_origin = req
            .app_data::<web::Data<AppState>>()
            .map(|s| origin_of(&s.config.public_url).to_owned());
        let foreign_origin = text(header::ORIGIN).is_some_and(|o| {
            own_origin
                .as_deref()
                .is_none_or(|own| !o.eq_ignore_ascii_case(own))
        });
        let json = text(header::CONTENT_TYPE)
            .and_then(|t| t.split(';').next())
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
        if text(header::HeaderName::from_static("sec-fetch-site")) == Some("cross-site")
            || foreign_origin
        {
            Some(json_error(
                StatusCode::FORBIDDEN,
                "cross-site requests are refused",
            ))
        } else if req.method() == actix_web::http::Method::POST && !json {
            Some(json_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the body as JSON with Content-Type: application/json",
            ))
        } else {
            None
        }
    };
    match refusal {
        Some(res) => Ok(req.into_response(res).map_into_right_body()),
        None => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
    }
}

/// `scheme://host[:port]` of a URL, as browsers send it in `Origin`.
fn origin_of(url: &str) -> &str {
    let start = url.find("://").map_or(0, |i| i + 3);
    match url[start..].find('/') {
        Some(end) => &url[..start + end],
        None => url,
    }
}

/// `{"error": …}` with the error's status.
fn error(e: ApiError) -> HttpResponse {
    let status = match e.kind {
        ApiErrorKind::BadRequest => StatusCode::BAD_REQUEST,
        ApiErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ApiErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ApiErrorKind::NotFound => StatusCode::NOT_FOUND,
        ApiErrorKind::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
        ApiErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ApiErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let mut res = json_error(status, &e.message);
    if let ApiErrorKind::RateLimited(secs) = e.kind {
        if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    res
}

/// `{"error": message}` with `status`.
fn json_error(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(serde_json::json!({ "error": message }))
}

fn reply<T: serde::Serialize>(result: Result<T, ApiError>) -> HttpResponse {
    match result {
        Ok(body) => HttpResponse::Ok().json(body),
        Err(e) => error(e),
    }
}

/// The session cookie's value. The client echoes the whole `Set-Cookie` line, attributes and
/// all, so take the first `defguard_proxy=` pair and ignore the rest.
pub fn proxy_cookie(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .find_map(|pair| pair.strip_prefix("defguard_proxy="))
        .map(|v| v.trim().trim_matches('"').to_owned())
        .filter(|v| !v.is_empty())
}

async fn api_session(req: &HttpRequest, state: &AppState) -> Result<svc::ApiSession, ApiError> {
    let value = proxy_cookie(req).ok_or(ApiError::new(
        ApiErrorKind::Unauthorized,
        "missing session cookie; start with your token",
    ))?;
    svc::session(state, &value).await
}

fn session_cookie(value: String, expires: i64, https: bool) -> Cookie<'static> {
    let mut c = Cookie::build(COOKIE, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(https)
        .finish();
    if let Ok(t) = time::OffsetDateTime::from_unix_timestamp(expires) {
        c.set_expires(t);
    }
    c
}

/// `EnrollmentStartRequest`.
#[derive(Debug, Deserialize)]
pub struct StartRequest {
    token: String,
}

/// Starts a session with an enrollment or desktop token.
pub async fn submit_start(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<StartRequest>,
) -> HttpResponse {
    let who = actor(&req, &state, None);
    match svc::start(&state, &who, &body.token).await {
        Ok((response, cookie, deadline)) => HttpResponse::Ok()
            .cookie(session_cookie(cookie, deadline, state.config.is_https()))
            .json(response),
        Err(e) => error(e),
    }
}

/// `ActivateUserRequest`.
#[derive(Debug, Deserialize)]
pub struct ActivateRequest {
    password: String,
    #[serde(default)]
    phone_number: Option<String>,
}

/// Sets the password (enrollment tokens only) and ends the session.
pub async fn submit_activate_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<ActivateRequest>,
) -> HttpResponse {
    let session = match api_session(&req, &state).await {
        Ok(s) => s,
        Err(e) => return error(e),
    };
    let who = actor(&req, &state, None);
    match svc::activate_user(
        &state,
        &who,
        &session,
        &body.password,
        body.phone_number.as_deref(),
    )
    .await
    {
        Ok(()) => {
            let mut gone = session_cookie(String::new(), 0, state.config.is_https());
            gone.make_removal();
            HttpResponse::Ok().cookie(gone).json(serde_json::json!({}))
        }
        Err(e) => error(e),
    }
}

/// `NewDevice`.
#[derive(Debug, Deserialize)]
pub struct NewDeviceRequest {
    name: String,
    pubkey: String,
}

/// Adds a device for the token's user.
pub async fn submit_create_device(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<NewDeviceRequest>,
) -> HttpResponse {
    let session = match api_session(&req, &state).await {
        Ok(s) => s,
        Err(e) => return error(e),
    };
    let who = actor(&req, &state, None);
    reply(svc::create_device(&state, &who, &session, &body.name, &body.pubkey).await)
}

/// `ExistingDevice`.
#[derive(Debug, Deserialize)]
pub struct ExistingDeviceRequest {
    pubkey: String,
}

/// The current config of one of the token user's devices.
pub async fn submit_network_info(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<ExistingDeviceRequest>,
) -> HttpResponse {
    let session = match api_session(&req, &state).await {
        Ok(s) => s,
        Err(e) => return error(e),
    };
    reply(svc::network_info(&state, &session, &body.pubkey).await)
}

/// `InstanceInfoRequest`.
#[derive(Debug, Deserialize)]
pub struct PollRequest {
    token: String,
}

/// Configuration sync with a polling token; needs no licence.
pub async fn submit_poll(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<PollRequest>,
) -> HttpResponse {
    let who = actor(&req, &state, None);
    reply(svc::poll(&state, &who, &body.token).await)
}

/// The session, the method (the client's `MfaMethod` as it spells it: the set-up with a code
/// knows `Totp` and `Email`) and who is asking, for the two `register-mfa` calls.
async fn mfa_call(
    req: &HttpRequest,
    state: &AppState,
    method: &str,
) -> Result<(svc::ApiSession, svc::CodeMethod, crate::services::Actor), ApiError> {
    let session = api_session(req, state).await?;
    let method = match method {
        "Totp" => svc::CodeMethod::Totp,
        "Email" => svc::CodeMethod::Email,
        _ => {
            return Err(ApiError::new(
                ApiErrorKind::BadRequest,
                "method not supported: use \"Totp\" or \"Email\"",
            ))
        }
    };
    Ok((session, method, actor(req, state, None)))
}

/// `CodeMfaSetupStartRequest` (the token is the session cookie).
#[derive(Debug, Deserialize)]
pub struct MfaStartRequest {
    method: String,
}

/// Starts setting up an authenticator app or email codes.
pub async fn submit_register_mfa_start(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<MfaStartRequest>,
) -> HttpResponse {
    reply(
        async {
            let (session, method, who) = mfa_call(&req, &state, &body.method).await?;
            svc::register_mfa_start(&state, &who, &session, method).await
        }
        .await,
    )
}

/// `CodeMfaSetupFinishRequest` (the token is the session cookie). Early proxies read only
/// `code`, so a missing `method` means `Totp`.
#[derive(Debug, Deserialize)]
pub struct MfaFinishRequest {
    code: String,
    #[serde(default)]
    method: Option<String>,
}

/// Confirms the factor with a code; answers with the recovery codes.
pub async fn submit_register_mfa_finish(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<MfaFinishRequest>,
) -> HttpResponse {
    let method = body.method.as_deref().unwrap_or("Totp");
    reply(
        async {
            let (session, method, who) = mfa_call(&req, &state, method).await?;
            svc::register_mfa_finish(&state, &who, &session, method, &body.code).await
        }
        .await,
    )
}

/// What this server is.
pub async fn show_info() -> HttpResponse {
    HttpResponse::Ok().json(
        serde_json::json!({ "version": env!("CARGO_PKG_VERSION"), "api_version": API_VERSION }),
    )
}
