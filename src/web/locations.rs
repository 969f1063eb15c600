//! Locations: list, add, edit, delete, gateway config download.

use super::flash::{self, Kind};
use super::session::admin_post;
use super::{html, viewer, with_repeated, CsrfOnly, PairsForm};
use crate::error::AppError;
use crate::services::auth::AdminSession;
use crate::services::bootstrap::instance_name;
use crate::services::locations::{self as svc, LocationInput};
use crate::services::{access, groups};
use crate::state::AppState;
use crate::views::locations as view;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// Lists the locations.
pub async fn show_locations(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
) -> Result<HttpResponse, AppError> {
    let list = svc::list_locations(&state).await?;
    let gateways = crate::services::gateways::states(&state).await?;
    let notice = flash::take(&req).map(|(_, m)| m);
    let instance = instance_name(&state).await?;
    let mut res = html(
        StatusCode::OK,
        view::locations_page(
            &instance,
            &viewer(&session),
            &list,
            &gateways,
            notice.as_deref(),
        ),
    );
    flash::clear_on(&mut res, &req, state.config.is_https())?;
    Ok(res)
}

/// The location form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationForm {
    #[serde(default)]
    csrf_token: Option<String>,
    name: String,
    addresses: String,
    endpoint: String,
    port: String,
    allowed_ips: String,
    #[serde(default)]
    dns: String,
    #[serde(default)]
    keepalive: String,
    #[serde(default)]
    key_mode: String,
    #[serde(default)]
    public_key: String,
    /// `everyone` or `groups`; absent keeps what is stored (everyone for a new location).
    #[serde(default)]
    access: Option<String>,
}

/// The location form with its checked groups (the repeated field `groups`).
struct Submitted {
    form: LocationForm,
    groups: Vec<String>,
}

impl Submitted {
    fn decode(pairs: PairsForm) -> Result<Self, AppError> {
        let (form, groups) = with_repeated(pairs.into_inner(), "groups")?;
        Ok(Self { form, groups })
    }

    fn input(&self) -> LocationInput {
        let f = &self.form;
        LocationInput {
            name: f.name.clone(),
            addresses: f.addresses.clone(),
            endpoint: f.endpoint.clone(),
            port: f.port.clone(),
            allowed_ips: f.allowed_ips.clone(),
            dns: f.dns.clone(),
            keepalive: f.keepalive.clone(),
            key_mode: f.key_mode.clone(),
            public_key: f.public_key.clone(),
            access: f.access.clone(),
            groups: self.groups.clone(),
        }
    }

    /// The form as sent, to show again with what is wrong.
    async fn values(&self, state: &AppState) -> Result<view::LocationFormValues, AppError> {
        let f = &self.form;
        Ok(view::LocationFormValues {
            name: f.name.clone(),
            addresses: f.addresses.clone(),
            endpoint: f.endpoint.clone(),
            port: f.port.clone(),
            allowed_ips: f.allowed_ips.clone(),
            dns: f.dns.clone(),
            keepalive: f.keepalive.clone(),
            key_mode: f.key_mode.clone(),
            public_key: f.public_key.clone(),
            access: f.access.clone().unwrap_or_else(|| "everyone".into()),
            checked_groups: self.groups.clone(),
            all_groups: groups::all_groups(state).await?,
        })
    }
}

/// The empty form.
pub async fn show_new_location(
    state: web::Data<AppState>,
    session: AdminSession,
) -> Result<HttpResponse, AppError> {
    let instance = instance_name(&state).await?;
    let values = view::LocationFormValues::new_location()
        .with_access(groups::all_groups(&state).await?, &[]);
    Ok(html(
        StatusCode::OK,
        view::location_form_page(&instance, &viewer(&session), None, &values, &[]),
    ))
}

/// Creates a location.
pub async fn submit_new_location(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    form: PairsForm,
) -> Result<HttpResponse, AppError> {
    let form = Submitted::decode(form)?;
    let who = admin_post(&req, &state, &session, form.form.csrf_token.as_deref())?;
    match svc::create_location(&state, &who, form.input()).await {
        Ok((_, told)) => {
            let name = form.form.name.trim();
            let notice = match told {
                0 => format!("Added location {name}."),
                1 => format!("Added location {name}. 1 person with a device was emailed how to connect to it."),
                n => format!("Added location {name}. {n} people with a device were emailed how to connect to it."),
            };
            Ok(flash::redirect_with(
                "/admin/locations",
                Kind::Notice,
                &notice,
                state.config.is_https(),
            ))
        }
        Err(AppError::Validation(errors)) => {
            let instance = instance_name(&state).await?;
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                view::location_form_page(
                    &instance,
                    &viewer(&session),
                    None,
                    &form.values(&state).await?,
                    &errors,
                ),
            ))
        }
        Err(e) => Err(e),
    }
}

/// The filled form for a location.
pub async fn show_edit_location(
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let row = svc::get_location(&state, *id).await?;
    let instance = instance_name(&state).await?;
    let values = view::LocationFormValues::from_row(&row).with_access(
        groups::all_groups(&state).await?,
        &access::of_location(&state, *id).await?,
    );
    Ok(html(
        StatusCode::OK,
        view::location_form_page(&instance, &viewer(&session), Some(&row), &values, &[]),
    ))
}

/// Saves a location.
pub async fn submit_edit_location(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
    form: PairsForm,
) -> Result<HttpResponse, AppError> {
    let form = Submitted::decode(form)?;
    let who = admin_post(&req, &state, &session, form.form.csrf_token.as_deref())?;
    match svc::update_location(&state, &who, *id, form.input()).await {
        Ok(()) => Ok(flash::redirect_with(
            "/admin/locations",
            Kind::Notice,
            &format!("Saved location {}.", form.form.name.trim()),
            state.config.is_https(),
        )),
        Err(AppError::Validation(errors)) => {
            let row = svc::get_location(&state, *id).await?;
            let instance = instance_name(&state).await?;
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                view::location_form_page(
                    &instance,
                    &viewer(&session),
                    Some(&row),
                    &form.values(&state).await?,
                    &errors,
                ),
            ))
        }
        Err(e) => Err(e),
    }
}

/// Asks before deleting.
pub async fn show_delete_location(
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let summary = svc::list_locations(&state)
        .await?
        .into_iter()
        .find(|s| s.location.id == *id)
        .ok_or(AppError::NotFound)?;
    let instance = instance_name(&state).await?;
    Ok(html(
        StatusCode::OK,
        view::delete_location_page(&instance, &viewer(&session), &summary),
    ))
}

/// Deletes a location.
pub async fn submit_delete_location(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let name = svc::delete_location(&state, &who, *id).await?;
    Ok(flash::redirect_with(
        "/admin/locations",
        Kind::Notice,
        &format!("Deleted location {name}."),
        state.config.is_https(),
    ))
}

/// Downloads the gateway's wg-quick config as a text attachment.
pub async fn show_gateway_config(
    state: web::Data<AppState>,
    _session: AdminSession,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (file_name, text) = svc::gateway_config_for(&state, id.to_string()).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}\""),
        ))
        .body(text))
}

/// Makes a new gateway token for a location and shows it once, with the agent's command.
pub async fn submit_gateway_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let (token, name) = crate::services::gateways::issue_token(&state, &who, *id).await?;
    let instance = instance_name(&state).await?;
    let interface = svc::config_file_name(&name);
    let interface = interface.trim_end_matches(".conf");
    let mut res = html(
        StatusCode::OK,
        crate::views::gateways::gateway_token_page(
            &instance,
            &viewer(&session),
            &name,
            &token,
            &state.config.public_url,
            interface,
        ),
    );
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}
