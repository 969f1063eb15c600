//! The settings page: instance, welcome message and email, VPN step, SMTP.

use super::components::{error_summary, field, flash, flash_error, radios, textarea, Input};
use super::layout::{admin_page, csrf_field, Nav, Viewer};
use crate::config::SmtpConfig;
use crate::domain::template::TAGS;
use crate::domain::FieldError;
use crate::services::settings::{Settings, VpnStep};
use maud::{html, Markup, PreEscaped};

/// Values shown in the form (what was stored, or what was just submitted).
#[derive(Debug, Clone, Default)]
pub struct SettingsValues {
    /// Instance name.
    pub instance_name: String,
    /// Welcome message.
    pub welcome_message: String,
    /// Email subject.
    pub welcome_email_subject: String,
    /// Email body.
    pub welcome_email_body: String,
    /// Same as welcome message.
    pub welcome_email_same: bool,
    /// optional / mandatory.
    pub vpn_step: String,
    /// Devices per user.
    pub max_devices_per_user: String,
    /// SMTP host.
    pub smtp_host: String,
    /// SMTP port.
    pub smtp_port: String,
    /// none / starttls / tls.
    pub smtp_security: String,
    /// SMTP user.
    pub smtp_username: String,
    /// From.
    pub smtp_sender: String,
}

impl SettingsValues {
    /// The form filled from stored settings (never the password).
    pub fn from_settings(s: &Settings) -> Self {
        Self {
            instance_name: s.instance_name.clone(),
            welcome_message: s.welcome_message.clone(),
            welcome_email_subject: s.welcome_email_subject.clone(),
            welcome_email_body: s.welcome_email_body.clone(),
            welcome_email_same: s.welcome_email_same,
            vpn_step: if s.vpn_step == VpnStep::Mandatory {
                "mandatory".into()
            } else {
                "optional".into()
            },
            max_devices_per_user: s.max_devices_per_user.to_string(),
            smtp_host: s.smtp.host.clone(),
            smtp_port: s.smtp.port.to_string(),
            smtp_security: s.smtp.security.clone(),
            smtp_username: s.smtp.username.clone(),
            smtp_sender: s.smtp.sender.clone(),
        }
    }
}

/// What the page shows besides the form.
#[derive(Debug, Clone)]
pub struct SettingsContext<'a> {
    /// The instance UUID.
    pub instance_id: &'a str,
    /// SMTP from `ONRAMP_SMTP_URL`, which overrides the form.
    pub env_smtp: Option<&'a SmtpConfig>,
    /// Whether a password is stored.
    pub has_password: bool,
    /// Sanitised HTML of the welcome message with sample values.
    pub preview_html: &'a str,
    /// What is wrong with the message's tags, if anything.
    pub preview_warning: Option<&'a str>,
    /// Default address for the test email.
    pub test_to: &'a str,
}

/// The rendered-markdown preview fragment, with a warning naming unknown tags.
pub fn preview(safe_html: &str, warning: Option<&str>) -> Markup {
    html! {
        div id="welcome-preview" aria-live="polite" {
            @if let Some(w) = warning {
                div class="flash flash-warning" { (w) }
            }
            div class="card preview" { (PreEscaped(safe_html)) }
        }
    }
}

/// The settings page.
pub fn settings_page(
    instance: &str,
    viewer: &Viewer,
    v: &SettingsValues,
    ctx: &SettingsContext<'_>,
    errors: &[FieldError],
    notice: Option<&str>,
    error: Option<&str>,
) -> Markup {
    let tags = TAGS
        .iter()
        .map(|t| format!("{{{{ {t} }}}}"))
        .collect::<Vec<_>>()
        .join(", ");
    let tag_hint = format!("Markdown. Tags replaced per user: {tags}.");
    admin_page(
        "Settings",
        instance,
        Nav::Settings,
        viewer,
        html! {
            h1 { "Settings" }
            p {
                a href="/admin/settings/invitations" { "Invitations" } ": validity, reminders and expiry notes. "
                "Automation (scripts, terraform) uses the admin API with " a href="/admin/api-tokens" { "API tokens" } "."
            }
            (flash(notice))
            (flash_error(error))
            (error_summary(errors))
            form class="form stack" method="post" action="/admin/settings" novalidate {
                (csrf_field(&viewer.csrf_token))
                section class="card stack" aria-labelledby="s-instance" {
                    h2 id="s-instance" { "Instance" }
                    (field(Input { maxlength: 64, hint: Some("Shown to users in the wizard, emails and the desktop client."), ..Input::new("instance_name", "Instance name", &v.instance_name) }, errors))
                    p { "Instance ID: " code { (ctx.instance_id) } span class="muted" { " (fixed at first start; the desktop client knows this instance by it)" } }
                }
                section class="card stack" aria-labelledby="s-welcome" {
                    h2 id="s-welcome" { "Welcome message" }
                    (textarea("welcome_message", "Welcome message", &v.welcome_message, Some(&tag_hint), 10, errors,
                        html! {}))
                    button type="button" class="button-secondary" hx-post="/admin/settings/preview" hx-params="welcome_message"
                        hx-target="#welcome-preview" hx-swap="outerHTML" { "Preview" }
                    h3 { "Preview" }
                    (preview(ctx.preview_html, ctx.preview_warning))
                }
                section class="card stack" aria-labelledby="s-email" {
                    h2 id="s-email" { "Welcome email" }
                    (field(Input { maxlength: 200, ..Input::new("welcome_email_subject", "Email subject", &v.welcome_email_subject) }, errors))
                    div class="field" {
                        label class="checkbox" {
                            input type="checkbox" id="welcome_email_same" name="welcome_email_same" value="on" checked[v.welcome_email_same];
                            " Same as welcome message"
                        }
                    }
                    // Hidden by the stylesheet while "Same as welcome message" is checked.
                    div class="email-body" {
                        (textarea("welcome_email_body", "Email body", &v.welcome_email_body, Some("Markdown and the same tags."), 8, errors, html! {}))
                    }
                }
                section class="card stack" aria-labelledby="s-vpn" {
                    h2 id="s-vpn" { "Enrollment" }
                    (radios("vpn_step", "VPN step", &[("optional", "Optional: users may finish without adding a device"), ("mandatory", "Mandatory: users must add a device")], &v.vpn_step, errors))
                    (field(Input { kind: "number", maxlength: 4, hint: Some("The most devices one person may have, however they are added: wizard, desktop client or admin."), ..Input::new("max_devices_per_user", "Devices per user", &v.max_devices_per_user) }, errors))
                }
                section class="card stack" aria-labelledby="s-smtp" {
                    h2 id="s-smtp" { "SMTP" }
                    @if let Some(env) = ctx.env_smtp {
                        div class="flash" role="note" {
                            "ONRAMP_SMTP_URL is set, so mail goes to " code { (env.host) ":" (env.port) } " and these fields are not used."
                        }
                    } @else {
                        p class="hint" { "Without SMTP, mail waits in the outbox, where you can read it." }
                    }
                    fieldset class="stack" disabled[ctx.env_smtp.is_some()] {
                        legend class="sr-only" { "SMTP server" }
                        (field(Input { required: false, maxlength: 253, ..Input::new("smtp_host", "SMTP host", &v.smtp_host) }, errors))
                        (field(Input { kind: "number", required: false, maxlength: 5, hint: Some("587 for STARTTLS, 465 for TLS, 25 for none."), ..Input::new("smtp_port", "SMTP port", &v.smtp_port) }, errors))
                        (radios("smtp_security", "Encryption", &[("none", "None"), ("starttls", "STARTTLS"), ("tls", "TLS")], &v.smtp_security, errors))
                        (field(Input { required: false, maxlength: 254, autocomplete: "off", ..Input::new("smtp_username", "SMTP username", &v.smtp_username) }, errors))
                        (field(Input { kind: "password", required: false, maxlength: 512, autocomplete: "new-password",
                            hint: Some(if ctx.has_password { "A password is stored. Leave empty to keep it." } else { "No password is stored." }),
                            ..Input::new("smtp_password", "SMTP password", "") }, errors))
                        @if ctx.has_password {
                            label class="checkbox" { input type="checkbox" name="smtp_password_clear" value="on"; " Remove the stored password" }
                        }
                        (field(Input { required: false, maxlength: 254, hint: Some("For example Acme VPN <vpn@example.com>."), ..Input::new("smtp_sender", "Sender", &v.smtp_sender) }, errors))
                    }
                }
                div class="actions" { button type="submit" class="button-primary" { "Save settings" } }
                // Part of the settings form, so the test uses the SMTP values on the screen.
                section class="card stack" aria-labelledby="s-test" {
                    h2 id="s-test" { "Send test email" }
                    p class="hint" { "Sends one email with the SMTP values above, saved or not, and shows what the server answered. It is not retried." }
                    div class="row" {
                        (field(Input { kind: "email", autocomplete: "email", ..Input::new("to", "Send to", ctx.test_to) }, errors))
                        button type="submit" class="button-secondary" formaction="/admin/settings/test-email" { "Send test email" }
                    }
                }
            }
        },
    )
}
