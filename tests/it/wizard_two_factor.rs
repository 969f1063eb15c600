//! The wizard's two-factor step: after the VPN step, an authenticator app confirmed by a code
//! (computed here), recovery codes shown once; "Later" unless two-factor is required.

use crate::enrollment::{later, start, step, walk_to_vpn};
use crate::helpers::{hand_over_token, Page, TestApp};
use reqwest::StatusCode;

async fn on_two_factor_step(required: bool) -> (TestApp, TestApp) {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let secret = hand_over_token(&app, id, "enrollment").await;
    if required {
        let saved = app
            .post(
                "/admin/settings/accounts",
                &[("edit_phone", "on"), ("mfa_required", "on")],
            )
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    }
    let (user, _) = start(&app, &secret).await;
    walk_to_vpn(&user).await;
    let res = step(&user, "/enroll/wizard/vpn", &[("action", "skip")]).await;
    assert_eq!(res.location(), "/enroll/wizard", "{}", res.body);
    (app, user)
}

fn secret_on(body: &str) -> String {
    let marker = r#"id="totp-secret">"#;
    let at = body.find(marker).expect("the secret as text") + marker.len();
    body[at..].split('<').next().expect("secret").to_owned()
}

/// Confirms the app with its current code.
async fn confirm(app: &TestApp, user: &TestApp, secret: &str) -> Page {
    let now = u64::try_from(app.state.now().unix_timestamp()).expect("positive");
    let code = onramp::domain::totp::code_at(secret, now).expect("code");
    step(
        user,
        "/enroll/wizard/two-factor/confirm",
        &[("code", &code)],
    )
    .await
}

#[tokio::test]
async fn the_two_factor_step_is_optional_by_default() {
    let (app, user) = on_two_factor_step(false).await;
    let page = user.get("/enroll/wizard").await;
    assert!(
        page.body.contains("Step 5 of 6: Set up two-factor"),
        "{}",
        page.body
    );
    assert!(page.body.contains(">Set up now<") && page.body.contains(">Later<"));
    assert_eq!(page.header("cache-control"), "no-store");
    // The account already exists; the done page waits until this step is over.
    assert!(app.user("jnowak").expect("user").is_enrolled());
    assert_eq!(user.get("/enroll/done").await.location(), "/enroll/wizard");
    later(&user).await;
    let done = user.get("/enroll/done").await;
    assert!(done.body.contains("Step 6 of 6: Done"), "{}", done.body);
    let conn = app.state.db.conn().expect("conn");
    let factors = onramp::services::mfa::factors_of(&conn, app.user_id("jnowak").expect("id"))
        .expect("factors");
    assert!(!factors.any());
}

#[tokio::test]
async fn setting_up_the_app_shows_recovery_codes_once() {
    let (app, user) = on_two_factor_step(false).await;
    let started = step(&user, "/enroll/wizard/two-factor", &[]).await;
    assert_eq!(started.location(), "/enroll/wizard");
    let page = user.get("/enroll/wizard").await;
    assert!(page.body.contains("<svg"), "the QR code");
    assert!(page.body.contains("Code from the app"));
    let secret = secret_on(&page.body);

    // A wrong code: a clear message on the form, nothing turned on.
    let wrong = step(
        &user,
        "/enroll/wizard/two-factor/confirm",
        &[("code", "000000")],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong.body.contains("That code is not right"),
        "{}",
        wrong.body
    );
    assert_eq!(secret_on(&wrong.body), secret, "the same QR code again");
    let id = app.user_id("jnowak").expect("id");
    let factors = || {
        let conn = app.state.db.conn().expect("conn");
        onramp::services::mfa::factors_of(&conn, id).expect("factors")
    };
    assert!(!factors().totp);

    let codes = confirm(&app, &user, &secret).await;
    assert_eq!(codes.status, StatusCode::OK, "{}", codes.body);
    assert_eq!(codes.header("cache-control"), "no-store");
    assert!(codes.body.contains("Save your recovery codes"));
    assert!(codes.body.contains(r#"download="recovery-codes.txt""#));
    assert_eq!(codes.body.matches("<li>").count(), 10, "ten codes");
    assert!(factors().totp);
    assert_eq!(factors().recovery_left, 10);
    let done = user.get("/enroll/done").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        !done.body.contains("Save your recovery codes"),
        "shown once"
    );
}

#[tokio::test]
async fn a_required_second_factor_cannot_be_put_off() {
    let (app, user) = on_two_factor_step(true).await;
    let page = user.get("/enroll/wizard").await;
    assert!(page.body.contains("Your organisation requires it"));
    assert!(!page.body.contains(">Later<"), "{}", page.body);
    let refused = step(&user, "/enroll/wizard/two-factor/skip", &[]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("requires two-factor sign-in"));
    assert_eq!(user.get("/enroll/done").await.location(), "/enroll/wizard");
    step(&user, "/enroll/wizard/two-factor", &[]).await;
    let secret = secret_on(&user.get("/enroll/wizard").await.body);
    let codes = confirm(&app, &user, &secret).await;
    assert_eq!(codes.status, StatusCode::OK, "{}", codes.body);
    assert_eq!(user.get("/enroll/done").await.status, StatusCode::OK);
}
