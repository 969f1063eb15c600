//! The audit log page.

use super::request::wants_fragment;
use super::{html, viewer};
use crate::domain::FieldError;
use crate::error::AppError;
use crate::services::audit::{self as svc, AuditFilter};
use crate::services::auth::AdminSession;
use crate::services::bootstrap::instance_name;
use crate::state::AppState;
use crate::views::audit::{self as view, AuditFilters, AuditView};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use time::macros::format_description;
use time::Date;

/// Audit filters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    #[serde(default)]
    user: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    before: Option<i64>,
}

/// A calendar day typed into a date field (`YYYY-MM-DD`), as the unix second it starts at
/// in UTC; empty is no day.
fn parse_day(
    field: &'static str,
    label: &str,
    value: &str,
    errors: &mut Vec<FieldError>,
) -> Option<i64> {
    if value.is_empty() {
        return None;
    }
    match Date::parse(value, format_description!("[year]-[month]-[day]")) {
        Ok(day) => Some(day.midnight().assume_utc().unix_timestamp()),
        Err(_) => {
            errors.push(FieldError::new(
                field,
                format!("{label} must be a date such as 2026-12-01."),
            ));
            None
        }
    }
}

/// Shows events, newest first.
pub async fn show_audit(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let filters = AuditFilters {
        user: query.user.trim().to_owned(),
        action: query.action.trim().to_owned(),
        from: query.from.trim().to_owned(),
        to: query.to.trim().to_owned(),
    };
    let mut errors = Vec::new();
    let from = parse_day("from", "From", &filters.from, &mut errors);
    // The "to" day is shown whole: events before the next midnight.
    let until = parse_day("to", "To", &filters.to, &mut errors).map(|t| t + 86_400);
    if let (Some(from), Some(until)) = (from, until) {
        if until <= from {
            errors.push(FieldError::new(
                "to",
                "To must be the same day as From or later.",
            ));
        }
    }
    let filter = AuditFilter {
        user: (!filters.user.is_empty()).then(|| filters.user.clone()),
        action: (!filters.action.is_empty()).then(|| filters.action.clone()),
        from,
        until,
    };
    // With a date that cannot be read nothing is listed (no event id is below 1), so no
    // list pretends to be filtered when it is not.
    let before = if errors.is_empty() {
        query.before
    } else {
        Some(1)
    };
    let (events, actions) = svc::list(&state, filter, before).await?;
    let next = (events.len() as i64 == svc::PAGE).then(|| {
        let last = events.last().map_or(0, |e| e.id);
        filters.url(&[("before", last.to_string())])
    });
    let v = AuditView {
        filters: &filters,
        errors: &errors,
        events: &events,
        actions: &actions,
        next: next.as_deref(),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    if wants_fragment(&req) {
        return Ok(html(status, view::audit_results(v)));
    }
    let instance = instance_name(&state).await?;
    Ok(html(
        status,
        view::audit_page(&instance, &viewer(&session), v),
    ))
}
