//! "Invitations": the reminder and the expiry note settings.

use super::components::{error_summary, field, flash, Input};
use super::layout::{admin_page, csrf_field, Nav, Viewer};
use crate::domain::FieldError;
use maud::{html, Markup};

/// The form's values.
#[derive(Debug, Clone, Default)]
pub struct InvitationForm<'a> {
    /// Days until the reminder as typed; empty for none.
    pub reminder_days: &'a str,
    /// Whether the issuing admin hears of expired invitations.
    pub notify_expired: bool,
    /// The token validity that applies unless chosen otherwise, as words.
    pub default_validity: &'a str,
    /// A notice after saving.
    pub notice: Option<&'a str>,
}

/// The settings page.
pub fn invitations_page(
    instance: &str,
    viewer: &Viewer,
    f: &InvitationForm<'_>,
    errors: &[FieldError],
) -> Markup {
    admin_page(
        "Invitations",
        instance,
        Nav::Settings,
        viewer,
        html! {
            h1 { "Invitations" }
            (flash(f.notice))
            (error_summary(errors))
            p { "An invitation (enrollment token) is valid for " (f.default_validity) " unless you choose another validity, from 1 hour to 30 days, when you issue it." }
            form class="form stack card" method="post" action="/admin/settings/invitations" novalidate {
                (csrf_field(&viewer.csrf_token))
                (field(Input {
                    kind: "number",
                    required: false,
                    maxlength: 2,
                    hint: Some("One reminder email this many days after an emailed invitation that was not opened; never after it expired or was used. Leave empty for no reminder."),
                    ..Input::new("reminder_days", "Remind after (days)", f.reminder_days)
                }, errors))
                div class="field" {
                    label class="checkbox" {
                        input type="checkbox" name="notify_expired" value="on" checked[f.notify_expired];
                        " Email the admin who issued an invitation when it expires unused"
                    }
                }
                div class="actions" {
                    button type="submit" class="button-primary" { "Save" }
                    a class="button button-secondary" href="/admin/settings" { "Back to settings" }
                }
            }
        },
    )
}
