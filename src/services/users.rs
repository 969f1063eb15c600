//! Managing users: add, edit, disable, enable, delete, list.

use super::{groups, Actor};
use crate::db::{self, audit, sessions, user_search, users};
use crate::domain::password::Password;
use crate::domain::user::{Email, Profile, Username};
use crate::domain::FieldError;
use crate::error::AppError;
use crate::state::AppState;

pub use crate::db::user_search::{Seek, Total, SEARCH_CAP};
pub use crate::db::users::{UserListRow, UserRow};
pub use crate::domain::user::{SearchWords, StatusFilter};

/// Users per page of the list.
pub const PAGE_SIZE: usize = 25;

/// The "Add user" form as submitted.
#[derive(Debug, Clone, Default)]
pub struct NewUserInput {
    /// Username.
    pub username: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email.
    pub email: String,
    /// Phone.
    pub phone: String,
    /// Whether the user will enroll (set their own password) instead of getting one now.
    pub use_enrollment: bool,
    /// Password, when not enrolling.
    pub password: String,
    /// Password repeated.
    pub password_repeat: String,
    /// The checked groups' ids; `None` when the form did not show the groups.
    pub groups: Option<Vec<String>>,
}

/// The "Edit user" form as submitted.
#[derive(Debug, Clone, Default)]
pub struct EditUserInput {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email.
    pub email: String,
    /// Phone.
    pub phone: String,
    /// The checked groups' ids; `None` leaves the memberships as they are.
    pub groups: Option<Vec<String>>,
}

/// The group ids of a form's `groups`, or what is wrong with them.
fn group_ids(raw: Option<&Vec<String>>) -> Result<Option<Vec<i64>>, FieldError> {
    raw.map(|r| groups::parse_ids("groups", r)).transpose()
}

fn duplicate_email(email: &str, owner: &str) -> FieldError {
    FieldError::new(
        "email",
        format!("The email {email} is already used by {owner}."),
    )
}

fn duplicate_username(username: &str) -> FieldError {
    FieldError::new(
        "username",
        format!("The username {username} is already taken."),
    )
}

/// Messages for a username or email that another user already has.
fn duplicates(
    c: &rusqlite::Connection,
    username: Option<&str>,
    email: Option<&str>,
) -> Result<Vec<FieldError>, AppError> {
    let mut errors = Vec::new();
    if let Some(name) = username {
        if users::find_by_username(c, name)?.is_some() {
            errors.push(duplicate_username(name));
        }
    }
    if let Some(email) = email {
        if let Some(owner) = users::email_owner(c, email, 0)? {
            errors.push(duplicate_email(email, &owner));
        }
    }
    Ok(errors)
}

/// Adds a user; returns the new user's id.
pub async fn create_user(
    state: &AppState,
    actor: &Actor,
    input: NewUserInput,
) -> Result<i64, AppError> {
    let username = Username::parse("username", &input.username);
    let profile = Profile::parse(
        &input.first_name,
        &input.last_name,
        &input.email,
        &input.phone,
    );
    let mut errors: Vec<FieldError> = Vec::new();
    if let Err(e) = &username {
        errors.push(e.clone());
    }
    if let Err(es) = &profile {
        errors.extend(es.iter().cloned());
    }
    let group_ids = group_ids(input.groups.as_ref()).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let mut password = None;
    if !input.use_enrollment {
        let context = [
            input.username.as_str(),
            input.first_name.as_str(),
            input.last_name.as_str(),
            input.email.as_str(),
        ];
        if input.password.is_empty() {
            errors.push(FieldError::new(
                "password",
                "Enter a password, or check \"Use enrollment process\" to let the user choose one.",
            ));
        } else {
            match Password::new(&input.password, &context) {
                Ok(p) if input.password == input.password_repeat => password = Some(p),
                Ok(_) => errors.push(FieldError::new(
                    "password_repeat",
                    "The two passwords do not match.",
                )),
                Err(e) => errors.push(FieldError::new("password", e.to_string())),
            }
        }
    }
    if !errors.is_empty() {
        // Name duplicates now too, so the admin sees every problem in one round.
        let name = username.as_ref().ok().map(|u| u.as_str().to_owned());
        let email = Email::parse("email", &input.email)
            .ok()
            .map(|e| e.as_str().to_owned());
        errors.extend(
            state
                .db
                .read(move |c| duplicates(c, name.as_deref(), email.as_deref()))
                .await?,
        );
        return Err(AppError::Validation(errors));
    }
    let (Ok(username), Ok(profile)) = (username, profile) else {
        return Err(AppError::Validation(errors));
    };
    let hash = match password {
        Some(p) => Some(state.hasher.hash(p.expose().to_owned()).await?),
        None => None,
    };
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            let errors = duplicates(tx, Some(username.as_str()), Some(profile.email.as_str()))?;
            if !errors.is_empty() {
                return Err(AppError::Validation(errors));
            }
            let id = users::insert(
                tx,
                &users::NewUser {
                    username: username.as_str(),
                    first_name: profile.first_name.as_str(),
                    last_name: profile.last_name.as_str(),
                    email: profile.email.as_str(),
                    phone: profile.phone.as_ref().map(|p| p.as_str()),
                    is_admin: false,
                    password_hash: hash.as_deref(),
                    created_at: now,
                },
            )
            .map_err(|e| {
                if db::is_unique_violation(&e) {
                    AppError::field(
                        "username",
                        "That username or email was just taken; choose another.",
                    )
                } else {
                    e.into()
                }
            })?;
            let mut event = actor.event(now, "user.created", Some(username.as_str()));
            event.detail = Some(if hash.is_some() {
                "password set by admin"
            } else {
                "enrollment"
            });
            audit::insert(tx, &event)?;
            if let Some(ids) = &group_ids {
                groups::set_user_groups(tx, &actor, id, username.as_str(), ids, now)?;
            }
            Ok(id)
        })
        .await
}

/// The user with `id`, or `NotFound`.
pub async fn get_user(state: &AppState, id: i64) -> Result<UserRow, AppError> {
    state
        .db
        .read(move |c| users::get(c, id)?.ok_or(AppError::NotFound))
        .await
}

/// One row of the users list (for re-rendering a row after a change).
pub async fn get_user_row(state: &AppState, id: i64) -> Result<UserListRow, AppError> {
    let now = state.now().unix_timestamp();
    let mut row = state
        .db
        .read(move |c| users::get_list_row(c, id, now)?.ok_or(AppError::NotFound))
        .await?;
    split_pending(&mut row, now);
    Ok(row)
}

/// Updates a user's profile.
pub async fn update_user(
    state: &AppState,
    actor: &Actor,
    id: i64,
    input: EditUserInput,
) -> Result<UserRow, AppError> {
    let profile = Profile::parse(
        &input.first_name,
        &input.last_name,
        &input.email,
        &input.phone,
    )
    .map_err(AppError::Validation)?;
    let group_ids = group_ids(input.groups.as_ref()).map_err(|e| AppError::Validation(vec![e]))?;
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            let user = users::get(tx, id)?.ok_or(AppError::NotFound)?;
            if let Some(owner) = users::email_owner(tx, profile.email.as_str(), id)? {
                return Err(AppError::Validation(vec![duplicate_email(
                    profile.email.as_str(),
                    &owner,
                )]));
            }
            users::update_profile(
                tx,
                id,
                profile.first_name.as_str(),
                profile.last_name.as_str(),
                profile.email.as_str(),
                profile.phone.as_ref().map(|p| p.as_str()),
            )?;
            audit::insert(tx, &actor.event(now, "user.updated", Some(&user.username)))?;
            if let Some(ids) = &group_ids {
                groups::set_user_groups(tx, &actor, id, &user.username, ids, now)?;
            }
            users::get(tx, id)?.ok_or(AppError::NotFound)
        })
        .await
}

/// Disables or enables a user. Disabling ends all their sessions at once.
pub async fn set_active(
    state: &AppState,
    actor: &Actor,
    id: i64,
    active: bool,
) -> Result<ActiveChange, AppError> {
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| set_active_in_tx(tx, &actor, id, active, now))
        .await
}

/// [`set_active`] inside the caller's transaction. `Forbidden` for the actor's own account
/// and the last active admin.
pub fn set_active_in_tx(
    tx: &rusqlite::Connection,
    actor: &Actor,
    id: i64,
    active: bool,
    now: i64,
) -> Result<ActiveChange, AppError> {
    let user = users::get(tx, id)?.ok_or(AppError::NotFound)?;
    if !active && actor.user_id == Some(id) {
        return Err(AppError::Forbidden(
            "You cannot disable your own account.".into(),
        ));
    }
    if !active && user.is_admin && users::other_active_admins(tx, id)? == 0 {
        return Err(AppError::Forbidden(
            "The last active admin cannot be disabled.".into(),
        ));
    }
    let (mut sessions_ended, mut tokens_revoked) = (0, 0);
    if user.is_active != active {
        users::set_active(tx, id, active)?;
        if !active {
            tokens_revoked = crate::db::tokens::revoke_for_user(tx, id, now)?;
            crate::db::token_cards::delete_for_user(tx, id)?;
            sessions_ended = sessions::delete_for_user(tx, id)?;
            // Apps signed in through onramp lose their refresh tokens at once.
            crate::db::oidc_tokens::revoke_grants_of(tx, id, None, now)?;
        }
        let action = if active {
            "user.enabled"
        } else {
            "user.disabled"
        };
        audit::insert(tx, &actor.event(now, action, Some(&user.username)))?;
    }
    Ok(ActiveChange {
        user: users::get(tx, id)?.ok_or(AppError::NotFound)?,
        sessions_ended,
        tokens_revoked,
    })
}

/// What enabling or disabling a user did.
#[derive(Debug, Clone)]
pub struct ActiveChange {
    /// The user afterwards.
    pub user: UserRow,
    /// Sessions (admin, wizard, desktop client) that ended.
    pub sessions_ended: usize,
    /// Unused tokens that were revoked.
    pub tokens_revoked: usize,
}

/// Deletes a user with their devices and sessions; returns the username.
pub async fn delete_user(state: &AppState, actor: &Actor, id: i64) -> Result<String, AppError> {
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| delete_user_in_tx(tx, &actor, id, now))
        .await
}

/// [`delete_user`] inside the caller's transaction. `Forbidden` for the actor's own account
/// and the last active admin.
pub fn delete_user_in_tx(
    tx: &rusqlite::Connection,
    actor: &Actor,
    id: i64,
    now: i64,
) -> Result<String, AppError> {
    let user = users::get(tx, id)?.ok_or(AppError::NotFound)?;
    if actor.user_id == Some(id) {
        return Err(AppError::Forbidden(
            "You cannot delete your own account.".into(),
        ));
    }
    if user.is_admin && user.is_active && users::other_active_admins(tx, id)? == 0 {
        return Err(AppError::Forbidden(
            "The last active admin cannot be deleted.".into(),
        ));
    }
    sessions::delete_for_user(tx, id)?;
    users::delete(tx, id)?;
    audit::insert(tx, &actor.event(now, "user.deleted", Some(&user.username)))?;
    Ok(user.username)
}

/// What the users list shows: the search, the status filter and where the page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListView {
    /// The search.
    pub search: SearchWords,
    /// The status filter.
    pub status: Option<StatusFilter>,
    /// Where the page starts.
    pub seek: Seek,
    /// 1-based number of the page, as the links that lead here counted it.
    pub page: i64,
}

impl Default for ListView {
    fn default() -> Self {
        Self {
            search: SearchWords::default(),
            status: None,
            seek: Seek::First,
            page: 1,
        }
    }
}

/// One page of the users list.
#[derive(Debug, Clone)]
pub struct UserPage {
    /// What was asked for.
    pub view: ListView,
    /// The rows.
    pub rows: Vec<UserListRow>,
    /// How many matched.
    pub total: Total,
    /// Whether an earlier page exists.
    pub has_prev: bool,
    /// Whether a later page exists.
    pub has_next: bool,
    /// Every group, for the bulk action "Add to group".
    pub groups: Vec<super::groups::GroupRef>,
}

/// Lists users, `PAGE_SIZE` at a time.
pub async fn list_users(state: &AppState, view: ListView) -> Result<UserPage, AppError> {
    let now = state.now().unix_timestamp();
    let (search, status, seek) = (view.search.clone(), view.status, view.seek.clone());
    // One read, in one transaction: the page, its total and the groups (for the bulk bar's
    // "Add to group") come from the same snapshot, and SQLite takes its read locks once.
    let (listing, group_rows) = state
        .db
        .read(move |c| {
            let tx = c.unchecked_transaction()?;
            let listing = user_search::list(&tx, &search, status, &seek, PAGE_SIZE, now)?;
            Ok((listing, db::groups::all(&tx)?))
        })
        .await?;
    let mut view = view;
    // A page with nothing before it is the first, whatever the link said.
    view.page = if listing.has_prev {
        view.page.clamp(2, i64::MAX / 2)
    } else {
        1
    };
    let mut rows = listing.rows;
    for row in &mut rows {
        split_pending(row, now);
    }
    Ok(UserPage {
        view,
        rows,
        total: listing.total,
        has_prev: listing.has_prev,
        has_next: listing.has_next,
        groups: group_rows.into_iter().map(groups::GroupRef::from).collect(),
    })
}

/// Splits the row's unused enrollment token's end into "pending until" (still ahead) or
/// "invitation ended" (passed).
fn split_pending(row: &mut UserListRow, now: i64) {
    let until = row.pending_until.take();
    row.pending_until = until.filter(|t| *t > now);
    row.invitation_ended = until.filter(|t| *t <= now);
}
