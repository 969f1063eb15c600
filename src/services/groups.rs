//! Groups of users: create, rename, delete, members. Groups decide who may connect to a
//! restricted location (see `services::access`).

use super::Actor;
use crate::db::{self, audit, groups as repo, users};
use crate::domain::group::GroupName;
use crate::domain::user::Username;
use crate::domain::FieldError;
use crate::error::AppError;
use crate::state::AppState;
use rusqlite::Connection;

/// A group's id and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRef {
    /// Row id.
    pub id: i64,
    /// Name.
    pub name: String,
}

/// A row of the groups list.
#[derive(Debug, Clone)]
pub struct GroupSummary {
    /// The group.
    pub group: GroupRef,
    /// How many members it has.
    pub members: i64,
    /// The locations only it (and maybe other groups) may connect to, by name.
    pub locations: Vec<String>,
}

/// A member as the group page lists them.
#[derive(Debug, Clone)]
pub struct Member {
    /// User id.
    pub user_id: i64,
    /// Username.
    pub username: String,
    /// First and last name.
    pub full_name: String,
}

/// A group with its members.
#[derive(Debug, Clone)]
pub struct GroupDetail {
    /// The group.
    pub group: GroupRef,
    /// Members by username.
    pub members: Vec<Member>,
    /// The locations whose access names it, by name.
    pub locations: Vec<String>,
}

/// `a`, `a and b`, `a, b and c`.
pub fn join_names(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

impl From<repo::GroupRow> for GroupRef {
    fn from(row: repo::GroupRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
        }
    }
}

fn duplicate_name(name: &GroupName) -> AppError {
    AppError::field("name", format!("A group named {name} already exists."))
}

fn unique_or(name: &GroupName) -> impl Fn(rusqlite::Error) -> AppError + '_ {
    move |e| {
        if db::is_unique_violation(&e) {
            duplicate_name(name)
        } else {
            e.into()
        }
    }
}

/// Every group by name, with member counts and the locations that name it.
pub async fn list_groups(state: &AppState) -> Result<Vec<GroupSummary>, AppError> {
    state
        .db
        .read(|c| {
            let mut out = Vec::new();
            for (row, members) in repo::all_with_counts(c)? {
                let locations = repo::locations_using(c, row.id)?;
                out.push(GroupSummary {
                    group: row.into(),
                    members,
                    locations,
                });
            }
            Ok(out)
        })
        .await
}

/// Every group by name (for the checkboxes of the user and location forms).
pub async fn all_groups(state: &AppState) -> Result<Vec<GroupRef>, AppError> {
    let rows = state.db.read(|c| Ok(repo::all(c)?)).await?;
    Ok(rows.into_iter().map(GroupRef::from).collect())
}

/// One group with its members.
pub async fn get_group(state: &AppState, id: i64) -> Result<GroupDetail, AppError> {
    state
        .db
        .read(move |c| {
            let row = repo::get(c, id)?.ok_or(AppError::NotFound)?;
            let members = repo::members(c, id)?
                .into_iter()
                .map(|m| Member {
                    user_id: m.user_id,
                    username: m.username,
                    full_name: format!("{} {}", m.first_name, m.last_name),
                })
                .collect();
            Ok(GroupDetail {
                locations: repo::locations_using(c, id)?,
                group: row.into(),
                members,
            })
        })
        .await
}

/// The groups a user belongs to, by name.
pub async fn groups_of_user(state: &AppState, user_id: i64) -> Result<Vec<GroupRef>, AppError> {
    state
        .db
        .read(move |c| {
            Ok(repo::of_user(c, user_id)?
                .into_iter()
                .map(GroupRef::from)
                .collect())
        })
        .await
}

/// Creates a group; returns its id.
pub async fn create_group(state: &AppState, actor: &Actor, raw: &str) -> Result<i64, AppError> {
    let name = GroupName::parse("name", raw).map_err(|e| AppError::Validation(vec![e]))?;
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            if repo::find_by_name(tx, name.as_str())?.is_some() {
                return Err(duplicate_name(&name));
            }
            let id = repo::insert(tx, name.as_str(), now).map_err(unique_or(&name))?;
            audit::insert(tx, &actor.event(now, "group.created", Some(name.as_str())))?;
            Ok(id)
        })
        .await
}

/// Renames a group; returns the new name.
pub async fn rename_group(
    state: &AppState,
    actor: &Actor,
    id: i64,
    raw: &str,
) -> Result<String, AppError> {
    let name = GroupName::parse("name", raw).map_err(|e| AppError::Validation(vec![e]))?;
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            let current = repo::get(tx, id)?.ok_or(AppError::NotFound)?;
            if let Some(other) = repo::find_by_name(tx, name.as_str())? {
                if other.id != id {
                    return Err(duplicate_name(&name));
                }
            }
            if current.name != name.as_str() {
                repo::rename(tx, id, name.as_str()).map_err(unique_or(&name))?;
                let mut event = actor.event(now, "group.renamed", Some(name.as_str()));
                let detail = format!("was {}", current.name);
                event.detail = Some(&detail);
                audit::insert(tx, &event)?;
            }
            Ok(name.as_str().to_owned())
        })
        .await
}

/// Deletes a group and its memberships; returns its name. A group that a location's access
/// names is refused: deleting it could open a location restricted to it to everyone.
pub async fn delete_group(state: &AppState, actor: &Actor, id: i64) -> Result<String, AppError> {
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            let row = repo::get(tx, id)?.ok_or(AppError::NotFound)?;
            let locations = repo::locations_using(tx, id)?;
            if !locations.is_empty() {
                return Err(AppError::Forbidden(in_use_message(&row.name, &locations)));
            }
            repo::delete(tx, id)?;
            audit::insert(tx, &actor.event(now, "group.deleted", Some(&row.name)))?;
            Ok(row.name)
        })
        .await
}

/// Why a group that decides access somewhere cannot be deleted.
pub fn in_use_message(group: &str, locations: &[String]) -> String {
    format!(
        "The group {group} cannot be deleted while it decides who can connect to {}. Change \"Who can connect\" there first.",
        join_names(locations)
    )
}

/// Adds the user named `raw` to a group; returns the username.
pub async fn add_member(
    state: &AppState,
    actor: &Actor,
    group_id: i64,
    raw: &str,
) -> Result<String, AppError> {
    let username = Username::parse("username", raw).map_err(|e| AppError::Validation(vec![e]))?;
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            let group = repo::get(tx, group_id)?.ok_or(AppError::NotFound)?;
            let user = users::find_by_username(tx, username.as_str())?.ok_or_else(|| {
                AppError::field("username", format!("No user is named {username}."))
            })?;
            if !repo::add_member(tx, group_id, user.id)? {
                return Err(AppError::field(
                    "username",
                    format!("{} is already a member of {}.", user.username, group.name),
                ));
            }
            member_event(
                tx,
                &actor,
                now,
                "group.member_added",
                &group.name,
                &user.username,
            )?;
            Ok(user.username)
        })
        .await
}

/// Removes a user from a group; returns the username.
pub async fn remove_member(
    state: &AppState,
    actor: &Actor,
    group_id: i64,
    user_id: i64,
) -> Result<String, AppError> {
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            let group = repo::get(tx, group_id)?.ok_or(AppError::NotFound)?;
            let user = users::get(tx, user_id)?.ok_or(AppError::NotFound)?;
            if !repo::remove_member(tx, group_id, user_id)? {
                return Err(AppError::NotFound);
            }
            member_event(
                tx,
                &actor,
                now,
                "group.member_removed",
                &group.name,
                &user.username,
            )?;
            Ok(user.username)
        })
        .await
}

fn member_event(
    tx: &Connection,
    actor: &Actor,
    now: i64,
    action: &str,
    group: &str,
    username: &str,
) -> Result<(), AppError> {
    let mut event = actor.event(now, action, Some(group));
    event.detail = Some(username);
    audit::insert(tx, &event)?;
    Ok(())
}

/// Group ids as a form sends them (checkbox values), without repeats.
pub fn parse_ids(field: &'static str, raw: &[String]) -> Result<Vec<i64>, FieldError> {
    let mut ids = Vec::new();
    for value in raw {
        let id = value
            .trim()
            .parse::<i64>()
            .map_err(|_| stale_choice(field))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

fn stale_choice(field: &'static str) -> FieldError {
    FieldError::new(
        field,
        "A group you chose no longer exists. Reload the page and choose again.",
    )
}

/// The names of the groups with these ids, or a validation error when one does not exist.
pub fn existing(c: &Connection, field: &'static str, ids: &[i64]) -> Result<Vec<String>, AppError> {
    let mut names = Vec::new();
    for id in ids {
        let row =
            repo::get(c, *id)?.ok_or_else(|| AppError::Validation(vec![stale_choice(field)]))?;
        names.push(row.name);
    }
    Ok(names)
}

/// Makes a user a member of exactly the groups `wanted` (field `groups` of the user form),
/// auditing each membership added or removed.
pub fn set_user_groups(
    tx: &Connection,
    actor: &Actor,
    user_id: i64,
    username: &str,
    wanted: &[i64],
    now: i64,
) -> Result<(), AppError> {
    let names = existing(tx, "groups", wanted)?;
    let current = repo::of_user(tx, user_id)?;
    for g in &current {
        if !wanted.contains(&g.id) && repo::remove_member(tx, g.id, user_id)? {
            member_event(tx, actor, now, "group.member_removed", &g.name, username)?;
        }
    }
    for (id, name) in wanted.iter().zip(&names) {
        if repo::add_member(tx, *id, user_id)? {
            member_event(tx, actor, now, "group.member_added", name, username)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_join_like_a_sentence() {
        let n = |v: &[&str]| join_names(&v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(n(&[]), "");
        assert_eq!(n(&["Office"]), "Office");
        assert_eq!(n(&["Lab", "Office"]), "Lab and Office");
        assert_eq!(n(&["A", "B", "C"]), "A, B and C");
    }

    #[test]
    fn ids_parse_without_repeats() {
        assert_eq!(
            parse_ids("groups", &["2".into(), "1".into(), "2".into()]).unwrap(),
            [2, 1]
        );
        assert!(parse_ids("groups", &["x".into()]).is_err());
    }
}
