//! Reading the audit log.

use crate::db::audit::{self, Event, Filter};
use crate::db::users;
use crate::error::AppError;
use crate::state::AppState;

/// Events per page.
pub const PAGE: i64 = 50;

/// Most users a user filter stands for; a filter matching more should be narrowed.
const MATCHING_USERS: usize = 1_000;

/// What the admin filters the log by.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Text found anywhere in the username, first or last name or email of the user an event
    /// is by or about, or in its actor or target itself (`anonymous`, a location's name).
    pub user: Option<String>,
    /// One action code.
    pub action: Option<String>,
    /// At or after this unix second.
    pub from: Option<i64>,
    /// Before this unix second.
    pub until: Option<i64>,
}

/// A page of events and the list of known actions.
pub async fn list(
    state: &AppState,
    filter: AuditFilter,
    before: Option<i64>,
) -> Result<(Vec<Event>, Vec<String>), AppError> {
    state
        .db
        .read(move |c| {
            let text = filter.user.as_deref().map(str::to_lowercase);
            let names = match &text {
                Some(t) => users::usernames_containing(c, t, MATCHING_USERS)?,
                None => Vec::new(),
            };
            let query = Filter {
                names,
                text,
                action: filter.action,
                from: filter.from,
                until: filter.until,
            };
            Ok((audit::search(c, &query, before, PAGE)?, audit::actions(c)?))
        })
        .await
}
