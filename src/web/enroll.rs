//! The enrollment wizard in the browser. The emailed link's GET changes nothing; a POST
//! opens the window and sets the wizard cookie; the token never appears in a wizard URL.

use super::request::actor;
use super::session::{cookie, removal};
use super::{html, see_other};
use crate::error::AppError;
use crate::services::bootstrap::instance_name;
use crate::services::enrollment::{
    self as svc, LinkKind, NewDevice, StartError, Step, Wizard, WizardError,
};
use crate::state::AppState;
use crate::views::enroll as view;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// Name of the wizard's cookie.
pub fn wizard_cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-onramp_enroll"
    } else {
        "onramp_enroll"
    }
}

/// `?token=` on the landing page.
#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    token: Option<String>,
}

async fn invalid(state: &AppState) -> Result<HttpResponse, AppError> {
    let instance = instance_name(state).await?;
    Ok(html(
        StatusCode::NOT_FOUND,
        view::invalid_link_page(&instance),
    ))
}

/// The landing page (or the token entry form without a token). Changes nothing but the
/// address's rate limit and, for a bad link, the audit log.
pub async fn show_enroll(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LinkQuery>,
) -> Result<HttpResponse, AppError> {
    let instance = instance_name(&state).await?;
    let Some(token) = query.token.clone().filter(|t| !t.trim().is_empty()) else {
        return Ok(html(StatusCode::OK, view::token_entry_page(&instance, &[])));
    };
    let who = actor(&req, &state, None);
    match svc::check_link(&state, &who, token.clone()).await? {
        LinkKind::Enrollment => Ok(html(
            StatusCode::OK,
            view::landing_page(&instance, token.trim()),
        )),
        LinkKind::Desktop => Ok(html(
            StatusCode::OK,
            view::desktop_token_page(&instance, &state.config.public_url, token.trim()),
        )),
        LinkKind::Invalid => invalid(&state).await,
    }
}

/// The start form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartForm {
    token: String,
}

/// Opens the window and goes to the wizard.
pub async fn submit_start(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<StartForm>,
) -> Result<HttpResponse, AppError> {
    super::session::verify_origin(&req, &state)?;
    let who = actor(&req, &state, None);
    let https = state.config.is_https();
    match svc::start(&state, &who, &form.token).await {
        Ok(cookie_value) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/enroll/wizard"))
            .cookie(cookie(wizard_cookie_name(https), cookie_value, https))
            .finish()),
        Err(StartError::Invalid) => invalid(&state).await,
        Err(StartError::Desktop) => {
            let instance = instance_name(&state).await?;
            Ok(html(
                StatusCode::OK,
                view::desktop_token_page(&instance, &state.config.public_url, form.token.trim()),
            ))
        }
        Err(StartError::RateLimited(secs)) => Err(AppError::RateLimited(secs)),
        Err(StartError::App(e)) => Err(e),
    }
}

async fn current(
    req: &HttpRequest,
    state: &AppState,
) -> Result<Result<Wizard, HttpResponse>, AppError> {
    let https = state.config.is_https();
    let Some(value) = req
        .cookie(wizard_cookie_name(https))
        .map(|c| c.value().to_owned())
    else {
        return Ok(Err(ended(state, view::Ended::Missing).await?));
    };
    match svc::wizard(state, &value).await {
        Ok(w) => Ok(Ok(w)),
        Err(WizardError::Closed(admin)) => {
            Ok(Err(ended(state, view::Ended::Closed(admin.as_ref())).await?))
        }
        Err(WizardError::Expired(admin)) => {
            Ok(Err(
                ended(state, view::Ended::Expired(admin.as_ref())).await?
            ))
        }
        Err(WizardError::Cancelled) => Ok(Err(ended(state, view::Ended::Cancelled).await?)),
        Err(WizardError::NoSession) => Ok(Err(ended(state, view::Ended::Replaced).await?)),
        Err(WizardError::WrongStep(_)) => Ok(Err(see_other("/enroll/wizard"))),
        Err(WizardError::App(e)) => Err(e),
    }
}

async fn ended(state: &AppState, why: view::Ended<'_>) -> Result<HttpResponse, AppError> {
    let instance = instance_name(state).await?;
    let mut res = html(StatusCode::GONE, view::session_ended_page(&instance, why));
    res.add_cookie(&removal(
        wizard_cookie_name(state.config.is_https()),
        state.config.is_https(),
    ))
    .map_err(AppError::internal)?;
    Ok(res)
}

async fn render_step(
    state: &AppState,
    w: &Wizard,
    status: StatusCode,
    errors: &[crate::domain::FieldError],
    values: (&str, &str),
) -> Result<HttpResponse, AppError> {
    let page = match w.step {
        Step::Welcome => view::welcome_step(w, state.config.enrollment_session_ttl.whole_seconds()),
        Step::Verify => view::verify_step(
            w,
            if values.0.is_empty() {
                w.user.phone.as_deref().unwrap_or("")
            } else {
                values.0
            },
            errors,
        ),
        Step::Password => view::password_step(w, "", None, errors),
        Step::Vpn => view::vpn_step(w, values.0, values.1, errors),
        Step::TwoFactor => match svc::two_factor(state, w).await {
            Ok(tf) => {
                let mut res = html(status, view::two_factor_step(w, &tf, errors));
                // The secret and its QR code are on this page while setting up.
                res.headers_mut().insert(
                    header::CACHE_CONTROL,
                    header::HeaderValue::from_static("no-store"),
                );
                return Ok(res);
            }
            Err(WizardError::App(e)) => return Err(e),
            Err(_) => return Ok(see_other("/enroll/wizard")),
        },
        Step::Done => return Ok(see_other("/enroll/done")),
    };
    Ok(html(status, page))
}

/// The current step.
pub async fn show_wizard(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let w = match current(&req, &state).await? {
        Ok(w) => w,
        Err(res) => return Ok(res),
    };
    render_step(&state, &w, StatusCode::OK, &[], ("", "")).await
}

/// The wizard behind a step's POST, after the same-origin and CSRF checks; or the page to
/// answer with when there is none.
async fn posted(
    req: &HttpRequest,
    state: &AppState,
    form_token: Option<&str>,
) -> Result<Result<Wizard, HttpResponse>, AppError> {
    let w = current(req, state).await?;
    if let Ok(w) = &w {
        super::session::verify_csrf(req, state, &w.csrf_token, form_token)?;
    }
    Ok(w)
}

/// Maps a step's outcome to a redirect, a 422 with the step again, or an error.
async fn after_step(
    state: &AppState,
    w: &Wizard,
    result: Result<(), WizardError>,
    values: (&str, &str),
) -> Result<HttpResponse, AppError> {
    match result {
        Ok(()) => Ok(see_other("/enroll/wizard")),
        Err(WizardError::WrongStep(_)) => Ok(see_other("/enroll/wizard")),
        Err(WizardError::App(AppError::Validation(errors))) => {
            render_step(state, w, StatusCode::UNPROCESSABLE_ENTITY, &errors, values).await
        }
        Err(WizardError::App(e)) => Err(e),
        Err(
            WizardError::Expired(_)
            | WizardError::Closed(_)
            | WizardError::NoSession
            | WizardError::Cancelled,
        ) => Ok(see_other("/enroll/wizard")),
    }
}

/// A form with only the CSRF token.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepForm {
    #[serde(default)]
    csrf_token: Option<String>,
}

/// Welcome → Verify.
pub async fn submit_welcome(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<StepForm>,
) -> Result<HttpResponse, AppError> {
    let w = match posted(&req, &state, form.csrf_token.as_deref()).await? {
        Ok(w) => w,
        Err(res) => return Ok(res),
    };
    after_step(&state, &w, svc::submit_welcome(&state, &w).await, ("", "")).await
}

/// The verify form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyForm {
    #[serde(default)]
    csrf_token: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: String,
}

/// Verify → Password.
pub async fn submit_verify(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<VerifyForm>,
) -> Result<HttpResponse, AppError> {
    let w = match posted(&req, &state, form.csrf_token.as_deref()).await? {
        Ok(w) => w,
        Err(res) => return Ok(res),
    };
    // Names and email are shown read-only; whatever comes back for them is ignored.
    let _ = (&form.first_name, &form.last_name, &form.email);
    after_step(
        &state,
        &w,
        svc::submit_verify(&state, &w, &form.phone).await,
        (&form.phone, ""),
    )
    .await
}

/// The password form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordForm {
    #[serde(default)]
    csrf_token: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_repeat: String,
}

/// Password → VPN.
pub async fn submit_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let w = match posted(&req, &state, form.csrf_token.as_deref()).await? {
        Ok(w) => w,
        Err(res) => return Ok(res),
    };
    let _ = &form.username;
    let who = actor(&req, &state, Some((&w.user.username, w.user.id)));
    let result =
        svc::submit_password(&state, &who, &w, &form.password, &form.password_repeat).await;
    if let Err(WizardError::App(AppError::Validation(errors))) = &result {
        // The password stays in its field (only the repeat is typed again), with its meter.
        let meter = svc::password_strength(&w, &form.password).await.ok();
        let page = view::password_step(&w, &form.password, meter.as_ref(), errors);
        return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, page));
    }
    after_step(&state, &w, result, ("", "")).await
}

/// The live strength meter (htmx, while typing): the meter alone, for the password typed so
/// far. Changes nothing; the password step's submit still decides.
pub async fn password_strength(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let w = match posted(&req, &state, form.csrf_token.as_deref()).await? {
        Ok(w) => w,
        Err(res) => return Ok(res),
    };
    let _ = (&form.username, &form.password_repeat);
    match svc::password_strength(&w, &form.password).await {
        Ok(a) => Ok(html(StatusCode::OK, view::strength_meter(Some(&a)))),
        Err(WizardError::App(e)) => Err(e),
        Err(_) => Ok(html(StatusCode::OK, view::strength_meter(None))),
    }
}

/// The VPN form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpnForm {
    #[serde(default)]
    csrf_token: Option<String>,
    #[serde(default)]
    device_name: String,
    #[serde(default)]
    public_key: String,
    #[serde(default)]
    action: String,
}

/// Completes the enrollment.
pub async fn submit_vpn(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<VpnForm>,
) -> Result<HttpResponse, AppError> {
    let w = match posted(&req, &state, form.csrf_token.as_deref()).await? {
        Ok(w) => w,
        Err(res) => return Ok(res),
    };
    let who = actor(&req, &state, Some((&w.user.username, w.user.id)));
    let device = (form.action != "skip").then(|| NewDevice {
        name: form.device_name.clone(),
        public_key: form.public_key.clone(),
    });
    match svc::complete(&state, &who, &w, device).await {
        Ok(()) => Ok(see_other("/enroll/wizard")),
        Err(WizardError::App(AppError::BadRequest(m))) => Err(AppError::BadRequest(m)),
        other => after_step(&state, &w, other, (&form.device_name, &form.public_key)).await,
    }
}

/// "Set up now" on the two-factor step.
pub async fn submit_two_factor_start(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<StepForm>,
) -> Result<HttpResponse, AppError> {
    let w = match posted(&req, &state, form.csrf_token.as_deref()).await? {
        Ok(w) => w,
        Err(res) => return Ok(res),
    };
    after_step(
        &state,
        &w,
        svc::start_two_factor(&state, &w).await,
        ("", ""),
    )
    .await
}

/// Confirms the app; answers with the recovery codes, shown once.
pub async fn submit_two_factor_confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<super::mfa::CodeForm>,
) -> Result<HttpResponse, AppError> {
    let w = match posted(&req, &state, form.csrf_token.as_deref()).await? {
        Ok(w) => w,
        Err(res) => return Ok(res),
    };
    let who = actor(&req, &state, Some((&w.user.username, w.user.id)));
    match svc::confirm_two_factor(&state, &who, &w, &form.code).await {
        Ok(codes) => {
            let mut res = html(StatusCode::OK, view::two_factor_codes_step(&w, &codes));
            res.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            Ok(res)
        }
        Err(e) => after_step(&state, &w, Err(e), ("", "")).await,
    }
}

/// "Later" (or "Continue" when a factor is on already) on the two-factor step.
pub async fn submit_two_factor_skip(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<StepForm>,
) -> Result<HttpResponse, AppError> {
    let w = match posted(&req, &state, form.csrf_token.as_deref()).await? {
        Ok(w) => w,
        Err(res) => return Ok(res),
    };
    match svc::skip_two_factor(&state, &w).await {
        Ok(()) => Ok(see_other("/enroll/done")),
        other => after_step(&state, &w, other, ("", "")).await,
    }
}

/// The onboarding message and configs, readable until the window ends.
pub async fn show_done(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let w = match current(&req, &state).await? {
        Ok(w) => w,
        Err(res) => return Ok(res),
    };
    match svc::done(&state, &w).await {
        Ok(done) => Ok(html(StatusCode::OK, view::done_step(&w, &done))),
        Err(WizardError::WrongStep(_)) => Ok(see_other("/enroll/wizard")),
        Err(WizardError::App(e)) => Err(e),
        Err(_) => Ok(see_other("/enroll/wizard")),
    }
}

/// One location's config as a text attachment (private key placeholder included).
pub async fn show_done_config(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let w = match current(&req, &state).await? {
        Ok(w) => w,
        Err(res) => return Ok(res),
    };
    let id: i64 = path
        .trim_end_matches(".conf")
        .parse()
        .map_err(|_| AppError::NotFound)?;
    let done = match svc::done(&state, &w).await {
        Ok(d) => d,
        Err(_) => return Ok(see_other("/enroll/wizard")),
    };
    let c = done
        .configs
        .into_iter()
        .find(|c| c.location_id == id)
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", c.file_name),
        ))
        .body(c.config))
}
