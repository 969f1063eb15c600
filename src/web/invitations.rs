//! "Invitations" settings: the reminder and the note about expired invitations.

use super::flash::{self, Kind};
use super::session::admin_post;
use super::{html, viewer};
use crate::error::AppError;
use crate::mail::templates::duration_words;
use crate::services::auth::AdminSession;
use crate::services::bootstrap::instance_name;
use crate::services::invitations as svc;
use crate::services::tokens::{default_validity, Purpose};
use crate::state::AppState;
use crate::views::invitations::{self as view, InvitationForm};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// The page.
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
) -> Result<HttpResponse, AppError> {
    let settings = svc::get_settings(&state).await?;
    let days = settings
        .reminder_days
        .map(|d| d.to_string())
        .unwrap_or_default();
    let (notice, _) = flash::notices(&req);
    let validity = duration_words(default_validity(&state, Purpose::Enrollment));
    let form = InvitationForm {
        reminder_days: &days,
        notify_expired: settings.notify_expired,
        default_validity: &validity,
        notice: notice.as_deref(),
    };
    let instance = instance_name(&state).await?;
    let mut res = html(
        StatusCode::OK,
        view::invitations_page(&instance, &viewer(&session), &form, &[]),
    );
    flash::clear_on(&mut res, &req, state.config.is_https())?;
    Ok(res)
}

/// The form as submitted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvitationSettingsForm {
    #[serde(default)]
    csrf_token: Option<String>,
    #[serde(default)]
    reminder_days: String,
    #[serde(default)]
    notify_expired: Option<String>,
}

/// Saves the settings, or shows what is wrong.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    form: web::Form<InvitationSettingsForm>,
) -> Result<HttpResponse, AppError> {
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let notify = form.notify_expired.is_some();
    match svc::save_settings(&state, &who, &form.reminder_days, notify).await {
        Ok(_) => Ok(flash::redirect_with(
            "/admin/settings/invitations",
            Kind::Notice,
            "Saved the invitation settings.",
            state.config.is_https(),
        )),
        Err(AppError::Validation(errors)) => {
            let validity = duration_words(default_validity(&state, Purpose::Enrollment));
            let values = InvitationForm {
                reminder_days: &form.reminder_days,
                notify_expired: notify,
                default_validity: &validity,
                notice: None,
            };
            let instance = instance_name(&state).await?;
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                view::invitations_page(&instance, &viewer(&session), &values, &errors),
            ))
        }
        Err(e) => Err(e),
    }
}
