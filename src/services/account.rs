//! What a signed-in user does on their own account: edit the profile fields the admin allows,
//! change the password, and issue their own desktop activation token.

use super::Actor;
use crate::db::{audit, password_resets, sessions, settings as settings_repo, users};
use crate::domain::user::Profile;
use crate::domain::FieldError;
use crate::error::AppError;
use crate::mail::account as mails;
use crate::state::AppState;
use time::Duration;

/// The setting listing the profile fields users may edit themselves.
pub const EDITABLE_SETTING: &str = "profile_editable";

/// Wrong current passwords allowed per account within [`CURRENT_WINDOW`].
const CURRENT_FAILURES: usize = 10;
const CURRENT_WINDOW: Duration = Duration::minutes(15);

/// Which profile fields a user may change on their own (the admin decides; default: phone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Editable {
    /// First and last name.
    pub name: bool,
    /// Email.
    pub email: bool,
    /// Phone.
    pub phone: bool,
}

impl Editable {
    /// Parses the stored list, e.g. `name,phone`.
    pub fn parse(stored: Option<&str>) -> Self {
        let list = stored.unwrap_or("phone");
        let has = |f: &str| list.split(',').any(|x| x.trim() == f);
        Self {
            name: has("name"),
            email: has("email"),
            phone: has("phone"),
        }
    }

    /// The stored form.
    pub fn to_stored(self) -> String {
        [
            (self.name, "name"),
            (self.email, "email"),
            (self.phone, "phone"),
        ]
        .into_iter()
        .filter_map(|(on, f)| on.then_some(f))
        .collect::<Vec<_>>()
        .join(",")
    }

    /// Whether anything is editable.
    pub fn any(self) -> bool {
        self.name || self.email || self.phone
    }
}

/// The fields users may edit, read from the settings.
pub async fn editable(state: &AppState) -> Result<Editable, AppError> {
    state
        .db
        .read(|c| {
            Ok(Editable::parse(
                settings_repo::get(c, EDITABLE_SETTING)?.as_deref(),
            ))
        })
        .await
}

/// The fields `user_id` may edit on their own account: an admin may always edit all of
/// theirs (their name, email and phone are what new users are shown), everyone else what the
/// settings allow.
pub async fn editable_for(state: &AppState, user_id: i64) -> Result<Editable, AppError> {
    let is_admin = state
        .db
        .read(move |c| Ok(users::get(c, user_id)?.is_some_and(|u| u.is_admin)))
        .await?;
    if is_admin {
        return Ok(Editable {
            name: true,
            email: true,
            phone: true,
        });
    }
    editable(state).await
}

/// The account as the user sees it.
#[derive(Debug, Clone)]
pub struct Me {
    /// Username.
    pub username: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email.
    pub email: String,
    /// Phone.
    pub phone: Option<String>,
}

/// The signed-in user's profile.
pub async fn me(state: &AppState, user_id: i64) -> Result<Me, AppError> {
    let u = state
        .db
        .read(move |c| Ok(users::get(c, user_id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Me {
        username: u.username,
        first_name: u.first_name,
        last_name: u.last_name,
        email: u.email,
        phone: u.phone,
    })
}

/// A profile edit as typed; fields the user may not edit are ignored.
#[derive(Debug, Clone, Default)]
pub struct ProfileInput {
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
}

/// Saves the fields the user may edit, with the same rules as the admin's form.
pub async fn update_profile(
    state: &AppState,
    actor: &Actor,
    user_id: i64,
    input: ProfileInput,
) -> Result<(), AppError> {
    let allowed = editable_for(state, user_id).await?;
    let current = me(state, user_id).await?;
    let pick =
        |on: bool, typed: Option<String>, old: String| if on { typed.unwrap_or(old) } else { old };
    let first = pick(allowed.name, input.first_name, current.first_name);
    let last = pick(allowed.name, input.last_name, current.last_name);
    let email = pick(allowed.email, input.email, current.email);
    let phone = pick(
        allowed.phone,
        input.phone,
        current.phone.unwrap_or_default(),
    );
    let profile = Profile::parse(&first, &last, &email, &phone).map_err(AppError::Validation)?;
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            // Unlike the admin's form, the message does not name the other account.
            if users::email_owner(tx, profile.email.as_str(), user_id)?.is_some() {
                return Err(AppError::field(
                    "email",
                    "Another account uses this email address.",
                ));
            }
            users::update_profile(
                tx,
                user_id,
                profile.first_name.as_str(),
                profile.last_name.as_str(),
                profile.email.as_str(),
                profile.phone.as_ref().map(|p| p.as_str()),
            )?;
            audit::insert(
                tx,
                &actor.event(now, "account.profile_updated", Some(&actor.username)),
            )?;
            Ok(())
        })
        .await
}

/// A new password that passed the policy, hashed, with what storing it needs.
#[derive(Debug)]
pub struct NewPassword {
    user: users::UserRow,
    hash: String,
    instance: String,
}

/// Checks a new password against the policy (the user's names as context) and the repeat,
/// then hashes it. Nothing is written.
pub async fn new_password(
    state: &AppState,
    user_id: i64,
    password: &str,
    repeat: &str,
) -> Result<NewPassword, AppError> {
    let user = state
        .db
        .read(move |c| Ok(users::get(c, user_id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    let instance = super::bootstrap::instance_name(state).await?;
    let context = [
        user.first_name.as_str(),
        user.last_name.as_str(),
        user.email.as_str(),
        user.username.as_str(),
        instance.as_str(),
    ];
    let checked = super::check_password(password, &context)
        .await
        .map_err(|e| AppError::field("password", e.to_string()))?;
    if checked.expose() != repeat {
        return Err(AppError::field(
            "password_repeat",
            "The two passwords do not match.",
        ));
    }
    let hash = state.hasher.hash(checked.expose().to_owned()).await?;
    Ok(NewPassword {
        user,
        hash,
        instance,
    })
}

/// Stores a checked password inside the caller's transaction: ends every other sign-in of the
/// user (all of them when `keep` is `None`), revokes unused reset links, and queues "your
/// password was changed".
pub fn store_password(
    tx: &rusqlite::Connection,
    actor: &Actor,
    p: &NewPassword,
    keep: Option<&str>,
    now: i64,
) -> Result<(), AppError> {
    let user = &p.user;
    users::set_password_hash(tx, user.id, &p.hash)?;
    sessions::delete_logins_except(tx, user.id, keep.unwrap_or(""))?;
    password_resets::revoke_for_user(tx, user.id, now)?;
    audit::insert(
        tx,
        &actor.event(now, "account.password_changed", Some(&user.username)),
    )?;
    let mail = mails::account_notice(
        &user.email,
        &p.instance,
        &user.first_name,
        "Your password was changed",
    );
    super::outbox::queue(tx, "account_notice", &mail, now)?;
    Ok(())
}

/// "Change password": the current password first (failures limited like logins), then
/// [`new_password`] and [`store_password`]. The session it came from stays; every other one ends.
pub async fn change_password(
    state: &AppState,
    actor: &Actor,
    session: &super::auth::UserSession,
    current: &str,
    password: &str,
    repeat: &str,
) -> Result<(), AppError> {
    let key = format!("current-password:{}", session.user_id);
    state
        .limits
        .reserve(&[(&key, CURRENT_FAILURES, CURRENT_WINDOW)], state.now())
        .map_err(AppError::RateLimited)?;
    let user_id = session.user_id;
    let hash = state
        .db
        .read(move |c| Ok(users::get(c, user_id)?.and_then(|u| u.password_hash)))
        .await?;
    if current.chars().count() > crate::domain::password::MAX_CHARS
        || !state.hasher.verify(current.to_owned(), hash).await?
    {
        return Err(AppError::Validation(vec![FieldError::new(
            "current_password",
            "This is not your current password.",
        )]));
    }
    state.limits.refund(&key, state.now());
    let p = new_password(state, user_id, password, repeat).await?;
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    let keep = session.id_hash.clone();
    state
        .db
        .write(move |tx| store_password(tx, &actor, &p, Some(&keep), now))
        .await?;
    state.mail_wake.notify_one();
    Ok(())
}

/// The account rules an admin sets: what users may edit, and whether two-factor is required.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountRules {
    /// Profile fields users may edit.
    pub editable: Editable,
    /// Everyone must have a second factor.
    pub mfa_required: bool,
}

/// The current account rules.
pub async fn rules(state: &AppState) -> Result<AccountRules, AppError> {
    state
        .db
        .read(|c| {
            Ok(AccountRules {
                editable: Editable::parse(settings_repo::get(c, EDITABLE_SETTING)?.as_deref()),
                mfa_required: super::mfa::required(c)?,
            })
        })
        .await
}

/// Saves the account rules, audited.
pub async fn save_rules(state: &AppState, actor: &Actor, r: AccountRules) -> Result<(), AppError> {
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            settings_repo::set(tx, EDITABLE_SETTING, &r.editable.to_stored())?;
            settings_repo::set(
                tx,
                super::mfa::REQUIRED_SETTING,
                if r.mfa_required { "true" } else { "false" },
            )?;
            let detail = format!(
                "editable: {}; two-factor required: {}",
                if r.editable.any() {
                    r.editable.to_stored()
                } else {
                    "nothing".into()
                },
                if r.mfa_required { "yes" } else { "no" }
            );
            let mut e = actor.event(now, "settings.accounts_updated", None);
            e.detail = Some(&detail);
            audit::insert(tx, &e)?;
            Ok(())
        })
        .await
}
