//! The enrollment wizard, driven like a person with a browser would, on a fake clock.

use crate::helpers::{add_location as add_named_location, issue_token, Page, TestApp};
use reqwest::StatusCode;
use time::Duration;

const GOOD_PASSWORD: &str = "plum orbit velvet river";

async fn admin() -> TestApp {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    app
}

fn field_value(page: &Page, id: &str) -> String {
    let marker = format!(r#"id="{id}" type="text" readonly value=""#);
    let at = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("no {id} in {}", page.body))
        + marker.len();
    page.body[at..at + page.body[at..].find('"').expect("end")].to_owned()
}

/// Issues an enrollment token by hand over the admin dialog; returns the secret.
async fn hand_over_token(app: &TestApp, user_id: i64) -> String {
    let dialog = app.get(&format!("/admin/users/{user_id}/enrollment")).await;
    assert!(
        dialog.body.contains("Send token by email")
            && dialog.body.contains("Deliver token yourself")
    );
    let card = issue_token(
        app,
        user_id,
        "enrollment",
        &[("delivery", "manual"), ("email", "")],
    )
    .await;
    assert_eq!(card.header("cache-control"), "no-store");
    assert!(card.body.contains(r#"hx-history="false""#));
    field_value(&card, "token-value")
}

fn count_tokens(app: &TestApp) -> i64 {
    let conn = app.state.db.conn().expect("conn");
    conn.query_row("SELECT count(*) FROM token", [], |r| r.get(0))
        .expect("count")
}

fn token_row(app: &TestApp, secret: &str) -> onramp::db::tokens::TokenRow {
    let conn = app.state.db.conn().expect("conn");
    onramp::db::tokens::find_by_hash(&conn, &onramp::crypto::sha256_hex(secret))
        .expect("query")
        .expect("token")
}

/// Opens the link and presses "Start enrollment" in a fresh browser.
pub(crate) async fn start(app: &TestApp, secret: &str) -> (TestApp, Page) {
    let user = app.another_browser();
    let landing = user.get(&format!("/enroll?token={secret}")).await;
    assert_eq!(landing.status, StatusCode::OK, "{}", landing.body);
    assert!(landing.body.contains("Start enrollment"));
    let res = user.post_raw("/enroll/start", &[("token", secret)]).await;
    (user, res)
}

fn wizard_csrf(page: &Page) -> String {
    page.csrf_field().expect("wizard form has a CSRF field")
}

pub(crate) async fn step(user: &TestApp, path: &str, fields: &[(&str, &str)]) -> Page {
    let page = user.get("/enroll/wizard").await;
    let csrf = wizard_csrf(&page);
    let mut all = vec![("csrf_token", csrf.as_str())];
    all.extend_from_slice(fields);
    user.post_raw(path, &all).await
}

async fn add_location(app: &TestApp, addresses: &str) {
    add_named_location(app, "Office", addresses).await;
}

/// Walks welcome → verify → password, leaving the user on the VPN step.
pub(crate) async fn walk_to_vpn(user: &TestApp) {
    let welcome = user.get("/enroll/wizard").await;
    assert!(welcome.body.contains("Hello, Jan"), "{}", welcome.body);
    assert_eq!(
        step(user, "/enroll/wizard/welcome", &[]).await.status,
        StatusCode::SEE_OTHER
    );
    let verify = user.get("/enroll/wizard").await;
    assert!(verify.body.contains("Verify your data") && verify.body.contains("jnowak@example.com"));
    assert_eq!(
        step(
            user,
            "/enroll/wizard/verify",
            &[("phone", "+48 600 700 800")]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    let res = step(
        user,
        "/enroll/wizard/password",
        &[
            ("password", GOOD_PASSWORD),
            ("password_repeat", GOOD_PASSWORD),
        ],
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert!(user
        .get("/enroll/wizard")
        .await
        .body
        .contains("Configure VPN"));
}

#[tokio::test]
async fn a_new_user_enrolls_from_link_to_done() {
    let app = admin().await;
    add_location(&app, "10.10.0.1/24").await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let secret = hand_over_token(&app, id).await;
    assert_eq!(secret.len(), 32);
    let list = app.get("/admin/users").await;
    assert!(
        list.body
            .contains(r#"Invited — sent <time datetime="2026-11-24T09:00:00Z" data-local>2026-11-24 09:00 UTC</time>"#),
        "{}",
        list.body
    );

    // A mail scanner fetching the link three times burns nothing.
    for _ in 0..3 {
        let scan = app
            .another_browser()
            .get(&format!("/enroll?token={secret}"))
            .await;
        assert_eq!(scan.status, StatusCode::OK);
    }
    assert!(token_row(&app, &secret).started_at.is_none());

    let (user, res) = start(&app, &secret).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location(), "/enroll/wizard", "no token in the URL");
    let cookie = res.header("set-cookie").to_owned();
    assert!(
        cookie.starts_with("onramp_enroll=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
    );
    let token = token_row(&app, &secret);
    assert_eq!(
        token.session_deadline,
        Some(token.started_at.expect("started") + 600)
    );

    // Steps in order only.
    let skipped = step(
        &user,
        "/enroll/wizard/password",
        &[
            ("password", GOOD_PASSWORD),
            ("password_repeat", GOOD_PASSWORD),
        ],
    )
    .await;
    assert_eq!(skipped.location(), "/enroll/wizard");
    assert!(
        user.get("/enroll/wizard").await.body.contains("Hello, Jan"),
        "still on the welcome step"
    );

    let welcome = user.get("/enroll/wizard").await;
    assert!(welcome.body.contains("Time left"));
    assert!(
        welcome.body.contains("Onramp Admin"),
        "the admin's contact card"
    );
    assert_eq!(
        step(&user, "/enroll/wizard/welcome", &[]).await.status,
        StatusCode::SEE_OTHER
    );
    let bad_phone = step(
        &user,
        "/enroll/wizard/verify",
        &[("phone", "call me maybe")],
    )
    .await;
    assert_eq!(bad_phone.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_phone.body.contains("Enter a phone number"));
    assert_eq!(
        step(
            &user,
            "/enroll/wizard/verify",
            &[("phone", "+48 600 700 800")]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    let weak = step(
        &user,
        "/enroll/wizard/password",
        &[
            ("password", "janjannowak1"),
            ("password_repeat", "janjannowak1"),
        ],
    )
    .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        weak.body.contains("name, username or email") || weak.body.contains("too easy to guess"),
        "{}",
        weak.body
    );
    let short = step(
        &user,
        "/enroll/wizard/password",
        &[("password", "short"), ("password_repeat", "short")],
    )
    .await;
    assert!(short.body.contains("at least 12 characters"));
    let res = step(
        &user,
        "/enroll/wizard/password",
        &[
            ("password", GOOD_PASSWORD),
            ("password_repeat", GOOD_PASSWORD),
        ],
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(
        app.user("jnowak").expect("user").password_hash.is_none(),
        "nothing is final before the last step"
    );

    let vpn = user.get("/enroll/wizard").await;
    assert!(vpn.body.contains("Generate key pair") && vpn.body.contains("wg genkey"));
    let bad_key = step(
        &user,
        "/enroll/wizard/vpn",
        &[
            ("device_name", "laptop"),
            ("public_key", "nope"),
            ("action", "add"),
        ],
    )
    .await;
    assert_eq!(bad_key.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_key.body.contains("exactly 44 characters"));
    let (res, public) = add_laptop(&user).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(res.location(), "/enroll/wizard");
    later(&user).await;

    let done = user.get("/enroll/done").await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(
        done.body.contains("Welcome, Jan!"),
        "the welcome message, tags substituted"
    );
    assert!(done.body.contains("Download office.conf"));
    assert!(done
        .body
        .contains(&format!(r#"data-device-key="{public}""#)));
    let config = user.get("/enroll/done/1.conf").await;
    assert_eq!(
        config.header("content-disposition"),
        r#"attachment; filename="office.conf""#
    );
    assert!(config.body.contains("Address = 10.10.0.2/32"));
    assert!(config
        .body
        .contains("PrivateKey = PASTE_YOUR_PRIVATE_KEY_HERE"));
    assert!(config.body.contains("Endpoint = vpn.example.com:51820"));

    let enrolled = app.user("jnowak").expect("user");
    assert!(enrolled.password_hash.is_some());
    assert_eq!(enrolled.phone.as_deref(), Some("+48 600 700 800"));
    assert!(token_row(&app, &secret).consumed_at.is_some());
    let conn = app.state.db.conn().expect("conn");
    let kinds: Vec<String> = conn
        .prepare("SELECT kind FROM outbox ORDER BY id")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(kinds, ["welcome", "admin-notification", "new-device"]);
    // The default welcome email: named after the instance, its text part readable text.
    let (subject, text): (String, String) = conn
        .query_row(
            "SELECT subject, body_text FROM outbox WHERE kind = 'welcome'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("welcome email");
    assert_eq!(subject, "Welcome to onramp");
    assert!(
        text.starts_with("Welcome, Jan!\n\nYour account jnowak is ready."),
        "{text}"
    );
    assert!(!text.contains("##") && !text.contains("**"), "{text}");
    assert!(text.contains("\n- read the company handbook,\n"), "{text}");
    drop(conn);
    let actions = app.audit_actions();
    for a in [
        "token.issued",
        "token.started",
        "enrollment.step",
        "token.consumed",
        "password.set",
        "device.added",
    ] {
        assert!(actions.contains(&a.to_owned()), "audit {a}: {actions:?}");
    }
    let dump = app.dump_database();
    assert!(!dump.contains(&secret), "the raw token is stored somewhere");
    assert!(!dump.contains(GOOD_PASSWORD));
    // The link is spent, and the list says Active.
    let again = app
        .another_browser()
        .get(&format!("/enroll?token={secret}"))
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert!(app.get("/admin/users").await.body.contains("badge-active"));
}

#[tokio::test]
async fn every_bad_token_gets_the_same_page() {
    let app = admin().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let revoked = hand_over_token(&app, id).await;
    let live = hand_over_token(&app, id).await; // revokes the first
    let unknown = "A".repeat(32);
    let pages = [
        app.another_browser()
            .get(&format!("/enroll?token={revoked}"))
            .await,
        app.another_browser()
            .get(&format!("/enroll?token={unknown}"))
            .await,
        app.another_browser()
            .post_raw("/enroll/start", &[("token", &revoked)])
            .await,
    ];
    for p in &pages {
        assert_eq!(p.status, StatusCode::NOT_FOUND);
        assert!(p.body.contains("This link is invalid or has expired"));
    }
    assert_eq!(pages[0].body, pages[1].body);
    // Expired: 24 h after issue.
    app.clock.advance(Duration::hours(24));
    let expired = app
        .another_browser()
        .post_raw("/enroll/start", &[("token", &live)])
        .await;
    assert_eq!(expired.status, StatusCode::NOT_FOUND);
    assert_eq!(expired.body, pages[1].body);
    assert!(app.audit_actions().contains(&"token.invalid".to_owned()));
    assert!(!app.dump_database().contains(&live));
}

#[tokio::test]
async fn the_window_closes_ten_minutes_after_the_first_start() {
    let app = admin().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let secret = hand_over_token(&app, id).await;
    let (user, _) = start(&app, &secret).await;
    app.clock.advance(Duration::minutes(9));
    // Reopening inside the window: a new session, the same deadline, the old one ends.
    let deadline = token_row(&app, &secret).session_deadline;
    let (second, res) = start(&app, &secret).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(token_row(&app, &secret).session_deadline, deadline);
    let old = user.get("/enroll/wizard").await;
    assert_eq!(old.status, StatusCode::GONE);
    assert!(old.body.contains("This enrollment session has ended"));
    assert_eq!(second.get("/enroll/wizard").await.status, StatusCode::OK);
    app.clock.advance(Duration::minutes(2));
    let late = second.get("/enroll/wizard").await;
    assert_eq!(late.status, StatusCode::GONE);
    assert!(late.body.contains("Time is up"));
    let after = app
        .another_browser()
        .post_raw("/enroll/start", &[("token", &secret)])
        .await;
    assert_eq!(after.status, StatusCode::NOT_FOUND, "dead after the window");
    assert!(app.audit_actions().contains(&"session.expired".to_owned()));
    assert!(app.user("jnowak").expect("user").password_hash.is_none());
}

#[tokio::test]
async fn revoking_or_disabling_ends_the_enrollment() {
    let app = admin().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let secret = hand_over_token(&app, id).await;
    let menu = app.hx_get(&format!("/admin/users/{id}/actions")).await;
    assert!(menu.body.contains("Start enrollment") && menu.body.contains("Revoke pending token"));
    let (user, _) = start(&app, &secret).await;
    let res = app
        .post(&format!("/admin/users/{id}/revoke-token"), &[])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(app
        .get("/admin/users")
        .await
        .body
        .contains("Revoked the pending enrollment token of jnowak."));
    assert_eq!(user.get("/enroll/wizard").await.status, StatusCode::GONE);
    assert!(app.audit_actions().contains(&"token.revoked".to_owned()));
    assert!(!app
        .get("/admin/users")
        .await
        .body
        .contains("Enrollment pending"));

    let secret = hand_over_token(&app, id).await;
    let (user, _) = start(&app, &secret).await;
    assert_eq!(
        app.post(&format!("/admin/users/{id}/disable"), &[])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(user.get("/enroll/wizard").await.status, StatusCode::GONE);
    let res = app
        .another_browser()
        .post_raw("/enroll/start", &[("token", &secret)])
        .await;
    assert_eq!(
        res.status,
        StatusCode::NOT_FOUND,
        "a disabled user's token is dead"
    );
}

#[tokio::test]
async fn twenty_parallel_completions_have_exactly_one_winner() {
    let app = admin().await;
    add_location(&app, "10.10.0.1/24").await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let secret = hand_over_token(&app, id).await;
    let (user, _) = start(&app, &secret).await;
    walk_to_vpn(&user).await;
    let csrf = wizard_csrf(&user.get("/enroll/wizard").await);
    let mut handles = Vec::new();
    for i in 0..20 {
        let client = user.client.clone();
        let url = user.url("/enroll/wizard/vpn");
        let csrf = csrf.clone();
        let key = onramp::services::locations::generate_keypair().1;
        handles.push(tokio::spawn(async move {
            let name = format!("laptop{i}");
            client
                .post(url)
                .form(&[
                    ("csrf_token", csrf.as_str()),
                    ("device_name", name.as_str()),
                    ("public_key", key.as_str()),
                    ("action", "add"),
                ])
                .send()
                .await
                .expect("post")
        }));
    }
    // The one winner and the late losers all go on to the wizard's next page; losers that
    // raced the winner's transaction are refused. Exactly one device and one welcome count.
    for h in handles {
        let res = h.await.expect("join");
        assert!(!res.status().is_server_error(), "{}", res.status());
    }
    let conn = app.state.db.conn().expect("conn");
    let devices: i64 = conn
        .query_row("SELECT count(*) FROM device", [], |r| r.get(0))
        .expect("n");
    assert_eq!(devices, 1);
    let welcome: i64 = conn
        .query_row(
            "SELECT count(*) FROM outbox WHERE kind = 'welcome'",
            [],
            |r| r.get(0),
        )
        .expect("n");
    assert_eq!(welcome, 1);
}

#[tokio::test]
async fn a_failing_last_step_writes_nothing() {
    let app = admin().await;
    // A /30 pool holds one device; another user's device takes it.
    add_location(&app, "10.9.0.1/30").await;
    {
        let conn = app.state.db.conn().expect("conn");
        let other = onramp::db::users::insert(
            &conn,
            &onramp::db::users::NewUser {
                username: "other",
                first_name: "O",
                last_name: "Ther",
                email: "other@example.com",
                phone: None,
                is_admin: false,
                password_hash: None,
                created_at: 0,
            },
        )
        .expect("user");
        let key = onramp::domain::wireguard::WgKey::parse(
            "k",
            &onramp::services::locations::generate_keypair().1,
        )
        .expect("key");
        let new = onramp::services::devices::NewDevice {
            user_id: other,
            name: "pc",
            key: &key,
            pending_token_id: None,
        };
        onramp::services::devices::add(&conn, &new, 10, 0).expect("device");
    }
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let secret = hand_over_token(&app, id).await;
    let (user, _) = start(&app, &secret).await;
    walk_to_vpn(&user).await;
    let (res, _) = add_laptop(&user).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("no free address left"), "{}", res.body);
    assert!(app.user("jnowak").expect("user").password_hash.is_none());
    assert!(token_row(&app, &secret).consumed_at.is_none());
    let conn = app.state.db.conn().expect("conn");
    let mails: i64 = conn
        .query_row(
            "SELECT count(*) FROM outbox WHERE kind != 'enrollment'",
            [],
            |r| r.get(0),
        )
        .expect("n");
    assert_eq!(mails, 0);
    // The user can still finish without a device (the step is optional by default).
    let res = step(&user, "/enroll/wizard/vpn", &[("action", "skip")]).await;
    assert_eq!(res.location(), "/enroll/wizard");
    assert!(app.user("jnowak").expect("user").password_hash.is_some());
}

#[tokio::test]
async fn emailed_tokens_are_stored_sealed_and_limited() {
    let app = admin().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let card = issue_token(
        &app,
        id,
        "enrollment",
        &[("delivery", "email"), ("email", "jan.private@example.org")],
    )
    .await;
    assert!(
        card.body
            .contains("The email to jan.private@example.org is queued (SMTP is not configured)."),
        "{}",
        card.body
    );
    assert!(!card.body.contains("emailed"), "{}", card.body);
    let secret = field_value(&card, "token-value");
    let conn = app.state.db.conn().expect("conn");
    let (recipient, text, sealed): (String, String, Option<Vec<u8>>) = conn
        .query_row(
            "SELECT recipient, body_text, secret_enc FROM outbox WHERE kind = 'enrollment'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("queued");
    assert_eq!(recipient, "jan.private@example.org");
    assert!(sealed.is_some());
    assert!(!text.contains(&secret));
    assert!(text.contains("/enroll?token="));
    assert!(text
        .contains("The token works for 24 hours. Once you start, you have 10 minutes to finish."));
    assert!(!app.dump_database().contains(&secret));
    let outbox_page = app.get("/admin/outbox/1").await;
    assert!(outbox_page
        .body
        .contains("[token: sealed, added only when the email is delivered]"));
    assert!(outbox_page
        .body
        .contains("cannot be read or forwarded from here"));
    // Handing over is not limited and does not count towards the email limit.
    for _ in 0..6 {
        hand_over_token(&app, id).await;
    }
    for _ in 0..4 {
        app.clock.advance(Duration::seconds(60));
        let res = app
            .post(
                &format!("/admin/users/{id}/enrollment"),
                &[("delivery", "email"), ("email", "jnowak@example.com")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
    }
    let issued_before = count_tokens(&app);
    let res = app
        .post(
            &format!("/admin/users/{id}/enrollment"),
            &[("delivery", "email"), ("email", "jnowak@example.com")],
        )
        .await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    // The first email went 4 minutes ago: the real wait is the rest of the 10 minutes.
    assert_eq!(res.header("retry-after"), "360");
    assert!(
        res.body.contains("At most 5 invitation emails per user in 10 minutes, so the next email to jnowak can go in 6 minutes."),
        "{}",
        res.body
    );
    assert!(res.body.contains("Deliver token yourself"));
    assert!(
        res.body.contains("Log out"),
        "the answer keeps the admin layout"
    );
    assert_eq!(count_tokens(&app), issued_before, "nothing was issued");
    // Once the oldest email leaves the window, the next one goes.
    app.clock.advance(Duration::seconds(360));
    let res = app
        .post(
            &format!("/admin/users/{id}/enrollment"),
            &[("delivery", "email"), ("email", "jnowak@example.com")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let bad = app
        .post(
            &format!("/admin/users/{id}/enrollment"),
            &[("delivery", "email"), ("email", "nope")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn starting_is_rate_limited_per_address() {
    let app = TestApp::spawn().await;
    let visitor = app.another_browser();
    for _ in 0..10 {
        assert_eq!(
            visitor
                .post_raw("/enroll/start", &[("token", "x")])
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
    let res = visitor.post_raw("/enroll/start", &[("token", "x")]).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(!res.header("retry-after").is_empty());
}

#[tokio::test]
async fn a_mandatory_vpn_step_cannot_be_skipped_and_enrolled_users_get_no_wizard() {
    let app = admin().await;
    add_location(&app, "10.10.0.1/24").await;
    let form = app.get("/admin/settings").await;
    let _ = form;
    {
        let conn = app.state.db.conn().expect("conn");
        onramp::db::settings::set(&conn, "vpn_step", "mandatory").expect("set");
    }
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let secret = hand_over_token(&app, id).await;
    let (user, _) = start(&app, &secret).await;
    walk_to_vpn(&user).await;
    assert!(!user
        .get("/enroll/wizard")
        .await
        .body
        .contains("Skip and finish"));
    let res = step(&user, "/enroll/wizard/vpn", &[("action", "skip")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("Adding a VPN device is required"));
    // An enrolled user cannot be sent through enrollment again.
    add_laptop(&user).await;
    let res = app
        .post(
            &format!("/admin/users/{id}/enrollment"),
            &[("delivery", "manual"), ("email", "")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(app
        .get("/admin/users")
        .await
        .body
        .contains("has already enrolled"));
}

#[tokio::test]
async fn an_admin_cancelling_is_told_apart_from_opening_the_link_elsewhere() {
    let app = admin().await;
    add_location(&app, "10.10.0.1/24").await;

    // A browser that never started one.
    let stranger = app.another_browser().get("/enroll/wizard").await;
    assert_eq!(stranger.status, StatusCode::GONE);
    assert!(
        stranger.body.contains("No enrollment in progress"),
        "{}",
        stranger.body
    );

    // Opened again in another browser: the first one is told so.
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let secret = hand_over_token(&app, id).await;
    let (first, _) = start(&app, &secret).await;
    let (second, _) = start(&app, &secret).await;
    let replaced = first.get("/enroll/wizard").await;
    assert_eq!(replaced.status, StatusCode::GONE);
    assert!(replaced.body.contains("opened again"), "{}", replaced.body);
    assert!(!replaced.body.contains("cancelled"), "{}", replaced.body);

    // The admin disables the user mid-wizard.
    let disabled = app.post(&format!("/admin/users/{id}/disable"), &[]).await;
    assert!(
        disabled.status.is_success() || disabled.status.is_redirection(),
        "{}",
        disabled.body
    );
    assert_cancelled(&second.get("/enroll/wizard").await);

    // The admin revokes the token mid-wizard.
    let other = app.add_user("akowalska", "Anna", "Kowalska").await;
    let secret = hand_over_token(&app, other).await;
    let (anna, _) = start(&app, &secret).await;
    assert_eq!(anna.get("/enroll/wizard").await.status, StatusCode::OK);
    let revoked = app
        .post(&format!("/admin/users/{other}/revoke-token"), &[])
        .await;
    assert!(
        revoked.status.is_success() || revoked.status.is_redirection(),
        "{}",
        revoked.body
    );
    assert_cancelled(&anna.get("/enroll/wizard").await);
}

#[tokio::test]
async fn without_a_location_the_vpn_step_adds_no_device() {
    let app = admin().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let secret = hand_over_token(&app, id).await;
    let (user, _) = start(&app, &secret).await;
    walk_to_vpn(&user).await;
    let vpn = user.get("/enroll/wizard").await;
    assert!(
        vpn.body.contains("There is no VPN to connect to yet"),
        "{}",
        vpn.body
    );
    assert!(!vpn.body.contains("Generate key pair"), "{}", vpn.body);
    assert!(!vpn.body.contains("Public key"), "{}", vpn.body);
    // Even a device sent anyway is not added: its key would be thrown away.
    let (res, _) = add_laptop(&user).await;
    assert_eq!(res.location(), "/enroll/wizard", "{}", res.body);
    later(&user).await;
    let done = user.get("/enroll/done").await;
    assert!(done.body.contains("No VPN yet"), "{}", done.body);
    assert!(
        done.body.contains("activate the VPN desktop client"),
        "{}",
        done.body
    );
    let conn = app.state.db.conn().expect("conn");
    assert_eq!(
        onramp::db::devices::count_for_user(&conn, id).expect("count"),
        0
    );
    // Once the window is over, Done says the enrollment is complete, not "time is up".
    app.clock.advance(Duration::minutes(11));
    let late = user.get("/enroll/done").await;
    assert_eq!(late.status, StatusCode::GONE);
    assert!(
        late.body.contains("Your enrollment is complete"),
        "{}",
        late.body
    );
    assert!(!late.body.contains("nothing was saved"), "{}", late.body);
}

#[tokio::test]
async fn the_password_meter_judges_by_the_policy_and_keeps_the_password_after_an_error() {
    let app = admin().await;
    add_location(&app, "10.10.0.1/24").await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let secret = hand_over_token(&app, id).await;
    let (user, _) = start(&app, &secret).await;
    let csrf = wizard_csrf(&user.get("/enroll/wizard").await);
    // Not on the password step yet: the meter says nothing.
    let early = user
        .post_raw(
            "/enroll/wizard/password/strength",
            &[("csrf_token", &csrf), ("password", "password1234")],
        )
        .await;
    assert_eq!(early.status, StatusCode::OK);
    assert!(!early.body.contains("Strength"), "{}", early.body);
    walk_to_vpn_until_password(&user).await;
    let meter = |password: &'static str| {
        let user = &user;
        let csrf = csrf.clone();
        async move {
            user.post_raw(
                "/enroll/wizard/password/strength",
                &[
                    ("csrf_token", &csrf),
                    ("password", password),
                    ("password_repeat", ""),
                ],
            )
            .await
        }
    };
    let weak = meter("password1234").await;
    assert_eq!(weak.status, StatusCode::OK);
    assert!(weak.body.contains("too weak"), "{}", weak.body);
    assert!(
        weak.body.contains("too easy to guess: this is"),
        "{}",
        weak.body
    );
    assert!(!weak.body.contains("<html"), "a fragment: {}", weak.body);
    let good = meter("plum orbit velvet river").await;
    assert!(
        good.body.contains("This password will be accepted."),
        "{}",
        good.body
    );
    // Without the CSRF token: refused.
    let forged = user
        .post_raw("/enroll/wizard/password/strength", &[("password", "x")])
        .await;
    assert!(forged.status.is_client_error(), "{}", forged.body);

    // A plain submit with a mismatch keeps the first field and shows its meter.
    let res = step(
        &user,
        "/enroll/wizard/password",
        &[
            ("password", GOOD_PASSWORD),
            ("password_repeat", "something else"),
        ],
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.body.contains(&format!(r#"value="{GOOD_PASSWORD}""#)),
        "{}",
        res.body
    );
    assert!(
        res.body.contains("This password will be accepted."),
        "{}",
        res.body
    );
    assert!(
        res.body.contains("The two passwords do not match."),
        "{}",
        res.body
    );
}

/// "Later" on the two-factor step: on to the done page.
pub(crate) async fn later(user: &TestApp) {
    let res = step(user, "/enroll/wizard/two-factor/skip", &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(res.location(), "/enroll/done");
}

/// Adds a device "laptop" with a fresh key on the VPN step.
async fn add_laptop(user: &TestApp) -> (Page, String) {
    let (_, public) = onramp::services::locations::generate_keypair();
    let fields = [
        ("device_name", "laptop"),
        ("public_key", &public),
        ("action", "add"),
    ];
    (step(user, "/enroll/wizard/vpn", &fields).await, public)
}

/// The page a wizard shows once an admin called the enrollment off.
fn assert_cancelled(page: &Page) {
    assert_eq!(page.status, StatusCode::GONE);
    assert!(
        page.body
            .contains("Your administrator cancelled this enrollment"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("opened again"), "{}", page.body);
}

/// Welcome → Verify, leaving the user on the password step.
async fn walk_to_vpn_until_password(user: &TestApp) {
    step(user, "/enroll/wizard/welcome", &[]).await;
    step(user, "/enroll/wizard/verify", &[("phone", "")]).await;
    assert!(user
        .get("/enroll/wizard")
        .await
        .body
        .contains("Create password"));
}

#[tokio::test]
async fn a_new_location_is_announced_to_everyone_with_a_device() {
    let smtp = crate::smtp_server::SmtpServer::start().await;
    let config =
        onramp::config::parse_smtp_url(&format!("smtp://127.0.0.1:{}?tls=none", smtp.port()))
            .expect("SMTP URL");
    let mut app = TestApp::spawn_with(move |c| c.smtp = Some(config)).await;
    app.admin_login().await;
    add_location(&app, "10.10.0.1/24").await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    app.add_user("akowalska", "Anna", "Kowalska").await;
    let secret = hand_over_token(&app, id).await;
    let (user, _) = start(&app, &secret).await;
    walk_to_vpn(&user).await;
    let (done, _) = add_laptop(&user).await;
    assert_eq!(done.location(), "/enroll/wizard", "{}", done.body);
    // Welcome and new-device mails to Jan, the notification to the admin.
    let before = smtp
        .wait_for(3, std::time::Duration::from_secs(10))
        .await
        .len();

    add_named_location(&app, "Lab", "10.20.0.1/24").await;
    let list = app.get("/admin/locations").await;
    assert!(
        list.body.contains(
            "Added location Lab. 1 person with a device was emailed how to connect to it."
        ),
        "{}",
        list.body
    );
    let messages = smtp
        .wait_for(before + 1, std::time::Duration::from_secs(10))
        .await;
    let news: Vec<_> = messages
        .iter()
        .filter(|m| {
            m.header("Subject")
                .is_some_and(|s| s.contains("New VPN location"))
        })
        .collect();
    assert_eq!(news.len(), 1, "only Jan has a device");
    let mail = news[0];
    assert_eq!(mail.envelope_to, ["jnowak@example.com"]);
    let text = mail.part("text/plain");
    assert!(text.contains("Lab"), "{text}");
    assert!(text.contains("desktop client"), "{text}");
    assert!(
        text.contains("ask your administrator to add a new device"),
        "{text}"
    );
}

#[tokio::test]
async fn a_one_minute_window_reads_as_one_minute() {
    let mut app = TestApp::spawn_with(|c| c.enrollment_session_ttl = Duration::seconds(60)).await;
    app.admin_login().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let secret = hand_over_token(&app, id).await;
    let (user, _) = start(&app, &secret).await;
    let welcome = user.get("/enroll/wizard").await;
    assert!(
        welcome.body.contains("You have 1 minute from the start"),
        "{}",
        welcome.body
    );
}
