//! `/admin/setup`: the setup checklist, hidden or shown again for every admin.

use super::flash::{self, Kind};
use super::session::admin_post;
use super::{html, viewer, CsrfOnly};
use crate::error::AppError;
use crate::services::auth::AdminSession;
use crate::services::bootstrap::instance_name;
use crate::services::setup as svc;
use crate::state::AppState;
use crate::views::setup as view;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

/// The checklist.
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
) -> Result<HttpResponse, AppError> {
    let checklist = svc::checklist(&state, session.user_id).await?;
    let instance = instance_name(&state).await?;
    let (notice, _) = flash::notices(&req);
    let mut res = html(
        StatusCode::OK,
        view::setup_page(&instance, &viewer(&session), &checklist, notice.as_deref()),
    );
    flash::clear_on(&mut res, &req, state.config.is_https())?;
    Ok(res)
}

async fn set_hidden(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    form: web::Form<CsrfOnly>,
    hide: bool,
) -> Result<HttpResponse, AppError> {
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    svc::set_hidden(&state, &who, hide).await?;
    let (to, message) = if hide {
        (
            "/admin/users",
            "The setup checklist is hidden. It stays at /admin/setup.",
        )
    } else {
        ("/admin/setup", "The setup checklist is back in the header.")
    };
    Ok(flash::redirect_with(
        to,
        Kind::Notice,
        message,
        state.config.is_https(),
    ))
}

/// "Hide" / "Dismiss the checklist".
pub async fn submit_hide(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    set_hidden(req, state, session, form, true).await
}

/// "Show it in the header again".
pub async fn submit_show(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    set_hidden(req, state, session, form, false).await
}
