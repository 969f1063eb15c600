//! Who can connect to a location. A location open to everyone (the default) has no
//! `location_access` rows; a restricted one lists the groups whose members may connect.
//! Every device keeps an address in every location either way: access only filters the
//! configs handed to a user and the peers handed to the gateway (`db::locations::peers` and
//! `db::locations::accessible_to` share the one rule), so a change shows in the next `poll`
//! and, since every committed write wakes the gateway's long-poll, on the gateway at once.

use super::groups::{self, GroupRef};
use super::Actor;
use crate::db::{audit, groups as repo};
use crate::domain::FieldError;
use crate::error::AppError;
use crate::state::AppState;
use rusqlite::Connection;

/// Who can connect, as chosen in the location form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Every user (the default).
    Everyone,
    /// Only members of these groups (ids, at least one).
    Groups(Vec<i64>),
}

/// Reads the form's `access` choice (`everyone` or `groups`) and its checked `groups`.
/// `None` when the form did not send the choice at all: the caller keeps what is stored.
pub fn parse(choice: Option<&str>, groups: &[String]) -> Result<Option<Access>, FieldError> {
    match choice.map(str::trim) {
        None => Ok(None),
        Some("everyone") => Ok(Some(Access::Everyone)),
        Some("groups") => {
            let ids = groups::parse_ids("groups", groups)?;
            if ids.is_empty() {
                return Err(FieldError::new(
                    "groups",
                    "Choose at least one group that may connect, or let everyone connect.",
                ));
            }
            Ok(Some(Access::Groups(ids)))
        }
        Some(_) => Err(FieldError::new(
            "access",
            "Choose whether everyone or only chosen groups can connect.",
        )),
    }
}

/// Stores who can connect to a location and audits `location.access_changed` when that
/// changed. An unknown group is a validation error and writes nothing.
pub fn apply(
    tx: &Connection,
    actor: &Actor,
    location_id: i64,
    location_name: &str,
    access: &Access,
    now: i64,
) -> Result<(), AppError> {
    let ids: &[i64] = match access {
        Access::Everyone => &[],
        Access::Groups(ids) => ids,
    };
    groups::existing(tx, "groups", ids)?;
    let mut wanted = ids.to_vec();
    wanted.sort_unstable();
    let mut before: Vec<i64> = repo::access_of(tx, location_id)?
        .iter()
        .map(|g| g.id)
        .collect();
    before.sort_unstable();
    if before == wanted {
        return Ok(());
    }
    repo::set_access(tx, location_id, ids)?;
    let names: Vec<String> = repo::access_of(tx, location_id)?
        .into_iter()
        .map(|g| g.name)
        .collect();
    let detail = describe(&names);
    let mut event = actor.event(now, "location.access_changed", Some(location_name));
    event.detail = Some(&detail);
    audit::insert(tx, &event)?;
    Ok(())
}

/// "Everyone", or the names of the groups that may connect.
pub fn describe(group_names: &[String]) -> String {
    if group_names.is_empty() {
        "Everyone".to_owned()
    } else {
        format!("Members of {}", groups::join_names(group_names))
    }
}

/// The groups that may connect to a location; empty when everyone may.
pub async fn of_location(state: &AppState, location_id: i64) -> Result<Vec<GroupRef>, AppError> {
    state
        .db
        .read(move |c| {
            Ok(repo::access_of(c, location_id)?
                .into_iter()
                .map(GroupRef::from)
                .collect())
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_choice_parses_or_explains() {
        assert_eq!(parse(None, &[]), Ok(None));
        assert_eq!(
            parse(Some("everyone"), &["3".into()]),
            Ok(Some(Access::Everyone))
        );
        assert_eq!(
            parse(Some("groups"), &["3".into(), "1".into()]),
            Ok(Some(Access::Groups(vec![3, 1])))
        );
        assert_eq!(
            parse(Some("groups"), &[]).map_err(|e| e.field),
            Err("groups")
        );
        assert_eq!(
            parse(Some("nobody"), &[]).map_err(|e| e.field),
            Err("access")
        );
    }

    #[test]
    fn access_reads_as_words() {
        assert_eq!(describe(&[]), "Everyone");
        assert_eq!(
            describe(&["ops".into(), "dev".into()]),
            "Members of ops and dev"
        );
    }
}
