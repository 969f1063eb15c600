//! The desktop client's request sequences (enroll a new user, activate a desktop, refresh, poll), sent as the client
//! sends them: JSON POSTs, the whole `Set-Cookie` line echoed back as `Cookie`, odd headers.

use crate::helpers::{add_location, hand_over_token, set_office_dns, TestApp};
use onramp::clock::Clock;
use reqwest::StatusCode;
use serde_json::{json, Value};
use time::Duration;

pub(crate) const PASSWORD: &str = "plum orbit velvet river";

pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: Value,
}

impl Reply {
    pub(crate) fn set_cookie(&self) -> String {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("defguard_proxy="))
            .expect("a defguard_proxy cookie")
            .to_owned()
    }
}

/// POSTs like the client: JSON, its two literal bogus header names, and the stored cookie.
pub(crate) async fn call(app: &TestApp, path: &str, body: Value, cookie: Option<&str>) -> Reply {
    let client = reqwest::Client::new();
    let mut req = client
        .post(app.url(&format!("/api/v1/{path}")))
        .header("Content-Type", "application/json")
        .header("CLIENT_VERSION_HEADER", "1.6.0")
        .header("CLIENT_PLATFORM_HEADER", "linux")
        .body(body.to_string());
    if let Some(c) = cookie {
        req = req.header("Cookie", c);
    }
    let res = req.send().await.expect("send");
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    };
    assert_eq!(headers["defguard-core-version"], "1.6.0", "{path}");
    assert_eq!(headers["defguard-component-version"], "1.6.0", "{path}");
    assert_eq!(headers["defguard-core-connected"], "true", "{path}");
    if !status.is_success() {
        assert!(
            body["error"].is_string(),
            "{path}: errors are {{\"error\": …}}, got {body}"
        );
    }
    Reply {
        status,
        headers,
        body,
    }
}

fn is_int(v: &Value) -> bool {
    v.is_i64() || v.is_u64()
}

fn check_instance(v: &Value, app: &TestApp) {
    for key in ["id", "name", "url", "proxy_url", "username"] {
        assert!(v[key].is_string(), "instance.{key}: {v}");
    }
    assert!(
        v["enterprise_enabled"].as_bool().expect("bool"),
        "polling needs enterprise_enabled=true"
    );
    assert!(v["disable_all_traffic"].is_boolean());
    assert!(v
        .as_object()
        .expect("object")
        .contains_key("openid_display_name"));
    assert!(v["client_traffic_policy"].is_null() || is_int(&v["client_traffic_policy"]));
    let conn = app.state.db.conn().expect("conn");
    let id = onramp::db::settings::get(&conn, "instance_id")
        .expect("query")
        .expect("id");
    assert_eq!(v["id"], id.as_str(), "the instance UUID");
    assert_eq!(v["proxy_url"], format!("{}/", app.address));
}

fn check_start(v: &Value, app: &TestApp) {
    let admin = &v["admin"];
    assert!(admin["name"].is_string() && admin["email"].is_string());
    assert!(admin
        .as_object()
        .expect("admin")
        .contains_key("phone_number"));
    let user = &v["user"];
    for key in ["first_name", "last_name", "login", "email"] {
        assert!(user[key].is_string(), "user.{key}");
    }
    for key in ["is_active", "enrolled", "is_admin"] {
        assert!(user[key].is_boolean(), "user.{key}");
    }
    assert!(user["device_names"].is_array());
    assert!(user.as_object().expect("user").contains_key("phone_number"));
    assert!(is_int(&v["deadline_timestamp"]));
    assert!(v["final_page_content"].is_string());
    check_instance(&v["instance"], app);
    let s = &v["settings"];
    for key in [
        "vpn_setup_optional",
        "only_client_activation",
        "admin_device_management",
        "smtp_configured",
        "mfa_required",
    ] {
        assert!(s[key].is_boolean(), "settings.{key}");
    }
    assert_eq!(s["mfa_required"], false);
}

pub(crate) fn check_device_config(v: &Value, app: &TestApp, token_null: bool) {
    let d = &v["device"];
    assert!(
        is_int(&d["id"])
            && d["name"].is_string()
            && d["pubkey"].is_string()
            && is_int(&d["user_id"])
            && is_int(&d["created_at"])
    );
    check_instance(&v["instance"], app);
    assert_eq!(v["token"].is_null(), token_null, "token: {}", v["token"]);
    for c in v["configs"].as_array().expect("configs") {
        assert!(is_int(&c["network_id"]) && is_int(&c["keepalive_interval"]));
        for key in [
            "network_name",
            "config",
            "endpoint",
            "assigned_ip",
            "pubkey",
            "allowed_ips",
        ] {
            assert!(c[key].is_string(), "configs[].{key}");
        }
        assert!(c["dns"].is_string() || c["dns"].is_null());
        assert!(c["mfa_enabled"].is_boolean());
        assert!(is_int(&c["location_mfa_mode"]) && is_int(&c["service_location_mode"]));
        assert!(c["config"]
            .as_str()
            .expect("config")
            .contains("PrivateKey = YOUR_PRIVATE_KEY"));
    }
}

pub(crate) async fn setup() -> TestApp {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    add_location(&app, "Office", "10.10.0.1/24, fd00::1/64").await;
    app
}

pub(crate) fn key() -> String {
    onramp::services::locations::generate_keypair().1
}

/// Starts an enrollment for `user_id` in the client and registers a device named `name`;
/// the reply holds the device and its polling token.
pub(crate) async fn client_device(app: &TestApp, user_id: i64, name: &str) -> Reply {
    let token = hand_over_token(app, user_id, "enrollment").await;
    let cookie = call(app, "enrollment/start", json!({ "token": token }), None)
        .await
        .set_cookie();
    call(
        app,
        "enrollment/create_device",
        json!({ "name": name, "pubkey": key() }),
        Some(&cookie),
    )
    .await
}

#[tokio::test]
async fn sequence_a_enrolls_a_new_user_inside_the_client() {
    let app = setup().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let token = hand_over_token(&app, id, "enrollment").await;
    // The client may send a junk cookie on start.
    let start = call(
        &app,
        "enrollment/start",
        json!({ "token": token }),
        Some("undefined"),
    )
    .await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.body);
    check_start(&start.body, &app);
    assert_eq!(start.body["user"]["enrolled"], false);
    assert_eq!(start.body["user"]["login"], "jnowak");
    let now = app.clock.now().unix_timestamp();
    assert_eq!(start.body["deadline_timestamp"], now + 600);
    assert!(start.body["final_page_content"]
        .as_str()
        .expect("s")
        .contains("Welcome, Jan!"));
    let cookie = start.set_cookie();
    assert!(cookie.contains("; Expires="), "{cookie}");

    let pubkey = key();
    let device = call(
        &app,
        "enrollment/create_device",
        json!({ "name": "jan-laptop", "pubkey": pubkey }),
        Some(&cookie),
    )
    .await;
    assert_eq!(device.status, StatusCode::OK, "{}", device.body);
    check_device_config(&device.body, &app, false);
    let configs = device.body["configs"].as_array().expect("configs");
    assert_eq!(configs.len(), 1);
    assert_eq!(configs[0]["assigned_ip"], "10.10.0.2,fd00::2");
    assert_eq!(configs[0]["endpoint"], "vpn.example.com:51820");
    assert_eq!(configs[0]["allowed_ips"], "10.10.0.0/24");
    assert_eq!(configs[0]["dns"], "10.10.0.1");
    let polling = device.body["token"]
        .as_str()
        .expect("polling token")
        .to_owned();

    let weak = call(
        &app,
        "enrollment/activate_user",
        json!({ "password": "password1234", "phone_number": null }),
        Some(&cookie),
    )
    .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    let bad_phone = call(
        &app,
        "enrollment/activate_user",
        json!({ "password": PASSWORD, "phone_number": "call me" }),
        Some(&cookie),
    )
    .await;
    assert_eq!(bad_phone.status, StatusCode::BAD_REQUEST);
    let ok = call(
        &app,
        "enrollment/activate_user",
        json!({ "password": PASSWORD, "phone_number": "+48 600 100 200" }),
        Some(&cookie),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let user = app.user("jnowak").expect("user");
    assert!(user.password_hash.is_some());
    assert_eq!(user.phone.as_deref(), Some("+48 600 100 200"));
    let again = call(
        &app,
        "enrollment/activate_user",
        json!({ "password": PASSWORD }),
        Some(&cookie),
    )
    .await;
    assert_eq!(
        again.status,
        StatusCode::UNAUTHORIZED,
        "the session ended with the enrollment: {}",
        again.body
    );
    let more = call(
        &app,
        "enrollment/create_device",
        json!({ "name": "second", "pubkey": key() }),
        Some(&cookie),
    )
    .await;
    assert_eq!(more.status, StatusCode::UNAUTHORIZED, "{}", more.body);
    let reused = call(&app, "enrollment/start", json!({ "token": token }), None).await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);

    // The polling token works, without any licence.
    let poll = call(&app, "poll", json!({ "token": polling }), None).await;
    assert_eq!(poll.status, StatusCode::OK);
    check_device_config(&poll.body["device_config"], &app, true);
    let conn = app.state.db.conn().expect("conn");
    let kinds: Vec<String> = conn
        .prepare("SELECT kind FROM outbox ORDER BY id")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    // The weak password emailed one "finish in the browser" link (the bad phone did not
    // send a second); finishing here revoked that link.
    assert_eq!(
        kinds,
        [
            "new-device",
            "enrollment-unfinished",
            "welcome",
            "admin-notification"
        ]
    );
    let live: i64 = conn
        .query_row(
            "SELECT count(*) FROM token WHERE consumed_at IS NULL AND revoked_at IS NULL",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(live, 0, "no link outlives the finished enrollment");
    assert!(
        !app.dump_database().contains(&polling),
        "polling tokens are stored hashed"
    );
}

#[tokio::test]
async fn sequence_b_activates_an_enrolled_users_desktop() {
    let app = setup().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let enroll = hand_over_token(&app, id, "enrollment").await;
    let start = call(&app, "enrollment/start", json!({ "token": enroll }), None).await;
    let cookie = start.set_cookie();
    call(
        &app,
        "enrollment/create_device",
        json!({ "name": "old-laptop", "pubkey": key() }),
        Some(&cookie),
    )
    .await;
    call(
        &app,
        "enrollment/activate_user",
        json!({ "password": PASSWORD }),
        Some(&cookie),
    )
    .await;

    let menu = app.hx_get(&format!("/admin/users/{id}/actions")).await;
    assert!(menu.body.contains("Configure Desktop Client"));
    let desktop = hand_over_token(&app, id, "desktop").await;
    let start = call(&app, "enrollment/start", json!({ "token": desktop }), None).await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.body);
    check_start(&start.body, &app);
    assert_eq!(start.body["user"]["enrolled"], true);
    assert_eq!(start.body["user"]["device_names"], json!(["old-laptop"]));
    assert_eq!(start.body["settings"]["only_client_activation"], true);
    let cookie = start.set_cookie();
    let denied = call(
        &app,
        "enrollment/activate_user",
        json!({ "password": "another long passphrase here" }),
        Some(&cookie),
    )
    .await;
    assert_eq!(
        denied.status,
        StatusCode::FORBIDDEN,
        "a desktop token never sets a password"
    );
    // A name the user already has gets a free suffix: the client would hide a 400.
    let device = call(
        &app,
        "enrollment/create_device",
        json!({ "name": "old-laptop", "pubkey": key() }),
        Some(&cookie),
    )
    .await;
    assert_eq!(device.status, StatusCode::OK, "{}", device.body);
    check_device_config(&device.body, &app, false);
    assert_eq!(device.body["device"]["name"], "old-laptop-2");
    // The desktop token registered its one device: the session is over.
    let second = call(
        &app,
        "enrollment/create_device",
        json!({ "name": "new-laptop", "pubkey": key() }),
        Some(&cookie),
    )
    .await;
    assert_eq!(second.status, StatusCode::UNAUTHORIZED, "{}", second.body);
    assert_eq!(
        device.body["configs"][0]["assigned_ip"],
        "10.10.0.3,fd00::3"
    );
    // A desktop token in the browser shows the desktop instructions, never the wizard.
    let fresh = hand_over_token(&app, id, "desktop").await;
    let page = app
        .another_browser()
        .post_raw("/enroll/start", &[("token", &fresh)])
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("This token is for the desktop client"));
    assert!(page.body.contains("defguard://addinstance?token="));
    // Copy buttons for both values, and where to get the client.
    assert!(page.body.contains(r#"aria-label="Copy instance url""#));
    assert!(page.body.contains(r#"aria-label="Copy token""#));
    assert!(page
        .body
        .contains(r#"href="https://defguard.net/download/""#));
}

#[tokio::test]
async fn sequences_c_and_d_refresh_a_known_device() {
    let app = setup().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let other = app.add_user("akowalska", "Anna", "Kowalska").await;
    let mut polling = String::new();
    let mut keys = Vec::new();
    for (user, name) in [(id, "jan-laptop"), (other, "anna-laptop")] {
        let token = hand_over_token(&app, user, "enrollment").await;
        let cookie = call(&app, "enrollment/start", json!({ "token": token }), None)
            .await
            .set_cookie();
        let k = key();
        let d = call(
            &app,
            "enrollment/create_device",
            json!({ "name": name, "pubkey": k }),
            Some(&cookie),
        )
        .await;
        if user == id {
            polling = d.body["token"].as_str().expect("token").to_owned();
        }
        keys.push(k);
        call(
            &app,
            "enrollment/activate_user",
            json!({ "password": PASSWORD }),
            Some(&cookie),
        )
        .await;
    }
    let desktop = hand_over_token(&app, id, "desktop").await;
    let start = call(&app, "enrollment/start", json!({ "token": desktop }), None).await;
    let cookie = start.set_cookie();
    let info = call(
        &app,
        "enrollment/network_info",
        json!({ "pubkey": keys[0] }),
        Some(&cookie),
    )
    .await;
    assert_eq!(info.status, StatusCode::OK, "{}", info.body);
    check_device_config(&info.body, &app, false);
    let fresh = info.body["token"].as_str().expect("token");
    assert_ne!(fresh, polling);
    assert_eq!(
        call(&app, "poll", json!({ "token": polling }), None)
            .await
            .status,
        StatusCode::FORBIDDEN,
        "rotated"
    );
    assert_eq!(
        call(&app, "poll", json!({ "token": fresh }), None)
            .await
            .status,
        StatusCode::OK
    );
    let theirs = call(
        &app,
        "enrollment/network_info",
        json!({ "pubkey": keys[1] }),
        Some(&cookie),
    )
    .await;
    assert_eq!(theirs.status, StatusCode::UNAUTHORIZED);
    let unknown = call(
        &app,
        "enrollment/network_info",
        json!({ "pubkey": key() }),
        Some(&cookie),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let malformed = call(
        &app,
        "enrollment/network_info",
        json!({ "pubkey": "abc" }),
        Some(&cookie),
    )
    .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn sequence_e_polling_follows_location_changes_and_disabled_users() {
    let app = setup().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let device = client_device(&app, id, "laptop").await;
    let polling = device.body["token"].as_str().expect("token").to_owned();
    let poll = |app: &TestApp| {
        let polling = polling.clone();
        let url = app.url("/api/v1/poll");
        async move {
            let res = reqwest::Client::new()
                .post(url)
                .header("defguard-client-version", "1.6.0")
                .header("defguard-client-platform", "CgVsaW51eA==")
                .json(&json!({ "token": polling }))
                .send()
                .await
                .expect("poll");
            let status = res.status();
            (status, res.json::<Value>().await.expect("json"))
        }
    };
    let (status, body) = poll(&app).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["device_config"]["configs"]
            .as_array()
            .expect("a")
            .len(),
        1
    );
    assert!(body["device_config"]["token"].is_null());
    add_location(&app, "Lab", "10.20.0.1/24").await;
    let (_, body) = poll(&app).await;
    let names: Vec<&str> = body["device_config"]["configs"]
        .as_array()
        .expect("a")
        .iter()
        .map(|c| c["network_name"].as_str().expect("s"))
        .collect();
    assert_eq!(
        names,
        ["Lab", "Office"],
        "a new location reaches the client"
    );
    set_office_dns(&app, "9.9.9.9").await;
    let (_, body) = poll(&app).await;
    let office = body["device_config"]["configs"]
        .as_array()
        .expect("a")
        .iter()
        .find(|c| c["network_name"] == "Office")
        .cloned()
        .expect("office");
    assert_eq!(office["dns"], "9.9.9.9");
    assert_eq!(
        app.post("/admin/locations/2/delete", &[]).await.status,
        StatusCode::SEE_OTHER
    );
    let (_, body) = poll(&app).await;
    assert_eq!(
        body["device_config"]["configs"]
            .as_array()
            .expect("a")
            .len(),
        1,
        "a removed location disappears"
    );
    assert_eq!(
        app.post(&format!("/admin/users/{id}/disable"), &[])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let (status, body) = poll(&app).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body["error"].is_string());
}

#[tokio::test]
async fn every_error_case_answers_json() {
    let app = setup().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let unknown = call(
        &app,
        "enrollment/start",
        json!({ "token": "x".repeat(32) }),
        None,
    )
    .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    let token = hand_over_token(&app, id, "enrollment").await;
    app.clock.advance(Duration::hours(25));
    let expired = call(&app, "enrollment/start", json!({ "token": token }), None).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert_eq!(expired.body["error"], "token expired");
    let mut app = app;
    app.admin_login().await;
    let token = hand_over_token(&app, id, "enrollment").await;
    assert_eq!(
        app.post(&format!("/admin/users/{id}/disable"), &[])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.post(&format!("/admin/users/{id}/enable"), &[])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let revoked = call(&app, "enrollment/start", json!({ "token": token }), None).await;
    assert_eq!(
        revoked.status,
        StatusCode::UNAUTHORIZED,
        "disabling revoked the token"
    );
    let token = hand_over_token(&app, id, "enrollment").await;
    let start = call(&app, "enrollment/start", json!({ "token": token }), None).await;
    assert_eq!(start.status, StatusCode::OK);
    // The deadline is the same on a second start inside the window, and a session call after
    // it fails.
    app.clock.advance(Duration::minutes(5));
    let second = call(&app, "enrollment/start", json!({ "token": token }), None).await;
    assert_eq!(
        second.body["deadline_timestamp"],
        start.body["deadline_timestamp"]
    );
    let cookie = second.set_cookie();
    assert_eq!(
        call(
            &app,
            "enrollment/create_device",
            json!({ "name": "x", "pubkey": key() }),
            None
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
    let garbage = call(
        &app,
        "enrollment/create_device",
        json!({ "name": "x", "pubkey": "not base64!" }),
        Some(&cookie),
    )
    .await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    let short = call(
        &app,
        "enrollment/create_device",
        json!({ "name": "x", "pubkey": "AAAA" }),
        Some(&cookie),
    )
    .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    let k = key();
    assert_eq!(
        call(
            &app,
            "enrollment/create_device",
            json!({ "name": "a", "pubkey": k }),
            Some(&cookie)
        )
        .await
        .status,
        StatusCode::OK
    );
    let retry = call(
        &app,
        "enrollment/create_device",
        json!({ "name": "b", "pubkey": k }),
        Some(&cookie),
    )
    .await;
    assert_eq!(
        retry.status,
        StatusCode::OK,
        "the same key again is a retry"
    );
    assert_eq!(retry.body["device"]["name"], "a");
    let other = call(
        &app,
        "enrollment/create_device",
        json!({ "name": "b", "pubkey": key() }),
        Some(&cookie),
    )
    .await;
    assert_eq!(
        other.status,
        StatusCode::BAD_REQUEST,
        "one device per enrollment"
    );
    assert!(other.body["error"]
        .as_str()
        .is_some_and(|e| e.contains("already registered the device a")));
    let other_user = app.add_user("anowak", "Anna", "Nowak").await;
    let token = hand_over_token(&app, other_user, "enrollment").await;
    let start = call(&app, "enrollment/start", json!({ "token": token }), None).await;
    let dup = call(
        &app,
        "enrollment/create_device",
        json!({ "name": "b", "pubkey": k }),
        Some(&start.set_cookie()),
    )
    .await;
    assert_eq!(dup.status, StatusCode::BAD_REQUEST, "duplicate key");
    let not_json = reqwest::Client::new()
        .post(app.url("/api/v1/enrollment/start"))
        .header("Content-Type", "application/json")
        .body("{oops")
        .send()
        .await
        .expect("send");
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    assert!(not_json.json::<Value>().await.expect("json")["error"].is_string());
    let huge = call(&app, "poll", json!({ "token": "x".repeat(20_000) }), None).await;
    assert_eq!(huge.status, StatusCode::BAD_REQUEST);
    let nowhere = call(&app, "nope", json!({}), None).await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
    app.clock.advance(Duration::minutes(6));
    let late = call(
        &app,
        "enrollment/create_device",
        json!({ "name": "c", "pubkey": key() }),
        Some(&cookie),
    )
    .await;
    assert_eq!(late.status, StatusCode::UNAUTHORIZED, "after the deadline");
}

#[tokio::test]
async fn start_and_failed_polls_are_rate_limited() {
    let app = TestApp::spawn().await;
    for _ in 0..10 {
        assert_eq!(
            call(&app, "enrollment/start", json!({ "token": "x" }), None)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = call(&app, "enrollment/start", json!({ "token": "x" }), None).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers.contains_key("retry-after"));
    for _ in 0..10 {
        assert_eq!(
            call(&app, "poll", json!({ "token": "nope" }), None)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(
        call(&app, "poll", json!({ "token": "nope" }), None)
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );
    let info = reqwest::get(app.url("/api/v1/info")).await.expect("info");
    assert_eq!(info.headers()["defguard-core-version"], "1.6.0");
    let health = reqwest::get(app.url("/api/v1/health"))
        .await
        .expect("health");
    assert_eq!(health.status(), StatusCode::OK);
}
