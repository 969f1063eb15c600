//! "API tokens": create, list and revoke the admin API's bearer tokens.

use super::flash::{self, Kind};
use super::session::admin_post;
use super::{html, viewer, CsrfOnly};
use crate::error::AppError;
use crate::services::admin_api as svc;
use crate::services::auth::AdminSession;
use crate::services::bootstrap::instance_name;
use crate::state::AppState;
use crate::views::api_tokens::{self as view, TokensPage};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// The page.
pub async fn show_tokens(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
) -> Result<HttpResponse, AppError> {
    let list = svc::list_tokens(&state).await?;
    let (notice, error) = flash::notices(&req);
    let instance = instance_name(&state).await?;
    let page = TokensPage {
        notice: notice.as_deref(),
        error: error.as_deref(),
        now: state.now().unix_timestamp(),
        ..TokensPage::default()
    };
    let mut res = html(
        StatusCode::OK,
        view::tokens_page(&instance, &viewer(&session), &list, &page),
    );
    flash::clear_on(&mut res, &req, state.config.is_https())?;
    Ok(res)
}

/// The "Create token" form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTokenForm {
    #[serde(default)]
    csrf_token: Option<String>,
    #[serde(default)]
    name: String,
}

/// Creates a token and shows it once, in this response only.
pub async fn submit_new_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    form: web::Form<NewTokenForm>,
) -> Result<HttpResponse, AppError> {
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let result = svc::create_token(&state, &who, &form.name).await;
    let list = svc::list_tokens(&state).await?;
    let instance = instance_name(&state).await?;
    let now = state.now().unix_timestamp();
    let v = viewer(&session);
    match result {
        Ok(secret) => {
            let name = form.name.trim();
            let page = TokensPage {
                created: Some((name, &secret)),
                now,
                ..TokensPage::default()
            };
            Ok(html(
                StatusCode::OK,
                view::tokens_page(&instance, &v, &list, &page),
            ))
        }
        Err(AppError::Validation(errors)) => {
            let page = TokensPage {
                name: &form.name,
                errors: &errors,
                now,
                ..TokensPage::default()
            };
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                view::tokens_page(&instance, &v, &list, &page),
            ))
        }
        Err(e) => Err(e),
    }
}

/// Revokes a token: its next call gets 401.
pub async fn submit_revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let name = svc::revoke_token(&state, &who, *id).await?;
    Ok(flash::redirect_with(
        "/admin/api-tokens",
        Kind::Notice,
        &format!("Revoked the API token {name}. Calls with it are refused from now on."),
        state.config.is_https(),
    ))
}
