//! Adding many people from a CSV file: a dry run that writes nothing, then one transaction
//! that adds everyone (and queues their invitations) or no one.

use super::tokens::{invite_in_tx, InviteContext, Purpose};
use super::Actor;
use crate::crypto::{random_alphanumeric, sha256_hex};
use crate::db::{audit, groups, imports, users};
use crate::domain::import::{self, Candidate};
use crate::domain::user::Email;
use crate::error::AppError;
use crate::state::AppState;
use rusqlite::Connection;
use std::collections::{HashMap, HashSet};

/// How long a checked file waits for the admin's confirmation, seconds.
const STASH_TTL: i64 = 3600;

/// What the import will do with one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Add the person.
    Create,
    /// Leave it: the person exists, or the file named them earlier.
    Skip(String),
    /// The row is wrong; nothing can be imported until it is fixed.
    Error(String),
}

/// One row of the dry run.
#[derive(Debug, Clone)]
pub struct PlanRow {
    /// Line of the file.
    pub line: u64,
    /// Username as written.
    pub username: String,
    /// Email as written.
    pub email: String,
    /// What happens to it.
    pub action: Action,
}

/// The dry run of a file.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Every row, in file order.
    pub rows: Vec<PlanRow>,
    /// The people to add.
    pub creates: Vec<Candidate>,
}

impl Plan {
    /// Rows that would be skipped.
    pub fn skips(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| matches!(r.action, Action::Skip(_)))
            .count()
    }

    /// Rows in error.
    pub fn errors(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| matches!(r.action, Action::Error(_)))
            .count()
    }
}

/// What a confirmed import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// People added.
    pub created: usize,
    /// Invitations queued for email.
    pub invited: usize,
}

/// Checks `bytes` against the file's rules and the database; writes nothing. A file that
/// breaks a rule as a whole is a `Validation` error on the field `file`.
pub async fn dry_run(state: &AppState, bytes: Vec<u8>) -> Result<Plan, AppError> {
    state
        .db
        .read(move |c| {
            let parsed =
                import::parse(&bytes).map_err(|e| AppError::field("file", e.to_string()))?;
            plan(c, parsed)
        })
        .await
}

fn plan(c: &Connection, parsed: Vec<import::ParsedRow>) -> Result<Plan, AppError> {
    let mut seen_names: HashMap<String, u64> = HashMap::new();
    let mut seen_emails: HashMap<String, u64> = HashMap::new();
    let mut known_groups: HashSet<String> = HashSet::new();
    let mut out = Plan::default();
    for row in parsed {
        let action = match row.result {
            Err(reason) => Action::Error(reason),
            Ok(person) => {
                let name_key = person.username.to_lowercase();
                let email_key = person.email.to_lowercase();
                let earlier = seen_names
                    .get(&name_key)
                    .or_else(|| seen_emails.get(&email_key))
                    .copied();
                seen_names.entry(name_key).or_insert(row.line);
                seen_emails.entry(email_key).or_insert(row.line);
                let missing = missing_groups(c, &mut known_groups, &person.groups)?;
                if let Some(line) = earlier {
                    Action::Skip(format!("Already in the file on line {line}."))
                } else if users::find_by_username(c, &person.username)?.is_some() {
                    Action::Skip(format!("{} already exists.", person.username))
                } else if let Some(owner) = users::email_owner(c, &person.email, 0)? {
                    Action::Skip(format!("The email is already used by {owner}."))
                } else if !missing.is_empty() {
                    Action::Error(format!(
                        "There is no group named {}; add it on the Groups page first.",
                        super::groups::join_names(&missing)
                    ))
                } else {
                    out.creates.push(person);
                    Action::Create
                }
            }
        };
        out.rows.push(PlanRow {
            line: row.line,
            username: row.username,
            email: row.email,
            action,
        });
    }
    Ok(out)
}

/// The names in `wanted` that are no group, quoted.
fn missing_groups(
    c: &Connection,
    known: &mut HashSet<String>,
    wanted: &[String],
) -> Result<Vec<String>, AppError> {
    let mut missing = Vec::new();
    for name in wanted {
        if known.contains(name) {
            continue;
        }
        if groups::find_by_name(c, name)?.is_some() {
            known.insert(name.clone());
        } else {
            missing.push(format!("\"{name}\""));
        }
    }
    Ok(missing)
}

/// Keeps the people of a clean dry run for the admin session `session_hash`; returns the
/// random id the confirmation names. The browser never carries the rows themselves.
pub async fn stash(state: &AppState, session_hash: &str, plan: &Plan) -> Result<String, AppError> {
    let id = random_alphanumeric(32);
    let id_hash = sha256_hex(&id);
    let rows = serde_json::to_string(&plan.creates).map_err(AppError::internal)?;
    let now = state.now().unix_timestamp();
    let session_hash = session_hash.to_owned();
    state
        .db
        .write(move |tx| {
            imports::delete_expired(tx, now)?;
            imports::insert(tx, &id_hash, &session_hash, &rows, now, now + STASH_TTL)?;
            Ok(())
        })
        .await?;
    Ok(id)
}

/// Adds the people of the stashed dry run `id`, once.
pub async fn confirm(
    state: &AppState,
    actor: &Actor,
    session_hash: &str,
    id: &str,
    invite: bool,
) -> Result<Summary, AppError> {
    let now = state.now().unix_timestamp();
    let (id_hash, session_hash) = (sha256_hex(id), session_hash.to_owned());
    let rows = state
        .db
        .write(move |tx| Ok(imports::take(tx, &id_hash, &session_hash, now)?))
        .await?
        .ok_or_else(|| {
            AppError::BadRequest(
                "This import was already done or waited more than an hour. Upload the file again."
                    .into(),
            )
        })?;
    let people: Vec<Candidate> = serde_json::from_str(&rows).map_err(AppError::internal)?;
    apply(state, actor, people, invite).await
}

/// Adds `people` in one transaction, with an invitation email each when `invite`; if anyone
/// cannot be added now (someone took the username or email since the dry run, a group was
/// deleted), no one is.
pub async fn apply(
    state: &AppState,
    actor: &Actor,
    people: Vec<Candidate>,
    invite: bool,
) -> Result<Summary, AppError> {
    let now = state.now().unix_timestamp();
    let ttl = state.config.enrollment_token_ttl.whole_seconds();
    let (st, actor) = (state.clone(), actor.clone());
    let summary = state
        .db
        .write(move |tx| {
            let ctx = if invite {
                Some(InviteContext::load(tx, &st, &actor, ttl)?)
            } else {
                None
            };
            let mut group_ids: HashMap<String, i64> = HashMap::new();
            let mut summary = Summary::default();
            for person in &people {
                add_one(tx, &actor, person, &mut group_ids, now)?;
                summary.created += 1;
                if let Some(ctx) = &ctx {
                    let user =
                        users::find_by_username(tx, &person.username)?.ok_or(AppError::NotFound)?;
                    let email = Email::parse("email", &person.email)
                        .map_err(|e| AppError::BadRequest(e.message))?;
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
                    summary.invited += 1;
                }
            }
            Ok(summary)
        })
        .await?;
    if summary.invited > 0 {
        state.mail_wake.notify_one();
    }
    Ok(summary)
}

fn add_one(
    tx: &Connection,
    actor: &Actor,
    person: &Candidate,
    group_ids: &mut HashMap<String, i64>,
    now: i64,
) -> Result<(), AppError> {
    let taken = |what: String| {
        AppError::BadRequest(format!(
            "{what} since the dry run, so nothing was imported. Upload the file again."
        ))
    };
    if users::find_by_username(tx, &person.username)?.is_some() {
        return Err(taken(format!("{} was added", person.username)));
    }
    if let Some(owner) = users::email_owner(tx, &person.email, 0)? {
        return Err(taken(format!("{owner} took the email {}", person.email)));
    }
    let id = users::insert(
        tx,
        &users::NewUser {
            username: &person.username,
            first_name: &person.first_name,
            last_name: &person.last_name,
            email: &person.email,
            phone: person.phone.as_deref(),
            is_admin: false,
            password_hash: None,
            created_at: now,
        },
    )?;
    audit::insert(
        tx,
        &actor
            .event(now, "user.created", Some(&person.username))
            .with_detail("enrollment, CSV import"),
    )?;
    for name in &person.groups {
        let group_id = match group_ids.get(name) {
            Some(id) => *id,
            None => {
                let group = groups::find_by_name(tx, name)?
                    .ok_or_else(|| taken(format!("The group \"{name}\" was deleted")))?;
                group_ids.insert(name.clone(), group.id);
                group.id
            }
        };
        groups::add_member(tx, group_id, id)?;
        audit::insert(
            tx,
            &actor
                .event(now, "group.member_added", Some(name))
                .with_detail(&person.username),
        )?;
    }
    Ok(())
}
