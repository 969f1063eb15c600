//! The outbox: every email with its delivery status.

use super::components::{breakable, flash, flash_error};
use super::layout::{admin_page, csrf_field, Nav, Viewer};
use super::time_tag;
use crate::db::outbox::MailRow;
use crate::domain::outbox::OutboxStatus;
use maud::{html, Markup};

fn hide_secret(body: &str) -> String {
    body.replace(crate::mail::SECRET_MARKER, crate::mail::SECRET_SHOWN_AS)
}

fn status_badge(status: OutboxStatus) -> Markup {
    let (class, label) = match status {
        OutboxStatus::Sent => ("badge badge-active", "Sent"),
        OutboxStatus::Failed => ("badge badge-disabled", "Failed"),
        OutboxStatus::Sending => ("badge badge-pending", "Sending"),
        OutboxStatus::Queued => ("badge badge-pending", "Queued"),
    };
    html! { span class=(class) { (label) } }
}

/// "Retry now", only while an SMTP server exists to retry with, and never for a test email
/// (sent once from the settings page).
fn retry_form(viewer: &Viewer, m: &MailRow, smtp_configured: bool) -> Markup {
    html! {
        @if smtp_configured && m.kind != "test" && matches!(m.status, OutboxStatus::Queued | OutboxStatus::Failed) {
            form method="post" action=(format!("/admin/outbox/{}/retry", m.id)) {
                (csrf_field(&viewer.csrf_token))
                button type="submit" class="linklike" aria-label=(format!("Retry now: {}", m.subject)) { "Retry now" }
            }
        }
    }
}

/// The outbox list.
pub fn outbox_page(
    instance: &str,
    viewer: &Viewer,
    rows: &[MailRow],
    counts: &[(OutboxStatus, i64)],
    smtp_configured: bool,
    notice: Option<&str>,
    error: Option<&str>,
) -> Markup {
    let count = |s: OutboxStatus| counts.iter().find(|(k, _)| *k == s).map_or(0, |(_, n)| *n);
    admin_page(
        "Outbox",
        instance,
        Nav::Outbox,
        viewer,
        html! {
            h1 { "Outbox" }
            (flash(notice))
            (flash_error(error))
            @if !smtp_configured {
                div class="flash flash-warning" role="note" {
                    "SMTP is not configured, so mail waits here until you set it up in "
                    a href="/admin/settings" { "Settings" } ". "
                    "Emails that carry a token cannot be read or forwarded from here: the token is sealed "
                    "and goes only into the delivered email. To hand a token over now, issue a new one with "
                    "\"Deliver token yourself\"."
                }
            }
            nav class="row" aria-label="Filter by status" {
                a href="/admin/outbox" { "All" }
                a href="/admin/outbox?status=queued" { "Queued (" (count(OutboxStatus::Queued) + count(OutboxStatus::Sending)) ")" }
                a href="/admin/outbox?status=sent" { "Sent (" (count(OutboxStatus::Sent)) ")" }
                a href="/admin/outbox?status=failed" { "Failed (" (count(OutboxStatus::Failed)) ")" }
            }
            @if rows.is_empty() {
                p { "No emails." }
            } @else {
                table class="data" {
                    caption class="sr-only" { "Emails" }
                    thead { tr {
                        th scope="col" { "Queued" } th scope="col" { "To" } th scope="col" { "Subject" }
                        th scope="col" { "Status" } th scope="col" class="num" { "Attempts" } th scope="col" { "Last error" } th scope="col" { span class="sr-only" { "Actions" } }
                    } }
                    tbody {
                        @for m in rows {
                            tr {
                                td data-label="Queued" { (time_tag(m.created_at)) }
                                td data-label="To" { (breakable(&m.recipient)) }
                                td { a href=(format!("/admin/outbox/{}", m.id)) { (m.subject) } }
                                td { (status_badge(m.status))
                                    @if m.status == OutboxStatus::Queued && m.attempts > 0 { br; span class="muted" { "next try " (time_tag(m.next_attempt_at)) } } }
                                td class="num" data-label="Attempts" { (m.attempts) }
                                td data-label="Last error" { @if let Some(e) = &m.last_error { (e) } @if let Some(h) = &m.last_hint { br; span class="hint" { (h) } } }
                                td { (retry_form(viewer, m, smtp_configured)) }
                            }
                        }
                    }
                }
                @if rows.len() == 50 {
                    @if let Some(last) = rows.last() {
                        nav class="pagination" aria-label="Pages" { a href=(format!("/admin/outbox?before={}", last.id)) { "Older emails →" } }
                    }
                }
            }
        },
    )
}

/// "Queued, not tried yet", "Sent after 1 attempt", "Failed after 10 attempts".
fn attempts_text(attempts: i64) -> String {
    match attempts {
        0 => "not tried yet".to_owned(),
        1 => "after 1 attempt".to_owned(),
        n => format!("after {n} attempts"),
    }
}

/// One email, text and HTML.
pub fn mail_page(instance: &str, viewer: &Viewer, m: &MailRow, smtp_configured: bool) -> Markup {
    admin_page(
        &m.subject,
        instance,
        Nav::Outbox,
        viewer,
        html! {
            div class="card stack" {
                h1 { (m.subject) }
                dl {
                    dt { "To" } dd { (breakable(&m.recipient)) }
                    dt { "Status" } dd { (status_badge(m.status)) " " (attempts_text(m.attempts)) }
                    dt { "Queued" } dd { (time_tag(m.created_at)) }
                    @if let Some(t) = m.sent_at { dt { "Sent" } dd { (time_tag(t)) } }
                    @if let Some(e) = &m.last_error { dt { "Last error" } dd { (e) } }
                    @if let Some(h) = &m.last_hint { dt { "Hint" } dd { (h) } }
                }
                @if m.secret_enc.is_some() {
                    div class="flash flash-warning" role="note" {
                        "This email carries a token. onramp keeps the token sealed and puts it in only when the email is delivered, "
                        "so it cannot be read or forwarded from here"
                        @if !smtp_configured { ", and without SMTP the email waits" }
                        ". To hand the token over yourself, issue a new one with \"Deliver token yourself\"; it replaces this one."
                    }
                }
                (retry_form(viewer, m, smtp_configured))
                h2 { "Text" }
                pre class="mail-text" { (hide_secret(&m.body_text)) }
                details {
                    summary { "HTML source" }
                    pre class="mail-text" { (hide_secret(&m.body_html)) }
                }
                p { a href="/admin/outbox" { "Back to the outbox" } }
            }
        },
    )
}
