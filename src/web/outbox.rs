//! The outbox pages.

use super::flash::{self, Kind};
use super::session::verify_csrf;
use super::{html, viewer, CsrfOnly};
use crate::error::AppError;
use crate::services::auth::AdminSession;
use crate::services::outbox as svc;
use crate::services::settings::{effective_smtp, get_settings};
use crate::state::AppState;
use crate::views::outbox as view;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// Outbox filters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    before: Option<i64>,
}

/// Lists emails, newest first.
pub async fn show_outbox(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    query: web::Query<OutboxQuery>,
) -> Result<HttpResponse, AppError> {
    let status = query
        .status
        .as_deref()
        .and_then(crate::domain::outbox::OutboxStatus::parse);
    let (rows, counts) = svc::list(&state, status, query.before).await?;
    let settings = get_settings(&state).await?;
    let configured = effective_smtp(&state, &settings).is_some();
    let (notice, error) = flash::notices(&req);
    let page = view::outbox_page(
        &settings.instance_name,
        &viewer(&session),
        &rows,
        &counts,
        configured,
        notice.as_deref(),
        error.as_deref(),
    );
    let mut res = html(StatusCode::OK, page);
    flash::clear_on(&mut res, &req, state.config.is_https())?;
    Ok(res)
}

/// One email.
pub async fn show_mail(
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let mail = svc::get(&state, *id).await?;
    let settings = get_settings(&state).await?;
    let configured = effective_smtp(&state, &settings).is_some();
    Ok(html(
        StatusCode::OK,
        view::mail_page(
            &settings.instance_name,
            &viewer(&session),
            &mail,
            configured,
        ),
    ))
}

/// "Retry now".
pub async fn submit_retry(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    verify_csrf(
        &req,
        &state,
        &session.csrf_token,
        form.csrf_token.as_deref(),
    )?;
    let https = state.config.is_https();
    match svc::retry_now(&state, *id).await {
        Ok(()) => Ok(flash::redirect_with(
            "/admin/outbox",
            Kind::Notice,
            "Retrying now.",
            https,
        )),
        Err(AppError::BadRequest(m)) => Ok(flash::redirect_with(
            "/admin/outbox",
            Kind::Error,
            &m,
            https,
        )),
        Err(e) => Err(e),
    }
}
