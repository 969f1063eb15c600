//! The audit log.

use super::components::{error_for, error_summary};
use super::layout::{admin_page, Nav, Viewer};
use super::time_tag;
use crate::db::audit::Event;
use crate::domain::{visible_text, FieldError};
use maud::{html, Markup};

/// A stored value as shown: control and bidirectional characters as visible escapes, also
/// in rows written before they were escaped on the way in.
fn shown(s: &str) -> String {
    visible_text(s, 512)
}

/// What an event code means, in words; an unknown code reads as itself.
pub fn event_label(action: &str) -> &str {
    match action {
        "login.success" => "Signed in",
        "login.failure" => "Sign-in failed",
        "password.set" => "Password set",
        "password.reset" => "Admin password reset",
        "session.expired" => "Enrollment session expired",
        "settings.updated" => "Settings changed",
        "email.queued" => "Test email queued",
        "user.created" => "User added",
        "user.updated" => "User edited",
        "user.disabled" => "User disabled",
        "user.enabled" => "User enabled",
        "user.deleted" => "User deleted",
        "token.issued" => "Token issued",
        "token.mailed" => "Token emailed",
        "token.revoked" => "Token revoked",
        "token.started" => "Enrollment started",
        "token.consumed" => "Token used",
        "token.invalid" => "Invalid token tried",
        "enrollment.reopened" => "Enrollment reopened",
        "enrollment.step" => "Enrollment step done",
        "enrollment.unfinished" => "Enrollment left unfinished",
        "device.added" => "Device added",
        "device.renamed" => "Device renamed",
        "device.removed" => "Device deleted",
        "device.refused" => "Device refused",
        "location.created" => "Location added",
        "location.updated" => "Location edited",
        "location.deleted" => "Location deleted",
        "location.access_changed" => "Location access changed",
        "gateway.token_issued" => "Gateway token issued",
        "group.created" => "Group added",
        "group.renamed" => "Group renamed",
        "group.deleted" => "Group deleted",
        "group.member_added" => "Group member added",
        "group.member_removed" => "Group member removed",
        other => other,
    }
}

/// An event's time, actor, action, target and detail cells, as the audit log and a user's
/// page show them.
pub fn event_cells(
    at: i64,
    actor: &str,
    action: &str,
    target: Option<&str>,
    detail: Option<&str>,
) -> Markup {
    let code = shown(action);
    html! {
        td data-label="Time" { (time_tag(at)) }
        td data-label="Actor" { (shown(actor)) }
        td data-label="Action" class="event" {
            (event_label(&code))
            @if event_label(&code) != code { " " code class="event-code" { (code) } }
        }
        td data-label="Target" { (shown(target.unwrap_or(""))) }
        td data-label="Detail" { (shown(detail.unwrap_or(""))) }
    }
}

/// The filters as typed, for the form and the links that keep them.
#[derive(Debug, Clone, Default)]
pub struct AuditFilters {
    /// Text matched against the users an event is by or about.
    pub user: String,
    /// An action code, or empty for any.
    pub action: String,
    /// First day shown, `YYYY-MM-DD`.
    pub from: String,
    /// Last day shown, `YYYY-MM-DD`.
    pub to: String,
}

impl AuditFilters {
    /// `/admin/audit` with these filters (the empty ones left out) and `extra` pairs.
    pub fn url(&self, extra: &[(&str, String)]) -> String {
        let mut pairs: Vec<(&str, String)> = [
            ("user", &self.user),
            ("action", &self.action),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k, v.clone()))
        .collect();
        pairs.extend(extra.iter().cloned());
        match serde_urlencoded::to_string(&pairs) {
            Ok(qs) if !qs.is_empty() => format!("/admin/audit?{qs}"),
            _ => "/admin/audit".to_owned(),
        }
    }
}

/// What the audit log shows.
#[derive(Debug, Clone, Copy)]
pub struct AuditView<'a> {
    /// The filters as typed.
    pub filters: &'a AuditFilters,
    /// Filters that could not be read.
    pub errors: &'a [FieldError],
    /// The events, newest first.
    pub events: &'a [Event],
    /// Every action recorded so far, for the choice of action.
    pub actions: &'a [String],
    /// The next page's link, when there are older events.
    pub next: Option<&'a str>,
}

/// A filter field; with JavaScript, `trigger` applies the filters at once.
fn filter_input(
    name: &str,
    label: &str,
    kind: &str,
    value: &str,
    trigger: &str,
    errors: &[FieldError],
) -> Markup {
    let error = error_for(errors, name);
    let error_id = format!("{name}-error");
    html! {
        div class="field" {
            label for=(name) { (label) }
            input id=(name) name=(name) type=(kind) value=(value) maxlength="64"
                aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| error_id.as_str())]
                hx-get="/admin/audit" hx-trigger=(trigger) hx-include="closest form"
                hx-target="#audit-results" hx-swap="outerHTML" hx-push-url="true";
            @if let Some(message) = error { div class="field-error" id=(error_id) { (message) } }
        }
    }
}

/// The audit log with its filters, newest first.
pub fn audit_page(instance: &str, viewer: &Viewer, v: AuditView<'_>) -> Markup {
    let f = v.filters;
    admin_page(
        "Audit log",
        instance,
        Nav::Audit,
        viewer,
        html! {
            h1 { "Audit log" }
            form class="filters" method="get" action="/admin/audit" role="search" aria-label="Filter events" {
                (filter_input("user", "User", "search", &f.user, "input changed delay:400ms, search", v.errors))
                div class="field" {
                    label for="action" { "Action" }
                    select id="action" name="action"
                        hx-get="/admin/audit" hx-trigger="change" hx-include="closest form"
                        hx-target="#audit-results" hx-swap="outerHTML" hx-push-url="true" {
                        option value="" selected[f.action.is_empty()] { "Any action" }
                        @for a in v.actions { option value=(a) selected[*a == f.action] { (event_label(a)) " (" (a) ")" } }
                    }
                }
                (filter_input("from", "From", "date", &f.from, "change", v.errors))
                (filter_input("to", "To", "date", &f.to, "change", v.errors))
                button type="submit" class="button-secondary" { "Filter" }
            }
            (audit_results(v))
        },
    )
}

/// The events table and its paging; what the filters swap in.
pub fn audit_results(v: AuditView<'_>) -> Markup {
    html! {
        div id="audit-results" {
            @if !v.errors.is_empty() {
                (error_summary(v.errors))
            } @else if v.events.is_empty() {
                p class="page-info" role="status" { "No events match." }
            } @else {
                table class="data audit" {
                    caption class="sr-only" { "Audit events" }
                    thead { tr {
                        th scope="col" { "Time" } th scope="col" { "Actor" } th scope="col" { "Action" }
                        th scope="col" { "Target" } th scope="col" { "Detail" } th scope="col" { "IP" } th scope="col" { "User agent" }
                    } }
                    tbody {
                        @for e in v.events {
                            tr {
                                (event_cells(e.at, &e.actor, &e.action, e.target.as_deref(), e.detail.as_deref()))
                                td data-label="IP" class="nowrap" { (shown(e.ip.as_deref().unwrap_or(""))) }
                                td data-label="User agent" class="muted" { (shown(e.user_agent.as_deref().unwrap_or(""))) }
                            }
                        }
                    }
                }
                @if let Some(url) = v.next {
                    nav class="pagination" aria-label="Pages" { a href=(url) { "Older events →" } }
                }
            }
        }
    }
}
