//! What an admin does with one user's devices: the user page, rename, remove, and "Add device
//! for this user" with a pasted public key or a key pair made here for a one-off config.

use super::{
    add, client_config, device_locations, ensure_name_free, mail_locations, parse_device_name,
    AddError, NewDevice, PRIVATE_KEY_PLACEHOLDER,
};
use crate::config::Secret;
use crate::db::{audit, devices as repo, tokens, users};
use crate::domain::token::Purpose;
use crate::domain::user::UserStatus;
use crate::domain::wireguard::WgKey;
use crate::domain::FieldError;
use crate::error::AppError;
use crate::mail::templates::{self, DeviceLocation};
use crate::services::Actor;
use crate::state::AppState;
use rusqlite::Connection;

/// How many audit events the user page lists.
pub const RECENT_EVENTS: i64 = 20;

/// The field a refusal that concerns the whole "Add device" form is reported under; the
/// form's section has this id, so the error summary links to it.
pub const ADD_FORM: &str = "add-device";

/// A user as their page shows them.
#[derive(Debug, Clone)]
pub struct Profile {
    /// User id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// First and last name.
    pub full_name: String,
    /// Email address.
    pub email: String,
    /// Phone number, if given.
    pub phone: Option<String>,
    /// May use the admin screens.
    pub is_admin: bool,
    /// Active, not enrolled, disabled, ….
    pub status: UserStatus,
}

/// One device in the user's devices table.
#[derive(Debug, Clone)]
pub struct DeviceSummary {
    /// Device id.
    pub id: i64,
    /// Name, unique per user.
    pub name: String,
    /// WireGuard public key.
    pub public_key: String,
    /// Its addresses, per location.
    pub locations: Vec<DeviceLocation>,
    /// Unix seconds.
    pub created_at: i64,
    /// Latest handshake a gateway reported in any location, unix seconds.
    pub last_handshake: Option<i64>,
    /// Registered by an enrollment that has not finished yet.
    pub pending: bool,
}

/// The user's live token, if they have one.
#[derive(Debug, Clone)]
pub struct TokenState {
    /// Enrollment or desktop activation.
    pub purpose: Purpose,
    /// When it stops working, unix seconds.
    pub expires_at: i64,
    /// Whether the user has started using it.
    pub started: bool,
    /// Where it was emailed, when it was.
    pub emailed_to: Option<String>,
}

/// One audit event on the user page.
#[derive(Debug, Clone)]
pub struct EventLine {
    /// Unix seconds.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// What, e.g. `device.added`.
    pub action: String,
    /// To whom.
    pub target: Option<String>,
    /// Context.
    pub detail: Option<String>,
}

/// Everything the user page shows.
#[derive(Debug, Clone)]
pub struct UserOverview {
    /// The profile.
    pub profile: Profile,
    /// Their devices, oldest first.
    pub devices: Vec<DeviceSummary>,
    /// Devices per user this instance allows.
    pub limit: u32,
    /// Their live token, if any.
    pub token: Option<TokenState>,
    /// Their latest audit events (as actor or target), newest first.
    pub events: Vec<EventLine>,
    /// The time the page was made, for "3 minutes ago".
    pub now: i64,
    /// The user's second factors.
    pub factors: crate::services::mfa::Factors,
}

fn summary(c: &Connection, d: repo::DeviceRow) -> Result<DeviceSummary, AppError> {
    Ok(DeviceSummary {
        locations: mail_locations(c, d.id)?,
        last_handshake: repo::last_handshake(c, d.id)?,
        pending: d.pending_token_id.is_some(),
        id: d.id,
        name: d.name,
        public_key: d.public_key,
        created_at: d.created_at,
    })
}

/// The user page's data, or `NotFound`.
pub async fn overview(state: &AppState, user_id: i64) -> Result<UserOverview, AppError> {
    let now = state.now().unix_timestamp();
    let limit = crate::services::settings::get_settings(state)
        .await?
        .max_devices_per_user;
    state
        .db
        .read(move |c| {
            let user = users::get(c, user_id)?.ok_or(AppError::NotFound)?;
            let devices = repo::for_user(c, user_id)?
                .into_iter()
                .map(|d| summary(c, d))
                .collect::<Result<Vec<_>, _>>()?;
            let token = tokens::pending_for_user(c, user_id, now)?.map(|t| TokenState {
                purpose: t.purpose,
                expires_at: t.dies_at(),
                started: t.started_at.is_some(),
                emailed_to: t.email.clone(),
            });
            let about = audit::Filter::user(&user.username);
            let events = audit::search(c, &about, None, RECENT_EVENTS)?
                .into_iter()
                .map(|e| EventLine {
                    at: e.at,
                    actor: e.actor,
                    action: e.action,
                    target: e.target,
                    detail: e.detail,
                })
                .collect();
            Ok(UserOverview {
                profile: Profile {
                    id: user.id,
                    status: UserStatus::of(user.is_active, user.is_enrolled(), !devices.is_empty()),
                    full_name: format!("{} {}", user.first_name, user.last_name),
                    username: user.username,
                    email: user.email,
                    phone: user.phone,
                    is_admin: user.is_admin,
                },
                devices,
                limit,
                token,
                events,
                now,
                factors: crate::services::mfa::factors_of(c, user_id)?,
            })
        })
        .await
}

/// The user's device `device_id`, or `NotFound` (also when it belongs to someone else).
fn owned(
    c: &Connection,
    user_id: i64,
    device_id: i64,
) -> Result<(users::UserRow, repo::DeviceRow), AppError> {
    let user = users::get(c, user_id)?.ok_or(AppError::NotFound)?;
    match repo::get(c, device_id)? {
        Some(d) if d.user_id == user_id => Ok((user, d)),
        _ => Err(AppError::NotFound),
    }
}

/// One device of the user, for the rename form and the delete confirmation.
pub async fn device(
    state: &AppState,
    user_id: i64,
    device_id: i64,
) -> Result<(String, DeviceSummary), AppError> {
    state
        .db
        .read(move |c| {
            let (user, d) = owned(c, user_id, device_id)?;
            Ok((user.username, summary(c, d)?))
        })
        .await
}

/// Renames a device; returns it as the devices table shows it.
pub async fn rename(
    state: &AppState,
    actor: &Actor,
    user_id: i64,
    device_id: i64,
    raw_name: &str,
) -> Result<DeviceSummary, AppError> {
    let name = parse_device_name(raw_name).map_err(|e| AppError::Validation(vec![e]))?;
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            let (user, d) = owned(tx, user_id, device_id)?;
            if d.name != name {
                ensure_name_free(tx, user_id, &name, Some(&user.username))?;
                repo::rename(tx, device_id, &name)?;
                let detail = format!("{} → {name}", d.name);
                let event = actor.event(now, "device.renamed", Some(&user.username));
                audit::insert(tx, &event.with_detail(&detail))?;
            }
            let d = repo::get(tx, device_id)?.ok_or(AppError::NotFound)?;
            summary(tx, d)
        })
        .await
}

/// Deletes a device with its addresses and polling token; gateways drop its peer on their
/// next sync. Returns the device's name.
pub async fn remove(
    state: &AppState,
    actor: &Actor,
    user_id: i64,
    device_id: i64,
) -> Result<String, AppError> {
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            let (user, d) = owned(tx, user_id, device_id)?;
            repo::delete(tx, device_id)?;
            let event = actor.event(now, "device.removed", Some(&user.username));
            audit::insert(tx, &event.with_detail(&d.name))?;
            Ok(d.name)
        })
        .await
}

/// Where the new device's key pair comes from.
#[derive(Debug, Clone)]
pub enum KeyChoice {
    /// Onramp makes a key pair and shows the private key once, never storing it.
    Generate,
    /// The admin pastes the public key of a pair made elsewhere.
    Paste(String),
}

/// One location's client config of a device just added.
#[derive(Debug)]
pub struct NewConfig {
    /// Location name.
    pub location: String,
    /// A safe file name, e.g. `office.conf`.
    pub file_name: String,
    /// The `wg-quick` text; holds the private key when onramp made it.
    pub text: Secret,
}

/// A device the admin just added.
#[derive(Debug)]
pub struct AddedDevice {
    /// The owner's username.
    pub username: String,
    /// The device's name.
    pub name: String,
    /// Its public key.
    pub public_key: String,
    /// Whether onramp made the key pair, so the configs hold the private key.
    pub generated: bool,
    /// One config per location.
    pub configs: Vec<NewConfig>,
}

/// Adds a device for the user with the same rules as every other way of adding one; emails
/// the user about it. A generated private key is only in the returned configs.
pub async fn add_for_user(
    state: &AppState,
    actor: &Actor,
    user_id: i64,
    raw_name: &str,
    key: KeyChoice,
) -> Result<AddedDevice, AppError> {
    let name = parse_device_name(raw_name);
    let (private, key) = match key {
        KeyChoice::Generate => {
            let (private, public) = crate::services::locations::generate_keypair();
            (
                Some(Secret::new(private)),
                WgKey::parse("public_key", &public),
            )
        }
        KeyChoice::Paste(raw) => (None, WgKey::parse("public_key", raw.trim())),
    };
    let (name, key) = match (name, key) {
        (Ok(n), Ok(k)) => (n, k),
        (n, k) => {
            return Err(AppError::Validation(
                [n.err(), k.err()].into_iter().flatten().collect(),
            ))
        }
    };
    let limit = crate::services::settings::get_settings(state)
        .await?
        .max_devices_per_user;
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    let added = state
        .db
        .write(move |tx| {
            let user = users::get(tx, user_id)?.ok_or(AppError::NotFound)?;
            ensure_name_free(tx, user_id, &name, Some(&user.username))?;
            let new = NewDevice {
                user_id,
                name: &name,
                key: &key,
                pending_token_id: None,
            };
            let device_id = add(tx, &new, limit, now).map_err(|e| refusal(e, &user.username))?;
            let detail = match private {
                Some(_) => format!("{name} (key pair made by onramp)"),
                None if actor.user_id == Some(user_id) => {
                    format!("{name} (public key from the user)")
                }
                None => format!("{name} (public key pasted by an admin)"),
            };
            let event = actor.event(now, "device.added", Some(&user.username));
            audit::insert(tx, &event.with_detail(&detail))?;
            let settings = crate::services::settings::load(tx)?;
            let mail = templates::new_device_email(
                &user.email,
                &settings.instance_name,
                &name,
                key.as_str(),
                &mail_locations(tx, device_id)?,
            );
            crate::services::outbox::queue(tx, "new-device", &mail, now)?;
            let mut configs = Vec::new();
            for (l, addrs) in device_locations(tx, device_id)? {
                let text = client_config(&l, &addrs)?;
                let text = match &private {
                    Some(p) => text.replace(PRIVATE_KEY_PLACEHOLDER, p.expose()),
                    None => text,
                };
                configs.push(NewConfig {
                    file_name: crate::services::locations::config_file_name(&l.name),
                    location: l.name,
                    text: Secret::new(text),
                });
            }
            Ok(AddedDevice {
                username: user.username,
                generated: private.is_some(),
                public_key: key.as_str().to_owned(),
                name,
                configs,
            })
        })
        .await?;
    state.mail_wake.notify_one();
    Ok(added)
}

/// A refused device as the admin reads it: the limit and a full address pool concern the
/// whole form, a name or key its field.
fn refusal(e: AddError, username: &str) -> AppError {
    match e {
        AddError::LimitReached(limit) => {
            let devices = if limit == 1 { "device" } else { "devices" };
            AppError::Validation(vec![FieldError::new(
                ADD_FORM,
                format!(
                    "{username} already has {limit} {devices}, the most this instance allows. Delete one first, or raise the limit in Settings."
                ),
            )])
        }
        AddError::PoolFull(m) => AppError::Validation(vec![FieldError::new(ADD_FORM, m)]),
        other => other.into(),
    }
}
