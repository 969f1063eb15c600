//! The settings page, its markdown preview and the test email.

use super::flash::{self, Kind};
use super::request::actor;
use super::session::{admin_post, verify_csrf};
use super::{html, viewer};
use crate::domain::template::TagValues;
use crate::error::AppError;
use crate::services::auth::AdminSession;
use crate::services::settings::{self as svc, render_welcome, SettingsInput, TestMailOutcome};
use crate::services::users::get_user;
use crate::state::AppState;
use crate::views::settings::{self as view, SettingsContext, SettingsValues};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

async fn render(
    req: &HttpRequest,
    state: &AppState,
    session: &AdminSession,
    status: StatusCode,
    values: Option<SettingsValues>,
    errors: &[crate::domain::FieldError],
) -> Result<HttpResponse, AppError> {
    let settings = svc::get_settings(state).await?;
    let me = get_user(state, session.user_id).await?;
    let values = values.unwrap_or_else(|| SettingsValues::from_settings(&settings));
    let preview = render_welcome(
        &values.welcome_message,
        &TagValues::sample(&state.config.public_url, &settings.instance_name),
    );
    let preview_warning = svc::unknown_tags_message(&values.welcome_message);
    let (notice, error) = flash::notices(req);
    let ctx = SettingsContext {
        instance_id: &settings.instance_id,
        env_smtp: state.config.smtp.as_ref(),
        has_password: !settings.smtp.password.is_empty(),
        preview_html: &preview,
        preview_warning: preview_warning.as_deref(),
        test_to: &me.email,
    };
    let page = view::settings_page(
        &settings.instance_name,
        &viewer(session),
        &values,
        &ctx,
        errors,
        notice.as_deref(),
        error.as_deref(),
    );
    let mut res = html(status, page);
    flash::clear_on(&mut res, req, state.config.is_https())?;
    Ok(res)
}

/// Shows the settings.
pub async fn show_settings(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
) -> Result<HttpResponse, AppError> {
    render(&req, &state, &session, StatusCode::OK, None, &[]).await
}

/// The settings form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsForm {
    #[serde(default)]
    csrf_token: Option<String>,
    instance_name: String,
    welcome_message: String,
    welcome_email_subject: String,
    #[serde(default)]
    welcome_email_same: Option<String>,
    #[serde(default)]
    welcome_email_body: String,
    #[serde(default)]
    vpn_step: String,
    #[serde(default)]
    max_devices_per_user: Option<String>,
    #[serde(default)]
    smtp_host: Option<String>,
    #[serde(default)]
    smtp_port: String,
    #[serde(default)]
    smtp_security: String,
    #[serde(default)]
    smtp_username: String,
    #[serde(default)]
    smtp_password: String,
    #[serde(default)]
    smtp_password_clear: Option<String>,
    #[serde(default)]
    smtp_sender: String,
}

/// Saves the settings.
pub async fn submit_settings(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    form: web::Form<SettingsForm>,
) -> Result<HttpResponse, AppError> {
    verify_csrf(
        &req,
        &state,
        &session.csrf_token,
        form.csrf_token.as_deref(),
    )?;
    let f = form.into_inner();
    let who = actor(&req, &state, Some((&session.username, session.user_id)));
    let values = SettingsValues {
        instance_name: f.instance_name.clone(),
        welcome_message: f.welcome_message.clone(),
        welcome_email_subject: f.welcome_email_subject.clone(),
        welcome_email_body: f.welcome_email_body.clone(),
        welcome_email_same: f.welcome_email_same.is_some(),
        vpn_step: f.vpn_step.clone(),
        max_devices_per_user: f.max_devices_per_user.clone().unwrap_or_default(),
        smtp_host: f.smtp_host.clone().unwrap_or_default(),
        smtp_port: f.smtp_port.clone(),
        smtp_security: f.smtp_security.clone(),
        smtp_username: f.smtp_username.clone(),
        smtp_sender: f.smtp_sender.clone(),
    };
    let input = SettingsInput {
        instance_name: f.instance_name,
        welcome_message: f.welcome_message,
        welcome_email_subject: f.welcome_email_subject,
        welcome_email_body: f.welcome_email_body,
        welcome_email_same: f.welcome_email_same.is_some(),
        vpn_step: f.vpn_step,
        max_devices_per_user: f.max_devices_per_user,
        keep_smtp: f.smtp_host.is_none(),
        smtp_host: f.smtp_host.unwrap_or_default(),
        smtp_port: f.smtp_port,
        smtp_security: f.smtp_security,
        smtp_username: f.smtp_username,
        smtp_password: f.smtp_password,
        smtp_password_clear: f.smtp_password_clear.is_some(),
        smtp_sender: f.smtp_sender,
    };
    match svc::update_settings(&state, &who, input).await {
        Ok(()) => Ok(flash::redirect_with(
            "/admin/settings",
            Kind::Notice,
            "Settings saved.",
            state.config.is_https(),
        )),
        Err(AppError::Validation(errors)) => {
            render(
                &req,
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(values),
                &errors,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// The preview request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewForm {
    #[serde(default)]
    csrf_token: Option<String>,
    welcome_message: String,
}

/// Renders the welcome message with sample values (sanitised), for the preview box.
pub async fn submit_preview(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    form: web::Form<PreviewForm>,
) -> Result<HttpResponse, AppError> {
    verify_csrf(
        &req,
        &state,
        &session.csrf_token,
        form.csrf_token.as_deref(),
    )?;
    let instance = crate::services::bootstrap::instance_name(&state).await?;
    let safe = render_welcome(
        &form.welcome_message,
        &TagValues::sample(&state.config.public_url, &instance),
    );
    let warning = svc::unknown_tags_message(&form.welcome_message);
    Ok(html(
        StatusCode::OK,
        view::preview(&safe, warning.as_deref()),
    ))
}

/// The test email form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestEmailForm {
    #[serde(default)]
    csrf_token: Option<String>,
    to: String,
}

/// Sends a test email through the outbox and reports what happened.
pub async fn submit_test_email(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    form: web::Form<TestEmailForm>,
) -> Result<HttpResponse, AppError> {
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let https = state.config.is_https();
    let outcome = match svc::send_test_email(
        &state,
        &who,
        &form.to,
        std::time::Duration::from_secs(10),
    )
    .await
    {
        Ok(o) => o,
        Err(AppError::Validation(errors)) => {
            let message = errors
                .first()
                .map(|e| e.message.clone())
                .unwrap_or_default();
            return Ok(flash::redirect_with(
                "/admin/settings",
                Kind::Error,
                &message,
                https,
            ));
        }
        Err(e) => return Err(e),
    };
    let to = form.to.trim();
    let (kind, message) = match outcome {
        TestMailOutcome::Sent => (Kind::Notice, format!("Test email sent to {to}.")),
        TestMailOutcome::NotConfigured => (
            Kind::Notice,
            format!("SMTP is not configured, so the test email to {to} waits in the outbox, where you can read it."),
        ),
        TestMailOutcome::Pending => (Kind::Notice, format!("The test email to {to} is still being sent; see the outbox.")),
        TestMailOutcome::NotSent { error, hint, failed } => (
            Kind::Error,
            format!(
                "The test email to {to} was not sent. {}{} The server said: {error}",
                hint.map(|h| format!("{h} ")).unwrap_or_default(),
                if failed { "onramp gave up on it." } else { "onramp will retry; see the outbox." }
            ),
        ),
    };
    Ok(flash::redirect_with(
        "/admin/settings",
        kind,
        &message,
        https,
    ))
}
