//! Login (password, then the second factor when the user has one) and logout, for every
//! user: admins land on the admin pages, everyone else on their account page.

use super::flash::{self, Kind};
use super::request::actor;
use super::session::{
    cookie, login_csrf_cookie_name, pre_session_form_ok, removal, session_cookie_name, user_post,
    verify_csrf,
};
use super::{html, see_other};
use crate::domain::oidc::safe_next;
use crate::error::AppError;
use crate::services::auth::{self, CodeError, LoginError, LoginStep, UserSession};
use crate::services::bootstrap::instance_name;
use crate::state::AppState;
use crate::views::login::{code_page, login_page};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// The login form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginForm {
    csrf_token: String,
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// Where to continue after logging in (`?next=`).
#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

/// The safe `next` path, or where the user starts.
fn continue_to(next: &str, is_admin: bool) -> String {
    safe_next(next).map_or_else(|| landing(is_admin).to_owned(), str::to_owned)
}

/// Where a finished login goes: a redirect to where the user starts, or, with a `next`, a page
/// that continues there. Browsers check a form's whole redirect chain against the CSP's
/// `form-action 'self'`, so a sign-in for another app must leave the form's chain before
/// onramp sends the browser to that app.
async fn finished(state: &AppState, next: &str, is_admin: bool) -> Result<HttpResponse, AppError> {
    Ok(match safe_next(next) {
        Some(n) => html(
            StatusCode::OK,
            crate::views::oidc::continue_page(&instance_name(state).await?, n),
        ),
        None => see_other(landing(is_admin)),
    })
}

/// The code step's address, carrying a safe `next`.
fn code_path(next: &str) -> String {
    match safe_next(next) {
        Some(n) => format!(
            "/login/code?{}",
            serde_urlencoded::to_string([("next", n)]).unwrap_or_default()
        ),
        None => "/login/code".to_owned(),
    }
}

/// Shows the login form (or goes to the users list when already logged in).
pub async fn show_login(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let https = state.config.is_https();
    if let Some(c) = req.cookie(session_cookie_name(https)) {
        if let Some(s) = auth::authenticate(&state, c.value()).await? {
            return Ok(see_other(&continue_to(&query.next, s.is_admin)));
        }
    }
    let notice = flash::take(&req).map(|(_, m)| m);
    let next = safe_next(&query.next).unwrap_or_default();
    render_login(
        &req,
        &state,
        StatusCode::OK,
        "",
        next,
        None,
        notice.as_deref(),
    )
    .await
}

async fn render_login(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    username: &str,
    next: &str,
    error: Option<&str>,
    notice: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let https = state.config.is_https();
    let name = login_csrf_cookie_name(https);
    let token = super::session::pre_session_token(req, https);
    let instance = instance_name(state).await?;
    let mut res = html(
        status,
        login_page(&instance, &token, username, next, error, notice),
    );
    res.add_cookie(&cookie(name, token, https))
        .map_err(AppError::internal)?;
    flash::clear_on(&mut res, req, https)?;
    Ok(res)
}

/// Checks the credentials and opens a session.
pub async fn submit_login(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let https = state.config.is_https();
    if !pre_session_form_ok(&req, &state, &form.csrf_token)? {
        let message = "Your login form expired. Please try again.";
        return render_login(
            &req,
            &state,
            StatusCode::FORBIDDEN,
            &form.username,
            &form.next,
            Some(message),
            None,
        )
        .await;
    }
    let who = actor(&req, &state, None);
    match auth::login(&state, &who, &form.username, &form.password).await {
        Ok(step) => {
            let (session, mut res) = match step {
                LoginStep::Done(s) => {
                    tracing::info!(username = %s.username, "logged in");
                    let res = finished(&state, &form.next, s.is_admin).await?;
                    (s, res)
                }
                LoginStep::SecondFactor(s) => (s, see_other(&code_path(&form.next))),
            };
            res.add_cookie(&cookie(
                session_cookie_name(https),
                session.cookie_value,
                https,
            ))
            .map_err(AppError::internal)?;
            res.add_cookie(&removal(login_csrf_cookie_name(https), https))
                .map_err(AppError::internal)?;
            Ok(res)
        }
        Err(LoginError::BadCredentials) => {
            render_login(
                &req,
                &state,
                StatusCode::UNAUTHORIZED,
                &form.username,
                &form.next,
                Some(auth::BAD_CREDENTIALS),
                None,
            )
            .await
        }
        Err(e @ LoginError::RateLimited(secs)) => {
            let mut res = render_login(
                &req,
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                &form.username,
                &form.next,
                Some(&e.to_string()),
                None,
            )
            .await?;
            res.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
            Ok(res)
        }
        Err(LoginError::App(e)) => Err(e),
    }
}

/// The logout form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogoutForm {
    #[serde(default)]
    csrf_token: Option<String>,
}

/// Ends the session on the server and forgets the cookie.
pub async fn submit_logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: UserSession,
    form: web::Form<LogoutForm>,
) -> Result<HttpResponse, AppError> {
    let who = user_post(&req, &state, &session, form.csrf_token.as_deref())?;
    auth::logout(&state, &who, &session.id_hash).await?;
    let https = state.config.is_https();
    let to = super::session::login_path(req.path());
    let mut res = flash::redirect_with(to, Kind::Notice, "You are logged out.", https);
    res.add_cookie(&removal(session_cookie_name(https), https))
        .map_err(AppError::internal)?;
    Ok(res)
}

/// Where a signed-in user starts: the admin pages for admins, their account for everyone else.
pub fn landing(is_admin: bool) -> &'static str {
    if is_admin {
        "/admin/users"
    } else {
        "/me"
    }
}

/// The second-factor form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeForm {
    csrf_token: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

async fn pending(
    req: &HttpRequest,
    state: &AppState,
) -> Result<Option<auth::PendingLogin>, AppError> {
    let Some(c) = req.cookie(session_cookie_name(state.config.is_https())) else {
        return Ok(None);
    };
    auth::pending_login(state, c.value()).await
}

async fn render_code(
    state: &AppState,
    p: &auth::PendingLogin,
    next: &str,
    status: StatusCode,
    error: Option<&str>,
    notice: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let instance = instance_name(state).await?;
    Ok(html(
        status,
        code_page(
            &instance,
            &p.csrf_token,
            safe_next(next).unwrap_or_default(),
            p.factors.totp,
            p.factors.email,
            error,
            notice,
        ),
    ))
}

/// The second step of a login: the code form.
pub async fn show_code(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(p) = pending(&req, &state).await? else {
        return Ok(flash::redirect_with(
            "/login",
            Kind::Notice,
            "Sign in again: the wait for the code ended.",
            state.config.is_https(),
        ));
    };
    render_code(&state, &p, &query.next, StatusCode::OK, None, None).await
}

/// Checks the code and signs the user in.
pub async fn submit_code(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let https = state.config.is_https();
    let Some(p) = pending(&req, &state).await? else {
        return Ok(flash::redirect_with(
            "/login",
            Kind::Notice,
            "Sign in again: the wait for the code ended.",
            https,
        ));
    };
    verify_csrf(&req, &state, &p.csrf_token, Some(&form.csrf_token))?;
    if form.code.trim().is_empty() {
        let msg = "Enter the code from your authenticator app, your email or a recovery code.";
        return render_code(
            &state,
            &p,
            &form.next,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(msg),
            None,
        )
        .await;
    }
    let who = actor(&req, &state, None);
    match auth::finish_login(&state, &who, &p, &form.code).await {
        Ok(session) => {
            let mut res = finished(&state, &form.next, session.is_admin).await?;
            res.add_cookie(&cookie(
                session_cookie_name(https),
                session.cookie_value,
                https,
            ))
            .map_err(AppError::internal)?;
            Ok(res)
        }
        Err(e @ CodeError::Wrong) => {
            render_code(
                &state,
                &p,
                &form.next,
                StatusCode::UNAUTHORIZED,
                Some(&e.to_string()),
                None,
            )
            .await
        }
        Err(e @ CodeError::RateLimited(secs)) => {
            let mut res = render_code(
                &state,
                &p,
                &form.next,
                StatusCode::TOO_MANY_REQUESTS,
                Some(&e.to_string()),
                None,
            )
            .await?;
            res.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
            Ok(res)
        }
        Err(CodeError::App(e)) => Err(e),
    }
}

/// "Email me a code" on the code form.
pub async fn submit_email_code(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let Some(p) = pending(&req, &state).await? else {
        return Ok(see_other("/login"));
    };
    verify_csrf(&req, &state, &p.csrf_token, Some(&form.csrf_token))?;
    if !p.factors.email {
        return Err(AppError::BadRequest(
            "Email codes are not turned on for this account.".into(),
        ));
    }
    let who = actor(&req, &state, Some((&p.username, p.user_id)));
    match crate::services::mfa::send_email_code(&state, &who, p.user_id).await? {
        Ok(()) => {
            render_code(
                &state,
                &p,
                &form.next,
                StatusCode::OK,
                None,
                Some("A code is on its way to your email. It works for 10 minutes."),
            )
            .await
        }
        Err(secs) => {
            let msg = format!("Too many codes asked for. Try again in {secs} seconds.");
            render_code(
                &state,
                &p,
                &form.next,
                StatusCode::TOO_MANY_REQUESTS,
                Some(&msg),
                None,
            )
            .await
        }
    }
}
