//! The audit log.

use super::format_time;
use super::layout::{admin_page, Nav, Viewer};
use crate::db::audit::Event;
use crate::domain::visible_text;
use maud::{html, Markup};

/// A stored value as shown: control and bidirectional characters as visible escapes, also
/// in rows written before they were escaped on the way in.
fn shown(s: &str) -> String {
    visible_text(s, 512)
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
    html! {
        td { (format_time(at)) }
        td { (shown(actor)) }
        td { code { (shown(action)) } }
        td { (shown(target.unwrap_or(""))) }
        td { (shown(detail.unwrap_or(""))) }
    }
}

/// The audit log with its filters, newest first.
pub fn audit_page(
    instance: &str,
    viewer: &Viewer,
    events: &[Event],
    user: &str,
    action: &str,
    actions: &[String],
    next: Option<String>,
) -> Markup {
    admin_page(
        "Audit log",
        instance,
        Nav::Audit,
        viewer,
        html! {
            h1 { "Audit log" }
            form class="search row" method="get" action="/admin/audit" role="search" {
                div class="field" {
                    label for="user" { "User" }
                    input id="user" name="user" type="search" value=(user) maxlength="64" placeholder="Actor or target";
                }
                div class="field" {
                    label for="action" { "Action" }
                    select id="action" name="action" {
                        option value="" selected[action.is_empty()] { "Any action" }
                        @for a in actions { option value=(a) selected[a == action] { (a) } }
                    }
                }
                button type="submit" class="button-secondary" { "Filter" }
            }
            @if events.is_empty() {
                p { "No events match." }
            } @else {
                table class="data" {
                    caption class="sr-only" { "Audit events" }
                    thead { tr {
                        th scope="col" { "Time (UTC)" } th scope="col" { "Actor" } th scope="col" { "Action" }
                        th scope="col" { "Target" } th scope="col" { "Detail" } th scope="col" { "IP" } th scope="col" { "User agent" }
                    } }
                    tbody {
                        @for e in events {
                            tr {
                                (event_cells(e.at, &e.actor, &e.action, e.target.as_deref(), e.detail.as_deref()))
                                td { (shown(e.ip.as_deref().unwrap_or(""))) }
                                td class="muted" { (shown(e.user_agent.as_deref().unwrap_or(""))) }
                            }
                        }
                    }
                }
                @if let Some(url) = next {
                    nav class="pagination" aria-label="Pages" { a href=(url) { "Older events →" } }
                }
            }
        },
    )
}
