//! Reading the audit log.

use crate::db::audit::{self, Event};
use crate::error::AppError;
use crate::state::AppState;

/// Events per page.
pub const PAGE: i64 = 50;

/// A page of events and the list of known actions.
pub async fn list(
    state: &AppState,
    user: Option<String>,
    action: Option<String>,
    before: Option<i64>,
) -> Result<(Vec<Event>, Vec<String>), AppError> {
    state
        .db
        .read(move |c| {
            Ok((
                audit::search(c, user.as_deref(), action.as_deref(), before, PAGE)?,
                audit::actions(c)?,
            ))
        })
        .await
}
