//! Apps: register, new secret, turn off and on, delete, rotate the signing key.

use super::flash::{self, Kind};
use super::session::admin_post;
use super::{html, viewer, CsrfOnly, PairsForm};
use crate::error::AppError;
use crate::services::auth::AdminSession;
use crate::services::bootstrap::instance_name;
use crate::services::oidc::apps::{self as svc, Issued, NewApp};
use crate::services::oidc::{issuer, keys};
use crate::state::AppState;
use crate::views::apps::{self as view, AppsPage};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

/// Registers the Apps routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admin/apps")
            .route(web::get().to(show_apps))
            .route(web::post().to(submit_new_app)),
    )
    .route("/admin/apps/rotate-key", web::post().to(submit_rotate_key))
    .route("/admin/apps/{id}/secret", web::post().to(submit_new_secret))
    .route("/admin/apps/{id}/delete", web::get().to(show_delete))
    .route("/admin/apps/{id}/{action}", web::post().to(submit_action));
}

async fn render(
    state: &AppState,
    session: &AdminSession,
    status: StatusCode,
    page: &AppsPage<'_>,
) -> Result<HttpResponse, AppError> {
    let list = svc::list(state).await?;
    let groups = crate::services::groups::all_groups(state).await?;
    let instance = instance_name(state).await?;
    Ok(html(
        status,
        view::apps_page(
            &instance,
            &viewer(session),
            &issuer(state),
            &list,
            &groups,
            page,
        ),
    ))
}

/// The list of apps and the register form.
pub async fn show_apps(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
) -> Result<HttpResponse, AppError> {
    let (notice, error) = flash::notices(&req);
    let page = AppsPage {
        notice: notice.as_deref(),
        error: error.as_deref(),
        ..Default::default()
    };
    let mut res = render(&state, &session, StatusCode::OK, &page).await?;
    flash::clear_on(&mut res, &req, state.config.is_https())?;
    Ok(res)
}

/// Registers an app and shows its secret once.
pub async fn submit_new_app(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    form: PairsForm,
) -> Result<HttpResponse, AppError> {
    let mut input = NewApp::default();
    let mut csrf = None;
    for (k, v) in form.into_inner() {
        match k.as_str() {
            "csrf_token" => csrf = Some(v),
            "name" => input.name = v,
            "redirect_uris" => input.redirect_uris = v,
            "post_logout_redirect_uris" => input.post_logout_redirect_uris = v,
            "kind" => input.kind = v,
            "groups" => input.groups.push(v),
            "require_mfa" => input.require_mfa = v == "on",
            _ => return Err(AppError::BadRequest(super::UNKNOWN_FIELDS.into())),
        }
    }
    let who = admin_post(&req, &state, &session, csrf.as_deref())?;
    match svc::register(&state, &who, &input).await {
        Ok(issued) => shown_once(&state, &session, &issued).await,
        Err(AppError::Validation(errors)) => {
            let page = AppsPage {
                form: input,
                errors: &errors,
                ..Default::default()
            };
            render(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, &page).await
        }
        Err(e) => Err(e),
    }
}

/// The page with a new secret on it; never cached.
async fn shown_once(
    state: &AppState,
    session: &AdminSession,
    issued: &Issued,
) -> Result<HttpResponse, AppError> {
    let page = AppsPage {
        issued: Some(issued),
        ..Default::default()
    };
    let mut res = render(state, session, StatusCode::OK, &page).await?;
    res.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// The delete confirmation.
pub async fn show_delete(
    state: web::Data<AppState>,
    session: AdminSession,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let name = svc::name_of(&state, id).await?;
    let instance = instance_name(&state).await?;
    Ok(html(
        StatusCode::OK,
        view::delete_app_page(&instance, &viewer(&session), id, &name),
    ))
}

/// Gives an app a new secret.
pub async fn submit_new_secret(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    path: web::Path<i64>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let issued = svc::rotate_secret(&state, &who, path.into_inner()).await?;
    shown_once(&state, &session, &issued).await
}

/// Turn off, turn on, delete.
pub async fn submit_action(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    path: web::Path<(i64, String)>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let (id, action) = path.into_inner();
    let message = match action.as_str() {
        "disable" => format!(
            "Turned off {}: nobody can sign in to it, and its tokens ended.",
            svc::set_enabled(&state, &who, id, false).await?
        ),
        "enable" => format!(
            "Turned on {}.",
            svc::set_enabled(&state, &who, id, true).await?
        ),
        "delete" => format!("Deleted {}.", svc::delete(&state, &who, id).await?),
        _ => return Err(AppError::NotFound),
    };
    Ok(flash::redirect_with(
        "/admin/apps",
        Kind::Notice,
        &message,
        state.config.is_https(),
    ))
}

/// Makes a new signing key.
pub async fn submit_rotate_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let kid = keys::rotate(&state).await?;
    let now = state.now().unix_timestamp();
    let at = who.clone();
    state
        .db
        .write(move |tx| {
            Ok(crate::db::audit::insert(
                tx,
                &at.event(now, "oidc.key_rotated", Some(&kid)),
            )?)
        })
        .await?;
    Ok(flash::redirect_with(
        "/admin/apps",
        Kind::Notice,
        "Made a new signing key: published now, used in 10 minutes.",
        state.config.is_https(),
    ))
}
