//! Making a user an admin and taking it back. The last active admin keeps the right, and an
//! admin cannot take their own (another admin must), so nobody locks the instance out.

use super::Actor;
use crate::db::{audit, users};
use crate::error::AppError;
use crate::state::AppState;

/// Gives (`admin = true`) or takes the admin right; returns the username.
pub async fn set_admin(
    state: &AppState,
    actor: &Actor,
    id: i64,
    admin: bool,
) -> Result<String, AppError> {
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            let user = users::get(tx, id)?.ok_or(AppError::NotFound)?;
            if !admin && actor.user_id == Some(id) {
                return Err(AppError::Forbidden(
                    "You cannot take your own admin rights; another admin can.".into(),
                ));
            }
            if !admin && user.is_admin && user.is_active && users::other_active_admins(tx, id)? == 0
            {
                return Err(AppError::Forbidden(
                    "The last active admin keeps the admin rights.".into(),
                ));
            }
            if admin && !user.is_active {
                return Err(AppError::Forbidden(format!(
                    "{} is disabled; enable the account first.",
                    user.username
                )));
            }
            if user.is_admin != admin {
                users::set_admin(tx, id, admin)?;
                let action = if admin {
                    "user.made_admin"
                } else {
                    "user.admin_removed"
                };
                audit::insert(tx, &actor.event(now, action, Some(&user.username)))?;
            }
            Ok(user.username)
        })
        .await
}
