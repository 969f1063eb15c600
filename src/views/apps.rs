//! The Apps page: apps that sign people in with their onramp account (OpenID Connect).

use super::components::{
    checkboxes, error_summary, field, flash, flash_error, radios, textarea, Input,
};
use super::groups::group_options;
use super::layout::{admin_page, csrf_field, Nav, Viewer};
use crate::domain::oidc::ClientKind;
use crate::domain::FieldError;
use crate::services::groups::{join_names, GroupRef};
use crate::services::oidc::apps::{AppSummary, Issued, NewApp};
use maud::{html, Markup};

/// What the Apps page shows besides the list.
#[derive(Debug, Default)]
pub struct AppsPage<'a> {
    /// The form as typed.
    pub form: NewApp,
    /// Its problems.
    pub errors: &'a [FieldError],
    /// A secret to show once.
    pub issued: Option<&'a Issued>,
    /// A notice after a change.
    pub notice: Option<&'a str>,
    /// A refusal after a change.
    pub error: Option<&'a str>,
}

/// `/admin/apps`.
pub fn apps_page(
    instance: &str,
    viewer: &Viewer,
    issuer: &str,
    list: &[AppSummary],
    groups: &[GroupRef],
    p: &AppsPage<'_>,
) -> Markup {
    let f = &p.form;
    let kind = if f.kind.is_empty() {
        "confidential"
    } else {
        f.kind.as_str()
    };
    admin_page(
        "Apps",
        instance,
        Nav::Apps,
        viewer,
        html! {
            h1 { "Apps" }
            (flash(p.notice))
            (flash_error(p.error))
            @if let Some(i) = p.issued { (issued_card(i)) }
            p { "Apps listed here let people sign in with their " (instance) " account (OpenID Connect). Point the app at the issuer "
                code { (issuer) } "; it finds everything else at " code { (issuer) "/.well-known/openid-configuration" } "." }
            @if list.is_empty() {
                p { "No apps yet." }
            } @else {
                table class="data" {
                    caption class="sr-only" { "Apps" }
                    thead { tr {
                        th scope="col" { "Name" } th scope="col" { "Client ID" } th scope="col" { "Who may sign in" }
                        th scope="col" { "Status" } th scope="col" { span class="sr-only" { "Actions" } }
                    } }
                    tbody {
                        @for a in list {
                            @let c = &a.client;
                            tr {
                                td { (c.name) }
                                td { code { (c.client_id) } }
                                td {
                                    @if a.groups.is_empty() { "Everyone" } @else { (join_names(&a.groups)) }
                                    @if c.require_mfa { br; span class="muted" { "Two-factor required" } }
                                }
                                td { @if c.is_enabled { "On" } @else { "Off" } }
                                td class="row" {
                                    @if c.kind == ClientKind::Confidential {
                                        form method="post" action=(format!("/admin/apps/{}/secret", c.id)) {
                                            (csrf_field(&viewer.csrf_token))
                                            button type="submit" class="linklike" aria-label=(format!("New secret for {}", c.name)) { "New secret" }
                                        }
                                    }
                                    form method="post" action=(format!("/admin/apps/{}/{}", c.id, if c.is_enabled { "disable" } else { "enable" })) {
                                        (csrf_field(&viewer.csrf_token))
                                        button type="submit" class="linklike" aria-label=(format!("{} {}", if c.is_enabled { "Turn off" } else { "Turn on" }, c.name)) {
                                            @if c.is_enabled { "Turn off" } @else { "Turn on" }
                                        }
                                    }
                                    a href=(format!("/admin/apps/{}/delete", c.id)) aria-label=(format!("Delete {}", c.name)) { "Delete" }
                                }
                            }
                        }
                    }
                }
            }
            div class="card stack" {
                h2 { "Register app" }
                (error_summary(p.errors))
                form class="form stack" method="post" action="/admin/apps" novalidate {
                    (csrf_field(&viewer.csrf_token))
                    (field(Input { maxlength: 64, hint: Some("As people know it, for example Grafana."), ..Input::new("name", "Name", &f.name) }, p.errors))
                    (textarea("redirect_uris", "Redirect URIs", &f.redirect_uris, Some("One per line, exactly as the app sends it (its documentation gives it)."), 3, p.errors, html! {}))
                    (textarea("post_logout_redirect_uris", "Post-logout redirect URIs", &f.post_logout_redirect_uris, Some("Optional. Where the app may send people after signing out, one per line."), 2, p.errors, html! {}))
                    (radios("kind", "Kind of app", &[("confidential", "Runs on a server and keeps a secret"), ("public", "Runs in a browser or on a phone: no secret, PKCE required")], kind, p.errors))
                    (checkboxes("groups", "Who may sign in", &group_options(groups), &f.groups, html! { "No groups yet: everyone may sign in." }, p.errors))
                    label class="checkbox" {
                        input type="checkbox" name="require_mfa" value="on" checked[f.require_mfa];
                        " Require two-factor sign-in"
                    }
                    div class="actions" { button type="submit" class="button-primary" { "Register app" } }
                }
            }
            div class="card stack" {
                h2 { "Signing key" }
                p { "Apps check sign-ins with onramp's published key. A new key is published at once and used 10 minutes later; the old one stays published until what it signed has expired." }
                form method="post" action="/admin/apps/rotate-key" {
                    (csrf_field(&viewer.csrf_token))
                    button type="submit" class="button-secondary" { "Rotate signing key" }
                }
            }
        },
    )
}

fn issued_card(i: &Issued) -> Markup {
    html! {
        div class="card stack" role="status" {
            h2 { "Settings for " (i.name) }
            dl {
                dt { "Client ID" } dd { code { (i.client_id) } }
                @if let Some(s) = &i.secret {
                    dt { "Client secret" } dd { code { (s) } }
                }
            }
            @if i.secret.is_some() {
                p { strong { "Copy the secret now: it is shown only this once." } " onramp keeps only its hash." }
            }
        }
    }
}

/// "Delete <app>?"
pub fn delete_app_page(instance: &str, viewer: &Viewer, id: i64, name: &str) -> Markup {
    admin_page(
        &format!("Delete {name}"),
        instance,
        Nav::Apps,
        viewer,
        html! {
            div class="card stack confirm" {
                h1 { "Delete " (name) "?" }
                p { "Nobody can sign in to " (name) " with onramp any more; its consents and tokens end. This cannot be undone." }
                form method="post" action=(format!("/admin/apps/{id}/delete")) class="actions" {
                    (csrf_field(&viewer.csrf_token))
                    button type="submit" class="button-danger" { "Delete " (name) }
                    a class="button button-secondary" href="/admin/apps" { "Cancel" }
                }
            }
        },
    )
}
