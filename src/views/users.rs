//! The users list, its row action menu, and the add / edit / delete screens.

use super::components::{checkboxes, error_summary, field, flash, flash_error, Input};
use super::groups::group_options;
use super::layout::{admin_page, csrf_field, Nav, Viewer};
use crate::domain::token::InvitationState;
use crate::domain::user::UserStatus;
use crate::domain::FieldError;
use crate::services::groups::GroupRef;
use crate::services::users::{
    ListView, Seek, StatusFilter, Total, UserListRow, UserPage, UserRow, PAGE_SIZE,
};
use maud::{html, Markup};

fn status_badge(row: &UserListRow) -> Markup {
    let user = &row.user;
    let status = UserStatus::of(user.is_active, user.is_enrolled(), row.device_count > 0);
    if let (UserStatus::NotEnrolled, Some(invitation)) = (status, row.invitation) {
        return invitation_badge(invitation);
    }
    badge(status, row.pending_until)
}

/// "Invited — opened 2026-11-24 09:00 UTC", "Invitation expired …".
fn invitation_badge(state: InvitationState) -> Markup {
    let (class, words, at) = match state {
        InvitationState::Sent(at) => ("badge badge-pending", "Invited — sent ", at),
        InvitationState::Opened(at) => ("badge badge-pending", "Invited — opened ", at),
        InvitationState::Started(at) => ("badge badge-pending", "Invited — started ", at),
        InvitationState::Expired(at) => ("badge badge-expired", "Invitation expired ", at),
    };
    if let InvitationState::Expired(_) = state {
        return html! { span class=(class) { (words) (super::format_time(at)) } };
    }
    html! { span class=(class) { (words) (super::time_tag(at)) } }
}

/// A user's status as a badge; `pending_until` is when their unused enrollment token dies.
pub fn badge(status: UserStatus, pending_until: Option<i64>) -> Markup {
    match (status, pending_until) {
        (UserStatus::NotEnrolled, Some(until)) => {
            return html! { span class="badge badge-pending" { "Enrollment pending — expires " (super::time_tag(until)) } };
        }
        (UserStatus::PasswordNotSet, Some(until)) => {
            return html! { span class="badge badge-pending" { "Password not set — link valid until " (super::time_tag(until)) } };
        }
        _ => {}
    }
    let class = match status {
        UserStatus::Active => "badge badge-active",
        UserStatus::NotEnrolled | UserStatus::PasswordNotSet => "badge badge-notenrolled",
        UserStatus::Disabled => "badge badge-disabled",
    };
    html! { span class=(class) { (status.label()) } }
}

/// The list's state as query pairs: search, status, where the page starts, page number.
pub fn list_pairs(view: &ListView) -> Vec<(&'static str, String)> {
    let mut pairs = Vec::new();
    if !view.search.text().is_empty() {
        pairs.push(("q", view.search.text().to_owned()));
    }
    if let Some(status) = view.status {
        pairs.push(("status", status.param().to_owned()));
    }
    match &view.seek {
        Seek::First => {}
        Seek::After(name) => pairs.push(("after", name.clone())),
        Seek::Before(name) => pairs.push(("before", name.clone())),
    }
    if view.page > 1 && view.seek != Seek::First {
        pairs.push(("page", view.page.to_string()));
    }
    pairs
}

/// `path` with the list's state as its query string.
pub fn with_list_state(path: &str, view: &ListView) -> String {
    match serde_urlencoded::to_string(list_pairs(view)) {
        Ok(qs) if !qs.is_empty() => format!("{path}?{qs}"),
        _ => path.to_owned(),
    }
}

/// The users list showing `view`.
pub fn list_url(view: &ListView) -> String {
    with_list_state("/admin/users", view)
}

/// Hidden fields that carry the list's state through a form, so its answer can return there.
fn list_fields(view: &ListView) -> Markup {
    html! {
        @for (name, value) in list_pairs(view) {
            input type="hidden" name=(name) value=(value);
        }
    }
}

fn thousands(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "1 user", "1,234 users".
fn users_count(n: i64) -> String {
    if n == 1 {
        "1 user".to_owned()
    } else {
        format!("{} users", thousands(n))
    }
}

/// The users page: heading, search, and the results fragment.
pub fn users_page(
    instance: &str,
    viewer: &Viewer,
    page: &UserPage,
    notice: Option<&str>,
    error: Option<&str>,
) -> Markup {
    let view = &page.view;
    admin_page(
        "Users",
        instance,
        Nav::Users,
        viewer,
        html! {
            div class="row spread" {
                h1 { "Users" }
                div class="row" {
                    a class="button button-secondary" href="/admin/users/import" { "Import users" }
                    a class="button button-primary" href="/admin/users/new" { "Add user" }
                }
            }
            (flash(notice))
            (flash_error(error))
            form class="search" role="search" method="get" action="/admin/users" {
                div class="search-field" {
                    label for="q" { "Search users" }
                    input id="q" type="search" name="q" value=(view.search.text()) maxlength="100"
                        placeholder="Username, name or email" autocomplete="off"
                        hx-get="/admin/users" hx-trigger="input changed delay:300ms, search" hx-include="closest form"
                        hx-target="#users-results" hx-swap="outerHTML" hx-push-url="true" hx-indicator="#search-busy";
                }
                div class="search-field" {
                    label for="status" { "Status" }
                    select id="status" name="status"
                        hx-get="/admin/users" hx-trigger="change" hx-include="closest form"
                        hx-target="#users-results" hx-swap="outerHTML" hx-push-url="true" hx-indicator="#search-busy" {
                        option value="" selected[view.status.is_none()] { "Any status" }
                        @for s in StatusFilter::ALL {
                            option value=(s.param()) selected[view.status == Some(s)] { (s.label()) }
                        }
                    }
                }
                button type="submit" class="button-secondary search-submit" { "Search" }
                span id="search-busy" class="htmx-indicator muted" { "Searching…" }
            }
            (users_results(viewer, page))
        },
    )
}

/// "Showing 21–40 of 1,234 users · Page 2 of 50", or why nothing is shown.
fn summary(page: &UserPage) -> String {
    let view = &page.view;
    let query = view.search.text();
    if page.rows.is_empty() {
        return match (query.is_empty(), view.status) {
            (true, None) => "No users yet.".to_owned(),
            (true, Some(s)) => format!("No users have the status {}.", s.label()),
            (false, None) => format!("No users match \"{query}\"."),
            (false, Some(s)) => {
                format!("No users with the status {} match \"{query}\".", s.label())
            }
        };
    }
    let size = i64::try_from(PAGE_SIZE).unwrap_or(25);
    let first = (view.page - 1) * size + 1;
    let last = first + i64::try_from(page.rows.len()).unwrap_or(0) - 1;
    let shown = if first == last {
        format!("Showing {}", thousands(first))
    } else {
        format!("Showing {}–{}", thousands(first), thousands(last))
    };
    match page.total {
        Total::Exact(1) => "1 user".to_owned(),
        Total::Exact(n) => {
            let pages = (n + size - 1) / size;
            if pages > 1 {
                format!(
                    "{shown} of {} · Page {} of {}",
                    users_count(n),
                    thousands(view.page),
                    thousands(pages.max(view.page))
                )
            } else {
                format!("{shown} of {}", users_count(n))
            }
        }
        Total::MoreThan(n) => {
            let narrow = if query.is_empty() {
                ""
            } else {
                "; type more to narrow the search"
            };
            format!(
                "{shown} of more than {} · Page {}{narrow}",
                users_count(n),
                thousands(view.page)
            )
        }
    }
}

/// The table with its count and pagination; what search, filter and paging swap in.
pub fn users_results(viewer: &Viewer, page: &UserPage) -> Markup {
    let view = &page.view;
    html! {
        div id="users-results" {
            p class="page-info" role="status" aria-live="polite" { (summary(page)) }
            @if !page.rows.is_empty() {
                (super::bulk::bulk_bar(viewer, &page.groups, view.search.text(), view.status))
                table class="data users" {
                    caption class="sr-only" { "Users" }
                    thead { tr {
                        th scope="col" { "Username" }
                        th scope="col" { "Name" }
                        th scope="col" { "Email" }
                        th scope="col" { "Status" }
                        th scope="col" class="num" { "Devices" }
                        th scope="col" { span class="sr-only" { "Actions" } }
                    } }
                    tbody { @for row in &page.rows { (user_row(viewer, row, view)) } }
                }
            }
            @if page.has_prev || page.has_next {
                nav class="pagination" aria-label="Pages" {
                    @if let (true, Some(first)) = (page.has_prev, page.rows.first()) {
                        @let url = list_url(&ListView { seek: Seek::Before(first.user.username.clone()), page: view.page - 1, ..view.clone() });
                        a href=(url) hx-get=(url) hx-target="#users-results" hx-swap="outerHTML" hx-push-url="true" rel="prev" { "← Previous page" }
                    }
                    span class="muted" { "Page " (thousands(view.page)) }
                    @if let (true, Some(last)) = (page.has_next, page.rows.last()) {
                        @let url = list_url(&ListView { seek: Seek::After(last.user.username.clone()), page: view.page + 1, ..view.clone() });
                        a href=(url) hx-get=(url) hx-target="#users-results" hx-swap="outerHTML" hx-push-url="true" rel="next" { "Next page →" }
                    }
                }
            }
        }
    }
}

/// One row of the users table; `view` is the list it sits in, where its actions return.
pub fn user_row(_viewer: &Viewer, row: &UserListRow, view: &ListView) -> Markup {
    let u = &row.user;
    let menu_id = format!("menu-{}", u.id);
    let actions_path = format!("/admin/users/{}/actions", u.id);
    let actions_url = with_list_state(&actions_path, view);
    let user_url = format!("/admin/users/{}", u.id);
    html! {
        tr id=(format!("user-{}", u.id)) data-user-row data-username=(u.username) {
            td { (super::bulk::row_checkbox(u.id, &u.username)) " " a href=(user_url) { (u.username) } }
            td { (u.first_name) " " (u.last_name) }
            td { (u.email) }
            td { (status_badge(row)) }
            td class="num" data-label="Devices" {
                a href=(format!("{user_url}#devices")) aria-label=(format!("{} devices of {}", row.device_count, u.username)) { (row.device_count) }
            }
            td class="menu-cell" {
                div class="menu" data-menu {
                    form method="get" action=(actions_path) class="menu-form" {
                        (list_fields(view))
                        button type="submit" class="menu-button" aria-label=(format!("Actions for {}", u.username))
                            aria-controls=(menu_id)
                            hx-get=(actions_url) hx-target=(format!("#{menu_id}")) hx-swap="innerHTML" { "⋯" }
                    }
                    div id=(menu_id) class="menu-slot" {}
                }
            }
        }
    }
}

/// A row re-rendered after Disable or Enable, with `notice` for the layout's live region,
/// so screen readers announce it (app.js then drops the page's earlier notices).
pub fn user_row_with_notice(
    viewer: &Viewer,
    row: &UserListRow,
    list: &ListView,
    notice: &str,
) -> Markup {
    html! {
        (user_row(viewer, row, list))
        template {
            div id="flash-area" hx-swap-oob="innerHTML" { div class="flash" { (notice) } }
        }
    }
}

/// The row action menu: a `role="menu"` for htmx, or with `static_list` a plain list of
/// links and buttons for the page shown without JavaScript (no arrow-key promises there).
pub fn action_menu(
    viewer: &Viewer,
    row: &UserListRow,
    has_locations: bool,
    static_list: bool,
    view: &ListView,
) -> Markup {
    let user = &row.user;
    let base = format!("/admin/users/{}", user.id);
    let (class, list_role, li_role, item_role) = if static_list {
        ("menu-list static", None, None, None)
    } else {
        ("menu-list", Some("menu"), Some("none"), Some("menuitem"))
    };
    let (toggle_path, toggle_label) = if user.is_active {
        (format!("{base}/disable"), "Disable")
    } else {
        (format!("{base}/enable"), "Enable")
    };
    let is_self = viewer.username == user.username;
    // The reason is tied to its item, so a screen reader says why along with "dimmed".
    let unavailable = |label: &str, reason: &str| {
        let reason_id = format!(
            "reason-{}-{}",
            user.id,
            label.to_lowercase().replace(' ', "-")
        );
        html! {
            span role=[item_role] aria-disabled="true" tabindex=[item_role.map(|_| "-1")] aria-describedby=(reason_id) { (label) }
            span class="menu-reason" id=(reason_id) { (reason) }
        }
    };
    html! {
        ul class=(class) role=[list_role] aria-label=(format!("Actions for {}", user.username)) {
            li role=[li_role] { a role=[item_role] href=(base) { "Open" } }
            li role=[li_role] { a role=[item_role] href=(format!("{base}/edit")) { "Edit" } }
            li role=[li_role] {
                @if is_self {
                    (unavailable(toggle_label, "You cannot disable your own account."))
                } @else {
                    form method="post" action=(toggle_path) {
                        (csrf_field(&viewer.csrf_token))
                        (list_fields(view))
                        button type="submit" role=[item_role] hx-post=(toggle_path)
                            hx-target=(format!("#user-{}", user.id)) hx-swap="outerHTML" { (toggle_label) }
                    }
                }
            }
            @if user.is_active && !user.is_enrolled() {
                li role=[li_role] { a role=[item_role] href=(format!("{base}/enrollment")) { "Start enrollment" } }
            }
            @if user.is_active && user.is_enrolled() {
                li role=[li_role] {
                    @if has_locations {
                        a role=[item_role] href=(format!("{base}/desktop")) { "Configure Desktop Client" }
                    } @else {
                        (unavailable("Configure Desktop Client", "Add a location first: the desktop client needs one to connect to."))
                    }
                }
            }
            @if row.pending_until.is_some() {
                li role=[li_role] {
                    form method="post" action=(format!("{base}/revoke-token")) {
                        (csrf_field(&viewer.csrf_token))
                        button type="submit" role=[item_role] { "Revoke pending token" }
                    }
                }
            }
            @if user.is_enrolled() {
                li role=[li_role] { a role=[item_role] href=(format!("{base}/password-reset")) { "Send password reset" } }
                li role=[li_role] { a role=[item_role] href=(format!("{base}/two-factor/reset")) { "Reset two-factor" } }
            }
            li role=[li_role] {
                @if is_self && user.is_admin {
                    (unavailable("Remove admin rights", "You cannot take your own admin rights; another admin can."))
                } @else if !user.is_active && !user.is_admin {
                    (unavailable("Make admin", "Enable the account first."))
                } @else {
                    form method="post" action=(format!("{base}/admin")) {
                        (csrf_field(&viewer.csrf_token))
                        input type="hidden" name="admin" value=(if user.is_admin { "false" } else { "true" });
                        button type="submit" role=[item_role] {
                            @if user.is_admin { "Remove admin rights" } @else { "Make admin" }
                        }
                    }
                }
            }
            li role=[li_role] {
                @if is_self {
                    (unavailable("Delete", "You cannot delete your own account."))
                } @else {
                    a role=[item_role] href=(with_list_state(&format!("{base}/delete"), view)) { "Delete" }
                }
            }
        }
    }
}

/// The menu on a page of its own, for browsers without JavaScript.
pub fn action_menu_page(
    instance: &str,
    viewer: &Viewer,
    row: &UserListRow,
    has_locations: bool,
    view: &ListView,
) -> Markup {
    let user = &row.user;
    admin_page(
        &format!("Actions for {}", user.username),
        instance,
        Nav::Users,
        viewer,
        html! {
            div class="card stack" {
                h1 { "Actions for " (user.username) }
                p class="muted" { (user.first_name) " " (user.last_name) " · " (user.email) " · " (status_badge(row)) }
                (action_menu(viewer, row, has_locations, true, view))
                p { a href=(list_url(view)) { "Back to users" } }
            }
        },
    )
}

/// Values shown in the add / edit form.
#[derive(Debug, Clone, Default)]
pub struct UserFormValues {
    /// Username (add only).
    pub username: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email.
    pub email: String,
    /// Phone.
    pub phone: String,
    /// "Use enrollment process".
    pub use_enrollment: bool,
    /// Every group, for the checkboxes.
    pub all_groups: Vec<GroupRef>,
    /// The ids of the checked groups.
    pub checked_groups: Vec<String>,
}

/// The "Add user" page.
pub fn new_user_page(
    instance: &str,
    viewer: &Viewer,
    v: &UserFormValues,
    errors: &[FieldError],
) -> Markup {
    admin_page(
        "Add user",
        instance,
        Nav::Users,
        viewer,
        html! {
            div class="card stack" {
                h1 { "Add user" }
                (error_summary(errors))
                form class="form stack" method="post" action="/admin/users" novalidate {
                    (csrf_field(&viewer.csrf_token))
                    (field(Input { hint: Some("3–32 characters: lowercase letters, digits, dots, dashes, underscores."), maxlength: 32, ..Input::new("username", "Username", &v.username) }, errors))
                    (profile_fields(v, errors))
                    div class="field" {
                        label class="checkbox" {
                            input type="checkbox" name="use_enrollment" value="on" checked[v.use_enrollment] aria-describedby="use_enrollment-hint";
                            " Use enrollment process"
                        }
                        div class="hint" id="use_enrollment-hint" {
                            "The user gets a link to check their data, choose a password and add a VPN device. "
                            "Uncheck to set a password for them now."
                        }
                    }
                    fieldset class="stack" {
                        legend { "Password (only without the enrollment process)" }
                        (field(Input { kind: "password", required: false, autocomplete: "new-password", maxlength: 512,
                            hint: Some("12–128 characters. Long phrases are best; common passwords are refused."),
                            ..Input::new("password", "Password", "") }, errors))
                        (field(Input { kind: "password", required: false, autocomplete: "new-password", maxlength: 512,
                            ..Input::new("password_repeat", "Repeat password", "") }, errors))
                    }
                    div class="actions" {
                        button type="submit" class="button-primary" { "Add user" }
                        a class="button button-secondary" href="/admin/users" { "Cancel" }
                    }
                }
            }
        },
    )
}

fn profile_fields(v: &UserFormValues, errors: &[FieldError]) -> Markup {
    html! {
        (field(Input { autocomplete: "off", maxlength: 64, ..Input::new("first_name", "First name", &v.first_name) }, errors))
        (field(Input { autocomplete: "off", maxlength: 64, ..Input::new("last_name", "Last name", &v.last_name) }, errors))
        (field(Input { kind: "email", ..Input::new("email", "Email", &v.email) }, errors))
        (field(Input { kind: "tel", required: false, maxlength: 32, hint: Some("For example +48 123 456 789."), ..Input::new("phone", "Phone", &v.phone) }, errors))
        // Unchecking every box sends no `groups` at all; the marker tells "none" from "not shown".
        input type="hidden" name="groups_shown" value="1";
        (checkboxes("groups", "Groups", &group_options(&v.all_groups), &v.checked_groups,
            html! { "No groups yet. Groups decide who can connect to the locations limited to them; add them on the " a href="/admin/groups" { "Groups page" } "." }, errors))
    }
}

/// The "Edit user" page.
pub fn edit_user_page(
    instance: &str,
    viewer: &Viewer,
    user: &UserRow,
    v: &UserFormValues,
    errors: &[FieldError],
) -> Markup {
    let action = format!("/admin/users/{}/edit", user.id);
    admin_page(
        &format!("Edit {}", user.username),
        instance,
        Nav::Users,
        viewer,
        html! {
            div class="card stack" {
                h1 { "Edit " (user.username) }
                (error_summary(errors))
                form class="form stack" method="post" action=(action) novalidate {
                    (csrf_field(&viewer.csrf_token))
                    (profile_fields(v, errors))
                    div class="actions" {
                        button type="submit" class="button-primary" { "Save changes" }
                        a class="button button-secondary" href="/admin/users" { "Cancel" }
                    }
                }
            }
        },
    )
}

/// The confirmation before deleting a user.
pub fn delete_user_page(
    instance: &str,
    viewer: &Viewer,
    row: &UserListRow,
    error: Option<&str>,
    view: &ListView,
) -> Markup {
    let u = &row.user;
    admin_page(
        &format!("Delete {}", u.username),
        instance,
        Nav::Users,
        viewer,
        html! {
            div class="card stack confirm" {
                h1 { "Delete " (u.username) "?" }
                (flash_error(error))
                p {
                    "This deletes " strong { (u.first_name) " " (u.last_name) } " (" (u.email) ")"
                    @if row.device_count > 0 {
                        ", " a href=(format!("/admin/users/{}#devices", u.id)) {
                            @if row.device_count == 1 { "their device" } @else { "their " (row.device_count) " devices" }
                        }
                    }
                    " and ends their sessions. This cannot be undone."
                }
                form method="post" action=(format!("/admin/users/{}/delete", u.id)) class="actions" {
                    (csrf_field(&viewer.csrf_token))
                    (list_fields(view))
                    button type="submit" class="button-danger" { "Delete " (u.username) }
                    a class="button button-secondary" href=(list_url(view)) { "Cancel" }
                }
            }
        },
    )
}
