//! The admin login page.

use super::components::{field, flash_error, Input};
use super::layout::{csrf_field, public_page};
use maud::{html, Markup};

/// The login form; `error` is the one message for bad credentials or a rate limit.
pub fn login_page(
    instance: &str,
    csrf: &str,
    username: &str,
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
                form class="form stack" method="post" action="/admin/login" {
                    (csrf_field(csrf))
                    (field(Input { autocomplete: "username", maxlength: 64, ..Input::new("username", "Username", username) }, &[]))
                    (field(Input { kind: "password", autocomplete: "current-password", maxlength: 1024, ..Input::new("password", "Password", "") }, &[]))
                    div class="actions" { button type="submit" class="button-primary" { "Log in" } }
                }
            }
        },
    )
}
