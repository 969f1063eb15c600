//! The settings page, its markdown preview and the test email.

use super::flash::{self, Kind};
use super::request::actor;
use super::session::{admin_post, verify_csrf};
use super::{html, viewer};
use crate::domain::template::TagValues;
use crate::error::AppError;
use crate::services::auth::AdminSession;
use crate::services::settings::{self as svc, render_welcome, SettingsInput};
use crate::services::test_email::{send_test_email, TestMailOutcome};
use crate::services::users::get_user;
use crate::state::AppState;
use crate::views::settings::{self as view, SettingsContext, SettingsValues};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// What a page answering a form shows besides the values: its errors, a notice in place of
/// the carried one, and the test email's address as typed.
#[derive(Debug, Default)]
struct Answer<'a> {
    errors: &'a [crate::domain::FieldError],
    message: Option<(Kind, String)>,
    test_to: Option<&'a str>,
}

async fn render(
    req: &HttpRequest,
    state: &AppState,
    session: &AdminSession,
    status: StatusCode,
    values: Option<SettingsValues>,
    answer: Answer<'_>,
) -> Result<HttpResponse, AppError> {
    let errors = answer.errors;
    let settings = svc::get_settings(state).await?;
    let me = get_user(state, session.user_id).await?;
    let values = values.unwrap_or_else(|| SettingsValues::from_settings(&settings));
    let preview = render_welcome(
        &values.welcome_message,
        &TagValues::sample(&state.config.public_url, &settings.instance_name),
    );
    let preview_warning = svc::unknown_tags_message(&values.welcome_message);
    let (notice, error) = match answer.message {
        Some((Kind::Notice, m)) => (Some(m), None),
        Some((Kind::Error, m)) => (None, Some(m)),
        None => flash::notices(req),
    };
    let ctx = SettingsContext {
        instance_id: &settings.instance_id,
        env_smtp: state.config.smtp.as_ref(),
        has_password: !settings.smtp.password.is_empty(),
        preview_html: &preview,
        preview_warning: preview_warning.as_deref(),
        test_to: answer.test_to.unwrap_or(&me.email),
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
    render(
        &req,
        &state,
        &session,
        StatusCode::OK,
        None,
        Answer::default(),
    )
    .await
}

/// The settings form, which also holds "Send test email" (so the test uses the SMTP values
/// on the screen). Every field may be missing: the SMTP fields are disabled, so not sent,
/// while `ONRAMP_SMTP_URL` is set, and a missing text field is saved as empty.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsForm {
    #[serde(default)]
    csrf_token: Option<String>,
    #[serde(default)]
    instance_name: Option<String>,
    #[serde(default)]
    welcome_message: Option<String>,
    #[serde(default)]
    welcome_email_subject: Option<String>,
    #[serde(default)]
    welcome_email_same: Option<String>,
    #[serde(default)]
    welcome_email_body: Option<String>,
    #[serde(default)]
    vpn_step: Option<String>,
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
    /// The test email's address.
    #[serde(default)]
    to: Option<String>,
}

impl SettingsForm {
    /// What the form asks to store.
    fn input(&self) -> SettingsInput {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        SettingsInput {
            instance_name: text(&self.instance_name),
            welcome_message: text(&self.welcome_message),
            welcome_email_subject: text(&self.welcome_email_subject),
            welcome_email_body: text(&self.welcome_email_body),
            welcome_email_same: self.welcome_email_same.is_some(),
            vpn_step: text(&self.vpn_step),
            max_devices_per_user: self.max_devices_per_user.clone(),
            keep_smtp: self.smtp_host.is_none(),
            smtp_host: text(&self.smtp_host),
            smtp_port: self.smtp_port.clone(),
            smtp_security: self.smtp_security.clone(),
            smtp_username: self.smtp_username.clone(),
            smtp_password: self.smtp_password.clone(),
            smtp_password_clear: self.smtp_password_clear.is_some(),
            smtp_sender: self.smtp_sender.clone(),
        }
    }

    /// The page's values: as typed, and as stored for what the form did not carry.
    async fn values(&self, state: &AppState) -> Result<SettingsValues, AppError> {
        let stored = SettingsValues::from_settings(&svc::get_settings(state).await?);
        let or = |typed: &Option<String>, kept: String| typed.clone().unwrap_or(kept);
        let smtp = self.smtp_host.is_some();
        let typed_smtp = |typed: &String, kept: String| if smtp { typed.clone() } else { kept };
        Ok(SettingsValues {
            welcome_email_same: match &self.instance_name {
                Some(_) => self.welcome_email_same.is_some(),
                None => stored.welcome_email_same,
            },
            instance_name: or(&self.instance_name, stored.instance_name),
            welcome_message: or(&self.welcome_message, stored.welcome_message),
            welcome_email_subject: or(&self.welcome_email_subject, stored.welcome_email_subject),
            welcome_email_body: or(&self.welcome_email_body, stored.welcome_email_body),
            vpn_step: or(&self.vpn_step, stored.vpn_step),
            max_devices_per_user: or(&self.max_devices_per_user, stored.max_devices_per_user),
            smtp_host: or(&self.smtp_host, stored.smtp_host),
            smtp_port: typed_smtp(&self.smtp_port, stored.smtp_port),
            smtp_security: typed_smtp(&self.smtp_security, stored.smtp_security),
            smtp_username: typed_smtp(&self.smtp_username, stored.smtp_username),
            smtp_sender: typed_smtp(&self.smtp_sender, stored.smtp_sender),
        })
    }
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
    let who = actor(&req, &state, Some((&session.username, session.user_id)));
    match svc::update_settings(&state, &who, form.input()).await {
        Ok(()) => Ok(flash::redirect_with(
            "/admin/settings",
            Kind::Notice,
            "Settings saved.",
            state.config.is_https(),
        )),
        Err(AppError::Validation(errors)) => {
            let answer = Answer {
                errors: &errors,
                test_to: form.to.as_deref(),
                ..Answer::default()
            };
            let values = form.values(&state).await?;
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render(&req, &state, &session, status, Some(values), answer).await
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

/// Sends one test email with the SMTP values on the screen and shows the page again with
/// those values (nothing is saved) and the outcome.
pub async fn submit_test_email(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    form: web::Form<SettingsForm>,
) -> Result<HttpResponse, AppError> {
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let on_screen = form.input();
    let values = form.values(&state).await?;
    let to = form.to.as_deref().unwrap_or_default().trim();
    let outcome = match send_test_email(&state, &who, to, Some(&on_screen)).await {
        Ok(o) => o,
        Err(AppError::Validation(errors)) => {
            let answer = Answer {
                errors: &errors,
                test_to: Some(to),
                ..Answer::default()
            };
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return render(&req, &state, &session, status, Some(values), answer).await;
        }
        Err(e) => return Err(e),
    };
    let message = match outcome {
        TestMailOutcome::Sent => (Kind::Notice, format!("Test email sent to {to}.")),
        TestMailOutcome::NotConfigured => (
            Kind::Error,
            "SMTP is not configured: enter the SMTP host and port above, then send the test email again. Nothing was queued.".to_owned(),
        ),
        TestMailOutcome::NotSent { error, hint } => (
            Kind::Error,
            format!(
                "The test email to {to} was not sent, and onramp will not retry it. {}The server said: {error}",
                hint.map(|h| format!("{h} ")).unwrap_or_default(),
            ),
        ),
    };
    let answer = Answer {
        message: Some(message),
        test_to: Some(to),
        ..Answer::default()
    };
    render(&req, &state, &session, StatusCode::OK, Some(values), answer).await
}
