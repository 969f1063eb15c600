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
    let allowed = editable(state).await?;
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
            if let Some(owner) = users::email_owner(tx, profile.email.as_str(), user_id)? {
                let _ = owner;
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

/// Sets a new password (the policy's rules, with the user's names as context), ends every other
/// session of the user, revokes unused reset links and queues "your password was changed".
/// `keep` is the session that stays (the one the change came from), if any.
pub async fn set_password(
    state: &AppState,
    actor: &Actor,
    user_id: i64,
    password: &str,
    repeat: &str,
    keep: Option<&str>,
) -> Result<(), AppError> {
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
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    let keep = keep.map(str::to_owned);
    state
        .db
        .write(move |tx| {
            users::set_password_hash(tx, user_id, &hash)?;
            match &keep {
                Some(k) => sessions::delete_logins_except(tx, user_id, k)?,
                None => sessions::delete_logins_except(tx, user_id, "")?,
            };
            password_resets::revoke_for_user(tx, user_id, now)?;
            audit::insert(
                tx,
                &actor.event(now, "account.password_changed", Some(&user.username)),
            )?;
            let mail = mails::account_notice(
                &user.email,
                &instance,
                &user.first_name,
                "Your password was changed",
            );
            super::outbox::queue(tx, "account_notice", &mail, now)?;
            Ok(())
        })
        .await?;
    state.mail_wake.notify_one();
    Ok(())
}

/// "Change password": the current password first (failures limited like logins), then
/// [`set_password`]. The session it came from stays; every other one ends.
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
    set_password(
        state,
        actor,
        user_id,
        password,
        repeat,
        Some(&session.id_hash),
    )
    .await
}
