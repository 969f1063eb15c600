//! Devices, whoever adds them: the wizard, the desktop client API, and the admin. One set of
//! rules for names, keys, the per-user limit and addresses.

pub mod admin;

use crate::crypto::{random_alphanumeric, sha256_hex};
use crate::db::{self, devices as repo, locations as loc_repo};
use crate::domain::wireguard::{self as wg, WgKey};
use crate::domain::{has_control_chars, FieldError};
use crate::error::AppError;
use crate::mail::templates::DeviceLocation;
use rusqlite::Connection;

/// Devices per user when the setting was never changed.
pub const DEFAULT_DEVICE_LIMIT: u32 = 10;

/// The name a device gets when its client sends none (the `dg` command-line client never
/// does); clashes get `-2`, `-3`, ….
pub const DEFAULT_CLIENT_NAME: &str = "cli";

/// Longest device name, in characters.
const NAME_MAX: usize = 64;

/// Parses a device name typed by a person.
pub fn parse_device_name(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim_matches(' ');
    if name.is_empty() {
        return Err(FieldError::new(
            "device_name",
            "Name the device, for example \"work laptop\".",
        ));
    }
    if has_control_chars(name) || name.chars().count() > NAME_MAX {
        return Err(FieldError::new(
            "device_name",
            "A device name is at most 64 characters, without line breaks or invisible direction marks.",
        ));
    }
    Ok(name.to_owned())
}

/// `base`, or `base-2`, `base-3`, … : the first name the user does not have yet. A client
/// that cannot show an error (the desktop client and `dg` hide them) gets a free name
/// instead of a refusal.
pub fn free_name(c: &Connection, user_id: i64, base: &str) -> Result<String, AppError> {
    if !repo::name_taken(c, user_id, base)? {
        return Ok(base.to_owned());
    }
    // The limit on devices bounds the loop; the cap only guards against a broken limit.
    for n in 2..10_000 {
        let suffix = format!("-{n}");
        let keep = NAME_MAX - suffix.len();
        let candidate: String = base.chars().take(keep).chain(suffix.chars()).collect();
        if !repo::name_taken(c, user_id, &candidate)? {
            return Ok(candidate);
        }
    }
    Err(AppError::BadRequest(
        "No free device name is left; choose another name.".into(),
    ))
}

/// The refusal of a name the user already has, addressed to the user, or with `owner` set to
/// the admin acting for them.
fn name_clash(name: &str, owner: Option<&str>) -> FieldError {
    let message = match owner {
        None => format!("You already have a device named {name}; choose another name."),
        Some(owner) => format!("{owner} already has a device named {name}; choose another name."),
    };
    FieldError::new("device_name", message)
}

/// Refuses (as a validation error for the admin acting for `owner`) a name the user already
/// has.
pub fn ensure_name_free(
    c: &Connection,
    user_id: i64,
    name: &str,
    owner: Option<&str>,
) -> Result<(), AppError> {
    if repo::name_taken(c, user_id, name)? {
        return Err(AppError::Validation(vec![name_clash(name, owner)]));
    }
    Ok(())
}

/// A device to add.
#[derive(Debug, Clone)]
pub struct NewDevice<'a> {
    /// Owner.
    pub user_id: i64,
    /// A parsed name.
    pub name: &'a str,
    /// Its public key.
    pub key: &'a WgKey,
    /// The unfinished enrollment it comes from, if any.
    pub pending_token_id: Option<i64>,
}

/// Why a device was not added.
#[derive(Debug)]
pub enum AddError {
    /// The user already has as many devices as the limit allows.
    LimitReached(u32),
    /// A location has no free address; the message names it.
    PoolFull(String),
    /// The name or key breaks a rule.
    Invalid(FieldError),
    /// Something else.
    App(AppError),
}

impl AddError {
    /// The sentence a person reads.
    pub fn message(&self) -> String {
        match self {
            Self::LimitReached(limit) => format!(
                "You already have {limit} devices, the most this instance allows. Ask your administrator to remove one you no longer use."
            ),
            Self::PoolFull(m) => m.clone(),
            Self::Invalid(e) => e.message.clone(),
            Self::App(e) => e.to_string(),
        }
    }
}

impl From<AppError> for AddError {
    fn from(e: AppError) -> Self {
        Self::App(e)
    }
}

impl From<rusqlite::Error> for AddError {
    fn from(e: rusqlite::Error) -> Self {
        Self::App(e.into())
    }
}

impl From<AddError> for AppError {
    fn from(e: AddError) -> Self {
        match e {
            AddError::Invalid(f) => AppError::Validation(vec![f]),
            AddError::App(e) => e,
            other => AppError::BadRequest(other.message()),
        }
    }
}

/// Adds a device with an address in every location; returns its id. Nothing is written
/// when it fails, and the caller's transaction can go on (to record the refusal).
pub fn add(c: &Connection, d: &NewDevice<'_>, limit: u32, now: i64) -> Result<i64, AddError> {
    if repo::count_for_user(c, d.user_id)? >= i64::from(limit) {
        return Err(AddError::LimitReached(limit));
    }
    if repo::name_taken(c, d.user_id, d.name)? {
        return Err(AddError::Invalid(name_clash(d.name, None)));
    }
    if repo::find_by_key(c, d.key.as_str())?.is_some() {
        return Err(AddError::Invalid(FieldError::new(
            "public_key",
            "This public key is already used by another device; generate a new key pair.",
        )));
    }
    let mut pool_full = None;
    let added = db::savepoint(c, |c| {
        let id = repo::insert(
            c,
            &repo::NewDevice {
                user_id: d.user_id,
                name: d.name,
                public_key: d.key.as_str(),
                created_at: now,
                pending_token_id: d.pending_token_id,
            },
        )?;
        match super::locations::allocate_for_device(c, id) {
            // The only refusal allocation makes: a location without a free address.
            Err(AppError::BadRequest(m)) => {
                pool_full = Some(m);
                Err(AppError::BadRequest(String::new()))
            }
            other => other.map(|()| id),
        }
    });
    match (added, pool_full) {
        (Ok(id), _) => Ok(id),
        (Err(_), Some(m)) => Err(AddError::PoolFull(m)),
        (Err(e), None) => Err(AddError::App(e)),
    }
}

/// Gives a device a new polling token (the old one stops working); returns the secret.
pub fn rotate_polling_token(c: &Connection, device_id: i64, now: i64) -> Result<String, AppError> {
    let secret = random_alphanumeric(32);
    repo::set_polling_token(c, device_id, &sha256_hex(&secret), now)?;
    Ok(secret)
}

/// The device's addresses per location its owner may connect to, in the order of the
/// locations. The device holds an address in every location; a location restricted to groups
/// its owner is not in is left out (see `db::locations::accessible_to`).
pub fn device_locations(
    c: &Connection,
    device_id: i64,
) -> Result<Vec<(loc_repo::LocationRow, Vec<String>)>, AppError> {
    let device = repo::get(c, device_id)?.ok_or(AppError::NotFound)?;
    // One query for the addresses, then match them to the locations in memory.
    let mut addresses: std::collections::HashMap<i64, Vec<String>> =
        std::collections::HashMap::new();
    for (location, address) in repo::addresses(c, device_id)? {
        addresses.entry(location).or_default().push(address);
    }
    let mut out = Vec::new();
    for l in loc_repo::accessible_to(c, device.user_id)? {
        if let Some(addrs) = addresses.remove(&l.id) {
            out.push((l, addrs));
        }
    }
    Ok(out)
}

/// The device's locations and addresses as an email lists them.
pub fn mail_locations(c: &Connection, device_id: i64) -> Result<Vec<DeviceLocation>, AppError> {
    Ok(device_locations(c, device_id)?
        .into_iter()
        .map(|(l, a)| DeviceLocation {
            name: l.name,
            addresses: a.join(", "),
        })
        .collect())
}

/// Placeholder the browser replaces with the private key it generated.
pub const PRIVATE_KEY_PLACEHOLDER: &str = "PASTE_YOUR_PRIVATE_KEY_HERE";

/// A device's client config for one location, with the private key placeholder.
pub fn client_config(l: &loc_repo::LocationRow, addresses: &[String]) -> Result<String, AppError> {
    let addresses: Vec<std::net::IpAddr> =
        addresses.iter().filter_map(|a| a.parse().ok()).collect();
    let dns = wg::parse_dns("dns", &l.dns)
        .map_err(|e| AppError::internal(anyhow::anyhow!("stored dns: {}", e.message)))?;
    let allowed = wg::parse_networks("allowed_ips", "allowed IPs", &l.allowed_ips)
        .map_err(|e| AppError::internal(anyhow::anyhow!("stored allowed ips: {}", e.message)))?;
    Ok(wg::render_client_config(&wg::PeerConfig {
        private_key: PRIVATE_KEY_PLACEHOLDER,
        addresses: &addresses,
        dns: &dns,
        gateway_key: &l.public_key,
        allowed_ips: &allowed,
        endpoint: &wg::endpoint(&l.endpoint, l.port),
        keepalive: l.keepalive,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::test_connection;

    fn user(conn: &Connection) -> i64 {
        conn.execute(
            "INSERT INTO user (username, first_name, last_name, email, created_at) VALUES ('u', 'A', 'B', 'u@example.com', 0)",
            [],
        )
        .unwrap();
        conn.last_insert_rowid()
    }

    fn key(n: u8) -> WgKey {
        let public = x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from([n; 32]));
        let b64 = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            public.as_bytes(),
        );
        WgKey::parse("pubkey", &b64).unwrap()
    }

    #[test]
    fn clashing_names_get_the_first_free_suffix() {
        let conn = test_connection();
        let u = user(&conn);
        for (n, expected) in [(1, "cli"), (2, "cli-2"), (3, "cli-3")] {
            let name = free_name(&conn, u, DEFAULT_CLIENT_NAME).unwrap();
            assert_eq!(name, expected);
            let k = key(n);
            let d = NewDevice {
                user_id: u,
                name: &name,
                key: &k,
                pending_token_id: None,
            };
            add(&conn, &d, 10, 0).unwrap();
        }
        let long = "x".repeat(64);
        let k = key(9);
        add(
            &conn,
            &NewDevice {
                user_id: u,
                name: &long,
                key: &k,
                pending_token_id: None,
            },
            10,
            0,
        )
        .unwrap();
        let next = free_name(&conn, u, &long).unwrap();
        assert_eq!(next.chars().count(), 64);
        assert!(next.ends_with("-2"));
    }

    #[test]
    fn the_limit_and_duplicate_keys_refuse_without_writing() {
        let conn = test_connection();
        let u = user(&conn);
        let k1 = key(1);
        let new = |name, key| NewDevice {
            user_id: u,
            name,
            key,
            pending_token_id: None,
        };
        add(&conn, &new("a", &k1), 1, 0).unwrap();
        let k2 = key(2);
        assert!(matches!(
            add(&conn, &new("b", &k2), 1, 0),
            Err(AddError::LimitReached(1))
        ));
        assert!(matches!(
            add(&conn, &new("b", &k1), 5, 0),
            Err(AddError::Invalid(_))
        ));
        assert_eq!(repo::count_for_user(&conn, u).unwrap(), 1);
    }
}
