//! The audit log page.

use super::{html, viewer};
use crate::error::AppError;
use crate::services::audit as svc;
use crate::services::auth::AdminSession;
use crate::services::bootstrap::instance_name;
use crate::state::AppState;
use crate::views::audit as view;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

/// Audit filters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    #[serde(default)]
    user: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    before: Option<i64>,
}

/// Shows events, newest first.
pub async fn show_audit(
    state: web::Data<AppState>,
    session: AdminSession,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let user = query.user.trim().to_owned();
    let action = query.action.trim().to_owned();
    let (events, actions) = svc::list(
        &state,
        (!user.is_empty()).then(|| user.clone()),
        (!action.is_empty()).then(|| action.clone()),
        query.before,
    )
    .await?;
    let next = (events.len() as i64 == svc::PAGE).then(|| {
        let last = events.last().map_or(0, |e| e.id);
        let params = serde_urlencoded::to_string([
            ("user", user.as_str()),
            ("action", action.as_str()),
            ("before", &last.to_string()),
        ])
        .unwrap_or_default();
        format!("/admin/audit?{params}")
    });
    let instance = instance_name(&state).await?;
    Ok(html(
        StatusCode::OK,
        view::audit_page(
            &instance,
            &viewer(&session),
            &events,
            &user,
            &action,
            &actions,
            next,
        ),
    ))
}
