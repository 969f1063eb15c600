//! Builds the application: state, routes, middleware, and the bound HTTP server.

use crate::clock::SharedClock;
use crate::config::Config;
use crate::crypto::{PasswordHasher, SecretBox};
use crate::db::Db;
use crate::ratelimit::RateLimiter;
use crate::services;
use crate::state::AppState;
use crate::web;
use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Compress};
use actix_web::{App, HttpServer};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

/// A built application, bound to its port but not yet running.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
}

/// Opens the database (applying migrations) and builds the shared state around it.
pub fn open_state(config: Config, clock: SharedClock) -> anyhow::Result<AppState> {
    let db = Db::open(&config.database)?;
    let key_file = std::path::PathBuf::from(format!("{}.key", config.database.display()));
    let secrets = SecretBox::load_or_create(&key_file)?;
    let name = crate::db::settings::get(&*db.conn()?, crate::db::settings::INSTANCE_NAME)?
        .unwrap_or_else(|| "onramp".into());
    Ok(AppState {
        secrets,
        instance_name: Arc::new(std::sync::RwLock::new(name)),
        db,
        clock,
        config: Arc::new(config),
        hasher: PasswordHasher::default(),
        limits: Arc::new(RateLimiter::default()),
        poll_limits: Arc::default(),
        mail_wake: Arc::new(tokio::sync::Notify::new()),
        oidc_keys: Arc::default(),
    })
}

/// [`open_state`], then fixes the instance id and creates the first admin on an empty database.
pub fn build_state(
    config: Config,
    clock: SharedClock,
) -> anyhow::Result<(AppState, services::bootstrap::Bootstrap)> {
    let state = open_state(config, clock)?;
    let boot = services::bootstrap::ensure_instance(&state)
        .map_err(|e| anyhow::anyhow!("first start: {e:#}"))?;
    state.hasher.warm_up();
    Ok((state, boot))
}

/// Descriptors kept free of connections: the database pools (a file, its -wal and -shm per
/// connection), the key file, the listener, logs, SMTP, and headroom.
const RESERVED_DESCRIPTORS: u64 = 256;

/// Connections each worker may hold so that all of them together stay below the descriptor
/// limit (raised to the hard limit at start, `os::raise_descriptor_limit`).
fn connections_per_worker(workers: usize) -> usize {
    let free = crate::os::descriptor_limit().saturating_sub(RESERVED_DESCRIPTORS);
    let per_worker = free / u64::try_from(workers.max(1)).unwrap_or(1);
    usize::try_from(per_worker)
        .unwrap_or(usize::MAX)
        .clamp(16, 25_000)
}

impl Application {
    /// Binds the listener and builds the server around `state`.
    pub fn build(state: AppState) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(state.config.listen).map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on {} (ONRAMP_LISTEN): {e}",
                state.config.listen
            )
        })?;
        let port = listener.local_addr()?.port();
        let data = actix_web::web::Data::new(state.clone());
        let https = state.config.is_https();
        let workers = std::thread::available_parallelism().map_or(2, usize::from);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .configure(web::configure)
                .default_service(actix_web::web::to(web::not_found))
                .wrap(from_fn(web::errors::dress_error_pages))
                .wrap(from_fn(web::catch_panics))
                .wrap(from_fn(web::head_as_get))
                .wrap(from_fn(web::read_body_in_time))
                .wrap(web::security_headers(https))
                .wrap(Compress::default())
        })
        .workers(workers)
        // Slow clients are cut off: the request head within 5 s, the body within the body
        // timeout (read_body_in_time), an idle keep-alive connection after 5 s.
        .client_request_timeout(Duration::from_secs(5))
        .client_disconnect_timeout(Duration::from_secs(1))
        .keep_alive(Duration::from_secs(5))
        // Connections stop being accepted before descriptors run out, so a flood waits in the
        // listen backlog instead of making every open() fail with "too many open files".
        .max_connections(connections_per_worker(workers))
        // Blocking work (SQLite, argon2) needs no more threads than there are database
        // connections: 4 per worker. More threads only add memory (a malloc arena each).
        .worker_max_blocking_threads(4)
        .listen(listener)?
        .run();
        Ok(Self {
            port,
            server,
            state,
        })
    }

    /// The port the server listens on (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs until the server is stopped, doing the upkeep of `services::upkeep` in the
    /// background: at once, then every five minutes.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let state = self.state.clone();
        let pruner = tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(300));
            loop {
                tick.tick().await;
                services::upkeep::run_once(&state).await;
            }
        });
        let mailer = tokio::spawn(services::outbox::run_worker(self.state.clone()));
        let result = self.server.await;
        pruner.abort();
        mailer.abort();
        result
    }
}
