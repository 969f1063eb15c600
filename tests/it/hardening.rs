//! Regressions for what an adversarial test got through (issue 10): each test here failed on
//! the code before its fix. docs/security.md maps every item to its test.

use crate::helpers::{TestApp, ADMIN_PASSWORD};
use reqwest::StatusCode;
use std::time::Instant;

/// 200 parallel logins for one account from one address: the attempt is counted before the
/// hash, so at most 10 passwords are checked and the rest get 429 without hashing, the right
/// password included when it comes too late.
#[tokio::test]
async fn two_hundred_parallel_logins_check_at_most_ten_passwords() {
    let app = TestApp::spawn().await;
    let form = app.get("/admin/login").await;
    let csrf = form.csrf_field().expect("login form");
    let started = Instant::now();
    let mut handles = Vec::new();
    for i in 0..200 {
        let client = app.client.clone();
        let url = app.url("/admin/login");
        let csrf = csrf.clone();
        // The right password comes last, after 199 guesses.
        let password = if i == 199 {
            ADMIN_PASSWORD.to_owned()
        } else {
            format!("wrong guess number {i}")
        };
        handles.push(tokio::spawn(async move {
            client
                .post(url)
                .form(&[
                    ("csrf_token", csrf.as_str()),
                    ("username", "admin"),
                    ("password", password.as_str()),
                ])
                .send()
                .await
                .expect("POST")
                .status()
        }));
    }
    let (mut verified, mut refused) = (0, 0);
    for h in handles {
        match h.await.expect("join") {
            StatusCode::UNAUTHORIZED | StatusCode::SEE_OTHER => verified += 1,
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    eprintln!(
        "200 parallel logins: {verified} verified, {refused} refused in {} ms",
        started.elapsed().as_millis()
    );
    assert!(verified <= 10, "{verified} passwords were checked");
    assert_eq!(verified + refused, 200);
    let actions = app.audit_actions();
    let hashed = actions.iter().filter(|a| a.starts_with("login.")).count();
    assert_eq!(hashed, verified, "every checked password is audited");
}

/// Behind a trusted proxy, the addresses of one IPv6 /64 share one limit.
#[tokio::test]
async fn ipv6_clients_are_limited_per_64() {
    let app = TestApp::spawn_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("net")];
    })
    .await;
    let form = app.get("/admin/login").await;
    let csrf = form.csrf_field().expect("login form");
    let login_from = |ip: String, user: String| {
        let client = app.client.clone();
        let url = app.url("/admin/login");
        let csrf = csrf.clone();
        async move {
            client
                .post(url)
                .header("X-Forwarded-For", ip)
                .form(&[
                    ("csrf_token", csrf.as_str()),
                    ("username", user.as_str()),
                    ("password", "wrong password here"),
                ])
                .send()
                .await
                .expect("POST")
                .status()
        }
    };
    for i in 1..=10 {
        let status = login_from(format!("2001:db8:1:2::{i:x}"), format!("user{i}")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let same_64 = login_from("2001:db8:1:2:ffff::1".into(), "other".into()).await;
    assert_eq!(same_64, StatusCode::TOO_MANY_REQUESTS, "same /64");
    let next_64 = login_from("2001:db8:1:3::1".into(), "other".into()).await;
    assert_eq!(
        next_64,
        StatusCode::UNAUTHORIZED,
        "another /64 has its own limit"
    );
}

/// Opens the link in a fresh browser, starts, and walks to the password step.
async fn wizard_at_password_step(app: &TestApp, secret: &str) -> TestApp {
    let user = app.another_browser();
    let res = user.post_raw("/enroll/start", &[("token", secret)]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(
        wizard_step(&user, "/enroll/wizard/welcome", &[]).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        wizard_step(&user, "/enroll/wizard/verify", &[("phone", "")]).await,
        StatusCode::SEE_OTHER
    );
    user
}

async fn wizard_step(user: &TestApp, path: &str, fields: &[(&str, &str)]) -> StatusCode {
    let page = user.get("/enroll/wizard").await;
    let csrf = page.csrf_field().expect("wizard form has a CSRF field");
    let mut all = vec![("csrf_token", csrf.as_str())];
    all.extend_from_slice(fields);
    user.post_raw(path, &all).await.status
}

async fn try_password(user: &TestApp, password: &str) -> StatusCode {
    wizard_step(
        user,
        "/enroll/wizard/password",
        &[("password", password), ("password_repeat", password)],
    )
    .await
}

/// Failed wizard passwords are limited per session (10 per 15 minutes) and per address
/// (10 per minute), like logins.
#[tokio::test]
async fn wizard_passwords_are_limited_per_session_and_per_address() {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    let jan = app.add_user("jnowak", "Jan", "Nowak").await;
    let eva = app.add_user("ekowal", "Eva", "Kowal").await;
    let jan_token = crate::helpers::hand_over_token(&app, jan, "enrollment").await;
    let eva_token = crate::helpers::hand_over_token(&app, eva, "enrollment").await;
    let jan_wizard = wizard_at_password_step(&app, &jan_token).await;
    let eva_wizard = wizard_at_password_step(&app, &eva_token).await;
    for _ in 0..10 {
        assert_eq!(
            try_password(&jan_wizard, "password1234").await,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    let limited = jan_wizard.get("/enroll/wizard").await;
    let csrf = limited.csrf_field().expect("csrf");
    let res = jan_wizard
        .post_raw(
            "/enroll/wizard/password",
            &[
                ("csrf_token", &csrf),
                ("password", "plum orbit velvet river"),
                ("password_repeat", "plum orbit velvet river"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.body);
    assert!(!res.header("retry-after").is_empty());
    // Another session from the same address is limited too, for the rest of the minute.
    assert_eq!(
        try_password(&eva_wizard, "plum orbit velvet river").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    app.clock.advance(time::Duration::seconds(61));
    assert_eq!(
        try_password(&eva_wizard, "plum orbit velvet river").await,
        StatusCode::SEE_OTHER,
        "the address's minute is over"
    );
    assert_eq!(
        try_password(&jan_wizard, "plum orbit velvet river").await,
        StatusCode::TOO_MANY_REQUESTS,
        "the session's 15 minutes are not"
    );
}

/// Opening a link counts in the per-address start limit, and bad links are audited as one
/// row per address that counts them.
#[tokio::test]
async fn opening_links_is_limited_and_failures_are_audited_once() {
    let app = TestApp::spawn().await;
    for i in 0..10 {
        let page = app.get(&format!("/enroll?token=guess{i}")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
    }
    let limited = app.get("/enroll?token=guess10").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(!limited.header("retry-after").is_empty());
    let start = app.post_raw("/enroll/start", &[("token", "guess11")]).await;
    assert_eq!(
        start.status,
        StatusCode::TOO_MANY_REQUESTS,
        "one limit for both"
    );
    let conn = app.state.db.conn().expect("conn");
    let rows = onramp::db::audit::recent(&conn, Some("token.invalid"), 100).expect("audit");
    assert_eq!(rows.len(), 1, "one row, not one per request");
    let detail = rows[0].detail.as_deref().unwrap_or("");
    assert!(detail.contains("10 times"), "{detail}");
}

/// Control characters, terminal escapes and bidi overrides from a login name are stored and
/// shown as visible escapes, and a 15 KB name is cut.
#[tokio::test]
async fn the_audit_log_neutralises_what_clients_send() {
    let mut app = TestApp::spawn().await;
    let evil = format!("\u{1b}[2J\u{202E}nimda{}", "x".repeat(15_000));
    assert_eq!(
        app.login_as(&evil, "wrong password here").await.status,
        StatusCode::UNAUTHORIZED
    );
    let conn = app.state.db.conn().expect("conn");
    let rows = onramp::db::audit::recent(&conn, Some("login.failure"), 10).expect("audit");
    let target = rows[0].target.clone().expect("target");
    assert!(target.starts_with("\\u{1B}[2j\\u{202E}nimda"), "{target}");
    assert!(target.chars().count() <= 130, "{} characters", target.len());
    drop(conn);
    app.admin_login().await;
    let page = app.get("/admin/audit").await;
    assert!(page.body.contains("\\u{1B}[2j\\u{202E}nimda"));
    assert!(!page.body.contains('\u{1b}') && !page.body.contains('\u{202E}'));
}

/// Bidi overrides are refused in names and device names.
#[tokio::test]
async fn bidi_overrides_are_refused_in_names_and_device_names() {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    let res = app
        .post(
            "/admin/users",
            &[
                ("username", "jnowak"),
                ("first_name", "Jan\u{202E}kcaj"),
                ("last_name", "Nowak"),
                ("email", "jnowak@example.com"),
                ("phone", ""),
                ("use_enrollment", "on"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.user_count(), 1);
    assert!(onramp::services::devices::parse_device_name("laptop\u{202E}exe.txt").is_err());
    assert!(onramp::services::devices::parse_device_name("laptop\u{2067}x").is_err());
    assert!(onramp::services::devices::parse_device_name("Zoë's laptop").is_ok());
}

/// What the address field accepts is what the mail sender can deliver.
#[tokio::test]
async fn addresses_the_sender_refuses_are_refused_at_input() {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    for (i, email) in ["\"x y\"@example.com", "a@[127.0.0.1]"].iter().enumerate() {
        let username = format!("user{i}");
        let res = app
            .post(
                "/admin/users",
                &[
                    ("username", username.as_str()),
                    ("first_name", "Jan"),
                    ("last_name", "Nowak"),
                    ("email", email),
                    ("phone", ""),
                    ("use_enrollment", "on"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{email}");
    }
    assert_eq!(app.user_count(), 1);
}

/// The client API takes only `application/json` POSTs and refuses what browsers mark as
/// cross-site, so a web page cannot spend its per-address limits.
#[tokio::test]
async fn the_client_api_refuses_what_only_web_pages_send() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    let post = |content_type: &'static str, extra: Option<(&'static str, String)>| {
        let mut req = client
            .post(app.url("/api/v1/enrollment/start"))
            .header("Content-Type", content_type)
            .body(r#"{"token": "x"}"#);
        if let Some((name, value)) = extra {
            req = req.header(name, value);
        }
        async move {
            let res = req.send().await.expect("POST");
            let status = res.status();
            let body: serde_json::Value = res.json().await.expect("JSON error");
            assert!(body["error"].is_string(), "{body}");
            status
        }
    };
    assert_eq!(
        post("text/plain", None).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        post("application/x-www-form-urlencoded", None).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let cross = Some(("Sec-Fetch-Site", "cross-site".to_owned()));
    assert_eq!(post("application/json", cross).await, StatusCode::FORBIDDEN);
    let origin = Some(("Origin", "https://evil.example".to_owned()));
    assert_eq!(
        post("application/json", origin).await,
        StatusCode::FORBIDDEN
    );
    // None of those counted: the client still has its ten attempts.
    for _ in 0..10 {
        assert_eq!(
            post("application/json; charset=utf-8", None).await,
            StatusCode::UNAUTHORIZED
        );
    }
}

/// Errors never quote the input or the parser.
#[tokio::test]
async fn errors_do_not_echo_parser_internals() {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    let page = app.get("/admin/users/%3Cscript%3E/edit").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(
        !page.body.contains("can not parse") && !page.body.contains("&lt;script"),
        "{}",
        page.body
    );
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/poll"))
        .header("Content-Type", "application/json")
        .body(r#"{"token": 31337133713371337}"#)
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = res.text().await.expect("body");
    assert!(!body.contains("31337133713371337"), "{body}");
}

/// HEAD answers wherever GET does, with the headers and no body.
#[tokio::test]
async fn head_works_wherever_get_does() {
    let app = TestApp::spawn().await;
    for path in ["/health", "/admin/login", "/api/v1/info", "/enroll"] {
        let res = app.client.head(app.url(path)).send().await.expect("HEAD");
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert!(
            res.headers().contains_key("content-security-policy"),
            "{path}"
        );
        assert!(res.bytes().await.expect("body").is_empty(), "{path}");
    }
}

/// The database and its `-wal` and `-shm` files are readable by their owner only, whatever
/// the umask (the test process keeps its own).
#[tokio::test]
async fn the_database_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    let db = app.state.config.database.display().to_string();
    for file in [
        db.clone(),
        format!("{db}-wal"),
        format!("{db}-shm"),
        format!("{db}.key"),
    ] {
        let mode = std::fs::metadata(&file)
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
}

/// A body sent a byte at a time gets 408 once the body timeout passes, and `/health` keeps
/// answering while 50 such connections are open. (`make faults` floods 1,100 connections
/// against the release binary.)
#[tokio::test]
async fn slow_bodies_are_cut_off_and_health_keeps_answering() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_with(|c| c.body_timeout = std::time::Duration::from_secs(1)).await;
    let addr = app.address.trim_start_matches("http://").to_owned();
    let mut slow = Vec::new();
    for _ in 0..50 {
        let addr = addr.clone();
        slow.push(tokio::spawn(async move {
            let started = Instant::now();
            let mut conn = tokio::net::TcpStream::connect(addr).await.expect("connect");
            conn.write_all(
                b"POST /admin/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n",
            )
            .await
            .expect("head");
            let mut answer = Vec::new();
            for _ in 0..40 {
                if conn.write_all(b"a").await.is_err() {
                    break;
                }
                let mut buf = [0u8; 512];
                match tokio::time::timeout(
                    std::time::Duration::from_millis(200),
                    conn.read(&mut buf),
                )
                .await
                {
                    Ok(Ok(0)) | Ok(Err(_)) => break,
                    Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
                    Err(_) => {}
                }
                if !answer.is_empty() {
                    break;
                }
            }
            (String::from_utf8_lossy(&answer).to_string(), started.elapsed())
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let started = Instant::now();
    assert_eq!(app.get("/health").await.status, StatusCode::OK);
    let health = started.elapsed();
    assert!(health.as_millis() < 500, "/health took {health:?}");
    for h in slow {
        let (answer, took) = h.await.expect("join");
        assert!(
            answer.starts_with("HTTP/1.1 408"),
            "after {took:?}: {answer:?}"
        );
        assert!(took.as_secs_f64() < 3.0, "cut off after {took:?}");
    }
}
