//! The `onramp` binary: parse the command line, set up logging, run a subcommand.

use clap::Parser;
use onramp::cli::{Cli, Command};
use onramp::clock::SystemClock;
use onramp::{db, services, startup, Config};
use std::process::ExitCode;
use std::sync::Arc;

fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ONRAMP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,actix_server=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    onramp::os::restrict_new_files();
    let cli = Cli::parse();
    let config = match Config::from_raw(&cli.settings) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("onramp: invalid setting {e}");
            return ExitCode::from(2);
        }
    };
    init_tracing(config.log_json);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config),
        Command::Migrate => migrate(&config),
        Command::Backup { file } => backup(&config, &file),
        Command::ResetAdminPassword { username } => reset_admin_password(config, &username),
        Command::GatewayConfig { location } => gateway_config(config, location),
        Command::RotateOidcKey => rotate_oidc_key(config),
        Command::Gateway(args) => gateway(args),
        Command::ImportUsers {
            file,
            invite,
            dry_run,
        } => import_users(config, &file, invite, dry_run),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("onramp: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    let descriptors = onramp::os::raise_descriptor_limit();
    tracing::debug!(descriptors, "open-file limit");
    let listen = config.listen;
    let public_url = config.public_url.clone();
    let (state, boot) = startup::build_state(config, Arc::new(SystemClock))?;
    if let Some(password) = boot.generated_password {
        // Printed once, outside the structured log, so no log pipeline keeps it.
        eprintln!("\n  First start: created admin user \"admin\" with password: {password}\n  Log in at {public_url}/admin/login and keep it safe; it is not shown again.\n");
    } else if boot.created_admin {
        tracing::info!("first start: created admin user \"admin\" with ONRAMP_ADMIN_PASSWORD");
    }
    actix_web::rt::System::new().block_on(async move {
        // The first signing key is made before serving, off the async workers.
        services::oidc::keys::ensure(&state).await?;
        let app = startup::Application::build(state)?;
        tracing::info!(%listen, port = app.port(), %public_url, "onramp is serving");
        app.run_until_stopped().await?;
        Ok(())
    })
}

fn migrate(config: &Config) -> anyhow::Result<()> {
    let mut conn = rusqlite::Connection::open(&config.database)?;
    db::configure(&conn)?;
    let applied = db::migrate::run(&mut conn)?;
    if applied.is_empty() {
        println!("database {} is up to date", config.database.display());
    }
    for name in applied {
        println!("applied {name}");
    }
    Ok(())
}

fn backup(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    // symlink_metadata, not exists(): a dangling symlink "does not exist" but VACUUM INTO
    // would write the secrets wherever it points.
    if file.symlink_metadata().is_ok() {
        anyhow::bail!("{} already exists; choose a new file name", file.display());
    }
    if !config.database.exists() {
        anyhow::bail!(
            "there is no database at {} (ONRAMP_DATABASE)",
            config.database.display()
        );
    }
    // Created here, empty, owner-only and exclusively (O_EXCL refuses a symlink put there
    // meanwhile); VACUUM INTO then fills the empty file and keeps its mode.
    db::create_private(file, true)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", file.display()))?;
    let conn = rusqlite::Connection::open(&config.database)?;
    db::configure(&conn)?;
    let target = file
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("the backup path is not UTF-8"))?;
    // VACUUM INTO reads one consistent snapshot while the server keeps writing.
    conn.execute("VACUUM INTO ?1", [target])?;
    let copy = rusqlite::Connection::open(file)?;
    let check: String = copy.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if check != "ok" {
        anyhow::bail!(
            "the backup at {} failed its integrity check: {check}",
            file.display()
        );
    }
    println!("backup written to {} (integrity_check: ok)", file.display());
    Ok(())
}

fn reset_admin_password(config: Config, username: &str) -> anyhow::Result<()> {
    let (state, _) = startup::build_state(config, Arc::new(SystemClock))?;
    let password = services::bootstrap::reset_admin_password(&state, username)?;
    println!("New password for {username}: {password}");
    println!("Every session of {username} has been ended.");
    Ok(())
}

fn rotate_oidc_key(config: Config) -> anyhow::Result<()> {
    let state = startup::open_state(config, Arc::new(SystemClock))?;
    let now = state.now().unix_timestamp();
    let kid = services::oidc::keys::rotate_blocking(&state.db, &state.secrets, now)?;
    let minutes = services::oidc::keys::PUBLISH_AHEAD / 60;
    println!("New OpenID Connect signing key {kid}: published now, signs in {minutes} minutes.");
    println!("The previous key stays published until the tokens it signed have expired.");
    Ok(())
}

fn gateway_config(config: Config, location: String) -> anyhow::Result<()> {
    let state = startup::open_state(config, Arc::new(SystemClock))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let shown = location.clone();
    match rt.block_on(services::locations::gateway_config_for(&state, location)) {
        Ok((_, text)) => {
            print!("{text}");
            Ok(())
        }
        Err(onramp::error::AppError::NotFound) => {
            anyhow::bail!("there is no location named \"{shown}\"")
        }
        Err(e) => Err(e.into()),
    }
}

fn import_users(
    config: Config,
    file: &std::path::Path,
    invite: bool,
    dry_run: bool,
) -> anyhow::Result<()> {
    use services::import::Action;
    let meta = std::fs::metadata(file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    if meta.len() > onramp::domain::import::MAX_BYTES as u64 {
        anyhow::bail!(
            "{}: the file is larger than 5 MB; split it into smaller files",
            file.display()
        );
    }
    let bytes = std::fs::read(file)?;
    let state = startup::open_state(config, Arc::new(SystemClock))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let plan = match rt.block_on(services::import::dry_run(&state, bytes)) {
        Err(onramp::error::AppError::Validation(errors)) => {
            let messages: Vec<String> = errors.into_iter().map(|e| e.message).collect();
            anyhow::bail!("{}: {}", file.display(), messages.join(" "));
        }
        other => other?,
    };
    for row in &plan.rows {
        let what = match &row.action {
            Action::Create => "add".to_owned(),
            Action::Skip(why) => format!("skip: {why}"),
            Action::Error(why) => format!("error: {why}"),
        };
        println!("line {}: {}: {what}", row.line, row.username);
    }
    println!(
        "{} to add, {} skipped, {} with errors",
        plan.creates.len(),
        plan.skips(),
        plan.errors()
    );
    if plan.errors() > 0 {
        anyhow::bail!("nothing was imported: fix the rows with errors and run the command again");
    }
    if dry_run {
        println!("dry run: nothing was added");
        return Ok(());
    }
    let actor = services::Actor {
        username: "system".to_owned(),
        ..Default::default()
    };
    let summary = rt.block_on(services::import::apply(
        &state,
        &actor,
        plan.creates,
        invite,
    ))?;
    println!(
        "imported {} users; {} invitation emails queued",
        summary.created, summary.invited
    );
    Ok(())
}

fn gateway(args: onramp::cli::GatewayArgs) -> anyhow::Result<()> {
    let url = args.url.trim().trim_end_matches('/').to_owned();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        anyhow::bail!("ONRAMP_GATEWAY_URL (--url) must start with http:// or https://: {url}");
    }
    let token = args.token.trim().to_owned();
    if token.is_empty() {
        anyhow::bail!(
            "ONRAMP_GATEWAY_TOKEN (--token) is empty: create a gateway token on the Locations page"
        );
    }
    let interface = args.interface.trim().to_owned();
    if interface.is_empty() || interface.len() > 15 || interface.contains(['/', ' ']) {
        anyhow::bail!(
            "ONRAMP_GATEWAY_INTERFACE (--interface) must be an interface name of at most 15 characters: {interface:?}"
        );
    }
    onramp::agent::run(onramp::agent::AgentConfig {
        url,
        token,
        interface,
        wg: args.wg,
    })
}
