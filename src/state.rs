//! What every request can reach: database, clock, configuration, password hasher, limits.

use crate::clock::SharedClock;
use crate::config::Config;
use crate::crypto::{PasswordHasher, SecretBox};
use crate::db::Db;
use crate::poll_limits::PollLimits;
use crate::ratelimit::RateLimiter;
use std::sync::Arc;

/// Shared application state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The only source of time.
    pub clock: SharedClock,
    /// Validated configuration.
    pub config: Arc<Config>,
    /// argon2 behind a semaphore.
    pub hasher: PasswordHasher,
    /// Login and token-endpoint limits.
    pub limits: Arc<RateLimiter>,
    /// The desktop client's `poll` limits, which must tell stale clients from guessing.
    pub poll_limits: Arc<PollLimits>,
    /// Encrypts tokens waiting in the outbox.
    pub secrets: SecretBox,
    /// The instance's display name, shown on every page; kept here so pages need no query
    /// for it. Settings updates refresh it.
    pub instance_name: Arc<std::sync::RwLock<String>>,
    /// Wakes the mail worker when something was queued.
    pub mail_wake: Arc<tokio::sync::Notify>,
    /// The OpenID Connect signing keys, parsed.
    pub oidc_keys: Arc<crate::services::oidc::keys::KeyCache>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// The current time from the state's clock.
    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }
}
