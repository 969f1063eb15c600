//! The users list and the screens behind its action menu.

use super::flash::{self, Kind};
use super::request::{actor, wants_fragment};
use super::session::{admin_post, verify_csrf};
use super::{html, viewer, with_repeated, PairsForm};
use crate::error::AppError;
use crate::services::auth::AdminSession;
use crate::services::bootstrap::instance_name;
use crate::services::groups::{all_groups, groups_of_user};
use crate::services::users::{
    self as svc, EditUserInput, ListView, NewUserInput, SearchWords, Seek, StatusFilter,
};
use crate::state::AppState;
use crate::views::components::flash_error;
use crate::views::users as view;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// The users list's state in a query string or form: search, status filter, where the
/// page starts and its number. Forms posted from the list carry it (with their CSRF token)
/// so their answer returns to the same list.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    csrf_token: Option<String>,
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    before: Option<String>,
    #[serde(default)]
    page: Option<String>,
}

impl ListQuery {
    /// The list view asked for; an unknown status is a bad request.
    fn parse(&self) -> Result<ListView, AppError> {
        let status =
            StatusFilter::parse(&self.status).map_err(|e| AppError::BadRequest(e.message))?;
        let seek = match (&self.after, &self.before) {
            (Some(a), _) if !a.is_empty() => Seek::After(a.chars().take(64).collect()),
            (_, Some(b)) if !b.is_empty() => Seek::Before(b.chars().take(64).collect()),
            _ => Seek::First,
        };
        let page = self
            .page
            .as_deref()
            .and_then(|p| p.parse::<i64>().ok())
            .unwrap_or(1)
            .clamp(1, 1_000_000_000);
        Ok(ListView {
            search: SearchWords::parse(&self.q),
            status,
            seek,
            page,
        })
    }

    /// The list view to return to after an action; a damaged one returns to the whole list.
    fn return_view(&self) -> ListView {
        self.parse().unwrap_or_default()
    }
}

/// The users list; only the results fragment for htmx.
pub async fn show_users(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let page = svc::list_users(&state, query.parse()?).await?;
    let v = viewer(&session);
    if wants_fragment(&req) {
        return Ok(html(StatusCode::OK, view::users_results(&v, &page)));
    }
    let https = state.config.is_https();
    let (notice, error) = flash::notices(&req);
    let instance = instance_name(&state).await?;
    let mut res = html(
        StatusCode::OK,
        view::users_page(&instance, &v, &page, notice.as_deref(), error.as_deref()),
    );
    flash::clear_on(&mut res, &req, https)?;
    Ok(res)
}

/// The "Add user" form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUserForm {
    #[serde(default)]
    csrf_token: Option<String>,
    username: String,
    first_name: String,
    last_name: String,
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    use_enrollment: Option<String>,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_repeat: String,
    /// Present when the form showed the groups (their checkboxes are the field `groups`).
    #[serde(default)]
    groups_shown: Option<String>,
}

/// Shows the empty "Add user" form.
pub async fn show_new_user(
    state: web::Data<AppState>,
    session: AdminSession,
) -> Result<HttpResponse, AppError> {
    let instance = instance_name(&state).await?;
    let values = view::UserFormValues {
        use_enrollment: true,
        all_groups: all_groups(&state).await?,
        ..Default::default()
    };
    Ok(html(
        StatusCode::OK,
        view::new_user_page(&instance, &viewer(&session), &values, &[]),
    ))
}

/// Adds a user, or shows the form again with what is wrong.
pub async fn submit_new_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    form: PairsForm,
) -> Result<HttpResponse, AppError> {
    let (form, checked): (NewUserForm, _) = with_repeated(form.into_inner(), "groups")?;
    verify_csrf(
        &req,
        &state,
        &session.csrf_token,
        form.csrf_token.as_deref(),
    )?;
    let who = actor(&req, &state, Some((&session.username, session.user_id)));
    let use_enrollment = form.use_enrollment.is_some();
    let values = view::UserFormValues {
        username: form.username.clone(),
        first_name: form.first_name.clone(),
        last_name: form.last_name.clone(),
        email: form.email.clone(),
        phone: form.phone.clone(),
        use_enrollment,
        all_groups: Vec::new(),
        checked_groups: checked.clone(),
    };
    let input = NewUserInput {
        username: form.username,
        first_name: form.first_name,
        last_name: form.last_name,
        email: form.email,
        phone: form.phone,
        use_enrollment,
        password: form.password,
        password_repeat: form.password_repeat,
        groups: form.groups_shown.map(|_| checked),
    };
    match svc::create_user(&state, &who, input).await {
        Ok(id) if use_enrollment => {
            // Straight on to the token dialog: how does the new user get their link?
            let message = format!(
                "Added {}. Now choose how they get their enrollment token.",
                values.username.trim()
            );
            Ok(flash::redirect_with(
                &format!("/admin/users/{id}/enrollment"),
                Kind::Notice,
                &message,
                state.config.is_https(),
            ))
        }
        Ok(_) => Ok(flash::redirect_with(
            "/admin/users",
            Kind::Notice,
            &format!(
                "Added {} with the password you set.",
                values.username.trim()
            ),
            state.config.is_https(),
        )),
        Err(AppError::Validation(errors)) => {
            let instance = instance_name(&state).await?;
            let values = view::UserFormValues {
                all_groups: all_groups(&state).await?,
                ..values
            };
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                view::new_user_page(&instance, &viewer(&session), &values, &errors),
            ))
        }
        Err(e) => Err(e),
    }
}

/// The row action menu: a fragment for htmx, a page of its own otherwise.
pub async fn show_user_actions(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
    list: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let list = list.return_view();
    let row = svc::get_user_row(&state, *id).await?;
    let has_locations = crate::services::locations::any_location(&state).await?;
    let v = viewer(&session);
    if wants_fragment(&req) {
        return Ok(html(
            StatusCode::OK,
            view::action_menu(&v, &row, has_locations, false, &list),
        ));
    }
    let instance = instance_name(&state).await?;
    Ok(html(
        StatusCode::OK,
        view::action_menu_page(&instance, &v, &row, has_locations, &list),
    ))
}

/// The "Edit user" form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditUserForm {
    #[serde(default)]
    csrf_token: Option<String>,
    first_name: String,
    last_name: String,
    email: String,
    #[serde(default)]
    phone: String,
    /// Present when the form showed the groups (their checkboxes are the field `groups`).
    #[serde(default)]
    groups_shown: Option<String>,
}

/// Shows a user's profile for editing.
pub async fn show_edit_user(
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let user = svc::get_user(&state, *id).await?;
    let values = view::UserFormValues {
        username: user.username.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        email: user.email.clone(),
        phone: user.phone.clone().unwrap_or_default(),
        use_enrollment: false,
        all_groups: all_groups(&state).await?,
        checked_groups: groups_of_user(&state, user.id)
            .await?
            .iter()
            .map(|g| g.id.to_string())
            .collect(),
    };
    let instance = instance_name(&state).await?;
    Ok(html(
        StatusCode::OK,
        view::edit_user_page(&instance, &viewer(&session), &user, &values, &[]),
    ))
}

/// Saves a user's profile, or shows the form again with what is wrong.
pub async fn submit_edit_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
    form: PairsForm,
) -> Result<HttpResponse, AppError> {
    let (form, checked): (EditUserForm, Vec<String>) = with_repeated(form.into_inner(), "groups")?;
    verify_csrf(
        &req,
        &state,
        &session.csrf_token,
        form.csrf_token.as_deref(),
    )?;
    let who = actor(&req, &state, Some((&session.username, session.user_id)));
    let input = EditUserInput {
        first_name: form.first_name.clone(),
        last_name: form.last_name.clone(),
        email: form.email.clone(),
        phone: form.phone.clone(),
        groups: form.groups_shown.map(|_| checked.clone()),
    };
    match svc::update_user(&state, &who, *id, input).await {
        Ok(user) => Ok(flash::redirect_with(
            "/admin/users",
            Kind::Notice,
            &format!("Saved changes to {}.", user.username),
            state.config.is_https(),
        )),
        Err(AppError::Validation(errors)) => {
            let user = svc::get_user(&state, *id).await?;
            let values = view::UserFormValues {
                username: user.username.clone(),
                first_name: form.first_name,
                last_name: form.last_name,
                email: form.email,
                phone: form.phone,
                use_enrollment: false,
                all_groups: all_groups(&state).await?,
                checked_groups: checked,
            };
            let instance = instance_name(&state).await?;
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                view::edit_user_page(&instance, &viewer(&session), &user, &values, &errors),
            ))
        }
        Err(e) => Err(e),
    }
}

async fn toggle_active(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: i64,
    form: ListQuery,
    active: bool,
) -> Result<HttpResponse, AppError> {
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let https = state.config.is_https();
    let list = form.return_view();
    let back = view::list_url(&list);
    let result = svc::set_active(&state, &who, id, active).await;
    let htmx = wants_fragment(&req);
    match result {
        Ok(change) if htmx => {
            let row = svc::get_user_row(&state, change.user.id).await?;
            Ok(html(
                StatusCode::OK,
                view::user_row_with_notice(
                    &viewer(&session),
                    &row,
                    &list,
                    &toggle_message(&change, active),
                ),
            ))
        }
        Ok(change) => Ok(flash::redirect_with(
            &back,
            Kind::Notice,
            &toggle_message(&change, active),
            https,
        )),
        Err(AppError::Forbidden(message)) if htmx => Ok(HttpResponse::Ok()
            .insert_header(("HX-Retarget", "#flash-area"))
            .insert_header(("HX-Reswap", "innerHTML"))
            .content_type("text/html; charset=utf-8")
            .body(flash_error(Some(&message)).into_string())),
        Err(AppError::Forbidden(message)) => {
            Ok(flash::redirect_with(&back, Kind::Error, &message, https))
        }
        Err(e) => Err(e),
    }
}

/// "Disabled anna.nowak (2 sessions ended, pending token revoked)."
fn toggle_message(change: &svc::ActiveChange, active: bool) -> String {
    let name = &change.user.username;
    if active {
        return format!("Enabled {name}.");
    }
    let mut effects = Vec::new();
    match change.sessions_ended {
        0 => {}
        1 => effects.push("1 session ended".to_owned()),
        n => effects.push(format!("{n} sessions ended")),
    }
    if change.tokens_revoked > 0 {
        effects.push("pending token revoked".to_owned());
    }
    if effects.is_empty() {
        format!("Disabled {name}.")
    } else {
        format!("Disabled {name} ({}).", effects.join(", "))
    }
}

/// Disables a user and ends their sessions.
pub async fn submit_disable_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
    form: web::Form<ListQuery>,
) -> Result<HttpResponse, AppError> {
    toggle_active(req, state, session, *id, form.into_inner(), false).await
}

/// Enables a user.
pub async fn submit_enable_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
    form: web::Form<ListQuery>,
) -> Result<HttpResponse, AppError> {
    toggle_active(req, state, session, *id, form.into_inner(), true).await
}

/// Asks before deleting.
pub async fn show_delete_user(
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
    list: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let row = svc::get_user_row(&state, *id).await?;
    let instance = instance_name(&state).await?;
    Ok(html(
        StatusCode::OK,
        view::delete_user_page(
            &instance,
            &viewer(&session),
            &row,
            None,
            &list.return_view(),
        ),
    ))
}

/// Deletes a user, then returns to the list the admin came from.
pub async fn submit_delete_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    id: web::Path<i64>,
    form: web::Form<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let list = form.return_view();
    match svc::delete_user(&state, &who, *id).await {
        Ok(username) => Ok(flash::redirect_with(
            &view::list_url(&list),
            Kind::Notice,
            &format!("Deleted {username}."),
            state.config.is_https(),
        )),
        Err(AppError::Forbidden(message)) => {
            let row = svc::get_user_row(&state, *id).await?;
            let instance = instance_name(&state).await?;
            Ok(html(
                StatusCode::FORBIDDEN,
                view::delete_user_page(&instance, &viewer(&session), &row, Some(&message), &list),
            ))
        }
        Err(e) => Err(e),
    }
}
