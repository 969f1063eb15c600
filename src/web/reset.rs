//! Password reset for users who forgot theirs: `/reset/request`, the emailed `/reset?token=…`
//! and `/reset/password`. The reset has its own cookie, so it never replaces a signed-in
//! session in the same browser.

use super::flash::{self, Kind};
use super::request::actor;
use super::session::{
    cookie, login_csrf_cookie_name, pre_session_form_ok, removal, verify_csrf, verify_origin,
};
use super::{html, see_other};
use crate::error::AppError;
use crate::mail::templates::duration_words;
use crate::services::bootstrap::instance_name;
use crate::services::password_reset as svc;
use crate::state::AppState;
use crate::views::reset as view;
use actix_web::http::header::{HeaderValue, CACHE_CONTROL, RETRY_AFTER};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

fn reset_cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-onramp_reset"
    } else {
        "onramp_reset"
    }
}

/// The "Forgot your password?" form.
pub async fn show_request(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let notice = flash::take(&req).map(|(_, m)| m);
    render_request(&req, &state, StatusCode::OK, "", notice.as_deref(), None).await
}

async fn render_request(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    login: &str,
    notice: Option<&str>,
    error: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let https = state.config.is_https();
    let name = login_csrf_cookie_name(https);
    let token = super::session::pre_session_token(req, https);
    let instance = instance_name(state).await?;
    let mut res = html(
        status,
        view::request_page(&instance, &token, login, notice, error),
    );
    res.add_cookie(&cookie(name, token, https))
        .map_err(AppError::internal)?;
    flash::clear_on(&mut res, req, https)?;
    Ok(res)
}

/// The request form as submitted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestForm {
    csrf_token: String,
    #[serde(default)]
    login: String,
}

/// Emails a link when the account exists; the same answer either way.
pub async fn submit_request(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<RequestForm>,
) -> Result<HttpResponse, AppError> {
    let https = state.config.is_https();
    if !pre_session_form_ok(&req, &state, &form.csrf_token)? {
        let msg = "This form expired. Please try again.";
        return render_request(
            &req,
            &state,
            StatusCode::FORBIDDEN,
            &form.login,
            None,
            Some(msg),
        )
        .await;
    }
    if form.login.trim().is_empty() {
        let msg = "Type your username or email.";
        return render_request(
            &req,
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
            None,
            Some(msg),
        )
        .await;
    }
    let who = actor(&req, &state, None);
    match svc::request(&state, &who, &form.login).await {
        Ok(()) => {
            let valid = duration_words(state.config.reset_token_ttl.whole_seconds());
            let msg = format!(
                "If an account with that username or email exists, we emailed it a link to choose a new password. The link works for {valid}."
            );
            Ok(flash::redirect_with(
                "/reset/request",
                Kind::Notice,
                &msg,
                https,
            ))
        }
        Err(AppError::RateLimited(secs)) => {
            let msg = format!("Too many requests from your network. Try again in {secs} seconds.");
            let mut res = render_request(
                &req,
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                &form.login,
                None,
                Some(&msg),
            )
            .await?;
            res.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(secs));
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

/// The link's query.
#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    token: String,
}

/// The emailed link: shows "Continue" when it can be used; changes nothing.
pub async fn show_link(
    state: web::Data<AppState>,
    query: web::Query<LinkQuery>,
) -> Result<HttpResponse, AppError> {
    let instance = instance_name(&state).await?;
    let token = query.token.trim();
    if token.is_empty() || token.len() > 128 || !svc::link_is_live(&state, token).await? {
        return Ok(html(StatusCode::NOT_FOUND, view::invalid_page(&instance)));
    }
    let window = duration_words(state.config.reset_session_ttl.whole_seconds());
    let mut res = html(
        StatusCode::OK,
        view::landing_page(&instance, token, &window),
    );
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// The landing page's form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartForm {
    #[serde(default)]
    token: String,
}

/// "Continue": opens the window and the reset session.
pub async fn submit_start(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<StartForm>,
) -> Result<HttpResponse, AppError> {
    verify_origin(&req, &state)?;
    let who = actor(&req, &state, None);
    let token = form.token.trim();
    let started = if token.is_empty() || token.len() > 128 {
        None
    } else {
        svc::start(&state, &who, token).await?
    };
    let Some(cookie_value) = started else {
        let instance = instance_name(&state).await?;
        return Ok(html(StatusCode::NOT_FOUND, view::invalid_page(&instance)));
    };
    let https = state.config.is_https();
    let mut res = see_other("/reset/password");
    res.add_cookie(&cookie(reset_cookie_name(https), cookie_value, https))
        .map_err(AppError::internal)?;
    Ok(res)
}

async fn current(
    req: &HttpRequest,
    state: &AppState,
) -> Result<Option<svc::ResetSession>, AppError> {
    let Some(c) = req.cookie(reset_cookie_name(state.config.is_https())) else {
        return Ok(None);
    };
    svc::session(state, c.value()).await
}

async fn render_password(
    state: &AppState,
    rs: &svc::ResetSession,
    status: StatusCode,
    errors: &[crate::domain::FieldError],
) -> Result<HttpResponse, AppError> {
    let instance = instance_name(state).await?;
    let deadline = crate::views::format_time(rs.deadline);
    Ok(html(
        status,
        view::password_page(&instance, &rs.csrf_token, &rs.username, &deadline, errors),
    ))
}

/// The new-password form.
pub async fn show_password(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let Some(rs) = current(&req, &state).await? else {
        let instance = instance_name(&state).await?;
        return Ok(html(StatusCode::NOT_FOUND, view::invalid_page(&instance)));
    };
    render_password(&state, &rs, StatusCode::OK, &[]).await
}

/// The new password as submitted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordForm {
    csrf_token: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_repeat: String,
}

/// Sets the new password and sends the user to sign in with it.
pub async fn submit_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let Some(rs) = current(&req, &state).await? else {
        let instance = instance_name(&state).await?;
        return Ok(html(StatusCode::NOT_FOUND, view::invalid_page(&instance)));
    };
    verify_csrf(&req, &state, &rs.csrf_token, Some(&form.csrf_token))?;
    let _ = &form.username;
    let who = actor(&req, &state, Some((&rs.username, rs.user_id)));
    match svc::finish(&state, &who, &rs, &form.password, &form.password_repeat).await {
        Ok(()) => {
            let https = state.config.is_https();
            let mut res = flash::redirect_with(
                "/login",
                Kind::Notice,
                "Your password was changed. Sign in with the new one.",
                https,
            );
            res.add_cookie(&removal(reset_cookie_name(https), https))
                .map_err(AppError::internal)?;
            Ok(res)
        }
        Err(AppError::Validation(errors)) => {
            render_password(&state, &rs, StatusCode::UNPROCESSABLE_ENTITY, &errors).await
        }
        Err(e) => Err(e),
    }
}
