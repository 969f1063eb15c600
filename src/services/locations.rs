//! WireGuard locations: create, edit, delete, gateway key pairs, address allocation and the
//! gateway's `wg-quick` config.

use super::access::{self, Access};
use super::Actor;
use crate::db::locations::{self as repo, LocationFields, LocationRow};
use crate::db::{self, audit};
use crate::domain::wireguard::{self as wg, PoolCidr, WgKey};
use crate::domain::{has_control_chars, FieldError};
use crate::error::AppError;
use crate::state::AppState;
use rusqlite::Connection;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

/// A new X25519 key pair as `(private, public)`, both base64, the private key clamped the
/// way `wg genkey` writes it.
pub fn generate_keypair() -> (String, String) {
    let mut bytes: [u8; 32] = rand::random();
    bytes[0] &= 248;
    bytes[31] &= 127;
    bytes[31] |= 64;
    let secret = x25519_dalek::StaticSecret::from(bytes);
    let public = x25519_dalek::PublicKey::from(&secret);
    (
        WgKey::from_bytes(&bytes).to_string(),
        WgKey::from_bytes(public.as_bytes()).to_string(),
    )
}

/// The location form as submitted.
#[derive(Debug, Clone, Default)]
pub struct LocationInput {
    /// Name.
    pub name: String,
    /// Pool, e.g. `10.10.0.1/24, fd00::1/64`.
    pub addresses: String,
    /// Endpoint host.
    pub endpoint: String,
    /// Port.
    pub port: String,
    /// Allowed IPs.
    pub allowed_ips: String,
    /// DNS servers.
    pub dns: String,
    /// Keepalive seconds.
    pub keepalive: String,
    /// `generate`, `paste` or `keep`.
    pub key_mode: String,
    /// The pasted public key.
    pub public_key: String,
    /// Who can connect: `everyone` or `groups`; `None` keeps what is stored (everyone for a
    /// new location).
    pub access: Option<String>,
    /// The checked groups' ids, when only chosen groups can connect.
    pub groups: Vec<String>,
}

struct Parsed {
    name: String,
    pool: Vec<PoolCidr>,
    endpoint: String,
    port: u16,
    allowed_ips: String,
    dns: String,
    keepalive: u16,
    key: KeyChoice,
    access: Option<Access>,
}

enum KeyChoice {
    Generate,
    Paste(WgKey),
    Keep,
}

/// The location form's fields, top to bottom: the error summary lists problems in this order.
const FORM_ORDER: [&str; 11] = [
    "name",
    "addresses",
    "endpoint",
    "port",
    "allowed_ips",
    "dns",
    "keepalive",
    "key_mode",
    "public_key",
    "access",
    "groups",
];

fn parse(input: &LocationInput, editing: bool) -> Result<Parsed, AppError> {
    let mut errors = Vec::new();
    let mut take = |r: Result<String, FieldError>| match r {
        Ok(v) => v,
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };
    let name = input.name.trim_matches(' ').to_owned();
    let name = take(if name.is_empty() {
        Err(FieldError::new(
            "name",
            "Enter a name for the location, such as Office.",
        ))
    } else if has_control_chars(&name) || name.chars().count() > 64 {
        Err(FieldError::new(
            "name",
            "A location name is at most 64 characters, without line breaks.",
        ))
    } else {
        Ok(name)
    });
    let endpoint = take(wg::parse_endpoint_host("endpoint", &input.endpoint));
    let port = take(match input.port.trim().parse::<u16>() {
        Ok(p) if p > 0 => Ok(p.to_string()),
        _ => Err(FieldError::new("port", "Enter the gateway's UDP port, a number from 1 to 65535 (WireGuard's usual port is 51820).")),
    });
    let allowed_ips = take(
        wg::parse_networks("allowed_ips", "allowed IPs", &input.allowed_ips).map(|n| {
            n.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }),
    );
    let dns = take(wg::parse_dns("dns", &input.dns).map(|d| {
        d.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }));
    let keepalive = take(match input.keepalive.trim() {
        "" => Ok("25".to_owned()),
        k => match k.parse::<u16>() {
            Ok(v) => Ok(v.to_string()),
            Err(_) => Err(FieldError::new("keepalive", "Enter the keepalive in seconds, 0 to 65535 (25 suits most networks; 0 turns it off).")),
        },
    });
    let pool = match wg::parse_pool("addresses", &input.addresses) {
        Ok(p) => p,
        Err(e) => {
            errors.push(e);
            Vec::new()
        }
    };
    let key = match input.key_mode.as_str() {
        "generate" => KeyChoice::Generate,
        "keep" if editing => KeyChoice::Keep,
        "paste" => match WgKey::parse("public_key", &input.public_key) {
            Ok(k) => KeyChoice::Paste(k),
            Err(e) => {
                errors.push(e);
                KeyChoice::Keep
            }
        },
        _ => {
            errors.push(FieldError::new("key_mode", "Choose whether onramp generates the gateway's key pair or you paste its public key."));
            KeyChoice::Keep
        }
    };
    let access = match access::parse(input.access.as_deref(), &input.groups) {
        Ok(a) => a,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    if !errors.is_empty() {
        errors.sort_by_key(|e| {
            FORM_ORDER
                .iter()
                .position(|f| *f == e.field)
                .unwrap_or(usize::MAX)
        });
        return Err(AppError::Validation(errors));
    }
    Ok(Parsed {
        name,
        pool,
        endpoint,
        port: port.parse().unwrap_or(51820),
        allowed_ips,
        dns,
        keepalive: keepalive.parse().unwrap_or(25),
        key,
        access,
    })
}

/// Gives every device exactly one address per CIDR of the location: keeps the addresses
/// that still fit, takes back the ones that do not, and allocates the first free address
/// where one is missing. A pool too small for the devices is a validation error.
pub fn sync_addresses(
    conn: &Connection,
    location_id: i64,
    pool: &[PoolCidr],
) -> Result<(), AppError> {
    let devices = repo::all_device_ids(conn)?;
    let mut held: HashMap<i64, Vec<IpAddr>> = HashMap::new();
    for (device, address) in repo::used_addresses(conn, location_id)? {
        let ip: IpAddr = address.parse().map_err(AppError::internal)?;
        held.entry(device).or_default().push(ip);
    }
    let mut used: HashSet<IpAddr> = HashSet::new();
    let mut keep: HashMap<(i64, usize), IpAddr> = HashMap::new();
    for (device, ips) in &held {
        for ip in ips {
            let slot = pool.iter().position(|c| c.is_assignable(*ip));
            match slot {
                Some(i) if !keep.contains_key(&(*device, i)) => {
                    keep.insert((*device, i), *ip);
                    used.insert(*ip);
                }
                _ => repo::remove_address(conn, location_id, &ip.to_string())?,
            }
        }
    }
    let needed = devices.len();
    for device in devices {
        for (i, cidr) in pool.iter().enumerate() {
            if keep.contains_key(&(device, i)) {
                continue;
            }
            let ip = cidr
                .first_free(&used)
                .ok_or_else(|| AppError::field("addresses", pool_full(cidr, needed)))?;
            repo::add_address(conn, device, location_id, &ip.to_string())?;
            used.insert(ip);
        }
    }
    Ok(())
}

/// Why `cidr` cannot hold the location's devices, with both numbers.
fn pool_full(cidr: &PoolCidr, needed: usize) -> String {
    let room = cidr.capacity();
    let devices = |n: u128| {
        if n == 1 {
            "1 device".to_owned()
        } else {
            format!("{n} devices")
        }
    };
    let need = if needed == 1 { "needs" } else { "need" };
    format!(
        "The network {} has room for {}, but {} {need} an address in it. Use a larger network (a smaller number after the /).",
        cidr.as_net(),
        devices(room),
        devices(needed as u128),
    )
}

fn pool_of(row: &LocationRow) -> Result<Vec<PoolCidr>, AppError> {
    wg::parse_pool("addresses", &row.addresses)
        .map_err(|e| AppError::internal(anyhow::anyhow!("stored pool: {}", e.message)))
}

/// Gives a new device its addresses in every location.
pub fn allocate_for_device(conn: &Connection, device_id: i64) -> Result<(), AppError> {
    for location in repo::all(conn)? {
        let pool = pool_of(&location)?;
        let mut used: HashSet<IpAddr> = repo::used_addresses(conn, location.id)?
            .into_iter()
            .filter_map(|(_, a)| a.parse().ok())
            .collect();
        for cidr in &pool {
            let ip = cidr.first_free(&used).ok_or_else(|| {
                AppError::BadRequest(format!(
                    "The location {} has no free address left in {}. Ask your administrator to enlarge it.",
                    location.name,
                    cidr.as_net()
                ))
            })?;
            repo::add_address(conn, device_id, location.id, &ip.to_string())?;
            used.insert(ip);
        }
    }
    Ok(())
}

fn duplicate_name(name: &str) -> AppError {
    AppError::field("name", format!("A location named {name} already exists."))
}

/// Creates a location and gives every existing device an address in it; returns its id and
/// how many people with a device were emailed about it.
pub async fn create_location(
    state: &AppState,
    actor: &Actor,
    input: LocationInput,
) -> Result<(i64, usize), AppError> {
    let p = parse(&input, false)?;
    let (private_key, public_key) = match &p.key {
        KeyChoice::Generate => {
            let (private, public) = generate_keypair();
            (Some(private), public)
        }
        KeyChoice::Paste(k) => (None, k.to_string()),
        KeyChoice::Keep => {
            return Err(AppError::field("key_mode", "Choose a key for the gateway."))
        }
    };
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    let created = state
        .db
        .write(move |tx| {
            if repo::find_by_name(tx, &p.name)?.is_some() {
                return Err(duplicate_name(&p.name));
            }
            let fields = LocationFields {
                name: &p.name,
                addresses: &wg::format_pool(&p.pool),
                endpoint: &p.endpoint,
                port: p.port,
                public_key: &public_key,
                private_key: private_key.as_deref(),
                allowed_ips: &p.allowed_ips,
                dns: &p.dns,
                keepalive: p.keepalive,
            };
            let id = repo::insert(tx, &fields, now).map_err(|e| {
                if db::is_unique_violation(&e) {
                    duplicate_name(&p.name)
                } else {
                    e.into()
                }
            })?;
            sync_addresses(tx, id, &p.pool)?;
            audit::insert(tx, &actor.event(now, "location.created", Some(&p.name)))?;
            let who = p.access.as_ref().unwrap_or(&Access::Everyone);
            access::apply(tx, &actor, id, &p.name, who, now)?;
            let told = tell_device_owners(tx, id, &p.name, now)?;
            Ok((id, told))
        })
        .await?;
    state.mail_wake.notify_one();
    Ok(created)
}

/// Queues "new VPN location" for everyone with a device who may connect to it: the desktop
/// client picks the location up by itself, a configuration file made in the browser does not.
/// Returns how many.
fn tell_device_owners(tx: &Connection, id: i64, name: &str, now: i64) -> Result<usize, AppError> {
    let owners = repo::device_owners_with_access(tx, id)?;
    tell(tx, &owners, name, now)?;
    Ok(owners.len())
}

/// Queues "new VPN location" to each (email, first name).
fn tell(
    tx: &Connection,
    owners: &[(String, String)],
    name: &str,
    now: i64,
) -> Result<(), AppError> {
    if owners.is_empty() {
        return Ok(());
    }
    let instance = crate::services::settings::load(tx)?.instance_name;
    for (email, first_name) in owners {
        let mail = crate::mail::templates::new_location_email(email, first_name, &instance, name);
        crate::services::outbox::queue(tx, "new-location", &mail, now)?;
    }
    Ok(())
}

/// Saves a location's changes; device addresses follow a changed pool.
pub async fn update_location(
    state: &AppState,
    actor: &Actor,
    id: i64,
    input: LocationInput,
) -> Result<(), AppError> {
    let p = parse(&input, true)?;
    let generated = matches!(p.key, KeyChoice::Generate).then(generate_keypair);
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            let current = repo::get(tx, id)?.ok_or(AppError::NotFound)?;
            if let Some(other) = repo::find_by_name(tx, &p.name)? {
                if other.id != id {
                    return Err(duplicate_name(&p.name));
                }
            }
            let (private_key, public_key) = match (&p.key, generated) {
                (_, Some((private, public))) => (Some(private), public),
                (KeyChoice::Paste(k), None) => (None, k.to_string()),
                _ => (current.private_key.clone(), current.public_key.clone()),
            };
            let fields = LocationFields {
                name: &p.name,
                addresses: &wg::format_pool(&p.pool),
                endpoint: &p.endpoint,
                port: p.port,
                public_key: &public_key,
                private_key: private_key.as_deref(),
                allowed_ips: &p.allowed_ips,
                dns: &p.dns,
                keepalive: p.keepalive,
            };
            repo::update(tx, id, &fields)?;
            sync_addresses(tx, id, &p.pool)?;
            audit::insert(tx, &actor.event(now, "location.updated", Some(&p.name)))?;
            if let Some(who) = &p.access {
                let before = repo::device_owners_with_access(tx, id)?;
                access::apply(tx, &actor, id, &p.name, who, now)?;
                // Opened to more people: those with a device hear about it as if it were new.
                let gained: Vec<_> = repo::device_owners_with_access(tx, id)?
                    .into_iter()
                    .filter(|o| !before.contains(o))
                    .collect();
                tell(tx, &gained, &p.name, now)?;
            }
            Ok(())
        })
        .await?;
    state.mail_wake.notify_one();
    Ok(())
}

/// Deletes a location and the device addresses in it; returns its name.
pub async fn delete_location(state: &AppState, actor: &Actor, id: i64) -> Result<String, AppError> {
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            let row = repo::get(tx, id)?.ok_or(AppError::NotFound)?;
            repo::delete(tx, id)?;
            audit::insert(tx, &actor.event(now, "location.deleted", Some(&row.name)))?;
            Ok(row.name)
        })
        .await
}

/// A location with how many devices have an address in it and who can connect.
#[derive(Debug, Clone)]
pub struct LocationSummary {
    /// The location.
    pub location: LocationRow,
    /// Devices in it.
    pub devices: i64,
    /// The groups whose members may connect, by name; empty when everyone may.
    pub access: Vec<String>,
}

/// Every location, by name.
pub async fn list_locations(state: &AppState) -> Result<Vec<LocationSummary>, AppError> {
    state
        .db
        .read(|c| {
            let counts: HashMap<i64, i64> = repo::device_counts(c)?.into_iter().collect();
            let mut access: HashMap<i64, Vec<String>> = HashMap::new();
            for (location, group) in crate::db::groups::all_access(c)? {
                access.entry(location).or_default().push(group);
            }
            Ok(repo::all(c)?
                .into_iter()
                .map(|location| LocationSummary {
                    devices: counts.get(&location.id).copied().unwrap_or(0),
                    access: access.remove(&location.id).unwrap_or_default(),
                    location,
                })
                .collect())
        })
        .await
}

/// Whether any location exists.
pub async fn any_location(state: &AppState) -> Result<bool, AppError> {
    state.db.read(|c| Ok(repo::count(c)? > 0)).await
}

/// One location.
pub async fn get_location(state: &AppState, id: i64) -> Result<LocationRow, AppError> {
    state
        .db
        .read(move |c| repo::get(c, id)?.ok_or(AppError::NotFound))
        .await
}

/// Placeholder written where onramp does not know the gateway's private key.
pub const PRIVATE_KEY_PLACEHOLDER: &str = "REPLACE_WITH_THE_GATEWAY_PRIVATE_KEY";

/// The gateway's `wg-quick` config for a location: its interface and one peer per device of
/// an active user who may connect to it.
pub fn gateway_config(conn: &Connection, location: &LocationRow) -> Result<String, AppError> {
    let pool = pool_of(location)?;
    let peers = repo::peers(conn, location.id)?
        .into_iter()
        .map(|p| wg::GatewayPeer {
            label: format!("{} / {}", p.username, p.device_name),
            public_key: p.public_key,
            addresses: p
                .addresses
                .split(',')
                .filter_map(|a| a.parse().ok())
                .collect(),
        })
        .collect::<Vec<_>>();
    let private = location
        .private_key
        .as_deref()
        .unwrap_or(PRIVATE_KEY_PLACEHOLDER);
    Ok(wg::render_gateway_config(
        private,
        &pool,
        location.port,
        &peers,
    ))
}

/// The gateway config of the location with this id or name, with a file name for it.
pub async fn gateway_config_for(
    state: &AppState,
    id_or_name: String,
) -> Result<(String, String), AppError> {
    state
        .db
        .read(move |c| {
            let row = match id_or_name.parse::<i64>() {
                Ok(id) => repo::get(c, id)?,
                Err(_) => repo::find_by_name(c, &id_or_name)?,
            }
            .ok_or(AppError::NotFound)?;
            let text = gateway_config(c, &row)?;
            Ok((config_file_name(&row.name), text))
        })
        .await
}

/// A safe `.conf` file name from a location name (wg-quick wants at most 15 characters).
pub fn config_file_name(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    s = s.trim_matches('-').to_owned();
    s.truncate(15);
    let s = s.trim_matches('-').to_owned();
    format!("{}.conf", if s.is_empty() { "wg0".to_owned() } else { s })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_valid_and_distinct() {
        let (a_priv, a_pub) = generate_keypair();
        let (b_priv, _) = generate_keypair();
        assert!(wg::key_problem(&a_priv).is_none());
        assert!(wg::key_problem(&a_pub).is_none());
        assert_ne!(a_priv, b_priv);
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(config_file_name("Office Warsaw"), "office-warsaw.conf");
        assert_eq!(config_file_name("../../etc/passwd"), "etc-passwd.conf");
        assert_eq!(config_file_name("Łódź"), "d.conf");
        assert_eq!(config_file_name("***"), "wg0.conf");
    }
}
