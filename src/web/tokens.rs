//! The token dialog ("Start enrollment", "Configure Desktop Client"), the one-time token card
//! and "Revoke pending token". Issuing answers with a redirect to the card's URL, whose first
//! GET shows the token; reloading it or coming Back to it shows that it was already shown.

use super::flash::{self, Kind};
use super::request::wants_fragment;
use super::session::admin_post;
use super::{html, see_other, viewer, CsrfOnly};
use crate::error::AppError;
use crate::mail::templates::duration_words;
use crate::services::auth::AdminSession;
use crate::services::bootstrap::instance_name;
use crate::services::settings::{effective_smtp, get_settings};
use crate::services::tokens::{self, Delivery, Purpose, RESEND_LIMIT, RESEND_WINDOW};
use crate::services::users as users_svc;
use crate::state::AppState;
use crate::views::tokens::{self as view, DialogValues};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// The token dialog form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenDialogForm {
    #[serde(default)]
    csrf_token: Option<String>,
    #[serde(default)]
    delivery: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    validity: String,
}

/// "Start enrollment": choose email or hand-over.
pub async fn show_enrollment_dialog(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    show_dialog(req, state, session, *id, Purpose::Enrollment).await
}

/// "Configure Desktop Client": the same dialog for a desktop activation token.
pub async fn show_desktop_dialog(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    show_dialog(req, state, session, *id, Purpose::Desktop).await
}

async fn smtp_configured(state: &AppState) -> Result<bool, AppError> {
    let settings = get_settings(state).await?;
    Ok(effective_smtp(state, &settings).is_some())
}

async fn show_dialog(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: i64,
    purpose: Purpose,
) -> Result<HttpResponse, AppError> {
    let user = users_svc::get_user(&state, id).await?;
    let instance = instance_name(&state).await?;
    let notice = flash::take(&req).map(|(_, m)| m);
    let smtp = smtp_configured(&state).await?;
    // Without SMTP an email would only wait in the outbox: handing over is the default.
    let delivery = if smtp { "email" } else { "manual" };
    let values = DialogValues {
        purpose,
        email: &user.email,
        delivery,
        validity: "",
        default_validity: tokens::default_validity(&state, purpose),
        smtp_configured: smtp,
        notice: notice.as_deref(),
    };
    let page = view::token_dialog_page(&instance, &viewer(&session), &user, &values, &[]);
    let mut res = html(StatusCode::OK, page);
    flash::clear_on(&mut res, &req, state.config.is_https())?;
    Ok(res)
}

/// Issues an enrollment token and sends the browser to its card.
pub async fn submit_enrollment_dialog(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
    form: web::Form<TokenDialogForm>,
) -> Result<HttpResponse, AppError> {
    issue(
        req,
        state,
        session,
        *id,
        form.into_inner(),
        Purpose::Enrollment,
    )
    .await
}

/// Issues a desktop activation token and sends the browser to its card.
pub async fn submit_desktop_dialog(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
    form: web::Form<TokenDialogForm>,
) -> Result<HttpResponse, AppError> {
    issue(
        req,
        state,
        session,
        *id,
        form.into_inner(),
        Purpose::Desktop,
    )
    .await
}

async fn issue(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: i64,
    form: TokenDialogForm,
    purpose: Purpose,
) -> Result<HttpResponse, AppError> {
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let delivery = if form.delivery == "manual" {
        Delivery::Manual
    } else {
        Delivery::Email(form.email.clone())
    };
    let result = match form.validity.trim() {
        "" => Ok(None),
        raw => crate::domain::token::parse_validity(raw)
            .map(Some)
            .map_err(|m| AppError::field("validity", m)),
    };
    let result = match result {
        Ok(validity) => {
            tokens::issue_token_valid_for(
                &state,
                &who,
                &session.id_hash,
                id,
                purpose,
                delivery,
                validity,
            )
            .await
        }
        Err(e) => Err(e),
    };
    let (status, errors, retry_after) = match result {
        Ok(card) => {
            let url = format!("/admin/users/{id}/token/{card}");
            if wants_fragment(&req) {
                // htmx callers load the card as a page too, so its URL is what history holds.
                return Ok(HttpResponse::Ok()
                    .insert_header(("HX-Redirect", url))
                    .finish());
            }
            return Ok(see_other(&url));
        }
        Err(AppError::Validation(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors, None),
        Err(AppError::RateLimited(wait)) => {
            let user = users_svc::get_user(&state, id).await?;
            let message = format!(
                "At most {RESEND_LIMIT} invitation emails per user in {}, so the next email to {} can go in {}. Hand the token over instead: choose \"Deliver token yourself\".",
                duration_words(RESEND_WINDOW),
                user.username,
                duration_words(i64::try_from(wait).unwrap_or(RESEND_WINDOW)),
            );
            let errors = vec![crate::domain::FieldError::new("delivery", message)];
            (StatusCode::TOO_MANY_REQUESTS, errors, Some(wait))
        }
        Err(AppError::Forbidden(m)) => {
            // A refusal about this user ("has already enrolled") lands on their page, where
            // what can be done instead (their devices, the desktop token) is at hand.
            return Ok(flash::redirect_with(
                &format!("/admin/users/{id}"),
                Kind::Error,
                &m,
                state.config.is_https(),
            ));
        }
        Err(e) => return Err(e),
    };
    let user = users_svc::get_user(&state, id).await?;
    let instance = instance_name(&state).await?;
    let values = DialogValues {
        purpose,
        email: &form.email,
        delivery: if retry_after.is_some() {
            "manual"
        } else {
            &form.delivery
        },
        validity: &form.validity,
        default_validity: tokens::default_validity(&state, purpose),
        smtp_configured: smtp_configured(&state).await?,
        notice: None,
    };
    let mut res = html(
        status,
        view::token_dialog_page(&instance, &viewer(&session), &user, &values, &errors),
    );
    if let Some(wait) = retry_after {
        res.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(wait));
    }
    Ok(res)
}

/// The card's path: the user and the card's id.
#[derive(Debug, Deserialize)]
pub struct CardPath {
    id: i64,
    card: String,
}

/// Shows a token issued a moment ago, once; afterwards the same URL says it was shown.
pub async fn show_token_card(
    state: web::Data<AppState>,
    session: AdminSession,
    path: web::Path<CardPath>,
) -> Result<HttpResponse, AppError> {
    let user = users_svc::get_user(&state, path.id).await?;
    let instance = instance_name(&state).await?;
    let taken = tokens::take_card(&state, &session.id_hash, user.id, &path.card).await?;
    let page = match taken {
        Some(issued) => {
            let qr = crate::views::components::qr_svg(&issued.qr_payload())
                .map_err(AppError::internal)?;
            view::token_card_page(&instance, &viewer(&session), &issued, &qr)
        }
        None => view::token_gone_page(&instance, &viewer(&session), &user),
    };
    let mut res = html(StatusCode::OK, page);
    // Shown once: no cache, no history snapshot.
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// "Revoke pending token": the enrollment or desktop activation token a user has not used.
pub async fn submit_revoke_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let https = state.config.is_https();
    match tokens::revoke_pending(&state, &who, *id).await {
        Ok((username, purpose)) => Ok(flash::redirect_with(
            "/admin/users",
            Kind::Notice,
            &format!(
                "Revoked the pending {} of {username}.",
                view::token_kind(purpose)
            ),
            https,
        )),
        Err(AppError::BadRequest(m)) => {
            Ok(flash::redirect_with("/admin/users", Kind::Error, &m, https))
        }
        Err(e) => Err(e),
    }
}
