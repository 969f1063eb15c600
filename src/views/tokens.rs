//! The admin's token dialog and the one-time token card.

use super::components::{error_summary, field, Input};
use super::layout::{admin_page, csrf_field, Nav, Viewer};
use crate::db::users::UserRow;
use crate::domain::FieldError;
use crate::services::tokens::{IssuedToken, Purpose};
use maud::{html, Markup, PreEscaped};

fn purpose_title(purpose: Purpose, username: &str) -> String {
    match purpose {
        Purpose::Enrollment => format!("Start enrollment for {username}"),
        Purpose::Desktop => format!("Configure the desktop client of {username}"),
    }
}

/// "Send token by email" or "Deliver token yourself".
#[allow(clippy::too_many_arguments)]
pub fn token_dialog_page(
    instance: &str,
    viewer: &Viewer,
    user: &UserRow,
    purpose: Purpose,
    email: &str,
    delivery: &str,
    errors: &[FieldError],
    notice: Option<&str>,
) -> Markup {
    let action = match purpose {
        Purpose::Enrollment => format!("/admin/users/{}/enrollment", user.id),
        Purpose::Desktop => format!("/admin/users/{}/desktop", user.id),
    };
    let title = purpose_title(purpose, &user.username);
    admin_page(
        &title,
        instance,
        Nav::Users,
        viewer,
        html! {
            (super::components::flash(notice))
            div class="card stack dialog" role="dialog" aria-labelledby="dialog-title" {
                h1 id="dialog-title" { (title) }
                p { (user.first_name) " " (user.last_name) " · " (user.email) }
                (error_summary(errors))
                form class="form stack" method="post" action=(action) novalidate {
                    (csrf_field(&viewer.csrf_token))
                    fieldset class="field" {
                        legend { "How does the token reach " (user.first_name) "?" }
                        label class="checkbox" {
                            input type="radio" name="delivery" value="email" checked[delivery != "manual"];
                            " Send token by email"
                        }
                        (field(Input { kind: "email", autocomplete: "off", hint: Some("Pre-filled from the account; change it to send to a private mailbox."), ..Input::new("email", "Email address", email) }, errors))
                        label class="checkbox" {
                            input type="radio" name="delivery" value="manual" checked[delivery == "manual"];
                            " Deliver token yourself"
                        }
                    }
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

/// A read-only field with a Copy button.
pub(super) fn copy_row(id: &str, label: &str, value: &str) -> Markup {
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
                @if let Some(to) = &t.emailed_to {
                    div class="flash" role="status" { "The token was emailed to " (to) ". You can also hand it over from here." }
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
