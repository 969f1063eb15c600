//! A user's devices: the admin's actions on them from the user's page, and the same actions by
//! the user on their own account page (`/me`). One set of handlers serves both through
//! [`Owner`].

use super::flash::{self, Kind};
use super::request::wants_fragment;
use super::session::{admin_post, user_post};
use super::{html, viewer, CsrfOnly};
use crate::domain::FieldError;
use crate::error::AppError;
use crate::services::auth::{AdminSession, UserSession};
use crate::services::bootstrap::instance_name;
use crate::services::devices::admin::{self as svc, DeviceSummary, KeyChoice};
use crate::services::Actor;
use crate::state::AppState;
use crate::views::layout::Viewer;
use crate::views::user_page::{self as view, AddValues, Renaming};
use actix_web::http::header::{HeaderValue, CACHE_CONTROL};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::Markup;
use serde::Deserialize;

/// Whose devices a request is about, and who acts on them.
pub enum Owner {
    /// An admin, on the user's page.
    Admin(AdminSession, i64),
    /// The user, on their own account page.
    Own(UserSession),
}

impl Owner {
    fn user_id(&self) -> i64 {
        match self {
            Self::Admin(_, id) => *id,
            Self::Own(s) => s.user_id,
        }
    }

    /// The page the devices are on.
    fn base(&self) -> String {
        match self {
            Self::Admin(_, id) => view::user_url(*id),
            Self::Own(_) => "/me".to_owned(),
        }
    }

    fn viewer(&self) -> Viewer {
        match self {
            Self::Admin(s, _) => viewer(s),
            Self::Own(s) => super::account::viewer(s),
        }
    }

    fn post(
        &self,
        req: &HttpRequest,
        state: &AppState,
        token: Option<&str>,
    ) -> Result<Actor, AppError> {
        match self {
            Self::Admin(s, _) => admin_post(req, state, s, token),
            Self::Own(s) => user_post(req, state, s, token),
        }
    }

    fn add_heading(&self) -> &'static str {
        match self {
            Self::Admin(..) => "Add device for this user",
            Self::Own(_) => "Add a device",
        }
    }

    /// The page with the given form state.
    async fn page(
        &self,
        state: &AppState,
        status: StatusCode,
        renaming: Option<Renaming<'_>>,
        add: &AddValues,
        add_errors: &[FieldError],
    ) -> Result<HttpResponse, AppError> {
        match self {
            Self::Admin(session, user_id) => {
                let overview = svc::overview(state, *user_id).await?;
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
            Self::Own(session) => {
                super::account::page(
                    state, session, status, None, None, renaming, add, add_errors,
                )
                .await
            }
        }
    }

    /// A page of its own around `content` (confirmations, the one-off config).
    async fn wrap(
        &self,
        state: &AppState,
        title: &str,
        content: Markup,
    ) -> Result<Markup, AppError> {
        let instance = instance_name(state).await?;
        Ok(match self {
            Self::Admin(s, _) => crate::views::layout::admin_page(
                title,
                &instance,
                crate::views::layout::Nav::Users,
                &viewer(s),
                content,
            ),
            Self::Own(s) => crate::views::account::account_page(
                title,
                &instance,
                &super::account::viewer(s),
                s.is_admin,
                content,
            ),
        })
    }

    fn question(&self, username: &str, d: &DeviceSummary) -> String {
        match self {
            Self::Admin(..) => format!("Delete the device {} of {username}?", d.name),
            Self::Own(_) => format!("Delete your device {}?", d.name),
        }
    }
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

/// The rename form: the row turned into a form for htmx, the page with it otherwise.
pub async fn show_rename(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (user_id, device_id) = path.into_inner();
    rename_form(&req, &state, Owner::Admin(session, user_id), device_id).await
}

/// [`show_rename`] for the user's own device.
pub async fn rename_form(
    req: &HttpRequest,
    state: &AppState,
    owner: Owner,
    device_id: i64,
) -> Result<HttpResponse, AppError> {
    let (_, device) = svc::device(state, owner.user_id(), device_id).await?;
    if wants_fragment(req) {
        return Ok(html(
            StatusCode::OK,
            view::rename_row(&owner.viewer(), &owner.base(), &device, &device.name, &[]),
        ));
    }
    let renaming = Renaming {
        device_id,
        value: &device.name,
        errors: &[],
    };
    owner
        .page(
            state,
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
    pub(crate) csrf_token: Option<String>,
    #[serde(default)]
    pub(crate) new_name: String,
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
    rename(
        &req,
        &state,
        Owner::Admin(session, user_id),
        device_id,
        &form,
    )
    .await
}

/// [`submit_rename`] for either owner.
pub async fn rename(
    req: &HttpRequest,
    state: &AppState,
    owner: Owner,
    device_id: i64,
    form: &RenameForm,
) -> Result<HttpResponse, AppError> {
    let who = owner.post(req, state, form.csrf_token.as_deref())?;
    let htmx = wants_fragment(req);
    let user_id = owner.user_id();
    match svc::rename(state, &who, user_id, device_id, &form.new_name).await {
        Ok(device) if htmx => Ok(html(
            StatusCode::OK,
            view::device_row(&owner.base(), &device, state.now().unix_timestamp()),
        )),
        Ok(device) => Ok(flash::redirect_with(
            &format!("{}#devices", owner.base()),
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
                let (_, device) = svc::device(state, user_id, device_id).await?;
                return Ok(html(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    view::rename_row(
                        &owner.viewer(),
                        &owner.base(),
                        &device,
                        &form.new_name,
                        &errors,
                    ),
                ));
            }
            let renaming = Renaming {
                device_id,
                value: &form.new_name,
                errors: &errors,
            };
            owner
                .page(
                    state,
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
    delete_confirm(&state, Owner::Admin(session, user_id), device_id).await
}

/// [`show_delete`] for either owner.
pub async fn delete_confirm(
    state: &AppState,
    owner: Owner,
    device_id: i64,
) -> Result<HttpResponse, AppError> {
    let (username, device) = svc::device(state, owner.user_id(), device_id).await?;
    let content = view::delete_device_confirm(
        &owner.viewer(),
        &owner.base(),
        &owner.question(&username, &device),
        &device,
    );
    let page = owner
        .wrap(state, &format!("Delete {}", device.name), content)
        .await?;
    Ok(html(StatusCode::OK, page))
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
    delete(
        &req,
        &state,
        Owner::Admin(session, user_id),
        device_id,
        &form,
    )
    .await
}

/// [`submit_delete`] for either owner.
pub async fn delete(
    req: &HttpRequest,
    state: &AppState,
    owner: Owner,
    device_id: i64,
    form: &CsrfOnly,
) -> Result<HttpResponse, AppError> {
    let who = owner.post(req, state, form.csrf_token.as_deref())?;
    let name = svc::remove(state, &who, owner.user_id(), device_id).await?;
    Ok(flash::redirect_with(
        &format!("{}#devices", owner.base()),
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
    add(&req, &state, Owner::Admin(session, *id), form.into_inner()).await
}

/// [`submit_add`] for either owner.
pub async fn add(
    req: &HttpRequest,
    state: &AppState,
    owner: Owner,
    form: AddDeviceForm,
) -> Result<HttpResponse, AppError> {
    let who = owner.post(req, state, form.csrf_token.as_deref())?;
    let user_id = owner.user_id();
    let base = owner.base();
    let htmx = wants_fragment(req);
    let own = matches!(owner, Owner::Own(_));
    // On their own account the key pair is made in the browser, which sends the public key
    // like a pasted one: onramp never makes (and so never sees) a user's private key there.
    let generate = form.key_mode != "paste";
    let key = if generate && !own {
        KeyChoice::Generate
    } else {
        KeyChoice::Paste(form.public_key.clone())
    };
    match svc::add_for_user(state, &who, user_id, &form.device_name, key).await {
        Ok(added) if added.generated || own => {
            let mut res = if htmx {
                html(StatusCode::OK, view::added_device(&base, &added))
            } else {
                let title = format!("Added {}", added.name);
                let page = owner
                    .wrap(state, &title, view::added_device(&base, &added))
                    .await?;
                html(StatusCode::OK, page)
            };
            // Shown once: no cache, no history snapshot (the markup says hx-history=false).
            res.headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(res)
        }
        Ok(added) => {
            let message = match owner {
                Owner::Admin(..) => {
                    format!("Added the device {} for {}.", added.name, added.username)
                }
                Owner::Own(_) => format!("Added the device {}.", added.name),
            };
            let https = state.config.is_https();
            if htmx {
                // Without the fragment: the browser is on the page already, and a change of
                // fragment alone would not load it again.
                return Ok(flash::hx_redirect_with(
                    &base,
                    Kind::Notice,
                    &message,
                    https,
                ));
            }
            Ok(flash::redirect_with(
                &format!("{base}#devices"),
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
                    view::add_device_form(
                        &owner.viewer(),
                        &base,
                        owner.add_heading(),
                        &values,
                        &errors,
                    ),
                ));
            }
            owner
                .page(
                    state,
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
