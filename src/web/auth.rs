//! Admin login and logout.

use super::flash::{self, Kind};
use super::request::actor;
use super::session::{
    admin_post, cookie, login_csrf_cookie_name, removal, session_cookie_name, verify_origin,
};
use super::{html, see_other};
use crate::crypto::{constant_time_eq, random_alphanumeric};
use crate::error::AppError;
use crate::services::auth::{self, AdminSession, LoginError};
use crate::services::bootstrap::instance_name;
use crate::state::AppState;
use crate::views::login::login_page;
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
}

/// Shows the login form (or goes to the users list when already logged in).
pub async fn show_login(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let https = state.config.is_https();
    if let Some(c) = req.cookie(session_cookie_name(https)) {
        if auth::authenticate(&state, c.value()).await?.is_some() {
            return Ok(see_other("/admin/users"));
        }
    }
    let notice = flash::take(&req).map(|(_, m)| m);
    render_login(&req, &state, StatusCode::OK, "", None, notice.as_deref()).await
}

async fn render_login(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    username: &str,
    error: Option<&str>,
    notice: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let https = state.config.is_https();
    let name = login_csrf_cookie_name(https);
    let token = req
        .cookie(name)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 43)
        .unwrap_or_else(|| random_alphanumeric(43));
    let instance = instance_name(state).await?;
    let mut res = html(
        status,
        login_page(&instance, &token, username, error, notice),
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
    verify_origin(&req, &state)?;
    let expected = req
        .cookie(login_csrf_cookie_name(https))
        .map(|c| c.value().to_owned());
    if !expected.is_some_and(|e| constant_time_eq(&e, &form.csrf_token)) {
        let message = "Your login form expired. Please try again.";
        return render_login(
            &req,
            &state,
            StatusCode::FORBIDDEN,
            &form.username,
            Some(message),
            None,
        )
        .await;
    }
    let who = actor(&req, &state, None);
    match auth::login(&state, &who, &form.username, &form.password).await {
        Ok(session) => {
            tracing::info!(username = %session.username, "admin logged in");
            Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/admin/users"))
                .cookie(cookie(
                    session_cookie_name(https),
                    session.cookie_value,
                    https,
                ))
                .cookie(removal(login_csrf_cookie_name(https), https))
                .finish())
        }
        Err(LoginError::BadCredentials) => {
            render_login(
                &req,
                &state,
                StatusCode::UNAUTHORIZED,
                &form.username,
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
    session: AdminSession,
    form: web::Form<LogoutForm>,
) -> Result<HttpResponse, AppError> {
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    auth::logout(&state, &who, &session).await?;
    let https = state.config.is_https();
    let mut res = flash::redirect_with("/admin/login", Kind::Notice, "You are logged out.", https);
    res.add_cookie(&removal(session_cookie_name(https), https))
        .map_err(AppError::internal)?;
    Ok(res)
}
