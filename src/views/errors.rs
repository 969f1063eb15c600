//! Error pages: the status and a sentence, never panic text, SQL or paths.

use super::layout::public_page;
use maud::{html, Markup};

/// A whole error page.
pub fn error_page(status: u16, heading: &str, message: &str) -> Markup {
    public_page(
        heading,
        "onramp",
        html! {
            div class="card stack" {
                h1 { (heading) }
                p { (message) }
                p class="muted" { "Error " (status) }
                p { a href="/admin/users" { "Go to the start page" } }
            }
        },
    )
}
