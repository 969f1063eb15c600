//! Every user's own account: login for non-admins, `/me` (profile, devices, desktop token,
//! password), two-factor with TOTP codes computed here, password reset through a real SMTP
//! server, and the admin's sign-in actions on a user.

use crate::helpers::{add_location, TestApp};
use crate::smtp_server::SmtpServer;
use reqwest::StatusCode;
use std::time::Duration;
use time::Duration as TimeDuration;

const PASSWORD: &str = "lantern orbit pebble crane";
const NEW_PASSWORD: &str = "harbour violet quiz anchor";

/// An enrolled, active, non-admin user with [`PASSWORD`], seeded directly.
fn seed_user(app: &TestApp, username: &str) -> i64 {
    let hash = onramp::crypto::hash_blocking(PASSWORD).expect("hash");
    let email = format!("{username}@example.com");
    let conn = app.state.db.conn().expect("conn");
    onramp::db::users::insert(
        &conn,
        &onramp::db::users::NewUser {
            username,
            first_name: "Anna",
            last_name: "Nowak",
            email: &email,
            phone: None,
            is_admin: false,
            password_hash: Some(&hash),
            created_at: 0,
        },
    )
    .expect("insert")
}

/// Logs `username` in with `password` in a browser of its own and keeps its CSRF token.
async fn user_browser(app: &TestApp, username: &str, password: &str) -> TestApp {
    let mut b = app.another_browser();
    let res = b.login_as(username, password).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(res.location(), "/me");
    let me = b.get("/me").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    b.csrf = me.csrf_field().expect("csrf on /me");
    b
}

fn code_now(app: &TestApp, secret: &str) -> String {
    let now = u64::try_from(app.state.now().unix_timestamp()).expect("positive");
    onramp::domain::totp::code_at(secret, now).expect("code")
}

fn count(app: &TestApp, sql: &str) -> i64 {
    let conn = app.state.db.conn().expect("conn");
    conn.query_row(sql, [], |r| r.get(0)).expect("count")
}

/// The text between `start` and the next `end` in `body`.
fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let at = body
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not in {body}"))
        + start.len();
    &body[at..at + body[at..].find(end).expect("end")]
}

/// Sets up TOTP for a signed-in user; returns the secret and the recovery codes.
async fn set_up_totp(app: &TestApp, user: &TestApp) -> (String, Vec<String>) {
    let res = user.post("/me/two-factor/totp", &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let page = user.get("/me/two-factor").await;
    let secret = between(&page.body, r#"id="totp-secret">"#, "<").to_owned();
    assert!(page.body.contains("<svg"), "a QR code of the otpauth URI");
    let wrong = user
        .post("/me/two-factor/totp/confirm", &[("code", "000000")])
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("That code is not right"));
    let code = code_now(app, &secret);
    let done = user
        .post("/me/two-factor/totp/confirm", &[("code", &code)])
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.header("cache-control"), "no-store");
    let list = between(&done.body, r#"aria-label="Recovery codes">"#, "</ul>");
    let codes: Vec<String> = list
        .split("<li>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(codes.len(), 10, "{list}");
    (secret, codes)
}

#[tokio::test]
async fn users_sign_in_to_their_account_and_never_reach_the_admin_pages() {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    seed_user(&app, "anna");
    let anna = user_browser(&app, "anna", PASSWORD).await;
    let me = anna.get("/me").await;
    assert!(me.body.contains("My account"));
    assert!(!me.body.contains(r#"href="/admin/users">Admin"#));
    for path in ["/admin/users", "/admin/settings", "/admin/users/1"] {
        let res = anna.get(path).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(res.location(), "/me", "{path}");
    }
    // Admins land on the admin pages and reach their own account too.
    let admin_me = app.get("/me").await;
    assert_eq!(admin_me.status, StatusCode::OK);
    assert!(admin_me.body.contains(r#"href="/admin/users">Admin"#));
    // Wrong password: the one message.
    let other = app.another_browser();
    let res = other.login_as("anna", "not the password at all").await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(res.body.contains("The username or password is incorrect."));
    // Disabling ends her session at once and stops her from logging in.
    let id = app.user_id("anna").expect("anna");
    app.post(&format!("/admin/users/{id}/disable"), &[]).await;
    assert_eq!(anna.get("/me").await.location(), "/login");
    let res = other.login_as("anna", PASSWORD).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_profile_edits_only_what_the_admin_allows() {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    seed_user(&app, "anna");
    let anna = user_browser(&app, "anna", PASSWORD).await;
    // Default: phone only; a smuggled name is ignored.
    let res = anna
        .post(
            "/me/profile",
            &[("phone", "+48 600 100 200"), ("first_name", "Mallory")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let u = app.user("anna").expect("anna");
    assert_eq!(u.phone.as_deref(), Some("+48 600 100 200"));
    assert_eq!(u.first_name, "Anna");
    let bad = anna.post("/me/profile", &[("phone", "call me")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.user("anna").expect("anna").phone.as_deref(),
        Some("+48 600 100 200")
    );
    // The admin allows names.
    let res = app
        .post(
            "/admin/settings/accounts",
            &[("edit_name", "on"), ("edit_phone", "on")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let res = anna
        .post(
            "/me/profile",
            &[
                ("first_name", "Anna Maria"),
                ("last_name", "Nowak"),
                ("phone", ""),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(app.user("anna").expect("anna").first_name, "Anna Maria");
    assert!(app
        .audit_actions()
        .contains(&"account.profile_updated".to_owned()));
}

#[tokio::test]
async fn an_admin_may_always_edit_their_own_profile_on_me() {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    // The default rule lets users change only their phone; the admin's own page has it all.
    let me = app.get("/me").await;
    assert!(me.body.contains(r#"name="email""#), "{}", me.body);
    let res = app
        .post(
            "/me/profile",
            &[
                ("first_name", "Ewa"),
                ("last_name", "Lis"),
                ("email", "ewa@example.com"),
                ("phone", "+48 600 700 800"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let admin = app.user("admin").expect("admin");
    assert_eq!(
        (admin.first_name.as_str(), admin.email.as_str()),
        ("Ewa", "ewa@example.com")
    );
    let bad = app
        .post(
            "/me/profile",
            &[
                ("first_name", "Ewa"),
                ("last_name", "Lis"),
                ("email", "nope"),
                ("phone", ""),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.user("admin").expect("admin").email, "ewa@example.com");
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_other_sessions() {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    seed_user(&app, "anna");
    let anna = user_browser(&app, "anna", PASSWORD).await;
    let laptop = user_browser(&app, "anna", PASSWORD).await;
    let wrong = anna
        .post(
            "/me/password",
            &[
                ("current_password", "nope nope nope nope"),
                ("password", NEW_PASSWORD),
                ("password_repeat", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("This is not your current password."));
    let weak = anna
        .post(
            "/me/password",
            &[
                ("current_password", PASSWORD),
                ("password", "annanowak123"),
                ("password_repeat", "annanowak123"),
            ],
        )
        .await;
    assert_eq!(
        weak.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        weak.body
    );
    let mismatch = anna
        .post(
            "/me/password",
            &[
                ("current_password", PASSWORD),
                ("password", NEW_PASSWORD),
                ("password_repeat", "something else entirely"),
            ],
        )
        .await;
    assert!(mismatch.body.contains("The two passwords do not match."));
    assert!(
        onramp::crypto::PasswordHasher::default()
            .verify(
                PASSWORD.into(),
                app.user("anna").expect("anna").password_hash
            )
            .await
            .expect("verify"),
        "nothing changed after refusals"
    );
    let ok = anna
        .post(
            "/me/password",
            &[
                ("current_password", PASSWORD),
                ("password", NEW_PASSWORD),
                ("password_repeat", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(
        anna.get("/me").await.status,
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(
        laptop.get("/me").await.location(),
        "/login",
        "the other one ends"
    );
    user_browser(&app, "anna", NEW_PASSWORD).await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM outbox WHERE subject LIKE 'Your password was changed%'"
        ),
        1
    );
}

#[tokio::test]
async fn users_manage_their_own_devices_and_desktop_token() {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    add_location(&app, "Office", "10.10.0.1/24").await;
    let anna_id = seed_user(&app, "anna");
    let bob_id = seed_user(&app, "bob");
    let anna = user_browser(&app, "anna", PASSWORD).await;
    // A public key (from the browser's key pair, or pasted): the configs are shown once,
    // with the private key's placeholder for the browser to fill in.
    let key = onramp::services::locations::generate_keypair().1;
    let res = anna
        .post(
            "/me/devices",
            &[
                ("device_name", "laptop"),
                ("key_mode", "browser"),
                ("public_key", &key),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.header("cache-control"), "no-store");
    assert!(res.body.contains(&format!(r#"data-device-key="{key}""#)));
    assert!(res
        .body
        .contains("PrivateKey = PASTE_YOUR_PRIVATE_KEY_HERE"));
    assert!(res.body.contains(r#"download="office.conf""#));
    let me = anna.get("/me").await;
    assert!(me.body.contains("laptop") && me.body.contains(&key));
    assert!(
        me.body.contains(r#"value="browser" checked"#),
        "the default"
    );
    assert!(
        !me.body.contains("Let onramp make a key pair"),
        "onramp never makes a user's private key"
    );
    // An old form asking onramp to make the key pair: nothing is made, the key is missing.
    let made = anna
        .post(
            "/me/devices",
            &[("device_name", "phone"), ("key_mode", "generate")],
        )
        .await;
    assert_eq!(
        made.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        made.body
    );
    assert!(!made.body.contains("PrivateKey = "));
    let pasted = onramp::services::locations::generate_keypair().1;
    let res = anna
        .post(
            "/me/devices",
            &[
                ("device_name", "phone"),
                ("key_mode", "paste"),
                ("public_key", &pasted),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let id: i64 = {
        let conn = app.state.db.conn().expect("conn");
        conn.query_row(
            "SELECT id FROM device WHERE user_id = ?1 AND name = 'laptop'",
            [anna_id],
            |r| r.get(0),
        )
        .expect("device")
    };
    let res = anna
        .post(
            &format!("/me/devices/{id}/rename"),
            &[("new_name", "work laptop")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    // Someone else's device is not found, not touched.
    let bob = user_browser(&app, "bob", PASSWORD).await;
    let res = bob.post(&format!("/me/devices/{id}/delete"), &[]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = anna.post(&format!("/me/devices/{id}/delete"), &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(
        count(
            &app,
            &format!("SELECT count(*) FROM device WHERE user_id = {anna_id}")
        ),
        1
    );
    let _ = bob_id;
    // The desktop token: shown once on a card reached by redirect; reloading issues nothing.
    let issued = anna.post("/me/desktop", &[]).await;
    assert_eq!(issued.status, StatusCode::SEE_OTHER, "{}", issued.body);
    let card_url = issued.location().to_owned();
    assert!(card_url.starts_with("/me/desktop/"), "{card_url}");
    let card = anna.get(&card_url).await;
    assert_eq!(card.status, StatusCode::OK, "{}", card.body);
    assert!(card.body.contains("defguard://addinstance?"));
    assert_eq!(card.header("cache-control"), "no-store");
    let reload = anna.get(&card_url).await;
    assert!(reload.body.contains("already shown"), "{}", reload.body);
    assert!(!reload.body.contains("defguard://addinstance?"));
    assert_eq!(
        count(
            &app,
            &format!("SELECT count(*) FROM token WHERE user_id = {anna_id}")
        ),
        1
    );
    anna.post("/me/desktop", &[]).await;
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) FROM token WHERE user_id = {anna_id} AND purpose = 'desktop' AND revoked_at IS NULL"
            )
        ),
        1
    );
}

#[tokio::test]
async fn totp_protects_the_login_and_codes_work_once() {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    seed_user(&app, "anna");
    let anna = user_browser(&app, "anna", PASSWORD).await;
    let (secret, recovery) = set_up_totp(&app, &anna).await;
    assert!(app.audit_actions().contains(&"mfa.totp_enabled".to_owned()));

    // A new login now asks for the code.
    let b = app.another_browser();
    let res = b.login_as("anna", PASSWORD).await;
    assert_eq!(res.location(), "/login/code");
    assert_eq!(b.get("/me").await.location(), "/login", "not signed in yet");
    let form = b.get("/login/code").await;
    let csrf = form.csrf_field().expect("csrf");
    let wrong = b
        .post_raw("/login/code", &[("csrf_token", &csrf), ("code", "123456")])
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    // The code used to confirm the app cannot be used again in the same step.
    let used = code_now(&app, &secret);
    let again = b
        .post_raw("/login/code", &[("csrf_token", &csrf), ("code", &used)])
        .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "a code works once");
    app.clock.advance(TimeDuration::seconds(30));
    let code = code_now(&app, &secret);
    let ok = b
        .post_raw("/login/code", &[("csrf_token", &csrf), ("code", &code)])
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(ok.location(), "/me");
    assert_eq!(b.get("/me").await.status, StatusCode::OK);

    // A recovery code works once.
    let c = app.another_browser();
    c.login_as("anna", PASSWORD).await;
    let csrf = c.get("/login/code").await.csrf_field().expect("csrf");
    let ok = c
        .post_raw(
            "/login/code",
            &[("csrf_token", &csrf), ("code", &recovery[0].to_uppercase())],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let d = app.another_browser();
    d.login_as("anna", PASSWORD).await;
    let csrf = d.get("/login/code").await.csrf_field().expect("csrf");
    let reused = d
        .post_raw(
            "/login/code",
            &[("csrf_token", &csrf), ("code", &recovery[0])],
        )
        .await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);

    // Failed codes are limited like passwords.
    let mut last = StatusCode::OK;
    for _ in 0..12 {
        last = d
            .post_raw("/login/code", &[("csrf_token", &csrf), ("code", "000000")])
            .await
            .status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);

    // Turning it off needs a code.
    let refused = anna
        .post("/me/two-factor/disable", &[("code", "111111")])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = anna
        .post("/me/two-factor/disable", &[("code", &recovery[1])])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    // The failed codes above locked the account for 15 minutes.
    app.clock.advance(TimeDuration::minutes(16));
    let e = app.another_browser();
    assert_eq!(e.login_as("anna", PASSWORD).await.location(), "/me");
}

#[tokio::test]
async fn a_required_second_factor_comes_before_anything_else() {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    seed_user(&app, "anna");
    app.post(
        "/admin/settings/accounts",
        &[("edit_phone", "on"), ("mfa_required", "on")],
    )
    .await;
    let b = app.another_browser();
    assert_eq!(b.login_as("anna", PASSWORD).await.location(), "/me");
    let res = b.get("/me").await;
    assert_eq!(res.location(), "/me/two-factor");
    let page = b.get("/me/two-factor").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("requires a second factor"));
    let mut b = b;
    b.csrf = page.csrf_field().expect("csrf");
    set_up_totp(&app, &b).await;
    assert_eq!(b.get("/me").await.status, StatusCode::OK);
    let refused = b
        .post("/me/two-factor/disable", &[("code", "000000")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_forgotten_password_is_reset_by_email() {
    let smtp = SmtpServer::start().await;
    let url = onramp::config::parse_smtp_url(&format!("smtp://127.0.0.1:{}?tls=none", smtp.port()))
        .expect("smtp url");
    let mut app = TestApp::spawn_with(move |c| c.smtp = Some(url)).await;
    app.admin_login().await;
    seed_user(&app, "anna");
    let anna = user_browser(&app, "anna", PASSWORD).await;

    let b = app.another_browser();
    let form = b.get("/reset/request").await;
    let csrf = form.csrf_field().expect("csrf");
    // The same answer for an unknown address.
    for login in ["nobody@example.com", "ANNA@example.com"] {
        let res = b
            .post_raw("/reset/request", &[("csrf_token", &csrf), ("login", login)])
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let page = b.get("/reset/request").await;
        assert!(page
            .body
            .contains("If an account with that username or email exists"));
    }
    let mails = smtp.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].envelope_to, ["anna@example.com"]);
    let text = mails[0].part("text/plain");
    let link = text
        .lines()
        .find(|l| l.contains("/reset?token="))
        .expect("link in the mail")
        .trim()
        .to_owned();
    let path = &link[link.find("/reset?").expect("path")..];
    let token = &path["/reset?token=".len()..];

    // Opening the link changes nothing.
    for _ in 0..2 {
        let landing = b.get(path).await;
        assert_eq!(landing.status, StatusCode::OK, "{}", landing.body);
    }
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM password_reset WHERE started_at IS NOT NULL"
        ),
        0
    );
    let started = b.post_raw("/reset/start", &[("token", token)]).await;
    assert_eq!(started.location(), "/reset/password");
    let form = b.get("/reset/password").await;
    let csrf = form.csrf_field().expect("csrf");
    let weak = b
        .post_raw(
            "/reset/password",
            &[
                ("csrf_token", &csrf),
                ("password", "short"),
                ("password_repeat", "short"),
            ],
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    let done = b
        .post_raw(
            "/reset/password",
            &[
                ("csrf_token", &csrf),
                ("password", NEW_PASSWORD),
                ("password_repeat", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/login");
    assert_eq!(
        anna.get("/me").await.location(),
        "/login",
        "every session ended"
    );
    user_browser(&app, "anna", NEW_PASSWORD).await;
    // The link is used up.
    assert_eq!(b.get(path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        b.post_raw("/reset/start", &[("token", token)]).await.status,
        StatusCode::NOT_FOUND
    );
    let mails = smtp.wait_for(2, Duration::from_secs(5)).await;
    assert!(mails[1]
        .header("Subject")
        .unwrap_or_default()
        .starts_with("Your password was changed"));
}

#[tokio::test]
async fn reset_links_expire_and_the_window_closes() {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    let id = seed_user(&app, "anna");
    let card = app
        .post(
            &format!("/admin/users/{id}/password-reset"),
            &[("delivery", "card")],
        )
        .await;
    assert_eq!(card.status, StatusCode::OK, "{}", card.body);
    let link = between(
        &card.body,
        r#"id="reset-link" type="text" readonly value=""#,
        "\"",
    )
    .to_owned();
    let path = link[link.find("/reset?").expect("path")..].to_owned();
    let token = path["/reset?token=".len()..].to_owned();
    let b = app.another_browser();
    b.post_raw("/reset/start", &[("token", &token)]).await;
    app.clock.advance(TimeDuration::minutes(11));
    assert_eq!(b.get("/reset/password").await.status, StatusCode::NOT_FOUND);
    // A second card revokes the first link.
    let card2 = app
        .post(
            &format!("/admin/users/{id}/password-reset"),
            &[("delivery", "card")],
        )
        .await;
    assert_eq!(card2.status, StatusCode::OK);
    assert_eq!(b.get(&path).await.status, StatusCode::NOT_FOUND);
    let link2 = between(
        &card2.body,
        r#"id="reset-link" type="text" readonly value=""#,
        "\"",
    )
    .to_owned();
    let path2 = link2[link2.find("/reset?").expect("path")..].to_owned();
    app.clock.advance(TimeDuration::hours(25));
    assert_eq!(
        b.get(&path2).await.status,
        StatusCode::NOT_FOUND,
        "expired after 24 h"
    );
}

#[tokio::test]
async fn admins_reset_two_factor_and_grant_admin_rights_but_keep_the_last_admin() {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    let id = seed_user(&app, "anna");
    let anna = user_browser(&app, "anna", PASSWORD).await;
    set_up_totp(&app, &anna).await;
    let res = app
        .post(&format!("/admin/users/{id}/two-factor/reset"), &[])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(count(&app, "SELECT count(*) FROM user_totp"), 0);
    assert_eq!(count(&app, "SELECT count(*) FROM recovery_code"), 0);
    assert!(app.audit_actions().contains(&"mfa.reset".to_owned()));
    let b = app.another_browser();
    assert_eq!(b.login_as("anna", PASSWORD).await.location(), "/me");

    // Admin rights.
    let admin_id = app.user_id("admin").expect("admin");
    let res = app
        .post(
            &format!("/admin/users/{admin_id}/admin"),
            &[("admin", "false")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(
        app.user("admin").expect("admin").is_admin,
        "nobody removes their own rights"
    );
    app.post(&format!("/admin/users/{id}/admin"), &[("admin", "true")])
        .await;
    assert!(app.user("anna").expect("anna").is_admin);
    assert_eq!(anna.get("/admin/users").await.status, StatusCode::OK);
    app.post(&format!("/admin/users/{id}/admin"), &[("admin", "false")])
        .await;
    assert!(!app.user("anna").expect("anna").is_admin);
    assert_eq!(anna.get("/admin/users").await.location(), "/me");
}
