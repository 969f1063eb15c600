//! The rules the desktop clients rely on without seeing them: `dg`'s exact sequence, tokens
//! spent once everywhere, the device limit, a full pool, the mandatory VPN step, stale
//! clients behind one address, and what happens when the client hides a refusal.

use crate::client_api::{call, check_device_config, key, setup, PASSWORD};
use crate::enrollment::{start as browser_start, step, walk_to_vpn};
use crate::helpers::{add_location, hand_over_token, set_office_dns, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use time::Duration;

fn count(app: &TestApp, sql: &str) -> i64 {
    let conn = app.state.db.conn().expect("conn");
    conn.query_row(sql, [], |r| r.get(0)).expect("count")
}

fn outbox(app: &TestApp) -> Vec<(String, String, String)> {
    let conn = app.state.db.conn().expect("conn");
    let mut stmt = conn
        .prepare("SELECT kind, recipient, body_text FROM outbox ORDER BY id")
        .expect("prepare");
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    rows
}

fn set_setting(app: &TestApp, key: &str, value: &str) {
    let conn = app.state.db.conn().expect("conn");
    onramp::db::settings::set(&conn, key, value).expect("set");
}

/// What `dg enroll -t T -u URL` sends: start with a cookie store, then `create_device` with
/// an empty name and a null token, and nothing else; no version headers.
async fn dg_enroll(app: &TestApp, token: &str) -> (reqwest::Client, String, Value) {
    let dg = reqwest::Client::new();
    let start = dg
        .post(app.url("/api/v1/enrollment/start"))
        .json(&json!({ "token": token }))
        .send()
        .await
        .expect("start");
    assert_eq!(start.status(), StatusCode::OK);
    let set_cookie = start.headers()["set-cookie"].to_str().expect("ascii");
    assert!(
        set_cookie.starts_with("defguard_proxy="),
        "the clients refuse to go on without it: {set_cookie}"
    );
    // What dg's cookie store sends back. (The store itself would drop the cookie here: its
    // expiry comes from the tests' fake clock, which is not the real date.)
    let pair = set_cookie.split(';').next().expect("pair").to_owned();
    let device = dg
        .post(app.url("/api/v1/enrollment/create_device"))
        .header("Cookie", &pair)
        .json(&json!({ "name": "", "pubkey": key(), "token": null }))
        .send()
        .await
        .expect("create_device");
    let status = device.status();
    let body: Value = device.json().await.expect("json");
    assert_eq!(status, StatusCode::OK, "{body}");
    (dg, pair, body)
}

async fn dg_poll(dg: &reqwest::Client, app: &TestApp, token: &str) -> (StatusCode, Value) {
    let res = dg
        .post(app.url("/api/v1/poll"))
        .json(&json!({ "token": token }))
        .send()
        .await
        .expect("poll");
    let status = res.status();
    (status, res.json().await.expect("json"))
}

/// A user who finished the browser wizard with no device.
async fn enrolled_user(app: &TestApp) -> i64 {
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let token = hand_over_token(app, id, "enrollment").await;
    let (user, _) = browser_start(app, &token).await;
    walk_to_vpn(&user).await;
    let done = step(&user, "/enroll/wizard/vpn", &[("action", "skip")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    id
}

#[tokio::test]
async fn dg_enrolls_with_an_empty_name_and_keeps_polling() {
    let app = setup().await;
    let id = enrolled_user(&app).await;
    let token = hand_over_token(&app, id, "desktop").await;
    let (dg, cookie, first) = dg_enroll(&app, &token).await;
    check_device_config(&first, &app, false);
    assert_eq!(first["device"]["name"], "cli");
    let configs = first["configs"].as_array().expect("configs");
    assert_eq!(configs.len(), 1, "dg needs exactly one location");
    let polling = first["token"].as_str().expect("token").to_owned();

    // The desktop token registered its one device: the session is over.
    let again = dg
        .post(app.url("/api/v1/enrollment/create_device"))
        .header("Cookie", &cookie)
        .json(&json!({ "name": "", "pubkey": key(), "token": null }))
        .send()
        .await
        .expect("again");
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert!(again.json::<Value>().await.expect("json")["error"].is_string());

    // Polling works at once and serialises an unchanged config identically.
    let (s1, p1) = dg_poll(&dg, &app, &polling).await;
    app.clock.advance(Duration::seconds(5));
    let (s2, p2) = dg_poll(&dg, &app, &polling).await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK));
    assert_eq!(p1["device_config"]["configs"][0], configs[0]);
    assert_eq!(p1, p2, "dg reconfigures whenever configs[0] differs");

    // A location change reaches the next poll.
    set_office_dns(&app, "9.9.9.9").await;
    let (_, p3) = dg_poll(&dg, &app, &polling).await;
    assert_ne!(p3["device_config"]["configs"][0], configs[0]);
    assert_eq!(p3["device_config"]["configs"][0]["dns"], "9.9.9.9");

    // A second dg on another machine gets the next free default name.
    let token = hand_over_token(&app, id, "desktop").await;
    let (_, _, second) = dg_enroll(&app, &token).await;
    assert_eq!(second["device"]["name"], "cli-2");
}

#[tokio::test]
async fn an_enrollment_session_ends_when_the_enrollment_completes() {
    let app = setup().await;
    let id = app.add_user("anowak", "Anna", "Nowak").await;

    // Completed in the client: activate_user ends the session.
    let token = hand_over_token(&app, id, "enrollment").await;
    let start = call(&app, "enrollment/start", json!({ "token": token }), None).await;
    let cookie = start.set_cookie();
    let device = call(
        &app,
        "enrollment/create_device",
        json!({ "name": "laptop", "pubkey": key() }),
        Some(&cookie),
    )
    .await;
    assert_eq!(device.status, StatusCode::OK);
    // Twenty more devices through the same session: refused, nothing written.
    for _ in 0..20 {
        let more = call(
            &app,
            "enrollment/create_device",
            json!({ "name": "", "pubkey": key() }),
            Some(&cookie),
        )
        .await;
        assert_eq!(more.status, StatusCode::BAD_REQUEST);
    }
    // Starting again with the same link opens a new session, not a new device.
    let restart = call(&app, "enrollment/start", json!({ "token": token }), None).await;
    let cookie = restart.set_cookie();
    let more = call(
        &app,
        "enrollment/create_device",
        json!({ "name": "", "pubkey": key() }),
        Some(&cookie),
    )
    .await;
    assert_eq!(more.status, StatusCode::BAD_REQUEST);
    assert_eq!(count(&app, "SELECT count(*) FROM device"), 1);
    assert_eq!(count(&app, "SELECT count(*) FROM device_address"), 2);
    let done = call(
        &app,
        "enrollment/activate_user",
        json!({ "password": PASSWORD }),
        Some(&cookie),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK);
    for (path, body) in [
        (
            "enrollment/create_device",
            json!({ "name": "x", "pubkey": key() }),
        ),
        ("enrollment/activate_user", json!({ "password": PASSWORD })),
        (
            "enrollment/network_info",
            json!({ "pubkey": device.body["device"]["pubkey"] }),
        ),
    ] {
        let spent = call(&app, path, body, Some(&cookie)).await;
        assert_eq!(
            spent.status,
            StatusCode::UNAUTHORIZED,
            "{path}: {}",
            spent.body
        );
    }
    assert_eq!(count(&app, "SELECT count(*) FROM device"), 1);

    // Completed in the browser: the client's session on the same link ends too, and the
    // device the client registered stays, no longer tied to the enrollment.
    let other = app.add_user("jnowak", "Jan", "Nowak").await;
    let token = hand_over_token(&app, other, "enrollment").await;
    let start = call(&app, "enrollment/start", json!({ "token": token }), None).await;
    let api_cookie = start.set_cookie();
    let pc = call(
        &app,
        "enrollment/create_device",
        json!({ "name": "pc", "pubkey": key() }),
        Some(&api_cookie),
    )
    .await;
    assert_eq!(pc.status, StatusCode::OK);
    assert_eq!(count(&app, "SELECT count(*) FROM device"), 2);
    let (user, _) = browser_start(&app, &token).await;
    walk_to_vpn(&user).await;
    let finished = step(&user, "/enroll/wizard/vpn", &[("action", "skip")]).await;
    assert_eq!(finished.status, StatusCode::SEE_OTHER, "{}", finished.body);
    let late = call(
        &app,
        "enrollment/activate_user",
        json!({ "password": PASSWORD }),
        Some(&api_cookie),
    )
    .await;
    assert_eq!(late.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM device WHERE pending_token_id IS NOT NULL"
        ),
        0
    );
    // A later revocation (of a desktop token) leaves the finished enrollment's device.
    hand_over_token(&app, other, "desktop").await;
    let revoke = app
        .post(&format!("/admin/users/{other}/revoke-token"), &[])
        .await;
    assert_eq!(revoke.status, StatusCode::SEE_OTHER);
    assert_eq!(
        count(
            &app,
            &format!("SELECT count(*) FROM device WHERE user_id = {other}")
        ),
        1
    );
}

#[tokio::test]
async fn revoking_an_unfinished_enrollment_removes_its_device() {
    let app = setup().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let token = hand_over_token(&app, id, "enrollment").await;
    let (dg, cookie, device) = dg_enroll(&app, &token).await;
    let polling = device["token"].as_str().expect("token").to_owned();
    assert_eq!(dg_poll(&dg, &app, &polling).await.0, StatusCode::OK);
    let revoke = app
        .post(&format!("/admin/users/{id}/revoke-token"), &[])
        .await;
    assert_eq!(revoke.status, StatusCode::SEE_OTHER, "{}", revoke.body);
    assert_eq!(count(&app, "SELECT count(*) FROM device"), 0);
    assert_eq!(count(&app, "SELECT count(*) FROM device_address"), 0);
    assert_eq!(count(&app, "SELECT count(*) FROM polling_token"), 0);
    let (status, body) = dg_poll(&dg, &app, &polling).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(app.audit_actions().contains(&"device.removed".to_owned()));
    let after = dg
        .post(app.url("/api/v1/enrollment/create_device"))
        .header("Cookie", &cookie)
        .json(&json!({ "name": "", "pubkey": key() }))
        .send()
        .await
        .expect("send");
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_device_limit_bounds_every_path_and_tells_the_admin() {
    let app = setup().await;
    set_setting(&app, "max_devices_per_user", "2");
    let id = enrolled_user(&app).await;
    for name in ["one", "two"] {
        let token = hand_over_token(&app, id, "desktop").await;
        let start = call(&app, "enrollment/start", json!({ "token": token }), None).await;
        let ok = call(
            &app,
            "enrollment/create_device",
            json!({ "name": name, "pubkey": key() }),
            Some(&start.set_cookie()),
        )
        .await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    }
    let token = hand_over_token(&app, id, "desktop").await;
    let start = call(&app, "enrollment/start", json!({ "token": token }), None).await;
    let refused = call(
        &app,
        "enrollment/create_device",
        json!({ "name": "three", "pubkey": key() }),
        Some(&start.set_cookie()),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body["error"]
            .as_str()
            .is_some_and(|e| e.contains("You already have 2 devices")),
        "{}",
        refused.body
    );
    assert_eq!(count(&app, "SELECT count(*) FROM device"), 2);
    assert_eq!(count(&app, "SELECT count(*) FROM device_address"), 4);
    let mails = outbox(&app);
    let kinds: Vec<&str> = mails.iter().map(|m| m.0.as_str()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "new-device").count(),
        2,
        "no new-device email for a refused device"
    );
    let (_, to, text) = mails
        .iter()
        .find(|m| m.0 == "device-refused")
        .expect("the issuing admin hears of it");
    assert_eq!(to, "admin@localhost");
    assert!(text.contains("Jan Nowak (jnowak) tried to add the device \"three\""));
    assert!(text.contains("Devices per user"));
    assert!(app.audit_actions().contains(&"device.refused".to_owned()));

    // The settings page offers the limit and checks it.
    let settings = app.get("/admin/settings").await;
    assert!(settings.body.contains(r#"name="max_devices_per_user""#));
}

#[tokio::test]
async fn a_full_address_pool_refuses_cleanly_and_tells_the_admin() {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    // A /30 leaves one address for devices beside the gateway's.
    add_location(&app, "Tiny", "10.20.0.1/30").await;
    let first = app.add_user("first", "Ann", "First").await;
    let token = hand_over_token(&app, first, "enrollment").await;
    dg_enroll(&app, &token).await;
    let second = app.add_user("second", "Bob", "Second").await;
    let token = hand_over_token(&app, second, "enrollment").await;
    let start = call(&app, "enrollment/start", json!({ "token": token }), None).await;
    let full = call(
        &app,
        "enrollment/create_device",
        json!({ "name": "", "pubkey": key() }),
        Some(&start.set_cookie()),
    )
    .await;
    assert_eq!(full.status, StatusCode::BAD_REQUEST);
    assert!(full.body["error"]
        .as_str()
        .is_some_and(|e| e.contains("no free address")));
    assert_eq!(count(&app, "SELECT count(*) FROM device"), 1);
    assert_eq!(count(&app, "SELECT count(*) FROM device_address"), 1);
    let mails = outbox(&app);
    let refused = mails
        .iter()
        .find(|m| m.0 == "device-refused")
        .expect("admin email");
    assert!(refused.2.contains("Enlarge the location's address pool"));
}

#[tokio::test]
async fn a_mandatory_vpn_step_holds_in_the_api() {
    let app = setup().await;
    set_setting(&app, "vpn_step", "mandatory");
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let token = hand_over_token(&app, id, "enrollment").await;
    let start = call(&app, "enrollment/start", json!({ "token": token }), None).await;
    assert_eq!(start.body["settings"]["vpn_setup_optional"], false);
    let cookie = start.set_cookie();
    let early = call(
        &app,
        "enrollment/activate_user",
        json!({ "password": PASSWORD }),
        Some(&cookie),
    )
    .await;
    assert_eq!(early.status, StatusCode::BAD_REQUEST);
    assert!(early.body["error"]
        .as_str()
        .is_some_and(|e| e.contains("A VPN device is required")));
    assert!(app.user("jnowak").expect("user").password_hash.is_none());
    let device = call(
        &app,
        "enrollment/create_device",
        json!({ "name": "laptop", "pubkey": key() }),
        Some(&cookie),
    )
    .await;
    assert_eq!(device.status, StatusCode::OK);
    let ok = call(
        &app,
        "enrollment/activate_user",
        json!({ "password": PASSWORD }),
        Some(&cookie),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
}

/// The desktop client accepts `Passw0rd!x` (8+ characters, a digit, a special character,
/// both cases), calls `activate_user`, ignores the 400 and says "Configuration completed!".
#[tokio::test]
async fn a_password_the_client_accepts_but_onramp_refuses_sends_a_link_to_finish() {
    let app = setup().await;
    set_setting(&app, "vpn_step", "mandatory");
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let token = hand_over_token(&app, id, "enrollment").await;
    let start = call(&app, "enrollment/start", json!({ "token": token }), None).await;
    let final_page = start.body["final_page_content"].as_str().expect("text");
    assert!(
        !final_page.contains("previous step") && final_page.contains("desktop client"),
        "the default last page reads well in the client: {final_page}"
    );
    let cookie = start.set_cookie();
    let device = call(
        &app,
        "enrollment/create_device",
        json!({ "name": "Jan's PC", "pubkey": key() }),
        Some(&cookie),
    )
    .await;
    assert_eq!(device.status, StatusCode::OK);
    // "Skip MFA Setup" is offered: two-factor is not mandatory unless the setting says so.
    assert_eq!(start.body["settings"]["mfa_required"], false);
    for _ in 0..3 {
        let weak = call(
            &app,
            "enrollment/activate_user",
            json!({ "password": "Passw0rd!x", "phone_number": null }),
            Some(&cookie),
        )
        .await;
        assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    }
    assert!(app.user("jnowak").expect("user").password_hash.is_none());
    let unfinished: Vec<_> = outbox(&app)
        .into_iter()
        .filter(|m| m.0 == "enrollment-unfinished")
        .collect();
    assert_eq!(unfinished.len(), 1, "one email per enrollment");
    let (_, to, text) = &unfinished[0];
    assert_eq!(to, "jnowak@example.com");
    assert!(text.contains("not finished yet") && text.contains("/enroll?token="));
    assert!(app
        .audit_actions()
        .contains(&"enrollment.unfinished".to_owned()));
    let list = app.get("/admin/users").await;
    assert!(list.body.contains("Password not set"), "{}", list.body);

    // The emailed link finishes the enrollment in the browser; the device already counts
    // for the mandatory VPN step.
    let secret = {
        let conn = app.state.db.conn().expect("conn");
        let sealed: Vec<u8> = conn
            .query_row(
                "SELECT secret_enc FROM outbox WHERE kind = 'enrollment-unfinished'",
                [],
                |r| r.get(0),
            )
            .expect("sealed");
        app.state.secrets.open(&sealed).expect("open")
    };
    let (user, _) = browser_start(&app, &secret).await;
    walk_to_vpn(&user).await;
    let done = step(&user, "/enroll/wizard/vpn", &[("action", "skip")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(app.user("jnowak").expect("user").password_hash.is_some());
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM device WHERE pending_token_id IS NULL"
        ),
        1
    );
    let list = app.get("/admin/users").await;
    assert!(!list.body.contains("Password not set"));
}

#[tokio::test]
async fn stale_clients_behind_one_address_never_lock_out_a_valid_one() {
    let app = setup().await;
    let id = enrolled_user(&app).await;
    // Fifteen devices whose clients keep polling after the devices were deleted.
    let mut stale = Vec::new();
    {
        let mut conn = app.state.db.conn().expect("conn");
        let tx = conn.transaction().expect("tx");
        for n in 0..15 {
            let k = onramp::domain::wireguard::WgKey::parse("k", &key()).expect("key");
            let name = format!("old{n}");
            let new = onramp::services::devices::NewDevice {
                user_id: id,
                name: &name,
                key: &k,
                pending_token_id: None,
            };
            let device = onramp::services::devices::add(&tx, &new, 100, 0).expect("device");
            stale.push(
                onramp::services::devices::rotate_polling_token(&tx, device, 0).expect("token"),
            );
        }
        tx.execute("DELETE FROM device", []).expect("delete");
        tx.commit().expect("commit");
    }
    let token = hand_over_token(&app, id, "desktop").await;
    let start = call(&app, "enrollment/start", json!({ "token": token }), None).await;
    let device = call(
        &app,
        "enrollment/create_device",
        json!({ "name": "now", "pubkey": key() }),
        Some(&start.set_cookie()),
    )
    .await;
    let valid = device.body["token"].as_str().expect("token").to_owned();
    for round in 0..12 {
        for t in &stale {
            let res = call(&app, "poll", json!({ "token": t }), None).await;
            assert!(
                [StatusCode::FORBIDDEN, StatusCode::TOO_MANY_REQUESTS].contains(&res.status),
                "{}",
                res.status
            );
        }
        let ok = call(&app, "poll", json!({ "token": valid }), None).await;
        assert_eq!(ok.status, StatusCode::OK, "round {round}: {}", ok.body);
        app.clock.advance(Duration::seconds(5));
    }

    // Guessing is still throttled per address, by distinct unknown tokens...
    app.clock.advance(Duration::minutes(2));
    let guesses: Vec<String> = (0..30)
        .map(|_| onramp::crypto::random_alphanumeric(32))
        .collect();
    let client = reqwest::Client::new();
    let replies = futures_util::future::join_all(guesses.iter().map(|g| {
        client
            .post(app.url("/api/v1/poll"))
            .header("Content-Type", "application/json")
            .body(json!({ "token": g }).to_string())
            .send()
    }))
    .await;
    let statuses: Vec<StatusCode> = replies
        .into_iter()
        .map(|r| r.expect("send").status())
        .collect();
    let looked_up = statuses
        .iter()
        .filter(|s| **s == StatusCode::FORBIDDEN)
        .count();
    assert_eq!(
        looked_up, 10,
        "30 concurrent guesses: at most 10 looked up ({statuses:?})"
    );
    // ...while the client that already works keeps working.
    let ok = call(&app, "poll", json!({ "token": valid }), None).await;
    assert_eq!(ok.status, StatusCode::OK);
}
