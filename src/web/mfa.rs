//! `/me/two-factor`: set up an authenticator app or email codes, renew recovery codes, turn
//! two-factor off. A user who must set up a second factor can reach only these pages.

use super::account::viewer;
use super::flash::{self, Kind};
use super::session::user_post;
use super::{html, CsrfOnly};
use crate::error::AppError;
use crate::services::auth::UserSession;
use crate::services::bootstrap::instance_name;
use crate::services::mfa::{self as svc, SetupError, TotpSetup};
use crate::services::settings::{effective_smtp, get_settings};
use crate::state::AppState;
use crate::views::account as view;
use actix_web::http::header::{HeaderValue, CACHE_CONTROL};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

const PAGE: &str = "/me/two-factor";

#[derive(Default)]
struct Shown<'a> {
    setup: Option<&'a TotpSetup>,
    email_sent: bool,
    notice: Option<&'a str>,
    error: Option<&'a str>,
}

async fn render(
    state: &AppState,
    session: &UserSession,
    status: StatusCode,
    shown: Shown<'_>,
) -> Result<HttpResponse, AppError> {
    let factors = svc::factors(state, session.user_id).await?;
    let required = state.db.read(svc::required).await?;
    let settings = get_settings(state).await?;
    let smtp = effective_smtp(state, &settings).is_some();
    let instance = instance_name(state).await?;
    let v = view::TwoFactorView {
        factors,
        setup: shown.setup,
        email_sent: shown.email_sent,
        smtp,
        required,
        notice: shown.notice,
        error: shown.error,
    };
    let mut res = html(
        status,
        view::two_factor_page(&instance, &viewer(session), session.is_admin, &v),
    );
    // The secret and its QR code are on this page while setting up.
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// `/me/two-factor`.
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: UserSession,
) -> Result<HttpResponse, AppError> {
    let (notice, error) = flash::notices(&req);
    let setup = svc::pending_totp(&state, session.user_id).await?;
    let factors = svc::factors(&state, session.user_id).await?;
    let setup = setup.filter(|_| !factors.totp);
    let shown = Shown {
        setup: setup.as_ref(),
        notice: notice.as_deref(),
        error: error.as_deref(),
        ..Shown::default()
    };
    let mut res = render(&state, &session, StatusCode::OK, shown).await?;
    flash::clear_on(&mut res, &req, state.config.is_https())?;
    Ok(res)
}

/// Starts setting up an authenticator app.
pub async fn submit_start_totp(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: UserSession,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    user_post(&req, &state, &session, form.csrf_token.as_deref())?;
    svc::start_totp(&state, session.user_id).await?;
    Ok(super::see_other(PAGE))
}

/// A form with one code.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeForm {
    #[serde(default)]
    pub(super) csrf_token: Option<String>,
    #[serde(default)]
    pub(super) code: String,
}

fn codes_page(instance: &str, session: &UserSession, codes: &[String]) -> HttpResponse {
    let mut res = html(
        StatusCode::OK,
        view::recovery_codes_page(instance, &viewer(session), session.is_admin, codes),
    );
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Confirms the authenticator app with a code; shows the recovery codes once.
pub async fn submit_confirm_totp(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: UserSession,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let who = user_post(&req, &state, &session, form.csrf_token.as_deref())?;
    match svc::confirm_totp(&state, &who, session.user_id, &form.code).await {
        Ok(codes) => {
            let instance = instance_name(&state).await?;
            Ok(codes_page(&instance, &session, &codes))
        }
        Err(e @ (SetupError::WrongCode | SetupError::NotStarted)) => {
            let setup = svc::pending_totp(&state, session.user_id).await?;
            let message = e.to_string();
            let shown = Shown {
                setup: setup.as_ref(),
                error: Some(&message),
                ..Shown::default()
            };
            render(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, shown).await
        }
        Err(SetupError::App(e)) => Err(e),
    }
}

/// New recovery codes, shown once.
pub async fn submit_recovery(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: UserSession,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    let who = user_post(&req, &state, &session, form.csrf_token.as_deref())?;
    if !svc::factors(&state, session.user_id).await?.any() {
        return Err(AppError::BadRequest(
            "Set up a second factor first; recovery codes come with it.".into(),
        ));
    }
    let codes = svc::regenerate_recovery_codes(&state, &who, session.user_id).await?;
    let instance = instance_name(&state).await?;
    Ok(codes_page(&instance, &session, &codes))
}

/// Emails a code to turn email codes on.
pub async fn submit_email(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: UserSession,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AppError> {
    let who = user_post(&req, &state, &session, form.csrf_token.as_deref())?;
    match svc::send_email_code(&state, &who, session.user_id).await? {
        Ok(()) => {
            let shown = Shown {
                email_sent: true,
                notice: Some("We emailed you a code. It works for 10 minutes."),
                ..Shown::default()
            };
            render(&state, &session, StatusCode::OK, shown).await
        }
        Err(secs) => {
            let message = format!("Too many codes asked for. Try again in {secs} seconds.");
            let shown = Shown {
                error: Some(&message),
                ..Shown::default()
            };
            render(&state, &session, StatusCode::TOO_MANY_REQUESTS, shown).await
        }
    }
}

/// Turns email codes on with the emailed code.
pub async fn submit_confirm_email(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: UserSession,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let who = user_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let had_codes = svc::factors(&state, session.user_id).await?.recovery_left > 0;
    if had_codes {
        // Turning a second method on keeps the recovery codes the user already saved.
        if svc::confirm_email(&state, &who, session.user_id, &form.code).await? {
            return Ok(flash::redirect_with(
                PAGE,
                Kind::Notice,
                "Email codes are on.",
                state.config.is_https(),
            ));
        }
    } else if let Some(codes) =
        svc::confirm_email_with_recovery_codes(&state, &who, session.user_id, &form.code).await?
    {
        let instance = instance_name(&state).await?;
        return Ok(codes_page(&instance, &session, &codes));
    }
    let shown = Shown {
        email_sent: true,
        error: Some(
            "That code is not right or has expired. Check the newest email, or ask for a new code.",
        ),
        ..Shown::default()
    };
    render(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, shown).await
}

/// Turns two-factor off with a current code (not while it is required for everyone).
pub async fn submit_disable(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: UserSession,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let who = user_post(&req, &state, &session, form.csrf_token.as_deref())?;
    if state.db.read(svc::required).await? {
        return Err(AppError::Forbidden(
            "Your organisation requires a second factor, so it cannot be turned off.".into(),
        ));
    }
    if svc::disable(&state, &who, session.user_id, &session.username, &form.code).await? {
        return Ok(flash::redirect_with(
            PAGE,
            Kind::Notice,
            "Two-factor sign-in is off.",
            state.config.is_https(),
        ));
    }
    let shown = Shown {
        error: Some("That code is not right. Use a current code from your app or email, or a recovery code."),
        ..Shown::default()
    };
    render(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, shown).await
}
