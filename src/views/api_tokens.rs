//! "API tokens": the tokens automation uses for the admin API.

use super::components::{error_summary, field, flash, flash_error, Input};
use super::layout::{admin_page, csrf_field, Nav, Viewer};
use super::{format_time, time_ago};
use crate::domain::FieldError;
use crate::services::admin_api::ApiTokenRow;
use maud::{html, Markup};

/// What the page shows besides the list.
#[derive(Debug, Clone, Default)]
pub struct TokensPage<'a> {
    /// The name as typed.
    pub name: &'a str,
    /// Problems with it.
    pub errors: &'a [FieldError],
    /// A token just created, shown this once: (name, secret).
    pub created: Option<(&'a str, &'a str)>,
    /// A notice after a change.
    pub notice: Option<&'a str>,
    /// A refusal.
    pub error: Option<&'a str>,
    /// Unix seconds now, for "last used".
    pub now: i64,
}

/// The tokens with the "Create token" form.
pub fn tokens_page(
    instance: &str,
    viewer: &Viewer,
    list: &[ApiTokenRow],
    p: &TokensPage<'_>,
) -> Markup {
    admin_page(
        "API tokens",
        instance,
        Nav::Settings,
        viewer,
        html! {
            h1 { "API tokens" }
            (flash(p.notice))
            (flash_error(p.error))
            @if let Some((name, secret)) = p.created {
                div class="card stack" role="status" {
                    h2 { "Token " (name) " created" }
                    p { strong { "Copy it now: it is shown only this once." } " onramp keeps only its hash." }
                    div class="field" {
                        label for="new-token" { "API token" }
                        input id="new-token" type="text" readonly value=(secret);
                    }
                    p { "Send it as " code { "Authorization: Bearer " (secret) } ". The API is described at " a href="/api/docs/openapi.json" { "/api/docs/openapi.json" } "." }
                }
            }
            p { "Scripts and tools such as terraform manage users through the admin API under " code { "/api/v1" } ". Each token has a name; the audit log names it for every call." }
            div class="card stack" {
                h2 { "Create token" }
                (error_summary(p.errors))
                form class="form stack" method="post" action="/admin/api-tokens" novalidate {
                    (csrf_field(&viewer.csrf_token))
                    (field(Input { maxlength: 64, hint: Some("What uses it, for example terraform or hr-sync."), ..Input::new("name", "Token name", p.name) }, p.errors))
                    div class="actions" { button type="submit" class="button-primary" { "Create token" } }
                }
            }
            @if list.is_empty() {
                p { "No API tokens yet." }
            } @else {
                table class="data" {
                    caption class="sr-only" { "API tokens" }
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Created" } th scope="col" { "Last used" } th scope="col" { "State" } } }
                    tbody {
                        @for t in list {
                            tr {
                                td { (t.name) }
                                td { (format_time(t.created_at)) @if let Some(by) = &t.created_by { " by " (by) } }
                                td { (time_ago(p.now, t.last_used_at)) }
                                td {
                                    @if let Some(at) = t.revoked_at {
                                        "Revoked " (format_time(at))
                                    } @else {
                                        form method="post" action=(format!("/admin/api-tokens/{}/revoke", t.id)) {
                                            (csrf_field(&viewer.csrf_token))
                                            button type="submit" class="button-secondary" aria-label=(format!("Revoke {}", t.name)) { "Revoke" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}
