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
        mail_wake: Arc::new(tokio::sync::Notify::new()),
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
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .configure(web::configure)
                .default_service(actix_web::web::to(web::not_found))
                .wrap(from_fn(web::catch_panics))
                .wrap(from_fn(web::head_as_get))
                .wrap(web::security_headers(https))
                .wrap(Compress::default())
        })
        .workers(std::thread::available_parallelism().map_or(2, usize::from))
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

    /// Runs until the server is stopped, pruning ended sessions in the background.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let state = self.state.clone();
        let pruner = tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(300));
            loop {
                tick.tick().await;
                if let Err(e) = services::auth::prune_sessions(&state).await {
                    tracing::warn!(error = %e, "could not prune sessions");
                }
            }
        });
        let mailer = tokio::spawn(services::outbox::run_worker(self.state.clone()));
        let result = self.server.await;
        pruner.abort();
        mailer.abort();
        result
    }
}
