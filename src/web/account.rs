//! "My account" (`/me`) for every signed-in user: profile, devices, the desktop client,
//! password and two-factor.

use super::devices::{self, AddDeviceForm, Owner, RenameForm};
use super::flash::{self, Kind};
use super::session::user_post;
use super::{html, CsrfOnly};
use crate::domain::FieldError;
use crate::error::AppError;
use crate::services::account::{self as svc, ProfileInput};
use crate::services::auth::UserSession;
use crate::services::bootstrap::instance_name;
use crate::services::devices::admin as devices_svc;
use crate::services::mfa;
use crate::services::tokens::{self, Delivery, Purpose};
use crate::state::AppState;
use crate::views::account as view;
use crate::views::layout::Viewer;
use crate::views::user_page::{AddValues, Renaming};
use actix_web::http::header::{HeaderValue, CACHE_CONTROL};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// What the page shell needs of the signed-in user.
pub fn viewer(session: &UserSession) -> Viewer {
    Viewer {
        username: session.username.clone(),
        csrf_token: session.csrf_token.clone(),
        checklist_link: false,
    }
}

fn no_store(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The account page with the given form state.
#[allow(clippy::too_many_arguments)]
pub async fn page(
    state: &AppState,
    session: &UserSession,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
    renaming: Option<Renaming<'_>>,
    add: &AddValues,
    add_errors: &[FieldError],
) -> Result<HttpResponse, AppError> {
    render(
        state,
        session,
        status,
        notice,
        error,
        renaming,
        add,
        add_errors,
        &[],
        &[],
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn render(
    state: &AppState,
    session: &UserSession,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
    renaming: Option<Renaming<'_>>,
    add: &AddValues,
    add_errors: &[FieldError],
    profile_errors: &[FieldError],
    password_errors: &[FieldError],
) -> Result<HttpResponse, AppError> {
    let me = svc::me(state, session.user_id).await?;
    let editable = svc::editable_for(state, session.user_id).await?;
    let overview = devices_svc::overview(state, session.user_id).await?;
    let factors = mfa::factors(state, session.user_id).await?;
    let apps = crate::services::oidc::connected_apps(state, session.user_id).await?;
    let instance = instance_name(state).await?;
    let v = view::MeView {
        me: &me,
        apps: &apps,
        editable,
        overview: &overview,
        factors,
        notice,
        error,
        renaming,
        add,
        add_errors,
        profile_errors,
        password_errors,
    };
    Ok(html(
        status,
        view::me_page(&instance, &viewer(session), session.is_admin, &v),
    ))
}

/// `/me`.
pub async fn show_me(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: UserSession,
) -> Result<HttpResponse, AppError> {
    let (notice, error) = flash::notices(&req);
    let mut res = page(
        &state,
        &session,
        StatusCode::OK,
        notice.as_deref(),
        error.as_deref(),
        None,
        &AddValues::default(),
        &[],
    )
    .await?;
    flash::clear_on(&mut res, &req, state.config.is_https())?;
    Ok(res)
}

/// The profile form; fields the user may not edit are simply absent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileForm {
    #[serde(default)]
    csrf_token: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

/// Saves the profile.
pub async fn submit_profile(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: UserSession,
    form: web::Form<ProfileForm>,
) -> Result<HttpResponse, AppError> {
    let who = user_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let form = form.into_inner();
    let input = ProfileInput {
        first_name: form.first_name,
        last_name: form.last_name,
        email: form.email,
        phone: form.phone,
    };
    match svc::update_profile(&state, &who, session.user_id, input).await {
        Ok(()) => Ok(flash::redirect_with(
            "/me",
            Kind::Notice,
            "Saved your profile.",
            state.config.is_https(),
        )),
        Err(AppError::Validation(errors)) => {
            render(
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                None,
                None,
                &AddValues::default(),
                &[],
                &errors,
                &[],
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// The password form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordForm {
    #[serde(default)]
    csrf_token: Option<String>,
    #[serde(default)]
    username: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_repeat: String,
}

/// Changes the password; other sessions end.
pub async fn submit_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: UserSession,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let who = user_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let _ = &form.username;
    match svc::change_password(
        &state,
        &who,
        &session,
        &form.current_password,
        &form.password,
        &form.password_repeat,
    )
    .await
    {
        Ok(()) => Ok(flash::redirect_with(
            "/me",
            Kind::Notice,
            "Your password was changed. Your other sessions have ended.",
            state.config.is_https(),
        )),
        Err(AppError::Validation(errors)) => {
            render(
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                None,
                None,
                &AddValues::default(),
                &[],
                &[],
                &errors,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// Adds one of the user's own devices.
pub async fn submit_add_device(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: UserSession,
    form: web::Form<AddDeviceForm>,
) -> Result<HttpResponse, AppError> {
    devices::add(&req, &state, Owner::Own(session), form.into_inner()).await
}

/// The rename form for one of the user's devices.
pub async fn show_rename_device(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: UserSession,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    devices::rename_form(&req, &state, Owner::Own(session), *id).await
}

/// Renames one of the user's devices.
pub async fn submit_rename_device(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: UserSession,
    id: web::Path<i64>,
    form: web::Form<RenameForm>,
) -> Result<HttpResponse, AppError> {
    devices::rename(&req, &state, Owner::Own(session), *id, &form).await
}

/// Asks before deleting one of the user's devices.
pub async fn show_delete_device(
    state: web::Data<AppState>,
    session: UserSession,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    devices::delete_confirm(&state, Owner::Own(session), *id).await
}

/// Deletes one of the user's devices.
pub async fn submit_delete_device(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: UserSession,
    id: web::Path<i64>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    devices::delete(&req, &state, Owner::Own(session), *id, &form).await
}

/// Issues the user's own desktop activation token (the previous unused one is revoked) and
/// sends the browser to the card that shows it once; reloading it never issues another.
pub async fn submit_desktop(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: UserSession,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    let who = user_post(&req, &state, &session, form.csrf_token.as_deref())?;
    match tokens::issue_token(
        &state,
        &who,
        &session.id_hash,
        session.user_id,
        Purpose::Desktop,
        Delivery::Manual,
    )
    .await
    {
        Ok(card) => Ok(super::see_other(&format!("/me/desktop/{card}"))),
        Err(AppError::Forbidden(reason) | AppError::BadRequest(reason)) => Ok(
            flash::redirect_with("/me", Kind::Error, &reason, state.config.is_https()),
        ),
        Err(e) => Err(e),
    }
}

/// The user's desktop token card: the token once, then "already shown".
pub async fn show_desktop_card(
    state: web::Data<AppState>,
    session: UserSession,
    card: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let instance = instance_name(&state).await?;
    let taken = tokens::take_card(&state, &session.id_hash, session.user_id, &card).await?;
    let page = match taken {
        Some(issued) => {
            let qr = crate::views::components::qr_svg(&issued.qr_payload())
                .map_err(AppError::internal)?;
            view::desktop_card_page(&instance, &viewer(&session), session.is_admin, &issued, &qr)
        }
        None => view::desktop_card_gone_page(&instance, &viewer(&session), session.is_admin),
    };
    Ok(no_store(html(StatusCode::OK, page)))
}
