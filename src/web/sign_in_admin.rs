//! The admin's sign-in actions on a user: "Send password reset", "Reset two-factor", and
//! giving or taking admin rights.

use super::flash::{self, Kind};
use super::session::admin_post;
use super::{html, viewer, CsrfOnly};
use crate::error::AppError;
use crate::mail::templates::duration_words;
use crate::services::auth::AdminSession;
use crate::services::bootstrap::instance_name;
use crate::services::password_reset::{self as reset, Delivery};
use crate::services::settings::{effective_smtp, get_settings};
use crate::services::{admin_rights, mfa, users};
use crate::state::AppState;
use crate::views::sign_in_admin as view;
use actix_web::http::header::{HeaderValue, CACHE_CONTROL};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

fn user_page(id: i64) -> String {
    format!("/admin/users/{id}")
}

/// The "Send password reset" form.
pub async fn show_password_reset(
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let user = users::get_user(&state, *id).await?;
    let settings = get_settings(&state).await?;
    let smtp = effective_smtp(&state, &settings).is_some();
    let instance = instance_name(&state).await?;
    let valid = duration_words(state.config.reset_token_ttl.whole_seconds());
    Ok(html(
        StatusCode::OK,
        view::password_reset_page(
            &instance,
            &viewer(&session),
            user.id,
            &user.username,
            &user.email,
            smtp,
            &valid,
            None,
        ),
    ))
}

/// The form as submitted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetForm {
    #[serde(default)]
    csrf_token: Option<String>,
    #[serde(default)]
    delivery: String,
}

/// Emails the link, or shows it once.
pub async fn submit_password_reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
    form: web::Form<ResetForm>,
) -> Result<HttpResponse, AppError> {
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let delivery = match form.delivery.as_str() {
        "email" => Delivery::Email,
        "card" => Delivery::Card,
        _ => {
            return Err(AppError::BadRequest(
                "Choose how to deliver the link.".into(),
            ))
        }
    };
    let https = state.config.is_https();
    match reset::admin_issue(&state, &who, *id, delivery).await {
        Ok(issued) => match (&issued.link, &issued.emailed_to) {
            (Some(link), _) => {
                let instance = instance_name(&state).await?;
                let expires = crate::views::format_time(issued.expires_at);
                let mut res = html(
                    StatusCode::OK,
                    view::password_reset_card(
                        &instance,
                        &viewer(&session),
                        *id,
                        &issued.username,
                        link,
                        &expires,
                    ),
                );
                res.headers_mut()
                    .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
                Ok(res)
            }
            (None, to) => Ok(flash::redirect_with(
                &user_page(*id),
                Kind::Notice,
                &format!(
                    "Queued a password reset link for {} to {}.",
                    issued.username,
                    to.as_deref().unwrap_or("their email")
                ),
                https,
            )),
        },
        Err(AppError::Forbidden(reason)) => Ok(flash::redirect_with(
            &user_page(*id),
            Kind::Error,
            &reason,
            https,
        )),
        Err(e) => Err(e),
    }
}

/// Asks before resetting two-factor.
pub async fn show_reset_two_factor(
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let user = users::get_user(&state, *id).await?;
    let instance = instance_name(&state).await?;
    Ok(html(
        StatusCode::OK,
        view::reset_two_factor_page(&instance, &viewer(&session), user.id, &user.username),
    ))
}

/// Resets the user's two-factor and emails them.
pub async fn submit_reset_two_factor(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let name = mfa::admin_reset(&state, &who, *id).await?;
    Ok(flash::redirect_with(
        &user_page(*id),
        Kind::Notice,
        &format!("Reset the two-factor sign-in of {name}; they were emailed."),
        state.config.is_https(),
    ))
}

/// Gives or takes admin rights.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminForm {
    #[serde(default)]
    csrf_token: Option<String>,
    admin: bool,
}

/// "Make admin" / "Remove admin rights".
pub async fn submit_admin(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
    form: web::Form<AdminForm>,
) -> Result<HttpResponse, AppError> {
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let https = state.config.is_https();
    match admin_rights::set_admin(&state, &who, *id, form.admin).await {
        Ok(name) => {
            let msg = if form.admin {
                format!("{name} is now an admin.")
            } else {
                format!("{name} is no longer an admin.")
            };
            Ok(flash::redirect_with(
                &user_page(*id),
                Kind::Notice,
                &msg,
                https,
            ))
        }
        Err(AppError::Forbidden(reason)) => Ok(flash::redirect_with(
            &user_page(*id),
            Kind::Error,
            &reason,
            https,
        )),
        Err(e) => Err(e),
    }
}

/// The account rules page.
pub async fn show_account_rules(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
) -> Result<HttpResponse, AppError> {
    let rules = crate::services::account::rules(&state).await?;
    let instance = instance_name(&state).await?;
    let (notice, _) = flash::notices(&req);
    let mut res = html(
        StatusCode::OK,
        view::account_rules_page(&instance, &viewer(&session), rules, notice.as_deref()),
    );
    flash::clear_on(&mut res, &req, state.config.is_https())?;
    Ok(res)
}

/// The account rules as submitted (unchecked boxes are absent).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesForm {
    #[serde(default)]
    csrf_token: Option<String>,
    edit_name: Option<String>,
    edit_email: Option<String>,
    edit_phone: Option<String>,
    mfa_required: Option<String>,
}

/// Saves the account rules.
pub async fn submit_account_rules(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    form: web::Form<RulesForm>,
) -> Result<HttpResponse, AppError> {
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let rules = crate::services::account::AccountRules {
        editable: crate::services::account::Editable {
            name: form.edit_name.is_some(),
            email: form.edit_email.is_some(),
            phone: form.edit_phone.is_some(),
        },
        mfa_required: form.mfa_required.is_some(),
    };
    crate::services::account::save_rules(&state, &who, rules).await?;
    Ok(flash::redirect_with(
        "/admin/settings/accounts",
        Kind::Notice,
        "Saved the account rules.",
        state.config.is_https(),
    ))
}
