//! The groups list, a group's members, and the rename and delete screens.

use super::components::{error_summary, field, flash, flash_error, Input};
use super::layout::{admin_page, csrf_field, Nav, Viewer};
use crate::domain::FieldError;
use crate::services::groups::{join_names, GroupDetail, GroupRef, GroupSummary};
use maud::{html, Markup};

/// Checkbox options for groups: (id, name).
pub fn group_options(groups: &[GroupRef]) -> Vec<(String, String)> {
    groups
        .iter()
        .map(|g| (g.id.to_string(), g.name.clone()))
        .collect()
}

/// What the groups page shows besides the list.
#[derive(Debug, Clone, Default)]
pub struct GroupsPage<'a> {
    /// The "Add group" name as typed.
    pub name: &'a str,
    /// Problems with it.
    pub errors: &'a [FieldError],
    /// A notice after a change.
    pub notice: Option<&'a str>,
    /// A refusal after a change.
    pub error: Option<&'a str>,
}

/// The list of groups with the "Add group" form.
pub fn groups_page(
    instance: &str,
    viewer: &Viewer,
    list: &[GroupSummary],
    p: &GroupsPage<'_>,
) -> Markup {
    admin_page(
        "Groups",
        instance,
        Nav::Groups,
        viewer,
        html! {
            h1 { "Groups" }
            (flash(p.notice))
            (flash_error(p.error))
            p { "A location can let only the members of chosen groups connect; set that under \"Who can connect\" on the location. A location without chosen groups is open to everyone." }
            div class="card stack" {
                h2 { "Add group" }
                (error_summary(p.errors))
                form class="form stack" method="post" action="/admin/groups" novalidate {
                    (csrf_field(&viewer.csrf_token))
                    (field(Input { maxlength: 64, hint: Some("For example ops or contractors."), ..Input::new("name", "Group name", p.name) }, p.errors))
                    div class="actions" { button type="submit" class="button-primary" { "Add group" } }
                }
            }
            @if list.is_empty() {
                p { "No groups yet." }
            } @else {
                table class="data" {
                    caption class="sr-only" { "Groups" }
                    thead { tr {
                        th scope="col" { "Name" } th scope="col" class="num" { "Members" }
                        th scope="col" { "Decides who can connect to" } th scope="col" { span class="sr-only" { "Actions" } }
                    } }
                    tbody {
                        @for s in list {
                            @let g = &s.group;
                            tr {
                                td { a href=(format!("/admin/groups/{}", g.id)) { (g.name) } }
                                td class="num" data-label="Members" { (s.members) }
                                td data-label="Decides who can connect to" { @if s.locations.is_empty() { span class="muted" { "No location" } } @else { (join_names(&s.locations)) } }
                                td class="actions-cell" { div class="row" {
                                    a href=(format!("/admin/groups/{}", g.id)) aria-label=(format!("Members of {}", g.name)) { "Members" }
                                    a href=(format!("/admin/groups/{}/edit", g.id)) aria-label=(format!("Rename {}", g.name)) { "Rename" }
                                    a href=(format!("/admin/groups/{}/delete", g.id)) aria-label=(format!("Delete {}", g.name)) { "Delete" }
                                } }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// A group's members with the "Add member" form.
pub fn group_page(
    instance: &str,
    viewer: &Viewer,
    d: &GroupDetail,
    username: &str,
    errors: &[FieldError],
    notice: Option<&str>,
) -> Markup {
    let g = &d.group;
    admin_page(
        &g.name,
        instance,
        Nav::Groups,
        viewer,
        html! {
            div class="row spread" {
                h1 { "Group " (g.name) }
                a class="button button-secondary" href=(format!("/admin/groups/{}/edit", g.id)) { "Rename" }
            }
            (flash(notice))
            p {
                @if d.locations.is_empty() {
                    "No location is limited to this group yet, so membership changes no access."
                } @else {
                    "Members can connect to " (join_names(&d.locations)) ", which only chosen groups can reach."
                }
            }
            div class="card stack" {
                h2 { "Add member" }
                (error_summary(errors))
                form class="form stack" method="post" action=(format!("/admin/groups/{}/members", g.id)) novalidate {
                    (csrf_field(&viewer.csrf_token))
                    (field(Input { maxlength: 32, hint: Some("The username of the person to add, such as jnowak."), ..Input::new("username", "Username", username) }, errors))
                    div class="actions" { button type="submit" class="button-primary" { "Add member" } }
                }
            }
            @if d.members.is_empty() {
                p { "No members yet." }
            } @else {
                table class="data" {
                    caption { "Members of " (g.name) }
                    thead { tr { th scope="col" { "Username" } th scope="col" { "Name" } th scope="col" { span class="sr-only" { "Actions" } } } }
                    tbody {
                        @for m in &d.members {
                            tr {
                                td { (m.username) }
                                td { (m.full_name) }
                                td {
                                    form method="post" action=(format!("/admin/groups/{}/members/{}/remove", g.id, m.user_id)) {
                                        (csrf_field(&viewer.csrf_token))
                                        button type="submit" class="linklike" aria-label=(format!("Remove {} from {}", m.username, g.name)) { "Remove" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p { a href="/admin/groups" { "Back to groups" } }
        },
    )
}

/// The rename form.
pub fn rename_group_page(
    instance: &str,
    viewer: &Viewer,
    g: &GroupRef,
    name: &str,
    errors: &[FieldError],
) -> Markup {
    admin_page(
        &format!("Rename {}", g.name),
        instance,
        Nav::Groups,
        viewer,
        html! {
            div class="card stack" {
                h1 { "Rename " (g.name) }
                (error_summary(errors))
                form class="form stack" method="post" action=(format!("/admin/groups/{}/edit", g.id)) novalidate {
                    (csrf_field(&viewer.csrf_token))
                    (field(Input { maxlength: 64, ..Input::new("name", "Group name", name) }, errors))
                    div class="actions" {
                        button type="submit" class="button-primary" { "Save name" }
                        a class="button button-secondary" href="/admin/groups" { "Cancel" }
                    }
                }
            }
        },
    )
}

/// The confirmation before deleting a group; a group that decides access cannot be deleted.
pub fn delete_group_page(
    instance: &str,
    viewer: &Viewer,
    s: &GroupSummary,
    error: Option<&str>,
) -> Markup {
    let g = &s.group;
    admin_page(
        &format!("Delete {}", g.name),
        instance,
        Nav::Groups,
        viewer,
        html! {
            div class="card stack confirm" {
                h1 { "Delete " (g.name) "?" }
                (flash_error(error))
                @if s.locations.is_empty() {
                    p { "The group's " (super::count_of(s.members, "member stays a user", "members stay users")) "; only the group goes. This cannot be undone." }
                    form method="post" action=(format!("/admin/groups/{}/delete", g.id)) class="actions" {
                        (csrf_field(&viewer.csrf_token))
                        button type="submit" class="button-danger" { "Delete " (g.name) }
                        a class="button button-secondary" href="/admin/groups" { "Cancel" }
                    }
                } @else {
                    @if error.is_none() {
                        p { (crate::services::groups::in_use_message(&g.name, &s.locations)) }
                    }
                    p { a href="/admin/locations" { "Go to the locations" } " · " a href="/admin/groups" { "Back to groups" } }
                }
            }
        },
    )
}
