//! The admins' setup checklist.

use super::components::flash;
use super::layout::{admin_page, csrf_field, Nav, Viewer};
use crate::services::setup::Checklist;
use maud::{html, Markup};

/// One item: done or not, what it is, and the link to its form.
fn item(done: bool, title: &str, why: &str, href: &str, action: &str) -> Markup {
    html! {
        li class=(if done { "check done" } else { "check todo" }) {
            span class="check-mark" aria-hidden="true" { @if done { "✓" } @else { "○" } }
            div class="stack" {
                p {
                    strong { (title) }
                    span class="sr-only" { @if done { " (done)" } @else { " (to do)" } }
                }
                p class="muted" { (why) }
                p { a href=(href) { (action) } }
            }
        }
    }
}

/// `/admin/setup`.
pub fn setup_page(instance: &str, viewer: &Viewer, c: &Checklist, notice: Option<&str>) -> Markup {
    admin_page(
        "Setup checklist",
        instance,
        Nav::None,
        viewer,
        html! {
            h1 { "Set up onramp" }
            (flash(notice))
            section class="card stack" aria-labelledby="checklist-title" {
                h2 id="checklist-title" { (c.done()) " of 4 done" }
                @if c.complete() {
                    p { "Everything is set up. New users see the right contact, and their invitations go out by email." }
                }
                ol class="checklist" {
                    (item(c.profile, "Your name, email and phone",
                        "New users see them on every enrollment step and in their emails as the person to ask, and enrollment notices go to your email. A new instance starts with \"Onramp Admin\" and admin@localhost.",
                        &format!("/admin/users/{}/edit", c.admin_id), "Edit your profile"))
                    (item(c.instance_name, "Instance name",
                        "Shown in every page's header, in emails, the desktop client and authenticator apps, instead of \"onramp\".",
                        "/admin/settings#instance_name", "Name the instance"))
                    (item(c.smtp, "Email (SMTP)",
                        "Enrollment links, password resets and notices are sent by email. Until SMTP is set up they wait in the outbox, and you hand tokens over yourself.",
                        "/admin/settings#smtp_host", "Set up SMTP"))
                    (item(c.location, "First location",
                        "A WireGuard network people connect to. Without one, new users finish enrollment without a VPN device.",
                        "/admin/locations/new", "Add a location"))
                }
                p { "Your own password: " a href="/me#password" { "Change my password" } " on " a href="/me" { "My account" } "." }
                @if c.hidden {
                    form method="post" action="/admin/setup/show" {
                        (csrf_field(&viewer.csrf_token))
                        p class="muted" { "The checklist is hidden from the header. " }
                        button type="submit" class="button-secondary" { "Show it in the header again" }
                    }
                } @else {
                    form method="post" action="/admin/setup/hide" {
                        (csrf_field(&viewer.csrf_token))
                        button type="submit" class=(if c.complete() { "button-primary" } else { "button-secondary" }) {
                            @if c.complete() { "Dismiss the checklist" } @else { "Hide" }
                        }
                    }
                }
            }
        },
    )
}
