//! Command line: every flag is also an `ONRAMP_*` environment variable.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// onramp: onboard people onto a company WireGuard VPN.
#[derive(Debug, Parser)]
#[command(name = "onramp", version, about, long_about = None)]
pub struct Cli {
    /// Settings shared by every subcommand.
    #[command(flatten)]
    pub settings: RawSettings,

    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web interface and the client API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Write a consistent copy of the database to FILE while the server may be running.
    Backup {
        /// Where to write the copy; must not exist yet.
        file: PathBuf,
    },
    /// Print a location's gateway wg-quick config (interface and one peer per device).
    GatewayConfig {
        /// The location's name or id.
        location: String,
    },
    /// Run on a location's gateway host: keep a WireGuard interface equal to onramp's view.
    Gateway(GatewayArgs),
    /// Add the people of a CSV file (the format of "Import users"): every row or none.
    ImportUsers {
        /// The CSV file.
        file: PathBuf,
        /// Email each new user an invitation (queued in the outbox).
        #[arg(long)]
        invite: bool,
        /// Only print what would happen; add no one.
        #[arg(long)]
        dry_run: bool,
    },
    /// Make a new OpenID Connect signing key: published at once, signing after a delay.
    RotateOidcKey,
    /// Give the admin account a new password and end its sessions.
    ResetAdminPassword {
        /// The admin account to reset.
        #[arg(long, default_value = "admin")]
        username: String,
    },
}

/// The gateway agent's settings.
#[derive(Debug, Clone, Args)]
pub struct GatewayArgs {
    /// onramp's public URL, as people reach it (ONRAMP_PUBLIC_URL on the server).
    #[arg(long, env = "ONRAMP_GATEWAY_URL")]
    pub url: String,
    /// The location's gateway token, from the Locations page (prefer the variable: a flag
    /// shows in the process list).
    #[arg(long, env = "ONRAMP_GATEWAY_TOKEN", hide_env_values = true)]
    pub token: String,
    /// The WireGuard interface to keep in sync; it must exist.
    #[arg(long, env = "ONRAMP_GATEWAY_INTERFACE")]
    pub interface: String,
    /// The `wg` program of wireguard-tools.
    #[arg(long, env = "ONRAMP_GATEWAY_WG", default_value = "wg")]
    pub wg: PathBuf,
}

/// Settings as written on the command line or in the environment, before validation.
#[derive(Debug, Clone, Args)]
pub struct RawSettings {
    /// Address and port to listen on.
    #[arg(
        long,
        env = "ONRAMP_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: String,

    /// Path of the SQLite database file.
    #[arg(
        long,
        env = "ONRAMP_DATABASE",
        default_value = "./onramp.db",
        global = true
    )]
    pub database: PathBuf,

    /// The URL people reach onramp at; every link in pages and emails is built from it.
    #[arg(
        long,
        env = "ONRAMP_PUBLIC_URL",
        default_value = "http://localhost:8080",
        global = true
    )]
    pub public_url: String,

    /// Password for the first admin (only used when the database has no users).
    #[arg(
        long,
        env = "ONRAMP_ADMIN_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub admin_password: Option<String>,

    /// How long an enrollment token stays valid after issue (e.g. 24h).
    #[arg(
        long,
        env = "ONRAMP_ENROLLMENT_TOKEN_TTL",
        default_value = "24h",
        global = true
    )]
    pub enrollment_token_ttl: String,

    /// How long an enrollment session lasts from its first start (e.g. 10m).
    #[arg(
        long,
        env = "ONRAMP_ENROLLMENT_SESSION_TTL",
        default_value = "10m",
        global = true
    )]
    pub enrollment_session_ttl: String,

    /// How long a desktop activation token stays valid after issue (e.g. 24h).
    #[arg(
        long,
        env = "ONRAMP_DESKTOP_TOKEN_TTL",
        default_value = "24h",
        global = true
    )]
    pub desktop_token_ttl: String,

    /// How long a password reset link stays valid after issue (e.g. 24h).
    #[arg(
        long,
        env = "ONRAMP_RESET_TOKEN_TTL",
        default_value = "24h",
        global = true
    )]
    pub reset_token_ttl: String,

    /// How long a user has to choose the new password once a reset link is opened (e.g. 10m).
    #[arg(
        long,
        env = "ONRAMP_RESET_SESSION_TTL",
        default_value = "10m",
        global = true
    )]
    pub reset_session_ttl: String,

    /// SMTP server URL; overrides the settings page (smtp://user:pass@host:587?tls=starttls).
    #[arg(long, env = "ONRAMP_SMTP_URL", hide_env_values = true, global = true)]
    pub smtp_url: Option<String>,

    /// Comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For is trusted.
    #[arg(
        long,
        env = "ONRAMP_TRUSTED_PROXIES",
        default_value = "",
        global = true
    )]
    pub trusted_proxies: String,

    /// Log format: "text" or "json".
    #[arg(long, env = "ONRAMP_LOG_FORMAT", default_value = "text", global = true)]
    pub log_format: String,
}
