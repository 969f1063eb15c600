//! What the server does on its own, every few minutes: ends stale sessions, sends due
//! invitation reminders and keeps the search indexes merged.

use crate::db::user_search;
use crate::error::AppError;
use crate::state::AppState;

/// Most merge steps one round of tidying takes: enough to merge the indexes of a few
/// hundred thousand users into one piece, with other writes taking turns in between.
const MAX_TIDY_STEPS: usize = 200;

/// One round of upkeep. Each job fails alone and is logged; the next round tries again.
pub async fn run_once(state: &AppState) {
    if let Err(e) = super::auth::prune_sessions(state).await {
        tracing::warn!(error = %e, "could not prune sessions");
    }
    if let Err(e) = super::invitations::run_due(state).await {
        tracing::warn!(error = %e, "could not send invitation reminders");
    }
    match tidy_search_indexes(state).await {
        Ok(0) => {}
        Ok(steps) => tracing::debug!(steps, "merged the search indexes"),
        Err(e) => tracing::warn!(error = %e, "could not merge the search indexes"),
    }
}

/// Merges the users search indexes into one piece, a bounded step per write so that other
/// writes wait tens of milliseconds at most. Returns the steps that did work.
pub async fn tidy_search_indexes(state: &AppState) -> Result<usize, AppError> {
    let mut steps = 0;
    while steps < MAX_TIDY_STEPS && state.db.write(|tx| Ok(user_search::tidy(tx)?)).await? {
        steps += 1;
    }
    Ok(steps)
}
