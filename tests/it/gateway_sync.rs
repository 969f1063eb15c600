//! The gateway agent's API: tokens from the Locations page, the long-poll that answers as
//! soon as a location's peers change, and the agent's report of handshakes.

use crate::client_api::{call, key, setup};
use crate::helpers::{hand_over_token, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn field(body: &str, id: &str) -> String {
    let marker = format!(r#"id="{id}" type="text" readonly value=""#);
    let at = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no {id} in {body}"))
        + marker.len();
    body[at..at + body[at..].find('"').expect("end")].to_owned()
}

async fn gateway_token(app: &TestApp) -> String {
    let card = app.post("/admin/locations/1/gateway-token", &[]).await;
    assert_eq!(card.status, StatusCode::OK, "{}", card.body);
    assert_eq!(card.header("cache-control"), "no-store");
    let token = field(&card.body, "gateway-token");
    let command = field(&card.body, "gateway-command");
    assert!(
        command.contains("onramp gateway --url ") && command.contains("--interface office"),
        "{command}"
    );
    token
}

async fn fetch(app: &TestApp, token: &str, query: &str) -> (StatusCode, Value, Duration) {
    let started = Instant::now();
    let res = reqwest::Client::new()
        .get(app.url(&format!("/api/gateway/v1/config{query}")))
        .bearer_auth(token)
        .header("onramp-gateway-version", "test-agent 1")
        .send()
        .await
        .expect("send");
    let status = res.status();
    let text = res.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).expect("json")
    };
    (status, body, started.elapsed())
}

#[tokio::test]
async fn the_gateway_follows_every_change_within_a_second() {
    let app = setup().await;
    let locations = app.get("/admin/locations").await;
    assert!(locations.body.contains("Set up gateway sync for Office"));
    let token = gateway_token(&app).await;
    assert!(app
        .audit_actions()
        .contains(&"gateway.token_issued".to_owned()));

    let (status, body, _) = fetch(&app, "wrong", "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body["error"].is_string());
    let (status, first, _) = fetch(&app, &token, "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["listen_port"], 51820);
    assert!(
        first["private_key"].is_string(),
        "onramp made the gateway key"
    );
    assert_eq!(first["peers"], json!([]));
    let version = first["version"].as_str().expect("version").to_owned();

    // Nothing changed: an empty answer after the wait.
    let (status, _, took) = fetch(&app, &token, &format!("?version={version}&wait=1")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(took >= Duration::from_millis(900), "{took:?}");

    // A device enrolls while the gateway waits: the answer comes at once.
    let waiting = {
        let (app_url, token, version) = (app.url(""), token.clone(), version.clone());
        tokio::spawn(async move {
            let started = Instant::now();
            let res = reqwest::Client::new()
                .get(format!(
                    "{app_url}/api/gateway/v1/config?version={version}&wait=20"
                ))
                .bearer_auth(&token)
                .send()
                .await
                .expect("send");
            (
                res.status(),
                res.json::<Value>().await.expect("json"),
                started.elapsed(),
            )
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let enroll = hand_over_token(&app, id, "enrollment").await;
    let start = call(&app, "enrollment/start", json!({ "token": enroll }), None).await;
    let device_key = key();
    let device = call(
        &app,
        "enrollment/create_device",
        json!({ "name": "laptop", "pubkey": device_key }),
        Some(&start.set_cookie()),
    )
    .await;
    assert_eq!(device.status, StatusCode::OK);
    let (status, changed, took) = waiting.await.expect("join");
    assert_eq!(status, StatusCode::OK);
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(
        changed["peers"],
        json!([{ "public_key": device_key, "allowed_ips": ["10.10.0.2/32", "fd00::2/128"] }])
    );
    let version = changed["version"].as_str().expect("version").to_owned();

    // Disabling the user takes the peer away; enabling brings it back.
    app.post(&format!("/admin/users/{id}/disable"), &[]).await;
    let (_, gone, _) = fetch(&app, &token, &format!("?version={version}&wait=5")).await;
    assert_eq!(gone["peers"], json!([]));
    app.post(&format!("/admin/users/{id}/enable"), &[]).await;
    let (_, back, _) = fetch(
        &app,
        &token,
        &format!("?version={}&wait=5", gone["version"].as_str().expect("v")),
    )
    .await;
    assert_eq!(back["peers"].as_array().expect("peers").len(), 1);

    // The agent reports what it sees; the admin sees it.
    let report = reqwest::Client::new()
        .post(app.url("/api/gateway/v1/status"))
        .bearer_auth(&token)
        .json(&json!({ "peers": [
            { "public_key": device_key, "last_handshake": 1_800_000_000, "rx_bytes": 1200, "tx_bytes": 3400 },
            { "public_key": key(), "last_handshake": 0, "rx_bytes": 0, "tx_bytes": 0 }
        ]}))
        .send()
        .await
        .expect("send");
    assert_eq!(report.status(), StatusCode::NO_CONTENT);
    {
        let conn = app.state.db.conn().expect("conn");
        let device_id = device.body["device"]["id"].as_i64().expect("id");
        let stats = onramp::db::devices::stats(&conn, device_id).expect("stats");
        assert_eq!(stats.len(), 1);
        assert_eq!(stats[0].last_handshake, Some(1_800_000_000));
        assert_eq!((stats[0].rx_bytes, stats[0].tx_bytes), (1200, 3400));
    }
    let locations = app.get("/admin/locations").await;
    assert!(
        locations.body.contains("Gateway connected · last seen"),
        "{}",
        locations.body
    );
    assert!(locations.body.contains("agent test-agent 1"));

    // A new token replaces the old one.
    let rotated = gateway_token(&app).await;
    assert_eq!(fetch(&app, &token, "").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(fetch(&app, &rotated, "").await.0, StatusCode::OK);
}

#[tokio::test]
async fn gateway_tokens_need_an_admin_and_guessing_is_limited() {
    let app = setup().await;
    let anonymous = app.another_browser();
    let res = anonymous
        .post("/admin/locations/1/gateway-token", &[])
        .await;
    assert_ne!(res.status, StatusCode::OK);
    for _ in 0..10 {
        assert_eq!(fetch(&app, "guess", "").await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        fetch(&app, "guess", "").await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}
