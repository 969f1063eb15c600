//! Error pages: the status and a sentence, never panic text, SQL or paths.

use super::layout::{admin_page, public_page, Nav, Viewer};
use maud::{html, Markup};

/// Where an error page sends the admin on from the start page: the page of the user the
/// failed request was about.
#[derive(Debug, Clone, Default)]
pub struct WayOn {
    /// `/admin/users/{id}`, when the request was about one user.
    pub user_page: Option<String>,
}

/// A whole error page, under the instance's name; a logged-in admin (`viewer`) keeps the
/// admin navigation.
pub fn error_page(
    status: u16,
    heading: &str,
    message: &str,
    instance: &str,
    viewer: Option<&Viewer>,
    way_on: &WayOn,
) -> Markup {
    let content = html! {
        div class="card stack" {
            h1 { (heading) }
            p { (message) }
            p class="muted" { "Error " (status) }
            @if let Some(url) = &way_on.user_page {
                p { a href=(url) { "Open the user's page" } }
            }
            p { a href="/admin/users" { "Go to the start page" } }
        }
    };
    match viewer {
        Some(viewer) => admin_page(heading, instance, Nav::None, viewer, content),
        None => public_page(heading, instance, content),
    }
}
