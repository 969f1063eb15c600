//! `onramp gateway`: runs on a location's gateway host and keeps an existing WireGuard
//! interface equal to onramp's view of the location (private key, listen port, one peer per
//! device that may connect), applying differences only.
//!
//! It long-polls onramp with the version it applied, so a change reaches the interface
//! within a second; every poll returns after at most [`WAIT`], when the agent reports its
//! peers' handshakes and counters. When onramp is unreachable the interface keeps what was
//! last applied, the agent retries with backoff and logs the outage once.

pub mod wg;

use crate::web::gateway::{WireConfig, WireReport, HOST_HEADER, VERSION_HEADER};
use std::path::PathBuf;
use std::time::Duration;

/// How long one config request may wait on the server for a change.
const WAIT: Duration = Duration::from_secs(10);
/// Peers per status report: about 13 KB of JSON, under onramp's 16 KiB body limit.
const REPORT_CHUNK: usize = 100;
/// What was last reported per peer: handshake, received and sent bytes.
type Reported = std::collections::HashMap<String, (Option<i64>, i64, i64)>;
/// Longest pause between retries when something fails.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What the agent needs.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// onramp's public URL, without a trailing slash.
    pub url: String,
    /// The location's gateway token.
    pub token: String,
    /// The WireGuard interface to manage.
    pub interface: String,
    /// The `wg` program.
    pub wg: PathBuf,
}

/// Why one round failed; each kind is logged once until it clears.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Trouble {
    Unreachable(String),
    Refused(String),
    Interface(String),
}

struct Client {
    agent: ureq::Agent,
    config: AgentConfig,
    host: String,
}

enum Fetched {
    Changed(Box<WireConfig>),
    Unchanged,
}

impl Client {
    fn new(config: AgentConfig) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(5))
            .timeout_read(WAIT + Duration::from_secs(10))
            .timeout_write(Duration::from_secs(10))
            .build();
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_default();
        Self {
            agent,
            config,
            host,
        }
    }

    fn request(&self, method: &str, path: &str) -> ureq::Request {
        self.agent
            .request(
                method,
                &format!("{}/api/gateway/v1/{path}", self.config.url),
            )
            .set("Authorization", &format!("Bearer {}", self.config.token))
            .set(VERSION_HEADER, env!("CARGO_PKG_VERSION"))
            .set(HOST_HEADER, &self.host)
    }

    fn fetch(&self, applied: Option<&str>) -> Result<Fetched, Trouble> {
        let mut req = self
            .request("GET", "config")
            .query("wait", &WAIT.as_secs().to_string());
        if let Some(v) = applied {
            req = req.query("version", v);
        }
        match req.call() {
            Ok(res) if res.status() == 204 => Ok(Fetched::Unchanged),
            Ok(res) => res
                .into_json::<WireConfig>()
                .map(|c| Fetched::Changed(Box::new(c)))
                .map_err(|e| Trouble::Unreachable(format!("unreadable answer: {e}"))),
            Err(e) => Err(trouble(e)),
        }
    }

    /// Reports the peers whose handshake or counters changed since the last report, in
    /// requests small enough for onramp's body limit (16 KiB).
    fn report(&self, iface: &wg::Interface, reported: &mut Reported) -> Result<(), Trouble> {
        let changed: Vec<_> = wg::report(iface)
            .into_iter()
            .filter(|p| {
                reported.get(&p.public_key) != Some(&(p.last_handshake, p.rx_bytes, p.tx_bytes))
            })
            .collect();
        for chunk in changed.chunks(REPORT_CHUNK) {
            self.request("POST", "status")
                .send_json(WireReport {
                    peers: chunk.to_vec(),
                })
                .map_err(trouble)?;
            for p in chunk {
                reported.insert(
                    p.public_key.clone(),
                    (p.last_handshake, p.rx_bytes, p.tx_bytes),
                );
            }
        }
        reported.retain(|key, _| iface.peers.contains_key(key));
        Ok(())
    }
}

fn trouble(e: ureq::Error) -> Trouble {
    match e {
        ureq::Error::Status(code, res) => {
            let body = res.into_string().unwrap_or_default();
            let message = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned))
                .unwrap_or(body);
            if code == 401 || code == 403 {
                Trouble::Refused(message)
            } else {
                Trouble::Unreachable(format!("HTTP {code}: {message}"))
            }
        }
        ureq::Error::Transport(t) => Trouble::Unreachable(t.to_string()),
    }
}

/// One pass: fetch, apply the differences, report. Returns the version now applied.
fn round(
    client: &Client,
    applied: Option<String>,
    reported: &mut Reported,
) -> Result<Option<String>, Trouble> {
    let cfg = &client.config;
    let fetched = client.fetch(applied.as_deref())?;
    let applied = match fetched {
        Fetched::Unchanged => applied,
        Fetched::Changed(want) => {
            let current = wg::show(&cfg.wg, &cfg.interface).map_err(Trouble::Interface)?;
            let plan = wg::plan(&current, &want);
            if !plan.is_empty() {
                wg::apply(&cfg.wg, &cfg.interface, &plan).map_err(Trouble::Interface)?;
                tracing::info!(
                    location = %want.location,
                    version = %want.version,
                    peers = want.peers.len(),
                    added_or_changed = plan.set.len(),
                    removed = plan.remove.len(),
                    key_set = plan.private_key.is_some(),
                    "applied onramp's state to {}",
                    cfg.interface
                );
            }
            if want.private_key.is_none() && current.public_key.as_deref() != Some(&want.public_key)
            {
                tracing::warn!(
                    "the key of {} does not match the location's public key {}: devices will not connect until the interface uses the matching private key",
                    cfg.interface,
                    want.public_key
                );
            }
            // Only the version is kept: the peer lists go before the interface is read again.
            Some(want.version)
        }
    };
    let seen = wg::show(&cfg.wg, &cfg.interface).map_err(Trouble::Interface)?;
    client.report(&seen, reported)?;
    Ok(applied)
}

/// Runs until the process is stopped.
pub fn run(config: AgentConfig) -> anyhow::Result<()> {
    let client = Client::new(config);
    tracing::info!(
        url = %client.config.url,
        interface = %client.config.interface,
        "onramp gateway agent started"
    );
    let mut applied: Option<String> = None;
    let mut reported = Reported::new();
    let mut trouble: Option<Trouble> = None;
    let mut backoff = Duration::from_secs(1);
    loop {
        match round(&client, applied.clone(), &mut reported) {
            Ok(now) => {
                applied = now;
                if let Some(past) = trouble.take() {
                    tracing::info!(?past, "gateway sync works again");
                }
                backoff = Duration::from_secs(1);
            }
            Err(t) => {
                // Once per kind of trouble, not every retry.
                let new = trouble
                    .as_ref()
                    .is_none_or(|old| std::mem::discriminant(old) != std::mem::discriminant(&t));
                if new {
                    match &t {
                        Trouble::Unreachable(e) => tracing::warn!(
                            "onramp at {} is unreachable ({e}); the interface keeps the last applied state; retrying",
                            client.config.url
                        ),
                        Trouble::Refused(e) => tracing::error!(
                            "onramp refused the gateway token ({e}); create a new token on the Locations page"
                        ),
                        Trouble::Interface(e) => tracing::error!("{e}"),
                    }
                    trouble = Some(t);
                }
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}
