//! "Import users": the upload form, the dry run's table and the confirmation.

use super::components::{error_summary, flash_error, radios};
use super::layout::{admin_page, csrf_field, Nav, Viewer};
use crate::domain::FieldError;
use crate::services::import::{Action, Plan};
use maud::{html, Markup};

/// The dry run as the confirmation needs it.
#[derive(Debug, Clone)]
pub struct Checked<'a> {
    /// The file's rows and what happens to each.
    pub plan: &'a Plan,
    /// The id that names the stashed rows, when there is something to import.
    pub import_id: Option<&'a str>,
    /// Whether SMTP is set up (invitations wait in the outbox otherwise).
    pub smtp_configured: bool,
}

fn upload_form(viewer: &Viewer, errors: &[FieldError], label: &str) -> Markup {
    let error = errors
        .iter()
        .find(|e| e.field == "file")
        .map(|e| &e.message);
    html! {
        form class="form stack" method="post" action="/admin/users/import" enctype="multipart/form-data" {
            (csrf_field(&viewer.csrf_token))
            div class="field" {
                label for="file" { "CSV file" }
                div class="hint" id="file-hint" {
                    "UTF-8, separated by commas or semicolons, at most 5 MB and 10,000 rows. "
                    "The first line names the columns in any order: "
                    code { "username" } ", " code { "first_name" } ", " code { "last_name" } ", "
                    code { "email" } ", and optionally " code { "phone" } " and " code { "groups" }
                    " (group names separated by " code { "|" } "). Cells starting with "
                    code { "=" } ", " code { "+" } ", " code { "-" } " or " code { "@" }
                    " are refused, except phone numbers."
                }
                input id="file" name="file" type="file" accept=".csv,text/csv" required
                    aria-describedby=(if error.is_some() { "file-hint file-error" } else { "file-hint" })
                    aria-invalid=[error.map(|_| "true")];
                @if let Some(message) = error { div class="field-error" id="file-error" { (message) } }
            }
            div class="actions" { button type="submit" class="button-primary" { (label) } }
        }
    }
}

/// The upload form, with what was wrong with the last file.
pub fn import_page(
    instance: &str,
    viewer: &Viewer,
    errors: &[FieldError],
    error: Option<&str>,
) -> Markup {
    admin_page(
        "Import users",
        instance,
        Nav::Users,
        viewer,
        html! {
            h1 { "Import users" }
            (flash_error(error))
            (error_summary(errors))
            p { "Add many people at once from a spreadsheet saved as CSV. First you see what would happen to every row; nothing is added until you confirm." }
            div class="card" { (upload_form(viewer, errors, "Check file")) }
            p { a href="/admin/users" { "Back to users" } }
        },
    )
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The dry run: every row with what would happen, then the confirmation or what to fix.
pub fn checked_page(instance: &str, viewer: &Viewer, c: &Checked<'_>) -> Markup {
    let plan = c.plan;
    let creates = plan.creates.len();
    let summary = format!(
        "{} to add, {} skipped, {} with errors.",
        creates,
        plan.skips(),
        plan.errors()
    );
    admin_page(
        "Import users: check",
        instance,
        Nav::Users,
        viewer,
        html! {
            h1 { "Import users" }
            p role="status" { strong { (summary) } " Nothing has been added yet." }
            @if plan.errors() > 0 {
                div class="flash flash-error" role="alert" {
                    (plural(plan.errors(), "row has", "rows have")) " errors, so nothing can be imported. Fix them in the file and upload it again."
                }
                div class="card" { (upload_form(viewer, &[], "Check file again")) }
            } @else if let (Some(id), true) = (c.import_id, creates > 0) {
                div class="card stack" {
                    form class="form stack" method="post" action="/admin/users/import/confirm" {
                        (csrf_field(&viewer.csrf_token))
                        input type="hidden" name="import" value=(id);
                        (radios("delivery", "After adding them", &[
                            ("email", "Send invitations by email"),
                            ("none", "Create only (start their enrollment later)"),
                        ], "email", &[]))
                        @if !c.smtp_configured {
                            p class="hint" { "SMTP is not set up yet: invitations wait in the Outbox until it is." }
                        }
                        div class="actions" {
                            button type="submit" class="button-primary" { "Import " (plural(creates, "user", "users")) }
                            a class="button button-secondary" href="/admin/users/import" { "Choose another file" }
                        }
                    }
                }
            } @else {
                p { "Everyone in the file is already here; there is nothing to import." }
                p { a href="/admin/users/import" { "Choose another file" } }
            }
            table class="data" {
                caption { "Rows of the file" }
                thead { tr { th scope="col" { "Line" } th scope="col" { "Username" } th scope="col" { "Email" } th scope="col" { "Result" } } }
                tbody {
                    @for row in &plan.rows {
                        tr {
                            td { (row.line) }
                            td { (row.username) }
                            td { (row.email) }
                            td {
                                @match &row.action {
                                    Action::Create => "Add",
                                    Action::Skip(why) => { "Skip: " (why) }
                                    Action::Error(why) => { strong { "Error: " } (why) }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}
