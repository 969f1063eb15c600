//! Groups: list, add, rename, delete, members.

use super::flash::{self, Kind};
use super::session::admin_post;
use super::{html, viewer, CsrfOnly};
use crate::error::AppError;
use crate::services::auth::AdminSession;
use crate::services::bootstrap::instance_name;
use crate::services::groups as svc;
use crate::state::AppState;
use crate::views::groups::{self as view, GroupsPage};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// A form with a group name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameForm {
    #[serde(default)]
    csrf_token: Option<String>,
    #[serde(default)]
    name: String,
}

/// The "Add member" form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberForm {
    #[serde(default)]
    csrf_token: Option<String>,
    #[serde(default)]
    username: String,
}

fn back_to(path: &str, message: &str, state: &AppState) -> HttpResponse {
    flash::redirect_with(path, Kind::Notice, message, state.config.is_https())
}

/// Lists the groups.
pub async fn show_groups(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
) -> Result<HttpResponse, AppError> {
    let list = svc::list_groups(&state).await?;
    let (notice, error) = flash::notices(&req);
    let instance = instance_name(&state).await?;
    let page = GroupsPage {
        notice: notice.as_deref(),
        error: error.as_deref(),
        ..Default::default()
    };
    let mut res = html(
        StatusCode::OK,
        view::groups_page(&instance, &viewer(&session), &list, &page),
    );
    flash::clear_on(&mut res, &req, state.config.is_https())?;
    Ok(res)
}

/// Adds a group, or shows the list again with what is wrong.
pub async fn submit_new_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    form: web::Form<NameForm>,
) -> Result<HttpResponse, AppError> {
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    match svc::create_group(&state, &who, &form.name).await {
        Ok(_) => Ok(back_to(
            "/admin/groups",
            &format!("Added group {}.", form.name.trim()),
            &state,
        )),
        Err(AppError::Validation(errors)) => {
            let list = svc::list_groups(&state).await?;
            let instance = instance_name(&state).await?;
            let page = GroupsPage {
                name: &form.name,
                errors: &errors,
                ..Default::default()
            };
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                view::groups_page(&instance, &viewer(&session), &list, &page),
            ))
        }
        Err(e) => Err(e),
    }
}

/// A group's members.
pub async fn show_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let detail = svc::get_group(&state, *id).await?;
    let notice = flash::take(&req).map(|(_, m)| m);
    let instance = instance_name(&state).await?;
    let page = view::group_page(
        &instance,
        &viewer(&session),
        &detail,
        "",
        &[],
        notice.as_deref(),
    );
    let mut res = html(StatusCode::OK, page);
    flash::clear_on(&mut res, &req, state.config.is_https())?;
    Ok(res)
}

/// Adds a member by username.
pub async fn submit_add_member(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
    form: web::Form<MemberForm>,
) -> Result<HttpResponse, AppError> {
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    match svc::add_member(&state, &who, *id, &form.username).await {
        Ok(username) => {
            let group = svc::get_group(&state, *id).await?.group;
            Ok(back_to(
                &format!("/admin/groups/{id}"),
                &format!("Added {username} to {}.", group.name),
                &state,
            ))
        }
        Err(AppError::Validation(errors)) => {
            let detail = svc::get_group(&state, *id).await?;
            let instance = instance_name(&state).await?;
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                view::group_page(
                    &instance,
                    &viewer(&session),
                    &detail,
                    &form.username,
                    &errors,
                    None,
                ),
            ))
        }
        Err(e) => Err(e),
    }
}

/// Removes a member.
pub async fn submit_remove_member(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    path: web::Path<(i64, i64)>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    let (id, user_id) = path.into_inner();
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let username = svc::remove_member(&state, &who, id, user_id).await?;
    let group = svc::get_group(&state, id).await?.group;
    Ok(back_to(
        &format!("/admin/groups/{id}"),
        &format!("Removed {username} from {}.", group.name),
        &state,
    ))
}

/// The rename form.
pub async fn show_rename_group(
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let group = svc::get_group(&state, *id).await?.group;
    let instance = instance_name(&state).await?;
    Ok(html(
        StatusCode::OK,
        view::rename_group_page(&instance, &viewer(&session), &group, &group.name, &[]),
    ))
}

/// Renames a group.
pub async fn submit_rename_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
    form: web::Form<NameForm>,
) -> Result<HttpResponse, AppError> {
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    match svc::rename_group(&state, &who, *id, &form.name).await {
        Ok(name) => Ok(back_to(
            "/admin/groups",
            &format!("Renamed the group to {name}."),
            &state,
        )),
        Err(AppError::Validation(errors)) => {
            let group = svc::get_group(&state, *id).await?.group;
            let instance = instance_name(&state).await?;
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                view::rename_group_page(&instance, &viewer(&session), &group, &form.name, &errors),
            ))
        }
        Err(e) => Err(e),
    }
}

async fn summary(state: &AppState, id: i64) -> Result<svc::GroupSummary, AppError> {
    svc::list_groups(state)
        .await?
        .into_iter()
        .find(|s| s.group.id == id)
        .ok_or(AppError::NotFound)
}

/// Asks before deleting.
pub async fn show_delete_group(
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let s = summary(&state, *id).await?;
    let instance = instance_name(&state).await?;
    Ok(html(
        StatusCode::OK,
        view::delete_group_page(&instance, &viewer(&session), &s, None),
    ))
}

/// Deletes a group, unless a location's access names it.
pub async fn submit_delete_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    match svc::delete_group(&state, &who, *id).await {
        Ok(name) => Ok(back_to(
            "/admin/groups",
            &format!("Deleted group {name}."),
            &state,
        )),
        Err(AppError::Forbidden(message)) => {
            let s = summary(&state, *id).await?;
            let instance = instance_name(&state).await?;
            Ok(html(
                StatusCode::FORBIDDEN,
                view::delete_group_page(&instance, &viewer(&session), &s, Some(&message)),
            ))
        }
        Err(e) => Err(e),
    }
}
