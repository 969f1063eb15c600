//! Gateway sync, server side. Each location's gateway runs `onramp gateway`, which asks for
//! the location's WireGuard state with its gateway token and applies it to an interface.
//!
//! Design: long-poll. The agent sends the version (a hash of the state) it applied; the
//! answer comes at once when the state differs, or when a write commits that changes it, or
//! empty after the wait. Every committed write wakes the waiting requests (`Db::subscribe`);
//! each recomputes its location's state and compares hashes, so no caller has to remember to
//! notify, and a change reaches the agent within a second. The agent reports its peers'
//! handshakes and counters back.

use super::Actor;
use crate::crypto::{random_alphanumeric, sha256_hex};
use crate::db::{audit, gateways as repo, locations as loc_repo};
use crate::error::AppError;
use crate::state::AppState;
use rusqlite::Connection;
use std::collections::HashMap;
use std::time::Duration;

/// Failed gateway authentications allowed per address per minute.
const AUTH_FAILURE_LIMIT: usize = 10;

/// Longest a config request waits for a change.
pub const MAX_WAIT: Duration = Duration::from_secs(30);

/// One device as the gateway's peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayPeer {
    /// The device's public key.
    pub public_key: String,
    /// Its addresses as host networks (`10.0.0.2/32`, `fd00::2/128`).
    pub allowed_ips: Vec<String>,
}

/// What a location's gateway interface must look like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayConfig {
    /// A hash of everything below: the agent sends it back to wait for a change.
    pub version: String,
    /// The location's name.
    pub location: String,
    /// The gateway's public key.
    pub public_key: String,
    /// The gateway's private key, when onramp generated the pair; otherwise the interface
    /// keeps its own.
    pub private_key: Option<String>,
    /// UDP port to listen on.
    pub listen_port: u16,
    /// The gateway's own tunnel addresses with prefix (informational: the agent leaves
    /// addresses and routes to the host's network setup).
    pub addresses: Vec<String>,
    /// One peer per device that may connect.
    pub peers: Vec<GatewayPeer>,
}

fn host_network(address: &str) -> Option<String> {
    let ip: std::net::IpAddr = address.trim().parse().ok()?;
    Some(match ip {
        std::net::IpAddr::V4(_) => format!("{ip}/32"),
        std::net::IpAddr::V6(_) => format!("{ip}/128"),
    })
}

/// The state of a location's gateway now.
pub fn config(c: &Connection, location_id: i64) -> Result<GatewayConfig, AppError> {
    let l = loc_repo::get(c, location_id)?.ok_or(AppError::NotFound)?;
    let peers: Vec<GatewayPeer> = loc_repo::peers(c, location_id)?
        .into_iter()
        .map(|p| GatewayPeer {
            allowed_ips: p.addresses.split(',').filter_map(host_network).collect(),
            public_key: p.public_key,
        })
        .collect();
    let addresses: Vec<String> = l
        .addresses
        .split(',')
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty())
        .collect();
    let mut canonical = format!(
        "{}\n{}\n{}\n{}\n",
        l.public_key,
        l.private_key.as_deref().unwrap_or("-"),
        l.port,
        addresses.join(",")
    );
    for p in &peers {
        canonical.push_str(&p.public_key);
        canonical.push(' ');
        canonical.push_str(&p.allowed_ips.join(","));
        canonical.push('\n');
    }
    Ok(GatewayConfig {
        version: sha256_hex(&canonical)[..16].to_owned(),
        location: l.name,
        public_key: l.public_key,
        private_key: l.private_key,
        listen_port: l.port,
        addresses,
        peers,
    })
}

/// A new gateway token for a location (the previous one stops working); shown once.
pub async fn issue_token(
    state: &AppState,
    actor: &Actor,
    location_id: i64,
) -> Result<(String, String), AppError> {
    let secret = random_alphanumeric(32);
    let hash = sha256_hex(&secret);
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    let name = state
        .db
        .write(move |tx| {
            let l = loc_repo::get(tx, location_id)?.ok_or(AppError::NotFound)?;
            let rotated = repo::exists(tx, location_id)?;
            repo::set_token(tx, location_id, &hash, now)?;
            let mut e = actor.event(now, "gateway.token_issued", Some(&l.name));
            e.detail = Some(if rotated {
                "rotated: the previous token stopped working"
            } else {
                "first token"
            });
            audit::insert(tx, &e)?;
            Ok(l.name)
        })
        .await?;
    Ok((secret, name))
}

/// The location a gateway token belongs to; failures are limited per address.
pub async fn authenticate(state: &AppState, actor: &Actor, token: &str) -> Result<i64, AppError> {
    let now = state.now();
    let key = format!("gateway-auth:{}", actor.limit_key());
    state
        .limits
        .check(&key, AUTH_FAILURE_LIMIT, time::Duration::minutes(1), now)
        .map_err(AppError::RateLimited)?;
    let hash = sha256_hex(token.trim());
    let found = state
        .db
        .read(move |c| Ok(repo::location_for_token(c, &hash)?))
        .await?;
    match found {
        Some(id) => Ok(id),
        None => {
            state.limits.record(&key, time::Duration::minutes(1), now);
            Err(AppError::Forbidden(
                "This gateway token is not valid: create a new one on the Locations page.".into(),
            ))
        }
    }
}

/// Records that the agent called, with what it says about itself.
pub async fn touch(
    state: &AppState,
    location_id: i64,
    version: Option<String>,
    hostname: Option<String>,
) -> Result<(), AppError> {
    let now = state.now().unix_timestamp();
    state
        .db
        .write(move |tx| {
            Ok(repo::touch(
                tx,
                location_id,
                now,
                version.as_deref(),
                hostname.as_deref(),
            )?)
        })
        .await
}

/// The location's gateway state once it differs from `known` (the version the agent
/// applied), waiting up to `wait` for a change; `None` when nothing changed.
pub async fn wait_for_config(
    state: &AppState,
    location_id: i64,
    known: Option<String>,
    wait: Duration,
) -> Result<Option<GatewayConfig>, AppError> {
    let deadline = tokio::time::Instant::now() + wait.min(MAX_WAIT);
    let mut changes = state.db.subscribe();
    loop {
        // Mark the current write as seen before reading, so a write that commits between
        // the read and the wait still wakes us.
        changes.borrow_and_update();
        let current = state.db.read(move |c| config(c, location_id)).await?;
        if known.as_deref() != Some(current.version.as_str()) {
            return Ok(Some(current));
        }
        match tokio::time::timeout_at(deadline, changes.changed()).await {
            Ok(Ok(())) => continue,
            // Timed out, or the database is shutting down.
            _ => return Ok(None),
        }
    }
}

/// What a gateway saw of one peer, as the agent reports it.
#[derive(Debug, Clone)]
pub struct PeerSeen {
    /// The peer's public key.
    pub public_key: String,
    /// Latest handshake, unix seconds; `None` if never.
    pub last_handshake: Option<i64>,
    /// Bytes received from the peer.
    pub rx_bytes: i64,
    /// Bytes sent to the peer.
    pub tx_bytes: i64,
}

/// Stores a gateway's report of its peers (its contact was recorded when it authenticated).
pub async fn report(
    state: &AppState,
    location_id: i64,
    peers: Vec<PeerSeen>,
) -> Result<usize, AppError> {
    let now = state.now().unix_timestamp();
    state
        .db
        .write(move |tx| {
            let reports: Vec<repo::PeerReport<'_>> = peers
                .iter()
                .map(|p| repo::PeerReport {
                    public_key: &p.public_key,
                    last_handshake: p.last_handshake,
                    rx_bytes: p.rx_bytes,
                    tx_bytes: p.tx_bytes,
                })
                .collect();
            Ok(repo::record_stats(tx, location_id, &reports, now)?)
        })
        .await
}

/// How a location's gateway is doing, for the Locations page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayState {
    /// No token was ever made.
    NotSetUp,
    /// A token exists but no agent ever called.
    NeverConnected,
    /// The agent called this many seconds ago (within the last minute).
    Connected {
        /// Seconds since its last request.
        seconds_ago: i64,
        /// Its version.
        version: Option<String>,
    },
    /// The agent has been silent for this many seconds.
    Silent {
        /// Seconds since its last request.
        seconds_ago: i64,
    },
}

/// An agent that has not called for this long is shown as silent (it calls at least every
/// ten seconds).
const SILENT_AFTER: i64 = 60;

/// The gateway state of every location, by location id.
pub async fn states(state: &AppState) -> Result<HashMap<i64, GatewayState>, AppError> {
    let now = state.now().unix_timestamp();
    state
        .db
        .read(move |c| {
            Ok(repo::all(c)?
                .into_iter()
                .map(|g| {
                    let s = match g.last_seen_at {
                        None => GatewayState::NeverConnected,
                        Some(t) if now - t <= SILENT_AFTER => GatewayState::Connected {
                            seconds_ago: (now - t).max(0),
                            version: g.version,
                        },
                        Some(t) => GatewayState::Silent {
                            seconds_ago: now - t,
                        },
                    };
                    (g.location_id, s)
                })
                .collect())
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::test_connection;

    #[test]
    fn addresses_become_host_networks() {
        assert_eq!(host_network("10.0.0.2").as_deref(), Some("10.0.0.2/32"));
        assert_eq!(host_network("fd00::2").as_deref(), Some("fd00::2/128"));
        assert_eq!(host_network("nonsense"), None);
    }

    #[test]
    fn the_version_follows_the_peers() {
        let conn = test_connection();
        conn.execute(
            "INSERT INTO location (name, addresses, endpoint, port, public_key, private_key, allowed_ips, created_at)
             VALUES ('Office', '10.9.0.1/24', 'vpn.example.com', 51820, 'pub', 'priv', '10.9.0.0/24', 0)",
            [],
        )
        .unwrap();
        let before = config(&conn, 1).unwrap();
        assert!(before.peers.is_empty());
        assert_eq!(before.private_key.as_deref(), Some("priv"));
        conn.execute(
            "INSERT INTO user (username, first_name, last_name, email, created_at) VALUES ('u', 'A', 'B', 'u@example.com', 0)",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO device (user_id, name, public_key, created_at) VALUES (1, 'pc', 'devkey', 0)",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO device_address (device_id, location_id, address) VALUES (1, 1, '10.9.0.2')",
            [],
        )
        .unwrap();
        let after = config(&conn, 1).unwrap();
        assert_ne!(before.version, after.version);
        assert_eq!(
            after.peers,
            vec![GatewayPeer {
                public_key: "devkey".into(),
                allowed_ips: vec!["10.9.0.2/32".into()]
            }]
        );
        assert_eq!(config(&conn, 1).unwrap().version, after.version);
        conn.execute("UPDATE user SET is_active = 0", []).unwrap();
        assert!(config(&conn, 1).unwrap().peers.is_empty());
    }
}
