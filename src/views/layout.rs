//! The page shell: head, top bar with navigation, and the htmx configuration.

use crate::assets;
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// htmx settings (docs/security.md, item 14). 422 swaps so inline form errors show; other errors do
/// not. Indicator styles are ours, because htmx would otherwise inject an inline style.
const HTMX_CONFIG: &str = r#"{"selfRequestsOnly":true,"allowEval":false,"allowScriptTags":false,"includeIndicatorStyles":false,"historyCacheSize":0,"refreshOnHistoryMiss":true,"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},{"code":"422","swap":true},{"code":"[45]..","swap":false,"error":true}]}"#;

/// Which section of the admin the page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// The users list and its forms.
    Users,
    /// Groups of users.
    Groups,
    /// WireGuard locations.
    Locations,
    /// Apps that sign people in with onramp.
    Apps,
    /// Instance settings.
    Settings,
    /// The mail outbox.
    Outbox,
    /// The audit log.
    Audit,
    /// None highlighted.
    None,
}

/// What the shell needs to know about the viewer.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    /// The logged-in admin's username.
    pub username: String,
    /// Their session's CSRF token, sent by htmx as a header and by forms as a field.
    pub csrf_token: String,
    /// Whether the header links to the setup checklist.
    pub checklist_link: bool,
}

/// A hidden CSRF field for a form.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf_token" value=(token); }
}

pub(crate) fn head(title: &str, instance: &str) -> Markup {
    head_with(title, instance, false)
}

/// The head of a page that makes WireGuard key pairs in the browser (the wizard, "My account").
pub(crate) fn head_with_keygen(title: &str, instance: &str) -> Markup {
    head_with(title, instance, true)
}

fn head_with(title: &str, instance: &str, wizard: bool) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="htmx-config" content=(HTMX_CONFIG);
            title { (title) " · " (instance) }
            // No favicon request (and no 404 in the console) until there is an icon.
            link rel="icon" href="data:,";
            link rel="stylesheet" href=(assets::url("app.css"));
            script src=(assets::url("vendor/htmx.min.js")) defer {}
            script src=(assets::url("app.js")) defer {}
            @if wizard {
                script src=(assets::url("vendor/qrcode.js")) defer {}
                script src=(assets::url("enroll.js")) defer {}
            }
        }
    }
}

/// A page of the admin area.
pub fn admin_page(
    title: &str,
    instance: &str,
    nav: Nav,
    viewer: &Viewer,
    content: Markup,
) -> Markup {
    let headers = format!(r#"{{"X-CSRF-Token":"{}"}}"#, viewer.csrf_token);
    html! {
        (DOCTYPE)
        html lang="en" class="no-js" {
            (head(title, instance))
            body hx-headers=(headers) {
                a class="sr-only" href="#main" { "Skip to content" }
                header class="topbar" {
                    a class="brand" href="/admin/users" { (instance) }
                    nav class="mainnav" aria-label="Main" {
                        @for (item, href, label) in [
                            (Nav::Users, "/admin/users", "Users"),
                            (Nav::Groups, "/admin/groups", "Groups"),
                            (Nav::Locations, "/admin/locations", "Locations"),
                            (Nav::Apps, "/admin/apps", "Apps"),
                            (Nav::Settings, "/admin/settings", "Settings"),
                            (Nav::Outbox, "/admin/outbox", "Outbox"),
                            (Nav::Audit, "/admin/audit", "Audit log"),
                        ] {
                            a href=(href) aria-current=[(nav == item).then_some("page")] { (label) }
                        }
                    }
                    form method="post" action="/admin/logout" class="logout" {
                        (csrf_field(&viewer.csrf_token))
                        @if viewer.checklist_link {
                            a class="setup-link" href="/admin/setup" { "Setup checklist" }
                            " · "
                        }
                        a href="/me" { "My account" }
                        " · "
                        span class="muted" { "Signed in as " (viewer.username) }
                        " "
                        button type="submit" class="linklike" { "Log out" }
                    }
                }
                main id="main" class="container" {
                    // A live region from the start, so notices swapped in later are announced.
                    div id="flash-area" role="status" {}
                    (content)
                }
            }
        }
    }
}

/// A page outside the admin area (login, errors, the enrollment wizard).
pub fn public_page(title: &str, instance: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" class="no-js" {
            (head_with(title, instance, true))
            body {
                header class="topbar" { span class="brand" { (instance) } }
                main id="main" class="container narrow" { (content) }
            }
        }
    }
}

/// Pre-escaped text, only for constants written in this crate.
pub fn trusted(s: &'static str) -> PreEscaped<&'static str> {
    PreEscaped(s)
}
