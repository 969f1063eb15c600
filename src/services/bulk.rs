//! Bulk actions on chosen users: each runs in one transaction, writes one audit entry per
//! user it changes, and skips (with the reason) whoever it does not apply to.

use super::tokens::{check_eligible, invite_in_tx, InviteContext, Purpose};
use super::users::{delete_user_in_tx, set_active_in_tx};
use super::Actor;
use crate::db::user_search::{self, Seek};
use crate::db::{audit, groups, users};
use crate::domain::user::Email;
use crate::domain::user::{SearchWords, StatusFilter};
use crate::error::AppError;
use crate::state::AppState;
use std::collections::BTreeMap;

/// Most users one bulk action takes.
pub const MAX_USERS: usize = 100_000;

/// What to do to every chosen user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkAction {
    /// Issue an enrollment token and email it.
    StartEnrollment,
    /// Add to the group with this id.
    AddToGroup(i64),
    /// Disable, ending their sessions.
    Disable,
    /// Enable.
    Enable,
    /// Delete.
    Delete,
}

impl BulkAction {
    /// The past tense for the summary: "invited", "disabled".
    fn done_word(self) -> &'static str {
        match self {
            Self::StartEnrollment => "invited",
            Self::AddToGroup(_) => "added",
            Self::Disable => "disabled",
            Self::Enable => "enabled",
            Self::Delete => "deleted",
        }
    }
}

/// What a bulk action did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkSummary {
    /// Usernames changed.
    pub done: Vec<String>,
    /// Usernames left alone, by reason.
    pub skipped: BTreeMap<String, Vec<String>>,
    /// How the summary names what was done ("invited").
    pub done_word: &'static str,
}

impl BulkSummary {
    /// "23 invited, 2 skipped: already enrolled (anna, bob)".
    pub fn sentence(&self) -> String {
        let mut s = format!("{} {}", self.done.len(), self.done_word);
        let skipped: usize = self.skipped.values().map(Vec::len).sum();
        if skipped > 0 {
            let reasons: Vec<String> = self
                .skipped
                .iter()
                .map(|(why, who)| format!("{why} ({})", names(who)))
                .collect();
            s.push_str(&format!(", {skipped} skipped: {}", reasons.join("; ")));
        }
        s.push('.');
        s
    }
}

/// Up to five names, then how many more.
pub fn names(list: &[String]) -> String {
    let shown: Vec<&str> = list.iter().take(5).map(String::as_str).collect();
    match list.len().saturating_sub(5) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// The usernames of `ids` that exist, in order, for the confirmation.
pub async fn usernames(state: &AppState, ids: Vec<i64>) -> Result<Vec<String>, AppError> {
    state
        .db
        .read(move |c| {
            let mut out = Vec::new();
            for id in ids {
                if let Some(u) = users::get(c, id)? {
                    out.push(u.username);
                }
            }
            Ok(out)
        })
        .await
}

/// The ids of every user matching the users list's search `query` and `status` filter.
pub async fn ids_matching(
    state: &AppState,
    query: &str,
    status: Option<StatusFilter>,
) -> Result<Vec<i64>, AppError> {
    let search = SearchWords::parse(query);
    let now = state.now().unix_timestamp();
    state
        .db
        .read(move |c| {
            let listing = user_search::list(c, &search, status, &Seek::First, MAX_USERS, now)?;
            Ok(listing.rows.into_iter().map(|r| r.user.id).collect())
        })
        .await
}

/// Applies `action` to the users `ids` in one transaction.
pub async fn run(
    state: &AppState,
    actor: &Actor,
    action: BulkAction,
    ids: Vec<i64>,
) -> Result<BulkSummary, AppError> {
    if ids.is_empty() {
        return Err(AppError::BadRequest(
            "Choose at least one user first.".into(),
        ));
    }
    let now = state.now().unix_timestamp();
    let ttl = super::tokens::default_validity(state, Purpose::Enrollment);
    let (st, actor) = (state.clone(), actor.clone());
    let summary = state
        .db
        .write(move |tx| {
            let ctx = match action {
                BulkAction::StartEnrollment => Some(InviteContext::load(tx, &st, &actor, ttl)?),
                _ => None,
            };
            let group =
                match action {
                    BulkAction::AddToGroup(id) => Some(groups::get(tx, id)?.ok_or_else(|| {
                        AppError::BadRequest("That group no longer exists.".into())
                    })?),
                    _ => None,
                };
            let mut summary = BulkSummary {
                done_word: action.done_word(),
                ..BulkSummary::default()
            };
            let mut skip = |why: &str, who: &str| {
                summary
                    .skipped
                    .entry(why.to_owned())
                    .or_default()
                    .push(who.to_owned());
            };
            let mut done = Vec::new();
            for id in ids {
                let Some(user) = users::get(tx, id)? else {
                    continue;
                };
                let name = user.username.clone();
                match action {
                    BulkAction::StartEnrollment => {
                        if let Err(AppError::Forbidden(_)) =
                            check_eligible(tx, &user, Purpose::Enrollment)
                        {
                            skip(
                                if user.is_active {
                                    "already enrolled"
                                } else {
                                    "disabled"
                                },
                                &name,
                            );
                            continue;
                        }
                        let Ok(email) = Email::parse("email", &user.email) else {
                            skip("no valid email", &name);
                            continue;
                        };
                        if let Some(ctx) = &ctx {
                            invite_in_tx(
                                tx,
                                &st,
                                &actor,
                                &user,
                                Purpose::Enrollment,
                                Some(&email),
                                ctx,
                                now,
                            )?;
                        }
                    }
                    BulkAction::AddToGroup(group_id) => {
                        if !groups::add_member(tx, group_id, id)? {
                            skip("already a member", &name);
                            continue;
                        }
                        let group_name = group.as_ref().map_or("", |g| g.name.as_str());
                        audit::insert(
                            tx,
                            &actor
                                .event(now, "group.member_added", Some(group_name))
                                .with_detail(&name),
                        )?;
                    }
                    BulkAction::Disable | BulkAction::Enable => {
                        let active = action == BulkAction::Enable;
                        if user.is_active == active {
                            skip(
                                if active {
                                    "already enabled"
                                } else {
                                    "already disabled"
                                },
                                &name,
                            );
                            continue;
                        }
                        match set_active_in_tx(tx, &actor, id, active, now) {
                            Ok(_) => {}
                            Err(AppError::Forbidden(m)) => {
                                skip(m.trim_end_matches('.'), &name);
                                continue;
                            }
                            Err(e) => return Err(e),
                        }
                    }
                    BulkAction::Delete => match delete_user_in_tx(tx, &actor, id, now) {
                        Ok(_) => {}
                        Err(AppError::Forbidden(m)) => {
                            skip(m.trim_end_matches('.'), &name);
                            continue;
                        }
                        Err(e) => return Err(e),
                    },
                }
                done.push(name);
            }
            summary.done = done;
            Ok(summary)
        })
        .await?;
    if action == BulkAction::StartEnrollment && !summary.done.is_empty() {
        state.mail_wake.notify_one();
    }
    Ok(summary)
}
