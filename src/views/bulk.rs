//! Bulk actions on the users list: the bar that applies one to the chosen rows, and the
//! confirmation before deleting.

use super::layout::{admin_page, csrf_field, Nav, Viewer};
use crate::domain::user::StatusFilter;
use crate::services::bulk::names;
use crate::services::groups::GroupRef;
use maud::{html, Markup};

/// The form the rows' checkboxes belong to (`form="bulk"`), above the table.
pub fn bulk_bar(
    viewer: &Viewer,
    groups: &[GroupRef],
    query: &str,
    status: Option<StatusFilter>,
) -> Markup {
    let mut all_label = String::from("Select all users");
    if let Some(s) = status {
        all_label.push_str(&format!(" with status {}", s.label()));
    }
    if !query.is_empty() {
        all_label.push_str(&format!(" matching \"{query}\""));
    }
    all_label.push_str(" (every page)");
    html! {
        form id="bulk" class="bulk-bar card" method="post" action="/admin/users/bulk" {
            (csrf_field(&viewer.csrf_token))
            input type="hidden" name="q" value=(query);
            @if let Some(s) = status { input type="hidden" name="status" value=(s.param()); }
            fieldset class="field" {
                legend { "With the chosen users" }
                label class="checkbox" {
                    input type="checkbox" name="all_matching" value="on";
                    " " (all_label)
                }
                div class="row" {
                    label for="bulk-action" { "Action" }
                    select id="bulk-action" name="action" {
                        option value="start_enrollment" { "Start enrollment (email)" }
                        @if !groups.is_empty() { option value="add_to_group" { "Add to group" } }
                        option value="disable" { "Disable" }
                        option value="enable" { "Enable" }
                        option value="delete" { "Delete" }
                    }
                    @if !groups.is_empty() {
                        label for="bulk-group" { "Group" }
                        select id="bulk-group" name="group" {
                            @for g in groups { option value=(g.id) { (g.name) } }
                        }
                    }
                    button type="submit" class="button-secondary" { "Apply to chosen users" }
                }
            }
        }
    }
}

/// The chosen users' checkbox in a row, belonging to the bulk form.
pub fn row_checkbox(id: i64, username: &str) -> Markup {
    html! {
        input type="checkbox" name="user" value=(id) form="bulk" aria-label=(format!("Choose {username}"));
    }
}

/// Who a confirmed bulk action applies to: the ids, or everyone matching a search (so the
/// form stays small however many match).
#[derive(Debug, Clone)]
pub enum Chosen<'a> {
    /// These users.
    Ids(&'a [i64]),
    /// Every user matching this search and status filter.
    Matching(&'a str, &'a str),
}

/// "Delete 23 users?" naming who, before anything is deleted.
pub fn confirm_delete_page(
    instance: &str,
    viewer: &Viewer,
    chosen: &Chosen<'_>,
    usernames: &[String],
) -> Markup {
    let count = usernames.len();
    let title = format!(
        "Delete {count} {}?",
        if count == 1 { "user" } else { "users" }
    );
    admin_page(
        &title,
        instance,
        Nav::Users,
        viewer,
        html! {
            h1 { (title) }
            p { "These users, their devices and their sessions will be deleted: " strong { (names(usernames)) } ". This cannot be undone." }
            form class="form stack" method="post" action="/admin/users/bulk" {
                (csrf_field(&viewer.csrf_token))
                input type="hidden" name="action" value="delete";
                input type="hidden" name="confirmed" value="on";
                @match chosen {
                    Chosen::Ids(ids) => { @for id in *ids { input type="hidden" name="user" value=(id); } }
                    Chosen::Matching(q, status) => {
                        input type="hidden" name="all_matching" value="on";
                        input type="hidden" name="q" value=(q);
                        input type="hidden" name="status" value=(status);
                    }
                }
                div class="actions" {
                    button type="submit" class="button-danger" { "Delete " (count) (if count == 1 { " user" } else { " users" }) }
                    a class="button button-secondary" href="/admin/users" { "Cancel" }
                }
            }
        },
    )
}
