//! The admins' setup checklist: what a new instance still shows from its first start. Each
//! item is read from the data (nothing is ticked by hand); the list can be hidden.

use super::bootstrap::{DEFAULT_INSTANCE_NAME, FIRST_ADMIN_EMAIL, FIRST_ADMIN_NAME};
use super::settings::{effective_smtp, load as load_settings};
use super::Actor;
use crate::db::{audit, locations, settings as settings_repo, users};
use crate::error::AppError;
use crate::state::AppState;

/// The setting that hides the checklist for every admin.
pub const HIDDEN_SETTING: &str = "setup_checklist_hidden";

/// What is done, for the admin looking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checklist {
    /// The admin's id (their profile is one item).
    pub admin_id: i64,
    /// Their name and email are no longer the first start's "Onramp Admin" / admin@localhost.
    pub profile: bool,
    /// The instance has a name of its own.
    pub instance_name: bool,
    /// Mail can be sent.
    pub smtp: bool,
    /// A location exists.
    pub location: bool,
    /// An admin hid the checklist.
    pub hidden: bool,
}

impl Checklist {
    /// How many of the four items are done.
    pub fn done(&self) -> usize {
        [self.profile, self.instance_name, self.smtp, self.location]
            .into_iter()
            .filter(|d| *d)
            .count()
    }

    /// Whether everything is done.
    pub fn complete(&self) -> bool {
        self.done() == 4
    }
}

/// Whether the checklist was hidden (read on every admin page, for the header's link).
pub fn hidden(c: &rusqlite::Connection) -> Result<bool, AppError> {
    Ok(settings_repo::get(c, HIDDEN_SETTING)?.as_deref() == Some("true"))
}

/// The checklist as `admin_id` sees it.
pub async fn checklist(state: &AppState, admin_id: i64) -> Result<Checklist, AppError> {
    let (settings, admin, location, hidden) = state
        .db
        .read(move |c| {
            Ok((
                load_settings(c)?,
                users::get(c, admin_id)?.ok_or(AppError::NotFound)?,
                locations::count(c)? > 0,
                hidden(c)?,
            ))
        })
        .await?;
    let default_name =
        admin.first_name == FIRST_ADMIN_NAME.0 && admin.last_name == FIRST_ADMIN_NAME.1;
    Ok(Checklist {
        admin_id,
        profile: !default_name && admin.email != FIRST_ADMIN_EMAIL,
        instance_name: settings.instance_name != DEFAULT_INSTANCE_NAME,
        smtp: effective_smtp(state, &settings).is_some(),
        location,
        hidden,
    })
}

/// Hides the checklist (`false` shows it again).
pub async fn set_hidden(state: &AppState, actor: &Actor, hide: bool) -> Result<(), AppError> {
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            settings_repo::set(tx, HIDDEN_SETTING, if hide { "true" } else { "false" })?;
            let action = if hide { "setup.hidden" } else { "setup.shown" };
            audit::insert(tx, &actor.event(now, action, None))?;
            Ok(())
        })
        .await
}
