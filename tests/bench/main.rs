//! `make bench`: seeds 100,000 users and 10 locations, starts the release binary, loads it
//! with `wrk` from this second process on loopback, and prints one table. Measures; asserts
//! nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use onramp::clock::SystemClock;
use onramp::config::{Config, Secret};
use onramp::crypto::sha256_hex;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const USERS: usize = 100_000;
const LOCATIONS: usize = 10;
/// Enrollment sessions waiting at the password step: each can be used once.
const WIZARD_SESSIONS: usize = 4000;
const PASSWORD: &str = "correct horse battery staple";
const WIZARD_CSRF: &str = "benchcsrfbenchcsrfbenchcsrfbenchcsrfbenchcs";
const POLLING_TOKEN: &str = "benchpollingtokenbenchpollingtok";
/// Devices on Site 0 besides user000000's, for the gateway's full sync.
const GATEWAY_PEERS: usize = 10_000;
const GATEWAY_TOKEN: &str = "benchgatewaytokenbenchgatewaytok";
/// Authorization codes waiting for the token endpoint, one per request.
const OIDC_CODES: usize = 100_000;
const OIDC_CLIENT: &str = "benchclient";
const OIDC_SECRET: &str = "benchsecretbenchsecretbenchsecretbenchsecr";
const OIDC_REDIRECT: &str = "https://app.example.com/cb";
const FIRST: [&str; 10] = [
    "Jan", "Anna", "Piotr", "Maria", "Tomasz", "Ewa", "Paweł", "Zofia", "Adam", "Ola",
];
const LAST: [&str; 25] = [
    "Nowak",
    "Kowalski",
    "Wiśniewski",
    "Wójcik",
    "Kowalczyk",
    "Kamiński",
    "Lewandowski",
    "Zieliński",
    "Szymański",
    "Woźniak",
    "Dąbrowski",
    "Kozłowski",
    "Jankowski",
    "Mazur",
    "Kwiatkowski",
    "Krawczyk",
    "Piotrowski",
    "Grabowski",
    "Nowakowski",
    "Pawłowski",
    "Michalski",
    "Nowicki",
    "Adamczyk",
    "Dudek",
    "Zając",
];

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Seeds users, locations, one enrolled user with a device and polling token, and enrollment
/// sessions parked at the password step; writes their cookie values to `cookies`.
fn seed(db: &Path, cookies: &Path) {
    let mut config = Config::for_tests(db.to_path_buf());
    config.admin_password = Some(Secret::new(PASSWORD));
    let (state, _) = onramp::startup::build_state(config, Arc::new(SystemClock)).expect("state");
    let mut conn = state.db.conn().expect("conn");
    let tx = conn.transaction().expect("tx");
    for i in 0..USERS {
        let username = format!("user{i:06}");
        onramp::db::users::insert(
            &tx,
            &onramp::db::users::NewUser {
                username: &username,
                first_name: FIRST[i % FIRST.len()],
                last_name: LAST[(i / FIRST.len()) % LAST.len()],
                email: &format!("{username}@example.com"),
                phone: None,
                is_admin: false,
                password_hash: if i == 0 {
                    Some("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaA")
                } else {
                    None
                },
                created_at: 1_700_000_000 + i as i64,
            },
        )
        .expect("insert");
    }
    for l in 0..LOCATIONS {
        let (private, public) = onramp::services::locations::generate_keypair();
        onramp::db::locations::insert(
            &tx,
            &onramp::db::locations::LocationFields {
                name: &format!("Site {l}"),
                addresses: &format!("10.{l}.0.1/16"),
                endpoint: "vpn.example.com",
                port: 51820 + l as u16,
                public_key: &public,
                private_key: Some(&private),
                allowed_ips: &format!("10.{l}.0.0/16"),
                dns: "10.0.0.1",
                keepalive: 25,
            },
            0,
        )
        .expect("location");
    }
    // user000000 is enrolled, with a device in every location and a polling token.
    let key = onramp::domain::wireguard::WgKey::parse(
        "k",
        &onramp::services::locations::generate_keypair().1,
    )
    .unwrap();
    let device = onramp::services::devices::add(
        &tx,
        &onramp::services::devices::NewDevice {
            user_id: 2,
            name: "laptop",
            key: &key,
            pending_token_id: None,
        },
        10,
        0,
    )
    .expect("device");
    tx.execute(
        "INSERT INTO polling_token (device_id, hash, created_at) VALUES (?1, ?2, 0)",
        rusqlite::params![device, sha256_hex(POLLING_TOKEN)],
    )
    .expect("polling token");
    // Site 0 has GATEWAY_PEERS more devices (of users 1000…), and a gateway token: the
    // gateway's full sync lists them all.
    for i in 0..GATEWAY_PEERS {
        let user_id = 1000 + i as i64;
        let (_, public) = onramp::services::locations::generate_keypair();
        tx.execute(
            "INSERT INTO device (user_id, name, public_key, created_at) VALUES (?1, 'pc', ?2, 0)",
            rusqlite::params![user_id, public],
        )
        .expect("device");
        let device = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO device_address (device_id, location_id, address) VALUES (?1, 1, ?2)",
            rusqlite::params![device, format!("10.0.{}.{}", 1 + i / 250, 2 + i % 250)],
        )
        .expect("address");
    }
    onramp::db::gateways::set_token(&tx, 1, &sha256_hex(GATEWAY_TOKEN), 0).expect("gateway");
    let far = 4_000_000_000_i64;
    let mut out = std::fs::File::create(cookies).expect("cookies file");
    for i in 0..WIZARD_SESSIONS {
        let user_id = 100 + i as i64;
        tx.execute(
            "INSERT INTO token (hash, purpose, user_id, admin_id, created_at, expires_at, started_at, session_deadline)
             VALUES (?1, 'enrollment', ?2, 1, 0, ?3, 0, ?3)",
            rusqlite::params![sha256_hex(&format!("token{i}")), user_id, far],
        )
        .expect("token");
        let token_id = tx.last_insert_rowid();
        let cookie = format!("benchsession{i:08}benchsessionbenchsessio");
        tx.execute(
            "INSERT INTO session (id_hash, kind, user_id, csrf_token, created_at, last_seen_at, expires_at, token_id, step)
             VALUES (?1, 'enrollment', ?2, ?3, 0, 0, ?4, ?5, 2)",
            rusqlite::params![sha256_hex(&cookie), user_id, WIZARD_CSRF, far, token_id],
        )
        .expect("session");
        writeln!(out, "{cookie}").expect("write");
    }
    seed_oidc(&tx, &state);
    tx.commit().expect("commit");
    // A running server merges the search indexes a few steps at a time (services::upkeep,
    // at start and every five minutes); the seeded database starts as it would leave them.
    while onramp::db::user_search::tidy(&conn).expect("tidy") {}
    // No ANALYZE: onramp never runs it, and with statistics (STAT4) SQLite re-plans any
    // statement whose plan a bound value could change.
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .expect("checkpoint");
}

/// An app, its signing key (so the cold start makes none), and [`OIDC_CODES`] codes of
/// user000000, `benchcode{i}`.
fn seed_oidc(tx: &rusqlite::Transaction<'_>, state: &onramp::state::AppState) {
    use onramp::db::{oidc, oidc_tokens};
    let key = onramp::services::oidc::keys::generate(&state.secrets, 0).expect("key");
    oidc::insert_key(tx, &key, 0).expect("key row");
    let client = oidc::ClientRow {
        id: 0,
        client_id: OIDC_CLIENT.into(),
        name: "Bench".into(),
        kind: onramp::domain::oidc::ClientKind::Confidential,
        secret_hash: Some(sha256_hex(OIDC_SECRET)),
        redirect_uris: vec![OIDC_REDIRECT.into()],
        post_logout_redirect_uris: vec![],
        require_mfa: false,
        is_enabled: true,
    };
    let client = oidc::insert_client(tx, &client, 0).expect("client");
    for i in 0..OIDC_CODES {
        let code = oidc_tokens::CodeRow {
            grant: oidc_tokens::GrantRow {
                id: 0,
                client,
                user_id: 2,
                scope: "openid profile email".into(),
                auth_time: 0,
                mfa: false,
                revoked_at: None,
            },
            redirect_uri: OIDC_REDIRECT.into(),
            nonce: Some("n".into()),
            code_challenge: None,
            expires_at: 4_000_000_000,
            used_at: None,
        };
        let grant = oidc_tokens::insert_grant(tx, &code.grant, 0).expect("grant");
        oidc_tokens::insert_code(tx, &sha256_hex(&format!("benchcode{i}")), grant, &code)
            .expect("code");
    }
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

#[derive(Debug, Clone, Copy)]
struct Load {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

fn parse_latency(v: &str) -> f64 {
    let v = v.trim();
    let (num, factor) = if let Some(n) = v.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (v, 1.0)
    };
    num.parse::<f64>().unwrap_or(f64::NAN) * factor
}

fn parse_wrk(text: &str) -> Load {
    let mut load = Load {
        rps: 0.0,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
        errors: 0,
    };
    for line in text.lines() {
        let line = line.trim();
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            load.rps = v.trim().parse().unwrap_or(0.0);
        } else if let Some(v) = line.strip_prefix("50%") {
            load.p50_ms = parse_latency(v);
        } else if let Some(v) = line.strip_prefix("99%") {
            load.p99_ms = parse_latency(v);
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            load.errors += v.trim().parse::<u64>().unwrap_or(0);
        }
    }
    load
}

/// One wrk run: GET `url` with the admin cookie, or what `script` (a Lua file) says.
fn wrk_command(
    url: &str,
    cookie: &str,
    htmx: bool,
    script: Option<&Path>,
    connections: u32,
    seconds: u32,
) -> Command {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{connections}"),
        &format!("-d{seconds}s"),
        "--latency",
        "--timeout",
        "10s",
    ]);
    if !cookie.is_empty() {
        cmd.args(["-H", &format!("Cookie: {cookie}")]);
    }
    if htmx {
        cmd.args(["-H", "HX-Request: true"]);
    }
    if let Some(s) = script {
        cmd.arg("-s").arg(s);
    }
    cmd.arg(url);
    cmd
}

fn wrk(cmd: &mut Command) -> Load {
    let out = cmd
        .output()
        .expect("wrk is installed (make bench installs it)");
    parse_wrk(&String::from_utf8_lossy(&out.stdout))
}

fn write_scripts(dir: &Path, cookies: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let poll = dir.join("poll.lua");
    std::fs::write(
        &poll,
        format!(
            "wrk.method = \"POST\"\nwrk.body = '{{\"token\":\"{POLLING_TOKEN}\"}}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
        ),
    )
    .unwrap();
    // Every request takes the next unused enrollment session, so each one hashes a password.
    let wizard = dir.join("password.lua");
    std::fs::write(
        &wizard,
        format!(
            r#"local cookies = {{}}
for line in io.lines("{cookies}") do cookies[#cookies + 1] = line end
local counter = 0
local threads = {{}}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  counter = tid
end
function request()
  counter = counter + 2
  local c = cookies[(counter % #cookies) + 1]
  return wrk.format("POST", "/enroll/wizard/password", {{
    ["Cookie"] = "onramp_enroll=" .. c,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-CSRF-Token"] = "{WIZARD_CSRF}",
  }}, "password=plum+orbit+velvet+river+stone&password_repeat=plum+orbit+velvet+river+stone")
end
"#,
            cookies = cookies.display()
        ),
    )
    .unwrap();
    (poll, wizard)
}

/// Logs `client` in as the admin; returns the session's CSRF token from the users page.
async fn login(client: &reqwest::Client, base: &str) -> String {
    let field = |page: &str| {
        let marker = r#"name="csrf_token" value=""#;
        let at = page.find(marker).unwrap() + marker.len();
        page[at..at + page[at..].find('"').unwrap()].to_owned()
    };
    let page = client
        .get(format!("{base}/admin/login"))
        .send()
        .await
        .unwrap();
    let csrf = field(&page.text().await.unwrap());
    client
        .post(format!("{base}/admin/login"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("username", "admin"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let users = client
        .get(format!("{base}/admin/users"))
        .send()
        .await
        .unwrap();
    field(&users.text().await.unwrap())
}

/// Onboarding a team on a fresh server of its own, so its peak RSS is the import's: a
/// 10,000-row CSV checked (dry run) and confirmed with invitations, then "Start enrollment"
/// for 1,000 of them at once. Returns the measure table's rows.
async fn team_onboarding(bin: &str) -> Vec<(String, String)> {
    const ROWS: usize = 10_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let child = Command::new(bin)
        .env("ONRAMP_LISTEN", format!("127.0.0.1:{port}"))
        .env("ONRAMP_DATABASE", dir.path().join("team.db"))
        .env("ONRAMP_PUBLIC_URL", &base)
        .env("ONRAMP_ADMIN_PASSWORD", PASSWORD)
        .env("ONRAMP_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
    let server = Server(child);
    let pid = server.0.id();
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let boot = Instant::now();
    while client.get(format!("{base}/health")).send().await.is_err() {
        assert!(
            boot.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let csrf = login(&client, &base).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let idle = rss_kib(pid, "VmRSS:");
    let login_peak = rss_kib(pid, "VmHWM:");
    // The import's peak is its own: forget the login's (argon2 needs 19 MiB while it hashes).
    // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0 and later).
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("reset the peak RSS");

    let mut csv = String::from("username;first_name;last_name;email;phone\n");
    for i in 0..ROWS {
        csv.push_str(&format!(
            "team{i:05};{};{};team{i:05}@example.com;+48 600 {:03} {:03}\n",
            FIRST[i % FIRST.len()],
            LAST[i % LAST.len()],
            i / 1000,
            i % 1000
        ));
    }
    let boundary = "----onramp-bench";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"team.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(csv.as_bytes());
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let started = Instant::now();
    let page = client
        .post(format!("{base}/admin/users/import"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let dry_run = started.elapsed();
    let dry_run_peak = rss_kib(pid, "VmHWM:");
    let marker = r#"name="import" value=""#;
    let at = page.find(marker).expect("the dry run offers the import") + marker.len();
    let id = page[at..at + page[at..].find('"').unwrap()].to_owned();
    let started = Instant::now();
    let res = client
        .post(format!("{base}/admin/users/import/confirm"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("import", id.as_str()),
            ("delivery", "email"),
        ])
        .send()
        .await
        .unwrap();
    let confirm = started.elapsed();
    assert_eq!(res.status(), 303, "the import was confirmed");
    let import_peak = rss_kib(pid, "VmHWM:");

    let started = Instant::now();
    let res = client
        .post(format!("{base}/admin/users/bulk"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("action", "start_enrollment"),
            ("all_matching", "on"),
            ("q", "team01"),
        ])
        .send()
        .await
        .unwrap();
    let bulk = started.elapsed();
    assert_eq!(res.status(), 303, "the bulk action ran");
    let peak = rss_kib(pid, "VmHWM:");
    drop(server);
    let mb = |kib: u64| format!("{:.1} MB", kib as f64 / 1024.0);
    let ms = |d: Duration| format!("{} ms", d.as_millis());
    vec![
        (
            "peak RSS (VmHWM) through start and admin login".into(),
            mb(login_peak),
        ),
        ("RSS before the import (after login)".into(), mb(idle)),
        (
            format!("import dry run, {ROWS} rows (limit 5 s)"),
            ms(dry_run),
        ),
        (
            "peak RSS (VmHWM) after the dry run".into(),
            mb(dry_run_peak),
        ),
        (
            format!("import confirm with invitations, {ROWS} rows (limit 10 s)"),
            ms(confirm),
        ),
        (
            "peak RSS (VmHWM) through the import, from the RSS before it (limit 64 MB)".into(),
            mb(import_peak),
        ),
        (
            "bulk Start enrollment, 1,000 users (limit 5 s)".into(),
            ms(bulk),
        ),
        ("peak RSS (VmHWM) after the bulk action".into(), mb(peak)),
    ]
}

/// Every request exchanges the next unused code (`client_secret_basic`).
fn write_token_script(dir: &Path) -> std::path::PathBuf {
    use base64::Engine as _;
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{OIDC_CLIENT}:{OIDC_SECRET}"));
    let path = dir.join("token.lua");
    std::fs::write(
        &path,
        format!(
            r#"local counter = 0
local threads = {{}}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  counter = tid
end
function request()
  counter = counter + 2
  return wrk.format("POST", "/oidc/token", {{
    ["Authorization"] = "Basic {basic}",
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }}, "grant_type=authorization_code&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&code=benchcode" .. counter)
end
"#
        ),
    )
    .unwrap();
    path
}

#[tokio::main]
async fn main() {
    let bin = std::env::var("ONRAMP_BIN").unwrap_or_else(|_| "target/release/onramp".into());
    let team = team_onboarding(&bin).await;
    if std::env::var("BENCH_TEAM_ONLY").is_ok() {
        println!("| team onboarding | value |");
        println!("| --- | ---: |");
        for (name, value) in &team {
            println!("| {name} | {value} |");
        }
        return;
    }
    let seconds: u32 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("onramp.db");
    let cookies = dir.path().join("cookies.txt");
    let started = Instant::now();
    seed(&db, &cookies);
    eprintln!(
        "seeded {USERS} users, {LOCATIONS} locations in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if let Ok(keep) = std::env::var("BENCH_SEED_ONLY") {
        // For profiling by hand: keep the seeded database and stop.
        std::fs::copy(&db, &keep).expect("copy the seeded database");
        // Its secrets open only with the key file beside it.
        let key = |p: &Path| format!("{}.key", p.display());
        std::fs::copy(key(&db), key(Path::new(&keep))).expect("copy the key file");
        eprintln!("seeded database copied to {keep}");
        return;
    }
    let (poll_lua, password_lua) = write_scripts(dir.path(), &cookies);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let boot = Instant::now();
    let child = Command::new(&bin)
        .env("ONRAMP_LISTEN", format!("127.0.0.1:{port}"))
        .env("ONRAMP_DATABASE", &db)
        .env("ONRAMP_PUBLIC_URL", &base)
        .env("ONRAMP_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e}; run `make release` first"));
    let server = Server(child);
    let pid = server.0.id();
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cold_start = loop {
        if let Ok(r) = client.get(format!("{base}/health")).send().await {
            if r.status() == 200 {
                break boot.elapsed();
            }
        }
        assert!(
            boot.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss = rss_kib(pid, "VmRSS:");

    // Log in like a browser to get a session cookie for the admin pages.
    let login = client
        .get(format!("{base}/admin/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = r#"name="csrf_token" value=""#;
    let at = login.find(marker).unwrap() + marker.len();
    let csrf = &login[at..at + login[at..].find('"').unwrap()];
    let res = client
        .post(format!("{base}/admin/login"))
        .form(&[
            ("csrf_token", csrf),
            ("username", "admin"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("onramp_session="))
        .and_then(|c| c.split(';').next())
        .expect("session cookie")
        .to_owned();

    let mut rows: Vec<(String, Load)> = Vec::new();
    let mut run = |name: &str, cmd: &mut Command| {
        let load = wrk(cmd);
        eprintln!("{name}: {load:?}");
        rows.push((name.to_owned(), load));
    };
    run(
        "GET /health (baseline)",
        &mut wrk_command(&format!("{base}/health"), "", false, None, 32, seconds),
    );
    run(
        "users page (full, page 1)",
        &mut wrk_command(
            &format!("{base}/admin/users"),
            &cookie,
            false,
            None,
            32,
            seconds,
        ),
    );
    // The list pages by username (keyset): page 2,001 costs what page 1 does.
    // Searches: common substrings walk the usernames, rare ones come from the trigram index,
    // one- and two-letter ones walk and count to 100; "ż" matches no one, so it walks every row.
    for (name, query) in [
        (
            "users page 2,001 (fragment, keyset)",
            "after=user049998&page=2001",
        ),
        ("search fragment q=nowak (8% match)", "q=nowak"),
        ("search fragment q=owak (substring)", "q=owak"),
        ("search fragment q=example.com (everyone)", "q=example.com"),
        (
            "search fragment q=user0421 (100 match, exact total)",
            "q=user0421",
        ),
        ("search fragment q=ja (short)", "q=ja"),
        (
            "search fragment q=owak, page 2,001 (keyset)",
            "q=owak&after=user049998&page=2001",
        ),
        (
            "search fragment q=wi status=not-enrolled",
            "q=wi&status=not-enrolled",
        ),
        (
            "search fragment q=ż (short, no match: walks all rows)",
            "q=%C5%BC",
        ),
    ] {
        run(
            name,
            &mut wrk_command(
                &format!("{base}/admin/users?{query}"),
                &cookie,
                true,
                None,
                32,
                seconds,
            ),
        );
    }
    // The walk over every row leaves requests queued when wrk stops; let them drain.
    std::thread::sleep(Duration::from_secs(3));
    run(
        "action menu fragment",
        &mut wrk_command(
            &format!("{base}/admin/users/5000/actions"),
            &cookie,
            true,
            None,
            32,
            seconds,
        ),
    );
    run(
        "POST /api/v1/poll (10 locations)",
        &mut wrk_command(
            &format!("{base}/api/v1/poll"),
            "",
            false,
            Some(&poll_lua),
            32,
            seconds,
        ),
    );

    for path in ["/.well-known/openid-configuration", "/oidc/jwks"] {
        let res = client.get(format!("{base}{path}")).send().await.unwrap();
        let cache = res
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(
            cache.starts_with("public, max-age="),
            "{path} is cacheable: {cache}"
        );
        run(
            &format!("GET {path} (Cache-Control: {cache})"),
            &mut wrk_command(&format!("{base}{path}"), "", false, None, 32, seconds),
        );
    }
    let token_lua = write_token_script(dir.path());
    run(
        "POST /oidc/token (code exchange, RS256 ID token)",
        &mut wrk_command(
            &format!("{base}/oidc/token"),
            "",
            false,
            Some(&token_lua),
            32,
            seconds,
        ),
    );

    let gateway_lua = dir.path().join("gateway.lua");
    std::fs::write(
        &gateway_lua,
        format!("wrk.headers[\"Authorization\"] = \"Bearer {GATEWAY_TOKEN}\"\n"),
    )
    .unwrap();
    run(
        "GET /api/gateway/v1/config (full sync, 10,001 peers), 4 connections",
        &mut wrk_command(
            &format!("{base}/api/gateway/v1/config"),
            "",
            false,
            Some(&gateway_lua),
            4,
            seconds,
        ),
    );

    let peak_before_hashing = rss_kib(pid, "VmHWM:");
    // The password step hashes with argon2 on every request; /health is measured while 50
    // such submissions are in flight.
    let mut hashing = wrk_command(&base, "", false, Some(&password_lua), 50, seconds + 2);
    let hashing = hashing.stdout(Stdio::piped()).spawn().expect("wrk");
    std::thread::sleep(Duration::from_secs(1));
    run(
        "GET /health during 50 password submissions",
        &mut wrk_command(&format!("{base}/health"), "", false, None, 8, seconds),
    );
    let out = hashing.wait_with_output().expect("wrk");
    let password = parse_wrk(&String::from_utf8_lossy(&out.stdout));
    rows.push(("wizard password step (argon2id), 50 conns".into(), password));

    let peak_rss = rss_kib(pid, "VmHWM:");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let settled_rss = rss_kib(pid, "VmRSS:");
    let binary = std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0);

    let base_rps = rows[0].1.rps.max(1.0);
    println!();
    println!(
        "onramp load: {USERS} users, {LOCATIONS} locations; wrk -t2 -c32 -d{seconds}s on loopback unless noted; {} cores",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    println!("| endpoint | req/s | p50 ms | p99 ms | vs /health | non-2xx/3xx |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (name, l) in &rows {
        println!(
            "| {name} | {:.0} | {:.2} | {:.2} | {:.0} % | {} |",
            l.rps,
            l.p50_ms,
            l.p99_ms,
            100.0 * l.rps / base_rps,
            l.errors
        );
    }
    println!();
    println!("| measure | value |");
    println!("| --- | ---: |");
    println!(
        "| cold start to first 200 (100k users) | {} ms |",
        cold_start.as_millis()
    );
    println!(
        "| idle RSS after start | {:.1} MB |",
        idle_rss as f64 / 1024.0
    );
    println!(
        "| peak RSS before any password hashing | {:.1} MB |",
        peak_before_hashing as f64 / 1024.0
    );
    println!(
        "| peak RSS (VmHWM) over the whole run, hashing included | {:.1} MB |",
        peak_rss as f64 / 1024.0
    );
    println!(
        "| RSS 2 s after the load | {:.1} MB |",
        settled_rss as f64 / 1024.0
    );
    println!("| binary size | {:.1} MB |", binary as f64 / 1_048_576.0);
    for (name, value) in &team {
        println!("| {name} | {value} |");
    }
    drop(server);
}
