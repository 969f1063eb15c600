//! The login page and its second step, the code form.

use super::components::{field, flash_error, Input};
use super::layout::{csrf_field, public_page};
use maud::{html, Markup};

/// The login form; `error` is the one message for bad credentials or a rate limit.
pub fn login_page(
    instance: &str,
    csrf: &str,
    username: &str,
    next: &str,
    error: Option<&str>,
    notice: Option<&str>,
) -> Markup {
    public_page(
        "Log in",
        instance,
        html! {
            div class="card stack" {
                h1 { "Log in to " (instance) }
                @if let Some(n) = notice { div class="flash" role="status" { (n) } }
                (flash_error(error))
                form class="form stack" method="post" action="/login" {
                    (csrf_field(csrf))
                    @if !next.is_empty() { input type="hidden" name="next" value=(next); }
                    (field(Input { autocomplete: "username", maxlength: 64, ..Input::new("username", "Username", username) }, &[]))
                    (field(Input { kind: "password", autocomplete: "current-password", maxlength: 1024, ..Input::new("password", "Password", "") }, &[]))
                    div class="actions" { button type="submit" class="button-primary" { "Log in" } }
                }
                p { a href="/reset/request" { "Forgot your password?" } }
            }
        },
    )
}

/// The second step of a login: a code from the authenticator app, an emailed code or a
/// recovery code.
pub fn code_page(
    instance: &str,
    csrf: &str,
    next: &str,
    totp: bool,
    email: bool,
    error: Option<&str>,
    notice: Option<&str>,
) -> Markup {
    let hint = match (totp, email) {
        (true, true) => "The 6-digit code from your authenticator app or from the email we send you. A recovery code works too.",
        (true, false) => "The 6-digit code your authenticator app shows now. A recovery code works too.",
        _ => "The 6-digit code we email you. A recovery code works too.",
    };
    public_page(
        "Two-factor code",
        instance,
        html! {
            div class="card stack" {
                h1 { "Enter your code" }
                @if let Some(n) = notice { div class="flash" role="status" { (n) } }
                (flash_error(error))
                form class="form stack" method="post" action="/login/code" {
                    (csrf_field(csrf))
                    @if !next.is_empty() { input type="hidden" name="next" value=(next); }
                    (field(Input { autocomplete: "one-time-code", maxlength: 64, hint: Some(hint), ..Input::new("code", "Code", "") }, &[]))
                    div class="actions" { button type="submit" class="button-primary" { "Sign in" } }
                }
                @if email {
                    form method="post" action="/login/code/email" {
                        (csrf_field(csrf))
                        @if !next.is_empty() { input type="hidden" name="next" value=(next); }
                        button type="submit" class="button-secondary" { "Email me a code" }
                    }
                }
                p { a href="/login" { "Start over" } }
            }
        },
    )
}
