//! Two-factor set-up inside the desktop client's enrollment, in the order the client sends
//! it: `enrollment/start`, `create_device`, `register-mfa/code/start`, `…/finish`,
//! `activate_user`; then the user's sign-in asks for the second factor.

use crate::client_api::{call, key, setup, Reply, PASSWORD};
use crate::helpers::{add_location, hand_over_token, TestApp};
use crate::smtp_server::SmtpServer;
use onramp::clock::Clock;
use onramp::domain::totp;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration as StdDuration;
use time::Duration;

/// The code the user's authenticator app shows now.
fn app_code(app: &TestApp, secret: &str) -> String {
    let now = u64::try_from(app.clock.now().unix_timestamp()).expect("time");
    totp::code_at(secret, now).expect("code")
}

fn factors(app: &TestApp, username: &str) -> onramp::services::mfa::Factors {
    let conn = app.state.db.conn().expect("conn");
    let id = app.user_id(username).expect("user");
    onramp::services::mfa::factors_of(&conn, id).expect("factors")
}

fn recovery_hashes(app: &TestApp) -> Vec<String> {
    let conn = app.state.db.conn().expect("conn");
    let mut stmt = conn
        .prepare("SELECT hash FROM recovery_code ORDER BY id")
        .expect("prepare");
    let rows = stmt
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    rows
}

fn check_recovery_codes(finish: &Reply) -> Vec<String> {
    assert_eq!(finish.status, StatusCode::OK, "{}", finish.body);
    let codes: Vec<String> = finish.body["recovery_codes"]
        .as_array()
        .expect("recovery_codes")
        .iter()
        .map(|c| c.as_str().expect("a code").to_owned())
        .collect();
    assert_eq!(codes.len(), 10, "{codes:?}");
    let mut unique = codes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 10, "every recovery code differs");
    codes
}

/// Starts the client's enrollment for a new user; returns the start reply and the cookie.
async fn start_enrollment(app: &TestApp, username: &str) -> (Value, String) {
    let id = app.add_user(username, "Jan", "Nowak").await;
    let token = hand_over_token(app, id, "enrollment").await;
    let start = call(app, "enrollment/start", json!({ "token": token }), None).await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.body);
    let cookie = start.set_cookie();
    (start.body, cookie)
}

async fn mfa_start(app: &TestApp, method: &str, cookie: &str) -> Reply {
    call(
        app,
        "enrollment/register-mfa/code/start",
        json!({ "method": method }),
        Some(cookie),
    )
    .await
}

async fn mfa_finish(app: &TestApp, code: &str, method: &str, cookie: &str) -> Reply {
    call(
        app,
        "enrollment/register-mfa/code/finish",
        json!({ "code": code, "method": method }),
        Some(cookie),
    )
    .await
}

/// `activate_user` as the client sends it, with the password onramp accepts.
async fn activate(app: &TestApp, cookie: &str) {
    let ok = call(
        app,
        "enrollment/activate_user",
        json!({ "password": PASSWORD, "phone_number": null }),
        Some(cookie),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
}

/// Asserts a 400 whose message says `says`.
fn assert_refused(reply: &Reply, says: &str) {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    let message = reply.body["error"].as_str().expect("error");
    assert!(message.contains(says), "{says}: {message}");
}

/// Signs in at `/login` in a fresh browser; returns it and where the form sent it.
async fn sign_in(app: &TestApp, username: &str) -> (TestApp, String) {
    let browser = app.another_browser();
    let form = browser.get("/login").await;
    let csrf = form.csrf_field().expect("login form has a CSRF field");
    let res = browser
        .post_raw(
            "/login",
            &[
                ("csrf_token", &csrf),
                ("username", username),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let to = res.location().to_owned();
    (browser, to)
}

/// Types `code` on the second-factor form; returns the status and where it sent the user.
async fn type_login_code(browser: &TestApp, code: &str) -> (StatusCode, String) {
    let form = browser.get("/login/code").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = form.csrf_field().expect("code form has a CSRF field");
    let res = browser
        .post_raw("/login/code", &[("csrf_token", &csrf), ("code", code)])
        .await;
    (res.status, res.location().to_owned())
}

#[tokio::test]
async fn the_client_sets_up_an_authenticator_app_and_sign_in_asks_for_it() {
    let app = setup().await;
    let (start, cookie) = start_enrollment(&app, "jnowak").await;
    assert_eq!(
        start["settings"]["mfa_required"], false,
        "the client offers Skip"
    );
    let device = call(
        &app,
        "enrollment/create_device",
        json!({ "name": "jan-laptop", "pubkey": key() }),
        Some(&cookie),
    )
    .await;
    assert_eq!(device.status, StatusCode::OK, "{}", device.body);

    let started = mfa_start(&app, "Totp", &cookie).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let secret = started.body["totp_secret"]
        .as_str()
        .expect("totp_secret")
        .to_owned();
    assert_eq!(
        secret.len(),
        32,
        "160 bits in base32 without padding: {secret}"
    );
    assert!(secret
        .bytes()
        .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)));
    assert!(
        !factors(&app, "jnowak").any(),
        "nothing is on before finish"
    );

    let code = app_code(&app, &secret);
    let codes = check_recovery_codes(&mfa_finish(&app, &code, "Totp", &cookie).await);
    let on = factors(&app, "jnowak");
    assert!(on.totp && !on.email);
    assert_eq!(on.recovery_left, 10);
    assert!(app.audit_actions().contains(&"mfa.totp_enabled".to_owned()));
    let dump = app.dump_database();
    assert!(!dump.contains(&secret), "the secret is stored sealed");
    assert!(
        codes.iter().all(|c| !dump.contains(c.as_str())),
        "recovery codes are stored hashed"
    );

    activate(&app, &cookie).await;

    // The password alone does not sign in; the code used at set-up does not work again;
    // the app's next code does.
    let (browser, to) = sign_in(&app, "jnowak").await;
    assert_eq!(to, "/login/code");
    let (status, _) = type_login_code(&browser, &code).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a used code is refused");
    app.clock.advance(Duration::seconds(30));
    let (status, to) = type_login_code(&browser, &app_code(&app, &secret)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(to, "/me");
}

#[tokio::test]
async fn mfa_required_is_the_setting() {
    let app = setup().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let token = hand_over_token(&app, id, "enrollment").await;
    {
        let conn = app.state.db.conn().expect("conn");
        onramp::db::settings::set(&conn, onramp::services::mfa::REQUIRED_SETTING, "true")
            .expect("set");
    }
    let start = call(&app, "enrollment/start", json!({ "token": token }), None).await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.body);
    let settings = &start.body["settings"];
    assert_eq!(settings["mfa_required"], true, "no Skip in the client");
    assert_eq!(settings["smtp_configured"], false);
    assert_eq!(start.body["user"]["password_management_disabled"], false);
}

#[tokio::test]
async fn a_wrong_or_reused_code_turns_nothing_on() {
    let app = setup().await;
    let (_, cookie) = start_enrollment(&app, "jnowak").await;
    let nothing = mfa_finish(&app, "123456", "Totp", &cookie).await;
    assert_refused(&nothing, "Start the set-up again");

    let started = mfa_start(&app, "Totp", &cookie).await;
    let secret = started.body["totp_secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    // A code from an hour ago is wrong now.
    let now = u64::try_from(app.clock.now().unix_timestamp()).expect("time");
    let stale = totp::code_at(&secret, now - 3600).expect("code");
    let fresh = app_code(&app, &secret);
    let wrong = if stale == fresh {
        "000000".to_owned()
    } else {
        stale
    };
    for (code, method, message) in [
        (wrong.as_str(), "Totp", "not right"),
        ("12ab56", "Totp", "6 digits"),
        ("", "Totp", "6 digits"),
        (fresh.as_str(), "Oidc", "method not supported"),
    ] {
        assert_refused(&mfa_finish(&app, code, method, &cookie).await, message);
    }
    let unknown = mfa_start(&app, "Biometric", &cookie).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(
        !factors(&app, "jnowak").any(),
        "a wrong code turns nothing on"
    );
    assert!(
        recovery_hashes(&app).is_empty(),
        "and stores no recovery codes"
    );
    assert!(!app.audit_actions().contains(&"mfa.totp_enabled".to_owned()));

    // The pending set-up survived the wrong codes.
    check_recovery_codes(&mfa_finish(&app, &fresh, "Totp", &cookie).await);
    let stored = recovery_hashes(&app);
    // The same request again (a retry, or a replay) finds the factor on and changes nothing.
    let again = mfa_finish(&app, &fresh, "Totp", &cookie).await;
    assert_refused(&again, "already set up");
    assert_refused(&mfa_start(&app, "Totp", &cookie).await, "already set up");
    assert_eq!(
        recovery_hashes(&app),
        stored,
        "the codes shown stay the codes"
    );
}

#[tokio::test]
async fn email_codes_arrive_by_smtp_and_finish_with_the_method_the_client_sends() {
    let smtp = SmtpServer::start().await;
    let config =
        onramp::config::parse_smtp_url(&format!("smtp://127.0.0.1:{}?tls=none", smtp.port()))
            .expect("SMTP URL");
    let mut app = TestApp::spawn_with(move |c| c.smtp = Some(config)).await;
    app.admin_login().await;
    add_location(&app, "Office", "10.10.0.1/24").await;
    let (start, cookie) = start_enrollment(&app, "jnowak").await;
    assert_eq!(
        start["settings"]["smtp_configured"], true,
        "the client offers Email"
    );

    // The user looks at the app set-up first, then picks email instead.
    let app_setup = mfa_start(&app, "Totp", &cookie).await;
    assert_eq!(app_setup.status, StatusCode::OK);
    let started = mfa_start(&app, "Email", &cookie).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    assert!(
        started
            .body
            .as_object()
            .expect("object")
            .contains_key("totp_secret")
            && started.body["totp_secret"].is_null(),
        "{}",
        started.body
    );
    let mails = smtp.wait_for(1, StdDuration::from_secs(5)).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].envelope_to, ["jnowak@example.com"]);
    let text = mails[0].part("text/plain");
    let code: String = text
        .split_whitespace()
        .find(|w| w.len() == 6 && w.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| panic!("no code in:\n{text}"))
        .to_owned();

    let wrong = if code == "000000" { "000001" } else { "000000" };
    let refused = mfa_finish(&app, wrong, "Email", &cookie).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(!factors(&app, "jnowak").any());

    // The desktop client names `Totp` in finish whatever the user set up.
    check_recovery_codes(&mfa_finish(&app, &code, "Totp", &cookie).await);
    let on = factors(&app, "jnowak");
    assert!(on.email && !on.totp, "{on:?}");
    assert_eq!(on.recovery_left, 10);
    let audit = app.audit_actions();
    for action in ["mfa.email_code_sent", "mfa.email_enabled"] {
        assert!(audit.contains(&action.to_owned()), "{action}: {audit:?}");
    }
    let again = mfa_finish(&app, &code, "Email", &cookie).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "a code works once");

    activate(&app, &cookie).await;
    let (_, to) = sign_in(&app, "jnowak").await;
    assert_eq!(to, "/login/code");
}

#[tokio::test]
async fn email_needs_smtp_and_only_a_live_enrollment_session_may_set_up() {
    let app = setup().await;
    let (_, cookie) = start_enrollment(&app, "jnowak").await;
    let no_smtp = mfa_start(&app, "Email", &cookie).await;
    assert_refused(&no_smtp, "SMTP is not configured");
    let conn = app.state.db.conn().expect("conn");
    let queued: i64 = conn
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        .expect("count");
    let codes: i64 = conn
        .query_row("SELECT count(*) FROM email_code", [], |r| r.get(0))
        .expect("count");
    assert_eq!((queued, codes), (0, 0), "nothing is queued or stored");

    let missing = mfa_start(&app, "Totp", "").await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    let forged = mfa_start(&app, "Totp", "defguard_proxy=forged").await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);

    // Ended with the enrollment.
    activate(&app, &cookie).await;
    let ended = mfa_start(&app, "Totp", &cookie).await;
    assert_eq!(ended.status, StatusCode::UNAUTHORIZED, "{}", ended.body);
    let ended = mfa_finish(&app, "123456", "Totp", &cookie).await;
    assert_eq!(ended.status, StatusCode::UNAUTHORIZED, "{}", ended.body);

    // A desktop token's session belongs to an enrolled user: not here.
    let id = app.user_id("jnowak").expect("user");
    let desktop = hand_over_token(&app, id, "desktop").await;
    let start = call(&app, "enrollment/start", json!({ "token": desktop }), None).await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.body);
    let desktop_cookie = start.set_cookie();
    let refused = mfa_start(&app, "Totp", &desktop_cookie).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

    // Expired.
    let (_, late) = start_enrollment(&app, "anowak").await;
    app.clock.advance(Duration::minutes(11));
    let expired = mfa_start(&app, "Totp", &late).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED, "{}", expired.body);
    assert!(!factors(&app, "jnowak").any() && !factors(&app, "anowak").any());
    let pending: i64 = conn
        .query_row("SELECT count(*) FROM user_totp", [], |r| r.get(0))
        .expect("count");
    assert_eq!(pending, 0, "no refused call started a set-up");
}
