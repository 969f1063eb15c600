//! Instance settings: name, welcome message and email, VPN step, SMTP.

use super::Actor;
use crate::config::{Secret, SmtpConfig, SmtpSecurity};
use crate::db::{audit, settings as repo};
use crate::domain::template::{markdown_to_safe_html, substitute, unknown_tags, TagValues, TAGS};
use crate::domain::{has_control_chars, FieldError};
use crate::error::AppError;
use crate::state::AppState;
use rusqlite::Connection;

/// Whether the wizard's VPN step may be skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VpnStep {
    /// The user may skip adding a device.
    Optional,
    /// The user must add a device.
    Mandatory,
}

/// SMTP as set on the settings page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmtpSettings {
    /// Host; empty means "not configured".
    pub host: String,
    /// Port.
    pub port: u16,
    /// none, starttls or tls.
    pub security: String,
    /// Login user.
    pub username: String,
    /// Login password (write-only on the page).
    pub password: String,
    /// From address.
    pub sender: String,
}

/// Every instance setting.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The instance's UUID.
    pub instance_id: String,
    /// Display name.
    pub instance_name: String,
    /// Markdown shown on the wizard's last step.
    pub welcome_message: String,
    /// Subject of the welcome email.
    pub welcome_email_subject: String,
    /// Markdown body of the welcome email.
    pub welcome_email_body: String,
    /// Use the welcome message as the email body.
    pub welcome_email_same: bool,
    /// Optional or mandatory VPN step.
    pub vpn_step: VpnStep,
    /// Most devices one user may have, whichever way they are added.
    pub max_devices_per_user: u32,
    /// SMTP from the page.
    pub smtp: SmtpSettings,
}

/// Shown at the end of the browser wizard and as the desktop client's last page, so it
/// must read well in both: it never points at "the previous step" of either.
const DEFAULT_WELCOME: &str = "## Welcome, {{ first_name }}!\n\n\
Your account **{{ username }}** is ready. Connect to the VPN whenever you need the company's \
network: in the desktop client, choose the location and connect; on other devices, import \
the WireGuard configuration you saved.\n\n\
Next:\n\n- read the company handbook,\n- say hello to your team.\n\n\
Questions? Write to {{ admin_first_name }} {{ admin_last_name }} at {{ admin_email }}.";

/// The welcome email's subject until the admin writes one.
pub const DEFAULT_SUBJECT: &str = "Welcome to {{ instance_name }}";

/// The setting that caps devices per user.
pub const MAX_DEVICES: &str = "max_devices_per_user";

/// Reads the settings, with defaults for anything never set.
pub fn load(c: &Connection) -> Result<Settings, AppError> {
    // One query for all of them: settings are read on every client poll.
    let stored: std::collections::HashMap<String, String> = repo::all(c)?.into_iter().collect();
    let text = |key: &str, default: &str| -> Result<String, AppError> {
        Ok(stored
            .get(key)
            .cloned()
            .unwrap_or_else(|| default.to_owned()))
    };
    Ok(Settings {
        instance_id: text(repo::INSTANCE_ID, "")?,
        instance_name: text(repo::INSTANCE_NAME, "onramp")?,
        welcome_message: text("welcome_message", DEFAULT_WELCOME)?,
        welcome_email_subject: text("welcome_email_subject", DEFAULT_SUBJECT)?,
        welcome_email_body: text("welcome_email_body", DEFAULT_WELCOME)?,
        welcome_email_same: text("welcome_email_same", "1")? == "1",
        vpn_step: if text("vpn_step", "optional")? == "mandatory" {
            VpnStep::Mandatory
        } else {
            VpnStep::Optional
        },
        max_devices_per_user: stored
            .get(MAX_DEVICES)
            .and_then(|v| v.parse().ok())
            .unwrap_or(super::devices::DEFAULT_DEVICE_LIMIT),
        smtp: SmtpSettings {
            host: text("smtp_host", "")?,
            port: text("smtp_port", "587")?.parse().unwrap_or(587),
            security: text("smtp_security", "starttls")?,
            username: text("smtp_username", "")?,
            password: text("smtp_password", "")?,
            sender: text("smtp_sender", "")?,
        },
    })
}

/// Loads the settings off the async workers.
pub async fn get_settings(state: &AppState) -> Result<Settings, AppError> {
    state.db.read(load).await
}

/// The SMTP server mail goes to: `ONRAMP_SMTP_URL` when set, else the settings page's.
pub fn effective_smtp(state: &AppState, s: &Settings) -> Option<SmtpConfig> {
    if let Some(env) = &state.config.smtp {
        return Some(env.clone());
    }
    if s.smtp.host.is_empty() {
        return None;
    }
    Some(SmtpConfig {
        host: s.smtp.host.clone(),
        port: s.smtp.port,
        security: s.smtp.security.parse().unwrap_or(SmtpSecurity::Starttls),
        username: (!s.smtp.username.is_empty()).then(|| s.smtp.username.clone()),
        password: (!s.smtp.password.is_empty()).then(|| Secret::new(s.smtp.password.clone())),
        sender: (!s.smtp.sender.is_empty()).then(|| s.smtp.sender.clone()),
    })
}

/// The settings form as submitted.
#[derive(Debug, Clone, Default)]
pub struct SettingsInput {
    /// Instance name.
    pub instance_name: String,
    /// Welcome message markdown.
    pub welcome_message: String,
    /// Welcome email subject.
    pub welcome_email_subject: String,
    /// Welcome email markdown.
    pub welcome_email_body: String,
    /// Same as welcome message.
    pub welcome_email_same: bool,
    /// "optional" or "mandatory".
    pub vpn_step: String,
    /// Devices per user, as typed; `None` when the field was not on the form.
    pub max_devices_per_user: Option<String>,
    /// SMTP host.
    pub smtp_host: String,
    /// SMTP port.
    pub smtp_port: String,
    /// none, starttls, tls.
    pub smtp_security: String,
    /// SMTP user.
    pub smtp_username: String,
    /// New SMTP password; empty keeps the stored one.
    pub smtp_password: String,
    /// Clear the stored password.
    pub smtp_password_clear: bool,
    /// From address.
    pub smtp_sender: String,
    /// The SMTP fields were not submitted (ONRAMP_SMTP_URL overrides them): keep them.
    pub keep_smtp: bool,
}

fn single_line(
    field: &'static str,
    label: &str,
    value: &str,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> String {
    let v = value.trim_matches(' ').to_owned();
    if has_control_chars(&v) {
        errors.push(FieldError::new(
            field,
            format!("The {label} cannot contain line breaks or control characters."),
        ));
    } else if v.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("The {label} can be at most {max} characters."),
        ));
    }
    v
}

fn multi_line(
    field: &'static str,
    label: &str,
    value: &str,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> String {
    let v = value.replace("\r\n", "\n");
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        errors.push(FieldError::new(
            field,
            format!("The {label} contains control characters."),
        ));
    } else if v.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("The {label} can be at most {max} characters."),
        ));
    }
    v
}

/// "{{ unknown_tag }} is not a tag onramp knows…", naming every unknown tag in `text`.
pub fn unknown_tags_message(text: &str) -> Option<String> {
    let unknown = unknown_tags(text);
    if unknown.is_empty() {
        return None;
    }
    let known = TAGS
        .iter()
        .map(|t| format!("{{{{ {t} }}}}"))
        .collect::<Vec<_>>()
        .join(", ");
    let (names, verb) = if unknown.len() == 1 {
        (unknown[0].clone(), "is not a tag")
    } else {
        (unknown.join(", "), "are not tags")
    };
    Some(format!(
        "{names} {verb} onramp knows, so users would see it as written. Use {known}."
    ))
}

/// The SMTP fields of the form, checked.
#[derive(Debug, Clone)]
pub(super) struct CheckedSmtp {
    pub(super) host: String,
    pub(super) port: String,
    pub(super) security: String,
    pub(super) username: String,
    pub(super) password: String,
    pub(super) sender: String,
}

/// Checks the SMTP fields of `input`, adding what is wrong to `errors`.
pub(super) fn check_smtp(input: &SettingsInput, errors: &mut Vec<FieldError>) -> CheckedSmtp {
    let keep_smtp = input.keep_smtp;
    let host = single_line("smtp_host", "SMTP host", &input.smtp_host, 253, errors);
    if host.contains([' ', '/', ':']) {
        errors.push(FieldError::new(
            "smtp_host",
            "Enter only the SMTP server's host name, such as mail.example.com.",
        ));
    }
    let port = match input.smtp_port.trim().parse::<u16>() {
        Ok(p) if p > 0 => p.to_string(),
        _ if keep_smtp || (host.is_empty() && input.smtp_port.trim().is_empty()) => "587".into(),
        _ => {
            errors.push(FieldError::new(
                "smtp_port",
                "Enter a port number from 1 to 65535 (usually 587 for STARTTLS, 465 for TLS).",
            ));
            String::new()
        }
    };
    let security = match input.smtp_security.as_str() {
        "none" | "starttls" | "tls" => input.smtp_security.clone(),
        _ if keep_smtp => String::new(),
        _ => {
            errors.push(FieldError::new(
                "smtp_security",
                "Choose None, STARTTLS or TLS.",
            ));
            String::new()
        }
    };
    let username = single_line(
        "smtp_username",
        "SMTP username",
        &input.smtp_username,
        254,
        errors,
    );
    let password = single_line(
        "smtp_password",
        "SMTP password",
        &input.smtp_password,
        512,
        errors,
    );
    let sender = single_line(
        "smtp_sender",
        "sender address",
        &input.smtp_sender,
        254,
        errors,
    );
    if !sender.is_empty() && sender.parse::<lettre::message::Mailbox>().is_err() {
        errors.push(FieldError::new("smtp_sender", "Enter the sender as an address, such as vpn@example.com or Acme VPN <vpn@example.com>."));
    }
    CheckedSmtp {
        host,
        port,
        security,
        username,
        password,
        sender,
    }
}

/// Validates and stores the settings.
pub async fn update_settings(
    state: &AppState,
    actor: &Actor,
    input: SettingsInput,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    let name = single_line(
        "instance_name",
        "instance name",
        &input.instance_name,
        64,
        &mut errors,
    );
    if name.is_empty() {
        errors.push(FieldError::new(
            "instance_name",
            "Enter a name for this instance, such as \"Acme VPN\".",
        ));
    }
    let welcome = multi_line(
        "welcome_message",
        "welcome message",
        &input.welcome_message,
        8000,
        &mut errors,
    );
    let subject = single_line(
        "welcome_email_subject",
        "email subject",
        &input.welcome_email_subject,
        200,
        &mut errors,
    );
    if subject.is_empty() {
        errors.push(FieldError::new(
            "welcome_email_subject",
            "Enter a subject for the welcome email.",
        ));
    }
    let body = multi_line(
        "welcome_email_body",
        "welcome email",
        &input.welcome_email_body,
        8000,
        &mut errors,
    );
    for (field, text) in [
        ("welcome_message", &welcome),
        ("welcome_email_subject", &subject),
        ("welcome_email_body", &body),
    ] {
        if field == "welcome_email_body" && input.welcome_email_same {
            continue; // not used, so not checked
        }
        if let Some(message) = unknown_tags_message(text) {
            errors.push(FieldError::new(field, message));
        }
    }
    let vpn_step = match input.vpn_step.as_str() {
        "optional" | "mandatory" => input.vpn_step.clone(),
        _ => {
            errors.push(FieldError::new(
                "vpn_step",
                "Choose whether the VPN step is optional or mandatory.",
            ));
            String::new()
        }
    };
    let max_devices = match input.max_devices_per_user.as_deref().map(str::trim) {
        None => None,
        Some(raw) => match raw.parse::<u32>() {
            Ok(n) if (1..=1000).contains(&n) => Some(n.to_string()),
            _ => {
                errors.push(FieldError::new(
                    "max_devices_per_user",
                    "Enter how many devices one user may have, from 1 to 1000.",
                ));
                None
            }
        },
    };
    let keep_smtp = input.keep_smtp;
    let smtp = check_smtp(&input, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    let same = input.welcome_email_same;
    let clear = input.smtp_password_clear;
    let saved_name = state
        .db
        .write(move |tx| {
            let pairs = [
                (repo::INSTANCE_NAME, name.as_str()),
                ("welcome_message", welcome.as_str()),
                ("welcome_email_subject", subject.as_str()),
                ("welcome_email_body", body.as_str()),
                ("welcome_email_same", if same { "1" } else { "0" }),
                ("vpn_step", vpn_step.as_str()),
            ];
            for (k, v) in pairs {
                repo::set(tx, k, v)?;
            }
            if let Some(n) = &max_devices {
                repo::set(tx, MAX_DEVICES, n)?;
            }
            let fields = [
                ("smtp_host", smtp.host.as_str()),
                ("smtp_port", smtp.port.as_str()),
                ("smtp_security", smtp.security.as_str()),
                ("smtp_username", smtp.username.as_str()),
                ("smtp_sender", smtp.sender.as_str()),
            ];
            if keep_smtp {
                // Fields were not on the form; nothing to change.
            } else {
                for (k, v) in fields {
                    repo::set(tx, k, v)?;
                }
            }
            if keep_smtp {
            } else if clear {
                repo::set(tx, "smtp_password", "")?;
            } else if !smtp.password.is_empty() {
                repo::set(tx, "smtp_password", &smtp.password)?;
            }
            audit::insert(tx, &actor.event(now, "settings.updated", None))?;
            Ok(name)
        })
        .await?;
    *state
        .instance_name
        .write()
        .unwrap_or_else(|e| e.into_inner()) = saved_name;
    Ok(())
}

/// The welcome message for a user, rendered and sanitised.
pub fn render_welcome(markdown: &str, values: &TagValues) -> String {
    markdown_to_safe_html(&substitute(markdown, values))
}
