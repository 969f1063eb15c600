//! A user's page and the admin's actions on their devices: rename, delete, add.

use super::flash::{self, Kind};
use super::request::wants_fragment;
use super::session::admin_post;
use super::{html, viewer, CsrfOnly};
use crate::domain::FieldError;
use crate::error::AppError;
use crate::services::auth::AdminSession;
use crate::services::bootstrap::instance_name;
use crate::services::devices::admin::{self as svc, KeyChoice};
use crate::state::AppState;
use crate::views::user_page::{self as view, AddValues, Renaming};
use actix_web::http::header::{HeaderValue, CACHE_CONTROL};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

fn user_url(user_id: i64) -> String {
    format!("/admin/users/{user_id}#devices")
}

/// The user page with the given form state, as a full page.
async fn page(
    state: &AppState,
    session: &AdminSession,
    user_id: i64,
    status: StatusCode,
    renaming: Option<Renaming<'_>>,
    add: &AddValues,
    add_errors: &[FieldError],
) -> Result<HttpResponse, AppError> {
    let overview = svc::overview(state, user_id).await?;
    let instance = instance_name(state).await?;
    Ok(html(
        status,
        view::user_page(
            &instance,
            &viewer(session),
            &overview,
            None,
            None,
            renaming,
            add,
            add_errors,
        ),
    ))
}

/// A user's page: profile, devices, token state, recent events.
pub async fn show_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let overview = svc::overview(&state, *id).await?;
    let instance = instance_name(&state).await?;
    let (notice, error) = flash::notices(&req);
    let mut res = html(
        StatusCode::OK,
        view::user_page(
            &instance,
            &viewer(&session),
            &overview,
            notice.as_deref(),
            error.as_deref(),
            None,
            &AddValues::default(),
            &[],
        ),
    );
    flash::clear_on(&mut res, &req, state.config.is_https())?;
    Ok(res)
}

/// The rename form: the row turned into a form for htmx, the user page with it otherwise.
pub async fn show_rename(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (user_id, device_id) = path.into_inner();
    let (_, device) = svc::device(&state, user_id, device_id).await?;
    if wants_fragment(&req) {
        return Ok(html(
            StatusCode::OK,
            view::rename_row(&viewer(&session), user_id, &device, &device.name, &[]),
        ));
    }
    let renaming = Renaming {
        device_id,
        value: &device.name,
        errors: &[],
    };
    page(
        &state,
        &session,
        user_id,
        StatusCode::OK,
        Some(renaming),
        &AddValues::default(),
        &[],
    )
    .await
}

/// The rename form as submitted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenameForm {
    #[serde(default)]
    csrf_token: Option<String>,
    #[serde(default)]
    new_name: String,
}

/// Renames a device, or shows the form again with what is wrong.
pub async fn submit_rename(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    path: web::Path<(i64, i64)>,
    form: web::Form<RenameForm>,
) -> Result<HttpResponse, AppError> {
    let (user_id, device_id) = path.into_inner();
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let htmx = wants_fragment(&req);
    match svc::rename(&state, &who, user_id, device_id, &form.new_name).await {
        Ok(device) if htmx => Ok(html(
            StatusCode::OK,
            view::device_row(user_id, &device, state.now().unix_timestamp()),
        )),
        Ok(device) => Ok(flash::redirect_with(
            &user_url(user_id),
            Kind::Notice,
            &format!("Renamed the device to {}.", device.name),
            state.config.is_https(),
        )),
        Err(AppError::Validation(errors)) => {
            // The name's rules speak of `device_name`; on this form the field is `new_name`.
            let errors: Vec<FieldError> = errors
                .into_iter()
                .map(|e| FieldError::new("new_name", e.message))
                .collect();
            if htmx {
                let (_, device) = svc::device(&state, user_id, device_id).await?;
                return Ok(html(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    view::rename_row(&viewer(&session), user_id, &device, &form.new_name, &errors),
                ));
            }
            let renaming = Renaming {
                device_id,
                value: &form.new_name,
                errors: &errors,
            };
            page(
                &state,
                &session,
                user_id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(renaming),
                &AddValues::default(),
                &[],
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// Asks before deleting a device.
pub async fn show_delete(
    state: web::Data<AppState>,
    session: AdminSession,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (user_id, device_id) = path.into_inner();
    let (username, device) = svc::device(&state, user_id, device_id).await?;
    let instance = instance_name(&state).await?;
    Ok(html(
        StatusCode::OK,
        view::delete_device_page(&instance, &viewer(&session), &username, user_id, &device),
    ))
}

/// Deletes a device.
pub async fn submit_delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    path: web::Path<(i64, i64)>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    let (user_id, device_id) = path.into_inner();
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let name = svc::remove(&state, &who, user_id, device_id).await?;
    Ok(flash::redirect_with(
        &user_url(user_id),
        Kind::Notice,
        &format!("Deleted the device {name}."),
        state.config.is_https(),
    ))
}

/// The "Add device for this user" form as submitted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddDeviceForm {
    #[serde(default)]
    csrf_token: Option<String>,
    #[serde(default)]
    device_name: String,
    #[serde(default)]
    key_mode: String,
    #[serde(default)]
    public_key: String,
}

/// Adds a device for the user. A pasted key ends on the user page; a key pair made here
/// shows its configs once, never cached.
pub async fn submit_add(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
    form: web::Form<AddDeviceForm>,
) -> Result<HttpResponse, AppError> {
    let user_id = *id;
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let form = form.into_inner();
    let htmx = wants_fragment(&req);
    let generate = form.key_mode != "paste";
    let key = if generate {
        KeyChoice::Generate
    } else {
        KeyChoice::Paste(form.public_key.clone())
    };
    match svc::add_for_user(&state, &who, user_id, &form.device_name, key).await {
        Ok(added) if added.generated => {
            let mut res = if htmx {
                html(StatusCode::OK, view::added_device(user_id, &added))
            } else {
                let instance = instance_name(&state).await?;
                html(
                    StatusCode::OK,
                    view::added_device_page(&instance, &viewer(&session), user_id, &added),
                )
            };
            // Shown once: no cache, no history snapshot (the markup says hx-history=false).
            res.headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(res)
        }
        Ok(added) => {
            let message = format!("Added the device {} for {}.", added.name, added.username);
            let https = state.config.is_https();
            if htmx {
                // Without the fragment: the browser is on the user page already, and a
                // change of fragment alone would not load it again.
                return Ok(flash::hx_redirect_with(
                    &format!("/admin/users/{user_id}"),
                    Kind::Notice,
                    &message,
                    https,
                ));
            }
            Ok(flash::redirect_with(
                &user_url(user_id),
                Kind::Notice,
                &message,
                https,
            ))
        }
        Err(AppError::Validation(errors)) => {
            let values = AddValues {
                name: form.device_name,
                generate,
                public_key: form.public_key,
            };
            if htmx {
                return Ok(html(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    view::add_device_form(&viewer(&session), user_id, &values, &errors),
                ));
            }
            page(
                &state,
                &session,
                user_id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                &values,
                &errors,
            )
            .await
        }
        Err(e) => Err(e),
    }
}
