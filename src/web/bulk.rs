//! Bulk actions from the users list: one form whose checkboxes sit in the rows.

use super::flash::{self, Kind};
use super::session::admin_post;
use super::{html, viewer, with_repeated, PairsForm};
use crate::error::AppError;
use crate::services::auth::AdminSession;
use crate::services::bootstrap::instance_name;
use crate::services::bulk::{self as svc, BulkAction};
use crate::state::AppState;
use crate::views::bulk as view;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// The bulk form besides the repeated `user` checkboxes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkForm {
    #[serde(default)]
    csrf_token: Option<String>,
    #[serde(default)]
    action: String,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    all_matching: Option<String>,
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    confirmed: Option<String>,
}

fn action_of(form: &BulkForm) -> Result<BulkAction, String> {
    Ok(match form.action.as_str() {
        "start_enrollment" => BulkAction::StartEnrollment,
        "add_to_group" => BulkAction::AddToGroup(
            form.group
                .as_deref()
                .and_then(|g| g.parse().ok())
                .ok_or("Choose the group to add them to.")?,
        ),
        "disable" => BulkAction::Disable,
        "enable" => BulkAction::Enable,
        "delete" => BulkAction::Delete,
        _ => return Err("Choose what to do with the chosen users.".into()),
    })
}

/// Applies the chosen action; deleting asks first, naming how many and who.
pub async fn submit_bulk(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    form: PairsForm,
) -> Result<HttpResponse, AppError> {
    let (form, checked): (BulkForm, Vec<String>) = with_repeated(form.into_inner(), "user")?;
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let https = state.config.is_https();
    let back =
        |kind: Kind, message: &str| flash::redirect_with("/admin/users", kind, message, https);
    let action = match action_of(&form) {
        Ok(a) => a,
        Err(m) => return Ok(back(Kind::Error, &m)),
    };
    let ids: Vec<i64> = if form.all_matching.is_some() {
        let status = crate::domain::user::StatusFilter::parse(&form.status)
            .map_err(|e| AppError::BadRequest(e.message))?;
        svc::ids_matching(&state, &form.q, status).await?
    } else {
        let mut ids = Vec::new();
        for raw in &checked {
            match raw.parse() {
                Ok(id) if ids.len() < svc::MAX_USERS => ids.push(id),
                _ => {
                    return Err(AppError::BadRequest(
                        "The chosen users could not be read.".into(),
                    ))
                }
            }
        }
        ids
    };
    if ids.is_empty() {
        return Ok(back(
            Kind::Error,
            "Choose users first: tick their rows, or \"Select all\".",
        ));
    }
    if action == BulkAction::Delete && form.confirmed.is_none() {
        let usernames = svc::usernames(&state, ids.clone()).await?;
        let instance = instance_name(&state).await?;
        let chosen = if form.all_matching.is_some() {
            view::Chosen::Matching(&form.q, &form.status)
        } else {
            view::Chosen::Ids(&ids)
        };
        return Ok(html(
            StatusCode::OK,
            view::confirm_delete_page(&instance, &viewer(&session), &chosen, &usernames),
        ));
    }
    match svc::run(&state, &who, action, ids).await {
        Ok(summary) => Ok(back(Kind::Notice, &summary.sentence())),
        Err(AppError::BadRequest(m)) => Ok(back(Kind::Error, &m)),
        Err(e) => Err(e),
    }
}
