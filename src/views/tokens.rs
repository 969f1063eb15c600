//! The admin's token dialog, the one-time token card, and what its URL shows afterwards.

use super::components::{error_for, error_summary, field, Input};
use super::layout::{admin_page, csrf_field, Nav, Viewer};
use crate::db::users::UserRow;
use crate::domain::FieldError;
use crate::mail::templates::duration_words;
use crate::services::tokens::{IssuedToken, MailState, Purpose};
use maud::{html, Markup, PreEscaped};

fn purpose_title(purpose: Purpose, username: &str) -> String {
    match purpose {
        Purpose::Enrollment => format!("Start enrollment for {username}"),
        Purpose::Desktop => format!("Configure the desktop client of {username}"),
    }
}

/// "enrollment token" or "desktop activation token".
pub fn token_kind(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::Enrollment => "enrollment token",
        Purpose::Desktop => "desktop activation token",
    }
}

/// What the dialog shows besides the user.
#[derive(Debug, Clone)]
pub struct DialogValues<'a> {
    /// Which token.
    pub purpose: Purpose,
    /// The address in the email field.
    pub email: &'a str,
    /// The chosen delivery: `email` or `manual`.
    pub delivery: &'a str,
    /// The chosen validity (`7d`); empty for the default.
    pub validity: &'a str,
    /// The configured validity, seconds.
    pub default_validity: i64,
    /// Whether an SMTP server is configured.
    pub smtp_configured: bool,
    /// A notice carried from the previous page.
    pub notice: Option<&'a str>,
}

/// "Send token by email" or "Deliver token yourself". A page of its own, not a modal: focus
/// starts on its heading.
pub fn token_dialog_page(
    instance: &str,
    viewer: &Viewer,
    user: &UserRow,
    v: &DialogValues<'_>,
    errors: &[FieldError],
) -> Markup {
    let action = match v.purpose {
        Purpose::Enrollment => format!("/admin/users/{}/enrollment", user.id),
        Purpose::Desktop => format!("/admin/users/{}/desktop", user.id),
    };
    let title = purpose_title(v.purpose, &user.username);
    let delivery_error = error_for(errors, "delivery");
    admin_page(
        &title,
        instance,
        Nav::Users,
        viewer,
        html! {
            (super::components::flash(v.notice))
            div class="card stack dialog" {
                h1 id="dialog-title" tabindex="-1" data-autofocus { (title) }
                p { (user.first_name) " " (user.last_name) " · " (user.email) }
                (error_summary(errors))
                @if !v.smtp_configured {
                    div class="flash flash-warning" role="note" id="smtp-note" {
                        "SMTP is not configured, so an email would only wait in the outbox until it is set up in "
                        a href="/admin/settings" { "Settings" }
                        ". Hand the token over yourself instead."
                    }
                }
                form class="form stack" method="post" action=(action) novalidate {
                    (csrf_field(&viewer.csrf_token))
                    fieldset class="field" id="delivery" aria-invalid=[delivery_error.map(|_| "true")]
                        aria-describedby=[delivery_error.map(|_| "delivery-error")] {
                        legend { "How does the token reach " (user.first_name) "?" }
                        label class="checkbox" {
                            input type="radio" name="delivery" value="email" checked[v.delivery != "manual"]
                                aria-describedby=[(!v.smtp_configured).then_some("smtp-note")];
                            " Send token by email"
                            @if !v.smtp_configured { " " span class="muted" { "(queued until SMTP is set up)" } }
                        }
                        (field(Input { kind: "email", autocomplete: "off", hint: Some("Pre-filled from the account; change it to send to a private mailbox."), ..Input::new("email", "Email address", v.email) }, errors))
                        label class="checkbox" {
                            input type="radio" name="delivery" value="manual" checked[v.delivery == "manual"];
                            " Deliver token yourself"
                        }
                        @if let Some(message) = delivery_error { div class="field-error" id="delivery-error" { (message) } }
                    }
                    (validity_select(v, errors))
                    p class="hint" { "A new token replaces any earlier one that was not used." }
                    div class="actions" {
                        button type="submit" class="button-primary" { "Create token" }
                        a class="button button-secondary" href="/admin/users" { "Cancel" }
                    }
                }
            }
        },
    )
}

/// The validities an admin can pick, besides the configured one.
const VALIDITIES: [(&str, i64); 7] = [
    ("1h", 3600),
    ("12h", 12 * 3600),
    ("24h", 86_400),
    ("3d", 3 * 86_400),
    ("7d", 7 * 86_400),
    ("14d", 14 * 86_400),
    ("30d", 30 * 86_400),
];

/// "Valid for": the configured validity first (the default), then the usual choices.
fn validity_select(v: &DialogValues<'_>, errors: &[FieldError]) -> Markup {
    let error = error_for(errors, "validity");
    let default_words = duration_words(v.default_validity);
    html! {
        div class="field" {
            label for="validity" { "Valid for" }
            select id="validity" name="validity" aria-invalid=[error.map(|_| "true")]
                aria-describedby=[error.map(|_| "validity-error")] {
                option value="" selected[v.validity.is_empty()] { (default_words) " (default)" }
                @for (value, seconds) in VALIDITIES {
                    @if seconds != v.default_validity {
                        option value=(value) selected[v.validity == value] { (duration_words(seconds)) }
                    }
                }
            }
            @if let Some(message) = error { div class="field-error" id="validity-error" { (message) } }
        }
    }
}

/// A read-only field with a Copy button.
pub(crate) fn copy_row(id: &str, label: &str, value: &str) -> Markup {
    html! {
        div class="field" {
            label for=(id) { (label) }
            div class="row" {
                input id=(id) type="text" readonly value=(value) class="mono";
                button type="button" class="button-secondary" data-copy-target=(format!("#{id}")) aria-label=(format!("Copy {}", label.to_lowercase())) { "Copy" }
            }
        }
    }
}

fn mail_notice(to: &str, state: MailState) -> Markup {
    match state {
        MailState::Queued {
            smtp_configured: false,
        } => html! {
            div class="flash flash-warning" role="status" {
                "The email to " (to) " is queued (SMTP is not configured). It waits in the "
                a href="/admin/outbox" { "outbox" }
                " until SMTP is set up, and the token cannot be read there. Hand it over from here."
            }
        },
        MailState::Queued {
            smtp_configured: true,
        } => html! {
            div class="flash flash-warning" role="status" {
                "The email to " (to) " is queued and goes out in a moment; see the "
                a href="/admin/outbox" { "outbox" } ". You can also hand the token over from here."
            }
        },
        MailState::Sent => html! {
            div class="flash" role="status" { "The token was emailed to " (to) ". You can also hand it over from here." }
        },
        MailState::Failed => html! {
            div class="flash flash-error" role="status" {
                "The email to " (to) " could not be sent; see the " a href="/admin/outbox" { "outbox" } ". Hand the token over from here."
            }
        },
    }
}

/// The token, shown once.
pub fn token_card_page(instance: &str, viewer: &Viewer, t: &IssuedToken, qr_svg: &str) -> Markup {
    let title = match t.purpose {
        Purpose::Enrollment => format!("Enrollment token for {}", t.username),
        Purpose::Desktop => format!("Desktop activation token for {}", t.username),
    };
    admin_page(
        &title,
        instance,
        Nav::Users,
        viewer,
        html! {
            div class="card stack" hx-history="false" {
                h1 { (title) }
                @if let Some((to, state)) = &t.mail {
                    (mail_notice(to, *state))
                }
                div class="flash flash-error" role="note" {
                    "This token is shown only now. Once you leave this page it cannot be shown again, only replaced."
                }
                (copy_row("token-url", "Instance URL", &t.url))
                (copy_row("token-value", "Token", &t.secret))
                @if t.purpose == Purpose::Enrollment {
                    (copy_row("token-link", "Browser link", &t.browser_link()))
                }
                p { a class="button button-primary" href=(t.deeplink()) { "Open in the desktop client" } }
                p class="copy-status muted" role="status" {}
                figure class="qr" {
                    (PreEscaped(qr_svg))
                    figcaption { "For the mobile client: scan to add this instance." }
                }
                p { "Expires " (super::time_tag(t.expires_at)) "." }
                p { a href="/admin/users" { "Back to users" } }
            }
        },
    )
}

/// The card's URL once its token was shown (reload, Back) or replaced.
pub fn token_gone_page(instance: &str, viewer: &Viewer, user: &UserRow) -> Markup {
    let dialog = if user.is_enrolled() {
        format!("/admin/users/{}/desktop", user.id)
    } else {
        format!("/admin/users/{}/enrollment", user.id)
    };
    admin_page(
        "Token already shown",
        instance,
        Nav::Users,
        viewer,
        html! {
            div class="card stack" {
                h1 tabindex="-1" data-autofocus { "Token already shown" }
                p { "This token was already shown. Issue a new one?" }
                p class="hint" {
                    "A token is shown only once, so reloading or going back never issues another. "
                    "A new token for " (user.username) " replaces the one shown before."
                }
                div class="actions" {
                    a class="button button-primary" href=(dialog) { "Issue a new token" }
                    a class="button button-secondary" href="/admin/users" { "Back to users" }
                }
            }
        },
    )
}
