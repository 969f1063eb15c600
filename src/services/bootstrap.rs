//! First start: the instance id and name, and the first admin.

use crate::crypto::{hash_blocking, random_alphanumeric};
use crate::db::{self, audit, sessions, settings, users};
use crate::error::AppError;
use crate::state::AppState;

/// The name an instance starts with.
pub const DEFAULT_INSTANCE_NAME: &str = "onramp";
/// The first admin's name and email until they change them.
pub const FIRST_ADMIN_NAME: (&str, &str) = ("Onramp", "Admin");
/// See [`FIRST_ADMIN_NAME`].
pub const FIRST_ADMIN_EMAIL: &str = "admin@localhost";

/// What first start created, for printing once.
#[derive(Debug)]
pub struct Bootstrap {
    /// The first admin's generated password, if one was generated.
    pub generated_password: Option<String>,
    /// Whether the first admin was created now.
    pub created_admin: bool,
}

/// Fixes the instance UUID and creates admin `admin` when the database has no users.
/// Blocking: call before serving.
pub fn ensure_instance(state: &AppState) -> Result<Bootstrap, AppError> {
    let now = state.now().unix_timestamp();
    let mut conn = state.db.conn()?;
    let has_users = users::count(&conn)? > 0;
    let (password, generated) = match (&state.config.admin_password, has_users) {
        (_, true) => (None, false),
        (Some(p), false) => (Some(p.expose().to_owned()), false),
        (None, false) => (Some(random_alphanumeric(20)), true),
    };
    let hash = password.as_deref().map(hash_blocking).transpose()?;
    let created_admin = db::write_tx(&mut conn, |tx| {
        settings::set_if_absent(tx, settings::INSTANCE_ID, &uuid::Uuid::new_v4().to_string())?;
        settings::set_if_absent(tx, settings::INSTANCE_NAME, DEFAULT_INSTANCE_NAME)?;
        let Some(hash) = &hash else { return Ok(false) };
        if users::count(tx)? > 0 {
            return Ok(false);
        }
        users::insert(
            tx,
            &users::NewUser {
                username: "admin",
                first_name: FIRST_ADMIN_NAME.0,
                last_name: FIRST_ADMIN_NAME.1,
                email: FIRST_ADMIN_EMAIL,
                phone: None,
                is_admin: true,
                password_hash: Some(hash),
                created_at: now,
            },
        )?;
        audit::insert(
            tx,
            &audit::NewEvent {
                at: now,
                actor: "system",
                action: "user.created",
                target: Some("admin"),
                detail: Some("first admin"),
                ..Default::default()
            },
        )?;
        Ok(true)
    })?;
    Ok(Bootstrap {
        generated_password: if created_admin && generated {
            password
        } else {
            None
        },
        created_admin,
    })
}

/// Gives an admin a new random password and ends their sessions; returns the password.
pub fn reset_admin_password(state: &AppState, username: &str) -> Result<String, AppError> {
    let password = random_alphanumeric(20);
    let hash = hash_blocking(&password)?;
    let now = state.now().unix_timestamp();
    let mut conn = state.db.conn()?;
    db::write_tx(&mut conn, |tx| {
        let user = users::find_by_username(tx, username)?
            .filter(|u| u.is_admin)
            .ok_or_else(|| {
                AppError::BadRequest(format!("There is no admin named \"{username}\"."))
            })?;
        users::set_password_hash(tx, user.id, &hash)?;
        users::set_active(tx, user.id, true)?;
        sessions::delete_for_user(tx, user.id)?;
        audit::insert(
            tx,
            &audit::NewEvent {
                at: now,
                actor: "system",
                action: "password.reset",
                target: Some(&user.username),
                detail: Some("reset-admin-password command"),
                ..Default::default()
            },
        )?;
        Ok(())
    })?;
    Ok(password)
}

/// The instance's display name.
pub async fn instance_name(state: &AppState) -> Result<String, AppError> {
    Ok(state
        .instance_name
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone())
}
