//! `make bench`: seeds 100,000 users, starts the release binary, loads it with `wrk` from
//! this second process on loopback, and prints one table. Measures; asserts nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use onramp::clock::SystemClock;
use onramp::config::{Config, Secret};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const USERS: usize = 100_000;
const PASSWORD: &str = "correct horse battery staple";
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

fn seed(db: &std::path::Path) {
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
                password_hash: None,
                created_at: 1_700_000_000 + i as i64,
            },
        )
        .expect("insert");
    }
    tx.commit().expect("commit");
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")
        .expect("checkpoint");
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

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

fn wrk(url: &str, cookie: &str, htmx: bool, connections: u32, seconds: u32) -> Load {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{connections}"),
        &format!("-d{seconds}s"),
        "--latency",
    ]);
    cmd.args(["-H", &format!("Cookie: {cookie}")]);
    if htmx {
        cmd.args(["-H", "HX-Request: true"]);
    }
    let out = cmd
        .arg(url)
        .output()
        .expect("wrk is installed (make bench installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
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

#[tokio::main]
async fn main() {
    let bin = std::env::var("ONRAMP_BIN").unwrap_or_else(|_| "target/release/onramp".into());
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("onramp.db");
    let started = Instant::now();
    seed(&db);
    eprintln!(
        "seeded {USERS} users in {:.1} s",
        started.elapsed().as_secs_f64()
    );

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
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
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

    let seconds = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let cases: [(&str, String, bool); 5] = [
        ("GET /health (baseline)", format!("{base}/health"), false),
        (
            "users page (full, page 1)",
            format!("{base}/admin/users"),
            false,
        ),
        (
            "users page 2,000 (offset 49,975)",
            format!("{base}/admin/users?page=2000"),
            true,
        ),
        (
            "search fragment q=nowak",
            format!("{base}/admin/users?q=nowak"),
            true,
        ),
        (
            "action menu fragment",
            format!("{base}/admin/users/5000/actions"),
            true,
        ),
    ];
    let mut rows = Vec::new();
    for (name, url, htmx) in &cases {
        let load = wrk(url, &cookie, *htmx, 32, seconds);
        rows.push((*name, load));
    }
    let peak_rss = rss_kib(pid, "VmHWM:");
    let binary = std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0);

    let base_rps = rows[0].1.rps.max(1.0);
    println!();
    println!(
        "onramp load, {USERS} users, wrk -t2 -c32 -d{seconds}s on loopback, {} cores",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    println!("| endpoint | req/s | p50 ms | p99 ms | vs /health | non-2xx |");
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
    println!("| peak RSS (VmHWM) | {:.1} MB |", peak_rss as f64 / 1024.0);
    println!("| binary size | {:.1} MB |", binary as f64 / 1_048_576.0);
    drop(server);
}
