//! Password reset pages: ask for a link, open it, choose the new password.

use super::components::{error_summary, field, flash, flash_error, Input};
use super::layout::{csrf_field, public_page};
use crate::domain::FieldError;
use maud::{html, Markup};

/// "Forgot your password?".
pub fn request_page(
    instance: &str,
    csrf: &str,
    login: &str,
    notice: Option<&str>,
    error: Option<&str>,
) -> Markup {
    public_page(
        "Reset your password",
        instance,
        html! {
            div class="card stack" {
                h1 { "Reset your password" }
                (flash(notice))
                (flash_error(error))
                p { "Type your username or email. If it belongs to an account, we email a link to choose a new password." }
                form class="form stack" method="post" action="/reset/request" {
                    (csrf_field(csrf))
                    (field(Input { autocomplete: "username", ..Input::new("login", "Username or email", login) }, &[]))
                    div class="actions" { button type="submit" class="button-primary" { "Email me a link" } }
                }
                p { a href="/login" { "Back to sign in" } }
            }
        },
    )
}

/// The link's landing page: the GET changes nothing; "Continue" starts the reset.
pub fn landing_page(instance: &str, token: &str, window_words: &str) -> Markup {
    public_page(
        "Choose a new password",
        instance,
        html! {
            div class="card stack" {
                h1 { "Choose a new password" }
                p { "Once you continue, you have " (window_words) " to choose it." }
                form method="post" action="/reset/start" {
                    input type="hidden" name="token" value=(token);
                    button type="submit" class="button-primary" { "Continue" }
                }
            }
        },
    )
}

/// A link that cannot be used.
pub fn invalid_page(instance: &str) -> Markup {
    public_page(
        "Link not valid",
        instance,
        html! {
            div class="card stack" {
                h1 { "This link is invalid or has expired" }
                p { "Reset links work once, for a limited time, and only the newest one works." }
                p { a class="button button-primary" href="/reset/request" { "Ask for a new link" } }
            }
        },
    )
}

/// The new-password form.
pub fn password_page(
    instance: &str,
    csrf: &str,
    username: &str,
    deadline: &str,
    errors: &[FieldError],
) -> Markup {
    public_page(
        "New password",
        instance,
        html! {
            div class="card stack" {
                h1 { "New password for " (username) }
                p class="muted" { "At least 12 characters, hard to guess. Finish before " (deadline) "." }
                (error_summary(errors))
                form class="form stack" method="post" action="/reset/password" novalidate {
                    (csrf_field(csrf))
                    input type="text" name="username" value=(username) autocomplete="username" hidden;
                    (field(Input { kind: "password", autocomplete: "new-password", maxlength: 1024, ..Input::new("password", "New password", "") }, errors))
                    (field(Input { kind: "password", autocomplete: "new-password", maxlength: 1024, ..Input::new("password_repeat", "Repeat the new password", "") }, errors))
                    div class="actions" { button type="submit" class="button-primary" { "Set password" } }
                }
            }
        },
    )
}
