//! `make faults`: crash, lock, SMTP and backup faults against the release binary, each with
//! a check that nothing acknowledged was lost. Prints a report; exits non-zero on a failure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../it/smtp_server.rs"]
#[allow(dead_code)]
mod smtp_server;

use rand::Rng;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple";

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bin() -> String {
    std::env::var("ONRAMP_BIN").unwrap_or_else(|_| "target/release/onramp".into())
}

async fn start(db: &Path, port: u16, extra: &[(&str, String)]) -> Server {
    let base = format!("http://127.0.0.1:{port}");
    let mut cmd = Command::new(bin());
    cmd.env("ONRAMP_LISTEN", format!("127.0.0.1:{port}"))
        .env("ONRAMP_DATABASE", db)
        .env("ONRAMP_PUBLIC_URL", &base)
        .env("ONRAMP_ADMIN_PASSWORD", PASSWORD)
        .env("ONRAMP_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let child = cmd.spawn().expect("start onramp (make release first)");
    let server = Server { child, base };
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(r) = reqwest::get(format!("{}/health", server.base)).await {
            if r.status() == 200 {
                return server;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("onramp did not start");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A logged-in admin browser: client with cookies and the session's CSRF token.
#[derive(Clone)]
struct Admin {
    client: reqwest::Client,
    base: String,
    csrf: String,
}

async fn login(base: &str) -> Admin {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client
        .get(format!("{base}/admin/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = field(&page);
    let res = client
        .post(format!("{base}/admin/login"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("username", "admin"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "login");
    let page = client
        .get(format!("{base}/admin/users"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    Admin {
        client,
        base: base.to_owned(),
        csrf: field(&page),
    }
}

fn field(page: &str) -> String {
    let marker = r#"name="csrf_token" value=""#;
    let at = page.find(marker).expect("csrf field") + marker.len();
    page[at..at + page[at..].find('"').unwrap()].to_owned()
}

impl Admin {
    /// Adds a user; `Some(true)` when the server acknowledged it (303).
    async fn add_user(&self, username: &str) -> Option<bool> {
        let email = format!("{username}@example.com");
        let res = self
            .client
            .post(format!("{}/admin/users", self.base))
            .form(&[
                ("csrf_token", self.csrf.as_str()),
                ("username", username),
                ("first_name", "Fault"),
                ("last_name", "Test"),
                ("email", email.as_str()),
                ("phone", ""),
                ("use_enrollment", "on"),
            ])
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .ok()?;
        Some(res.status() == 303)
    }
}

fn db_usernames(db: &Path) -> (String, BTreeSet<String>) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    let mut stmt = conn.prepare("SELECT username FROM user").unwrap();
    let names = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    (check, names)
}

/// Mixed writes from several clients until told to stop; returns acknowledged usernames.
async fn write_load(
    admin: Admin,
    prefix: String,
    stop: Arc<std::sync::atomic::AtomicBool>,
    acked: Arc<Mutex<Vec<String>>>,
) {
    let mut tasks = Vec::new();
    for worker in 0..4 {
        let admin = admin.clone();
        let prefix = prefix.clone();
        let stop = stop.clone();
        let acked = acked.clone();
        tasks.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let name = format!("{prefix}w{worker}n{i:05}");
                i += 1;
                match admin.add_user(&name).await {
                    Some(true) => acked.lock().unwrap().push(name),
                    Some(false) => panic!("a write was refused under load: {name}"),
                    None => break, // the server is gone
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

async fn kill_nine(dir: &Path, rounds: usize) -> String {
    let db = dir.join("crash.db");
    let port = free_port();
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut rng = rand::rng();
    let mut total_lost = 0;
    for round in 0..rounds {
        let mut server = start(&db, port, &[]).await;
        let admin = login(&server.base).await;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let load = tokio::spawn(write_load(
            admin,
            format!("r{round:02}"),
            stop.clone(),
            acked.clone(),
        ));
        tokio::time::sleep(Duration::from_millis(rng.random_range(150..900))).await;
        server.child.kill().expect("kill -9"); // SIGKILL
        let _ = server.child.wait();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = load.await;
        let (check, names) = db_usernames(&db);
        let lost: Vec<String> = acked
            .lock()
            .unwrap()
            .iter()
            .filter(|n| !names.contains(*n))
            .cloned()
            .collect();
        total_lost += lost.len();
        assert_eq!(
            check, "ok",
            "integrity_check after kill -9 in round {round}"
        );
        assert!(
            lost.is_empty(),
            "acknowledged writes lost after kill -9 in round {round}: {lost:?}"
        );
    }
    let acked = acked.lock().unwrap().len();
    format!("| kill -9 during mixed writes | {rounds} rounds, {acked} acknowledged writes, {total_lost} lost, integrity_check ok every time |")
}

async fn held_lock(dir: &Path) -> String {
    let db = dir.join("lock.db");
    let server = start(&db, free_port(), &[]).await;
    let admin = login(&server.base).await;
    let holder_db = db.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        let mut conn = rusqlite::Connection::open(&holder_db).unwrap();
        conn.busy_timeout(Duration::from_secs(10)).unwrap();
        let t = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .unwrap();
        t.execute("INSERT INTO setting (key, value) VALUES ('fault', 'held') ON CONFLICT (key) DO UPDATE SET value = 'held'", [])
            .unwrap();
        tx.send(()).unwrap();
        std::thread::sleep(Duration::from_secs(3));
        t.commit().unwrap();
    });
    rx.recv().unwrap();
    let started = Instant::now();
    let mut writes = Vec::new();
    for i in 0..10 {
        let admin = admin.clone();
        writes.push(tokio::spawn(async move {
            admin.add_user(&format!("locked{i}")).await
        }));
    }
    let mut health_worst = Duration::ZERO;
    let mut health_failures = 0;
    let mut bursts = Vec::new();
    for _ in 0..200 {
        let base = server.base.clone();
        bursts.push(tokio::spawn(async move {
            let t = Instant::now();
            let ok = reqwest::get(format!("{base}/health"))
                .await
                .map(|r| r.status() == 200)
                .unwrap_or(false);
            (ok, t.elapsed())
        }));
    }
    for b in bursts {
        let (ok, took) = b.await.unwrap();
        health_worst = health_worst.max(took);
        if !ok {
            health_failures += 1;
        }
    }
    let mut ok = 0;
    for w in writes {
        if w.await.unwrap() == Some(true) {
            ok += 1;
        }
    }
    let waited = started.elapsed();
    holder.join().unwrap();
    assert_eq!(
        ok, 10,
        "writes failed while another process held the write lock"
    );
    assert_eq!(health_failures, 0);
    assert!(
        health_worst < Duration::from_millis(500),
        "/health took {health_worst:?} during the lock"
    );
    format!(
        "| write lock held 3 s by another process | 10/10 writes succeeded after waiting ({:.1} s); 200 /health: 0 failed, slowest {} ms |",
        waited.as_secs_f64(),
        health_worst.as_millis()
    )
}

async fn smtp_outage(dir: &Path) -> String {
    let db = dir.join("smtp.db");
    let reserved = smtp_server::SmtpServer::reserve_port();
    let smtp_port = reserved.port();
    let server = start(
        &db,
        free_port(),
        &[(
            "ONRAMP_SMTP_URL",
            format!("smtp://127.0.0.1:{smtp_port}?tls=none"),
        )],
    )
    .await;
    let admin = login(&server.base).await;
    // An invitation while SMTP is down: the admin's action succeeds, the email waits.
    let res = admin
        .client
        .post(format!("{}/admin/users", server.base))
        .form(&[
            ("csrf_token", admin.csrf.as_str()),
            ("username", "jnowak"),
            ("first_name", "Jan"),
            ("last_name", "Nowak"),
            ("email", "jan@example.com"),
            ("phone", ""),
            ("use_enrollment", "on"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "user added");
    let dialog = res.headers()["location"].to_str().unwrap().to_owned();
    let res = admin
        .client
        .post(format!("{}{dialog}", server.base))
        .form(&[
            ("csrf_token", admin.csrf.as_str()),
            ("delivery", "email"),
            ("email", "ops@example.com"),
        ])
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        303,
        "the admin's action succeeds while SMTP is down"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let (status, attempts) = loop {
        let (status, attempts): (String, i64) = rusqlite::Connection::open(&db)
            .unwrap()
            .query_row("SELECT status, attempts FROM outbox", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        if (attempts > 0 && status != "sending") || std::time::Instant::now() > deadline {
            break (status, attempts);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status, "queued");
    let smtp =
        smtp_server::SmtpServer::start_on_reserved(reserved, smtp_server::Options::default()).await;
    let res = admin
        .client
        .post(format!("{}/admin/outbox/1/retry", server.base))
        .form(&[("csrf_token", admin.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let got = smtp.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 1, "delivered once SMTP is back");
    tokio::time::sleep(Duration::from_secs(6)).await; // a worker pass later
    assert_eq!(smtp.messages().len(), 1, "never sent twice");
    format!("| SMTP down, then up | action answered 303 while down; queued after {attempts} {}; delivered exactly once after Retry now |", if attempts == 1 { "attempt" } else { "attempts" })
}

async fn backup_under_load(dir: &Path) -> String {
    let db = dir.join("backup.db");
    let server = start(&db, free_port(), &[]).await;
    let admin = login(&server.base).await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let load = tokio::spawn(write_load(admin, "bk".into(), stop.clone(), acked.clone()));
    tokio::time::sleep(Duration::from_millis(700)).await;
    let copy = dir.join("copy.db");
    let out = Command::new(bin())
        .env("ONRAMP_DATABASE", &db)
        .arg("backup")
        .arg(&copy)
        .output()
        .unwrap();
    let before_backup = acked.lock().unwrap().len();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = load.await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (check, names) = db_usernames(&copy);
    assert_eq!(check, "ok");
    format!(
        "| onramp backup during writes | integrity_check ok; the copy holds {} users, {} writes were acknowledged by then |",
        names.len(),
        before_backup
    )
}

/// 1,100 connections send a POST body a byte a second, with the soft descriptor limit at the
/// usual 1024: onramp raises it to the hard limit, cuts every slow body off after its body
/// timeout (15 s) and keeps answering `/health` throughout.
async fn slow_body_flood(dir: &Path) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const FLOOD: usize = 1_100;
    onramp::os::raise_descriptor_limit(); // this process holds the other end of each one
    let db = dir.join("flood.db");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let log = dir.join("flood.log");
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -Sn 1024 && exec \"$0\"")
        .arg(bin())
        .env("ONRAMP_LISTEN", format!("127.0.0.1:{port}"))
        .env("ONRAMP_DATABASE", &db)
        .env("ONRAMP_PUBLIC_URL", &base)
        .env("ONRAMP_ADMIN_PASSWORD", PASSWORD)
        .env("ONRAMP_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    let server = Server {
        child: cmd.spawn().expect("start onramp"),
        base: base.clone(),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !reqwest::get(format!("{base}/health"))
        .await
        .is_ok_and(|r| r.status() == reqwest::StatusCode::OK)
    {
        assert!(Instant::now() < deadline, "onramp did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let started = Instant::now();
    let mut slow = Vec::new();
    for _ in 0..FLOOD {
        let addr = format!("127.0.0.1:{port}");
        slow.push(tokio::spawn(async move {
            let Ok(mut conn) = tokio::net::TcpStream::connect(addr).await else {
                return None;
            };
            let head = b"POST /enroll/start HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n";
            if conn.write_all(head).await.is_err() {
                return None;
            }
            let began = Instant::now();
            let mut buf = [0u8; 64];
            for _ in 0..60 {
                if conn.write_all(b"a").await.is_err() {
                    return Some(began.elapsed());
                }
                let read = tokio::time::timeout(Duration::from_secs(1), conn.read(&mut buf));
                if read.await.is_ok() {
                    return Some(began.elapsed());
                }
            }
            None
        }));
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut latencies = Vec::new();
    let mut failures = 0;
    while started.elapsed() < Duration::from_secs(20) {
        let t = Instant::now();
        match client.get(format!("{}/health", server.base)).send().await {
            Ok(r) if r.status() == 200 => latencies.push(t.elapsed()),
            _ => failures += 1,
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let mut cut = 0;
    let mut longest = Duration::ZERO;
    for h in slow {
        if let Some(took) = h.await.unwrap() {
            cut += 1;
            longest = longest.max(took);
        }
    }
    latencies.sort();
    let p50 = latencies
        .get(latencies.len() / 2)
        .copied()
        .unwrap_or_default();
    let max = latencies.last().copied().unwrap_or_default();
    let errors = std::fs::read_to_string(&log).unwrap_or_default();
    let emfile = errors.contains("Too many open files");
    drop(server);
    assert_eq!(
        failures, 0,
        "/health failed {failures} times during the flood"
    );
    assert!(max < Duration::from_secs(1), "/health took {max:?}");
    assert_eq!(
        cut, FLOOD,
        "only {cut} of {FLOOD} slow connections were cut off"
    );
    assert!(!emfile, "the server ran out of descriptors: {errors}");
    format!(
        "| slow bodies: {FLOOD} connections at 1 byte/s, soft fd limit 1024 | all cut off (last after {:.1} s); /health {} checks, 0 failed, p50 {} ms, max {} ms |",
        longest.as_secs_f64(),
        latencies.len(),
        p50.as_millis(),
        max.as_millis()
    )
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::var("FAULT_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let dir: PathBuf = dir.path().to_path_buf();
    let mut report = vec!["| fault | result |".to_owned(), "| --- | --- |".to_owned()];
    // FAULTS=slow_body_flood (comma-separated) runs only the named faults.
    let only = std::env::var("FAULTS").unwrap_or_default();
    let run = |name: &str| only.is_empty() || only.split(',').any(|n| n == name);
    if run("kill_nine") {
        report.push(kill_nine(&dir, rounds).await);
    }
    if run("held_lock") {
        report.push(held_lock(&dir).await);
    }
    if run("smtp_outage") {
        report.push(smtp_outage(&dir).await);
    }
    if run("backup_under_load") {
        report.push(backup_under_load(&dir).await);
    }
    if run("slow_body_flood") {
        report.push(slow_body_flood(&dir).await);
    }
    println!();
    for line in report {
        println!("{line}");
    }
}
