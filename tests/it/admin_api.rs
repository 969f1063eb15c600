//! The admin REST API, driven the way defguard's provisioning scripts and automation call it.

use crate::helpers::{add_location, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Creates an API token on its page; returns the secret shown once.
async fn create_token(app: &TestApp, name: &str) -> String {
    let page = app.post("/admin/api-tokens", &[("name", name)]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let at = page
        .body
        .find("value=\"onramp_")
        .expect("the token is shown")
        + 7;
    page.body[at..at + page.body[at..].find('"').expect("end")].to_owned()
}

async fn call(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = match method {
        "GET" => app.client.get(app.url(path)),
        _ => app.client.post(app.url(path)),
    };
    if !token.is_empty() {
        req = req.header("Authorization", format!("Bearer {token}"));
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.expect("call");
    let status = res.status();
    let text = res.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn provisioning_script_adds_a_user_and_starts_their_enrollment() {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    app.post("/admin/groups", &[("name", "devs")]).await;
    let token = create_token(&app, "terraform").await;

    // What the provisioning script sends, in order.
    let (status, user) = call(
        &app,
        &token,
        "POST",
        "/api/v1/user",
        Some(json!({
            "username": "anna.nowak", "first_name": "Anna", "last_name": "Nowak",
            "email": "anna@example.com", "phone": null, "password": null
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    assert_eq!(user["username"], "anna.nowak");
    assert_eq!(user["enrolled"], false);
    assert_eq!(user["is_active"], true);

    let (status, started) = call(&app, &token, "POST", "/api/v1/user/anna.nowak/start_enrollment", Some(json!({
        "email": "anna@example.com", "send_enrollment_notification": true, "token_expiration_time": "7d"
    }))).await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let secret = started["enrollment_token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(secret.len(), 32);
    assert_eq!(started["enrollment_url"], app.address.as_str());
    let (expires, created): (i64, i64) = app
        .state
        .db
        .conn()
        .expect("conn")
        .query_row(
            "SELECT expires_at, created_at FROM token ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("token");
    assert_eq!(expires - created, 7 * 86_400, "the chosen validity");
    let mail: String = app
        .state
        .db
        .conn()
        .expect("conn")
        .query_row(
            "SELECT body_text FROM outbox ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("mail");
    assert!(mail.contains("7 days"), "{mail}");

    // The token works in the wizard.
    let link = app.get(&format!("/enroll?token={secret}")).await;
    assert_eq!(link.status, StatusCode::OK);

    let (status, list) = call(&app, &token, "GET", "/api/v1/user", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(list
        .as_array()
        .expect("list")
        .iter()
        .any(|u| u["username"] == "anna.nowak"));
    let (status, details) = call(&app, &token, "GET", "/api/v1/user/anna.nowak", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(details["user"]["email"], "anna@example.com");
    assert_eq!(details["devices"], json!([]));
    let (status, group) = call(&app, &token, "GET", "/api/v1/group/devs", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(group["name"], "devs");
    add_location(&app, "Office", "10.1.0.1/24").await;
    let (status, locations) = call(&app, &token, "GET", "/api/v1/onramp/locations", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(locations[0]["name"], "Office");
    let (status, _) = call(&app, &token, "GET", "/api/v1/onramp/devices", None).await;
    assert_eq!(status, StatusCode::OK);

    let actions = app.dump_database();
    assert!(
        actions.contains("api:terraform"),
        "calls are audited with the token's name"
    );
}

#[tokio::test]
async fn bad_input_is_400_with_msg_and_missing_or_revoked_tokens_are_401() {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    let token = create_token(&app, "hr-sync").await;

    let (status, body) = call(&app, "", "GET", "/api/v1/user", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["msg"].is_string());
    let (status, _) = call(&app, "onramp_wrong", "GET", "/api/v1/user", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, body) = call(
        &app,
        &token,
        "POST",
        "/api/v1/user",
        Some(json!({"username": "X y"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["msg"].as_str().expect("msg").contains("missing field"),
        "{body}"
    );
    let (status, body) = call(
        &app,
        &token,
        "POST",
        "/api/v1/user",
        Some(json!({
            "username": "X y", "first_name": "A", "last_name": "B", "email": "nope"
        })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["msg"].as_str().expect("msg").contains("username"),
        "{body}"
    );
    let before = app.user_count();
    app.add_user("bob", "Bob", "Smith").await;
    let (status, body) = call(
        &app,
        &token,
        "POST",
        "/api/v1/user/bob/start_enrollment",
        Some(json!({
            "send_enrollment_notification": false, "token_expiration_time": "45d"
        })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["msg"].as_str().expect("msg").contains("30 days"),
        "{body}"
    );
    let (status, body) = call(
        &app,
        &token,
        "POST",
        "/api/v1/user/nobody/start_enrollment",
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["msg"], "user nobody not found");
    let (status, _) = call(
        &app,
        &token,
        "POST",
        "/api/v1/user/bob/start_desktop",
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "bob has not enrolled");
    assert_eq!(app.user_count(), before + 1);

    let tokens = app.get("/admin/api-tokens").await;
    assert!(tokens.body.contains("just now"), "last used is shown");
    let id: i64 = app
        .state
        .db
        .conn()
        .expect("conn")
        .query_row("SELECT id FROM api_token", [], |r| r.get(0))
        .expect("id");
    let revoked = app
        .post(&format!("/admin/api-tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    let (status, _) = call(&app, &token, "GET", "/api/v1/user", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The desktop client's API is untouched beside it.
    let (status, _) = call(&app, "", "GET", "/api/v1/health", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_openapi_description_lists_every_route() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/docs/openapi.json").await;
    assert_eq!(res.status, StatusCode::OK);
    let doc: Value = serde_json::from_str(&res.body).expect("json");
    assert_eq!(doc["openapi"], "3.0.3");
    for path in [
        "/api/v1/user",
        "/api/v1/user/{username}",
        "/api/v1/user/{username}/start_enrollment",
        "/api/v1/user/{username}/start_desktop",
        "/api/v1/group/{name}",
        "/api/v1/onramp/locations",
        "/api/v1/onramp/devices",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert!(doc["paths"]["/api/v1/user"]["post"]["requestBody"].is_object());
}
