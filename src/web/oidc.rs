//! The OpenID Connect endpoints: discovery, JWKS, authorize (with consent), token, userinfo,
//! revocation and RP-initiated logout.

use super::request::actor;
use super::session::{session_cookie_name, user_post, verify_csrf};
use super::{html, see_other};
use crate::error::AppError;
use crate::services::auth::{self, UserSession};
use crate::services::bootstrap::instance_name;
use crate::services::oidc::tokens::{self, ClientAuth, TokenError, TokenParams};
use crate::services::oidc::{self as svc, keys, AuthorizeParams, Checked, Next, Refusal};
use crate::state::AppState;
use crate::views::oidc as view;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine as _;

/// Registers the provider's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/.well-known/openid-configuration",
        web::get().to(show_discovery),
    )
    .route("/oidc/jwks", web::get().to(show_jwks))
    .service(
        web::resource("/oidc/authorize")
            .route(web::get().to(show_authorize))
            .route(web::post().to(submit_consent)),
    )
    .route("/oidc/token", web::post().to(submit_token))
    .service(
        web::resource("/oidc/userinfo")
            .route(web::get().to(show_userinfo))
            .route(web::post().to(show_userinfo)),
    )
    .route("/oidc/revoke", web::post().to(submit_revoke))
    .route(
        "/me/apps/{id}/disconnect",
        web::post().to(submit_disconnect),
    )
    .service(
        web::resource("/oidc/logout")
            .route(web::get().to(show_logout))
            .route(web::post().to(submit_logout)),
    );
}

fn cached_json(value: &serde_json::Value, max_age: i64) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={max_age}")))
        .json(value)
}

/// `/.well-known/openid-configuration`.
pub async fn show_discovery(state: web::Data<AppState>) -> HttpResponse {
    let iss = svc::issuer(&state);
    cached_json(
        &serde_json::json!({
            "issuer": iss,
            "authorization_endpoint": format!("{iss}/oidc/authorize"),
            "token_endpoint": format!("{iss}/oidc/token"),
            "userinfo_endpoint": format!("{iss}/oidc/userinfo"),
            "jwks_uri": format!("{iss}/oidc/jwks"),
            "revocation_endpoint": format!("{iss}/oidc/revoke"),
            "end_session_endpoint": format!("{iss}/oidc/logout"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": crate::domain::oidc::SCOPES,
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "amr", "nonce", "azp", "email", "email_verified", "name", "given_name", "family_name", "preferred_username", "groups"],
            "prompt_values_supported": ["none", "login", "consent"],
            "claims_parameter_supported": false,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
        }),
        keys::JWKS_MAX_AGE,
    )
}

/// The signing keys.
pub async fn show_jwks(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    Ok(cached_json(&keys::jwks(&state).await?, keys::JWKS_MAX_AGE))
}

async fn current_session(
    req: &HttpRequest,
    state: &AppState,
) -> Result<Option<UserSession>, AppError> {
    let Some(c) = req.cookie(session_cookie_name(state.config.is_https())) else {
        return Ok(None);
    };
    auth::authenticate(state, c.value()).await
}

/// Sends the browser to `redirect_uri` with the answer appended to its query: a redirect, or
/// after a form (`from_form`: the app's name) a page that goes on by itself, since the CSP's
/// `form-action 'self'` stops a form's redirect at another site.
async fn back_to_app(
    state: &AppState,
    from_form: Option<&str>,
    redirect_uri: &str,
    pairs: &[(&str, &str)],
) -> Result<HttpResponse, AppError> {
    let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    let to = format!("{redirect_uri}{sep}{query}");
    Ok(match from_form {
        Some(app) => html(
            StatusCode::OK,
            view::return_page(&instance_name(state).await?, app, &to),
        ),
        None => see_other(&to),
    })
}

async fn refusal_response(
    state: &AppState,
    from_form: Option<&str>,
    p: &AuthorizeParams,
    r: Refusal,
) -> Result<HttpResponse, AppError> {
    match r {
        Refusal::Page(message) => Err(AppError::BadRequest(message)),
        Refusal::Redirect { error, description } => {
            let mut pairs = vec![
                ("error", error),
                ("error_description", description.as_str()),
            ];
            if let Some(s) = &p.state {
                pairs.push(("state", s));
            }
            back_to_app(state, from_form, &p.redirect_uri, &pairs).await
        }
    }
}

fn authorize_url(p: &AuthorizeParams) -> String {
    format!(
        "/oidc/authorize?{}",
        serde_urlencoded::to_string(p).unwrap_or_default()
    )
}

/// The authorization endpoint.
pub async fn show_authorize(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<AuthorizeParams>,
) -> Result<HttpResponse, AppError> {
    let p = query.into_inner();
    let ck = match svc::check(&state, &p).await? {
        Ok(ck) => ck,
        Err(r) => return refusal_response(&state, None, &p, r).await,
    };
    let session = current_session(&req, &state).await?;
    let from_elsewhere = req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|s| s != "same-origin" && s != "none");
    if session.is_none() && from_elsewhere && !ck.prompt.none {
        // Browsers withhold the session cookie from another site's link; one reload from here
        // sends it.
        let instance = instance_name(&state).await?;
        return Ok(html(
            StatusCode::OK,
            view::continue_page(&instance, &authorize_url(&p)),
        ));
    }
    proceed(&req, &state, &p, &ck, session.as_ref(), false).await
}

async fn proceed(
    req: &HttpRequest,
    state: &AppState,
    p: &AuthorizeParams,
    ck: &Checked,
    session: Option<&UserSession>,
    consent_given: bool,
) -> Result<HttpResponse, AppError> {
    let from_form = consent_given.then_some(ck.client.name.as_str());
    let who = actor(
        req,
        state,
        session.map(|s| (s.username.as_str(), s.user_id)),
    );
    match svc::decide(state, &who, p, ck, session, consent_given).await? {
        Next::Login { fresh } => {
            if fresh {
                if let Some(s) = session {
                    auth::logout(state, &who, &s.id_hash).await?;
                }
            }
            // After the login the request continues without asking for another one.
            let again = AuthorizeParams {
                prompt: None,
                ..p.clone()
            };
            let next =
                serde_urlencoded::to_string([("next", authorize_url(&again))]).unwrap_or_default();
            Ok(see_other(&format!("/login?{next}")))
        }
        Next::Consent => {
            let Some(s) = session else {
                return Err(AppError::internal(anyhow::anyhow!(
                    "consent without a session"
                )));
            };
            let instance = instance_name(state).await?;
            let hidden = consent_fields(p);
            let v = view::ConsentView {
                app: &ck.client.name,
                username: &s.username,
                shares: ck
                    .scope
                    .iter()
                    .filter_map(|s| view::share_sentence(s))
                    .collect(),
                hidden,
                csrf: &s.csrf_token,
            };
            Ok(html(StatusCode::OK, view::consent_page(&instance, &v)))
        }
        Next::Refused(message) => Err(AppError::Forbidden(message)),
        Next::Error(r) => refusal_response(state, from_form, p, r).await,
        Next::Code(code) => {
            let mut pairs = vec![("code", code.as_str())];
            if let Some(s) = &p.state {
                pairs.push(("state", s));
            }
            back_to_app(state, from_form, &p.redirect_uri, &pairs).await
        }
    }
}

fn consent_fields(p: &AuthorizeParams) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("client_id", p.client_id.clone()),
        ("redirect_uri", p.redirect_uri.clone()),
        ("response_type", p.response_type.clone()),
        ("scope", p.scope.clone()),
    ];
    for (name, value) in [
        ("state", &p.state),
        ("nonce", &p.nonce),
        ("code_challenge", &p.code_challenge),
        ("code_challenge_method", &p.code_challenge_method),
        ("max_age", &p.max_age),
    ] {
        if let Some(v) = value {
            out.push((name, v.clone()));
        }
    }
    out
}

/// The consent form's answer.
#[derive(Debug, serde::Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    csrf_token: Option<String>,
    #[serde(default)]
    decision: String,
    #[serde(flatten)]
    params: AuthorizeParams,
}

/// Allow or Cancel on the consent page.
pub async fn submit_consent(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: UserSession,
    form: web::Form<ConsentForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let who = user_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let p = AuthorizeParams {
        prompt: None,
        ..form.params
    };
    let ck = match svc::check(&state, &p).await? {
        Ok(ck) => ck,
        Err(r) => return refusal_response(&state, None, &p, r).await,
    };
    if form.decision != "allow" {
        svc::deny(&state, &who, &ck.client).await?;
        return refusal_response(
            &state,
            Some(&ck.client.name),
            &p,
            Refusal::Redirect {
                error: "access_denied",
                description: "the user declined".into(),
            },
        )
        .await;
    }
    proceed(&req, &state, &p, &ck, Some(&session), true).await
}

fn token_error(e: TokenError) -> HttpResponse {
    let status = match &e {
        TokenError::InvalidClient(_) => StatusCode::UNAUTHORIZED,
        TokenError::App(a) => return actix_web::ResponseError::error_response(a),
        _ => StatusCode::BAD_REQUEST,
    };
    let mut res = HttpResponse::build(status);
    if status == StatusCode::UNAUTHORIZED {
        res.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"onramp\""));
    }
    res.insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({"error": e.code(), "error_description": e.to_string()}))
}

/// `client_secret_basic` from the header, else `client_secret_post` (or a public app's bare
/// `client_id`) from the body; both at once is refused.
fn client_auth(
    req: &HttpRequest,
    post_id: Option<String>,
    post_secret: Option<String>,
) -> Result<ClientAuth, TokenError> {
    let basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "));
    if let Some(b64) = basic {
        if post_secret.is_some() {
            return Err(TokenError::InvalidRequest(
                "use one client authentication method",
            ));
        }
        let bad = || TokenError::InvalidClient("the Authorization header cannot be read");
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|_| bad())?;
        let raw = String::from_utf8(raw).map_err(|_| bad())?;
        let (id, secret) = raw.split_once(':').ok_or_else(bad)?;
        let decode = |s: &str| -> Result<String, TokenError> {
            serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
                .ok()
                .and_then(|v| v.into_iter().next().map(|(_, v)| v))
                .ok_or_else(bad)
        };
        return Ok(ClientAuth {
            client_id: decode(id)?,
            secret: Some(decode(secret)?),
        });
    }
    let client_id = post_id.ok_or(TokenError::InvalidClient(
        "client authentication is missing",
    ))?;
    Ok(ClientAuth {
        client_id,
        secret: post_secret,
    })
}

fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, TokenError> {
    serde_urlencoded::from_bytes(body).map_err(|_| {
        TokenError::InvalidRequest("the body must be application/x-www-form-urlencoded")
    })
}

/// The token endpoint.
pub async fn submit_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let result = async {
        let mut p: TokenParams = parse_body(&body)?;
        let auth = client_auth(&req, p.client_id.take(), p.client_secret.take())?;
        tokens::token(&state, &actor(&req, &state, None), &auth, &p).await
    }
    .await;
    match result {
        Ok(t) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(t),
        Err(e) => token_error(e),
    }
}

/// The revocation request's fields.
#[derive(Debug, serde::Deserialize)]
struct RevokeParams {
    #[serde(default)]
    token: String,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// RFC 7009 revocation.
pub async fn submit_revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let result = async {
        let p: RevokeParams = parse_body(&body)?;
        let auth = client_auth(&req, p.client_id, p.client_secret)?;
        if p.token.is_empty() {
            return Err(TokenError::InvalidRequest("token is missing"));
        }
        tokens::revoke(&state, &actor(&req, &state, None), &auth, &p.token).await
    }
    .await;
    match result {
        Ok(()) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Err(e) => token_error(e),
    }
}

/// Userinfo, for a bearer access token (GET or POST).
pub async fn show_userinfo(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let claims = match bearer {
        Some(b) if !b.is_empty() => tokens::userinfo(&state, b).await?,
        _ => None,
    };
    Ok(match claims {
        Some(c) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(c),
        None => HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""))
            .json(serde_json::json!({"error": "invalid_token"})),
    })
}

/// An app's logout request.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct LogoutParams {
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    client_id: Option<String>,
    #[serde(default)]
    csrf_token: Option<String>,
}

/// Where to go after the logout, when the app registered that address.
async fn logout_target(
    state: &AppState,
    p: &LogoutParams,
) -> Result<(Option<String>, Option<String>), AppError> {
    let client = match (&p.id_token_hint, &p.client_id) {
        (Some(hint), _) => tokens::hint_client(state, hint).await?,
        (None, Some(id)) => {
            let id = id.clone();
            state
                .db
                .read(move |c| Ok(crate::db::oidc::client_by_client_id(c, &id)?))
                .await?
        }
        (None, None) => None,
    };
    let Some(uri) = &p.post_logout_redirect_uri else {
        return Ok((client.map(|c| c.name), None));
    };
    let Some(client) = client else {
        return Err(AppError::BadRequest("The app's sign-out request cannot be checked (no valid id_token_hint), so onramp will not send you back to it.".into()));
    };
    if !client.post_logout_redirect_uris.iter().any(|u| u == uri) {
        return Err(AppError::BadRequest(format!(
            "{} asked to send you to an address it has not registered for sign-out.",
            client.name
        )));
    }
    let mut to = uri.clone();
    if let Some(s) = &p.state {
        let q = serde_urlencoded::to_string([("state", s)]).unwrap_or_default();
        to.push(if to.contains('?') { '&' } else { '?' });
        to.push_str(&q);
    }
    Ok((Some(client.name), Some(to)))
}

/// RP-initiated logout: asks before signing out.
pub async fn show_logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LogoutParams>,
) -> Result<HttpResponse, AppError> {
    let p = query.into_inner();
    let (app, _) = logout_target(&state, &p).await?;
    let instance = instance_name(&state).await?;
    // The page posts back from onramp itself, where the session cookie is sent.
    let token = super::session::pre_session_token(&req, state.config.is_https());
    let mut hidden = Vec::new();
    for (name, value) in [
        ("id_token_hint", &p.id_token_hint),
        ("post_logout_redirect_uri", &p.post_logout_redirect_uri),
        ("state", &p.state),
        ("client_id", &p.client_id),
    ] {
        if let Some(v) = value {
            hidden.push((name, v.clone()));
        }
    }
    let mut res = html(
        StatusCode::OK,
        view::logout_page(&instance, app.as_deref(), &token, &hidden),
    );
    let https = state.config.is_https();
    res.add_cookie(&super::session::cookie(
        super::session::login_csrf_cookie_name(https),
        token,
        https,
    ))
    .map_err(AppError::internal)?;
    Ok(res)
}

/// Signs out and returns to the app's registered address.
pub async fn submit_logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LogoutParams>,
) -> Result<HttpResponse, AppError> {
    let p = form.into_inner();
    let https = state.config.is_https();
    let expected = req
        .cookie(super::session::login_csrf_cookie_name(https))
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    verify_csrf(&req, &state, &expected, p.csrf_token.as_deref())?;
    let (app, to) = logout_target(&state, &p).await?;
    if let Some(s) = current_session(&req, &state).await? {
        let who = actor(&req, &state, Some((&s.username, s.user_id)));
        auth::logout(&state, &who, &s.id_hash).await?;
    }
    let instance = instance_name(&state).await?;
    let mut res = match to {
        Some(to) => html(
            StatusCode::OK,
            view::return_page(&instance, app.as_deref().unwrap_or("the app"), &to),
        ),
        None => html(StatusCode::OK, view::signed_out_page(&instance)),
    };
    res.add_cookie(&super::session::removal(session_cookie_name(https), https))
        .map_err(AppError::internal)?;
    Ok(res)
}

/// "Disconnect" under Connected apps.
pub async fn submit_disconnect(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: UserSession,
    path: web::Path<i64>,
    form: web::Form<super::CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    let who = user_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let name = svc::disconnect(&state, &who, session.user_id, path.into_inner()).await?;
    Ok(super::flash::redirect_with(
        "/me#apps",
        super::flash::Kind::Notice,
        &format!("Disconnected {name}: it signed you out and will ask again next time."),
        state.config.is_https(),
    ))
}
