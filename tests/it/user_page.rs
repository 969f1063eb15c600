//! A user's page in the admin and the admin's actions on their devices: rename, delete, add
//! with a pasted key or a key pair made once.

use crate::client_api::{call, client_device, key};
use crate::helpers::{add_location, hand_over_token, TestApp};
use base64::Engine;
use onramp::clock::Clock;
use reqwest::StatusCode;
use serde_json::json;

async fn setup() -> (TestApp, i64) {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    add_location(&app, "Office", "10.10.0.1/24, fd00::1/64").await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    (app, id)
}

/// Adds a device with a pasted public key through the form; returns the key.
async fn add_pasted(app: &TestApp, user_id: i64, name: &str) -> String {
    let public = key();
    let res = app
        .post(
            &format!("/admin/users/{user_id}/devices"),
            &[
                ("device_name", name),
                ("key_mode", "paste"),
                ("public_key", &public),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(res.location(), format!("/admin/users/{user_id}#devices"));
    public
}

fn device_names(app: &TestApp, user_id: i64) -> Vec<String> {
    let conn = app.state.db.conn().expect("conn");
    onramp::db::devices::names_for_user(&conn, user_id).expect("names")
}

fn device_id(app: &TestApp, public_key: &str) -> i64 {
    let conn = app.state.db.conn().expect("conn");
    onramp::db::devices::find_by_key(&conn, public_key)
        .expect("query")
        .expect("stored")
        .id
}

fn count(app: &TestApp, sql: &str, id: i64) -> i64 {
    let conn = app.state.db.conn().expect("conn");
    conn.query_row(sql, [id], |r| r.get(0)).expect("count")
}

#[tokio::test]
async fn the_user_page_shows_profile_devices_token_state_and_events() {
    let (app, id) = setup().await;
    let list = app.get("/admin/users").await;
    assert!(
        list.body
            .contains(&format!(r#"<a href="/admin/users/{id}">jnowak</a>"#)),
        "the username leads to the page"
    );
    let menu = app.hx_get(&format!("/admin/users/{id}/actions")).await;
    assert!(menu
        .body
        .contains(&format!(r#"href="/admin/users/{id}">Open</a>"#)));

    hand_over_token(&app, id, "enrollment").await;
    let laptop = add_pasted(&app, id, "laptop").await;
    let phone = add_pasted(&app, id, "phone").await;
    let now = app.clock.now().unix_timestamp();
    {
        let conn = app.state.db.conn().expect("conn");
        conn.execute(
            "INSERT INTO device_stats (device_id, location_id, last_handshake, reported_at) VALUES (?1, 1, ?2, ?3)",
            [device_id(&app, &laptop), now - 180, now],
        )
        .expect("stats");
    }

    let page = app.get(&format!("/admin/users/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    for expected in [
        "Jan Nowak",
        "jnowak@example.com",
        "Password not set",
        "laptop",
        "phone",
        laptop.as_str(),
        phone.as_str(),
        "Office: <code>10.10.0.2, fd00::2</code>",
        "Office: <code>10.10.0.3, fd00::3</code>",
        "3 minutes ago",
        "never",
        "2 of at most 10 devices.",
        "Enrollment pending — expires",
        "device.added",
        "user.created",
        "Add device for this user",
    ] {
        assert!(page.body.contains(expected), "{expected}: {}", page.body);
    }
    assert!(
        app.get("/admin/users/999").await.status == StatusCode::NOT_FOUND,
        "an unknown user"
    );
}

#[tokio::test]
async fn renaming_checks_the_name_and_a_clash_changes_nothing() {
    let (app, id) = setup().await;
    let other = app.add_user("akowal", "Anna", "Kowal").await;
    add_pasted(&app, id, "laptop").await;
    let phone = device_id(&app, &add_pasted(&app, id, "phone").await);
    let url = format!("/admin/users/{id}/devices/{phone}/rename");

    let form = app.hx_get(&url).await;
    assert!(form.body.contains("New name for phone"), "{}", form.body);
    assert!(!form.body.contains("<html"), "htmx gets the row only");
    let page = app.get(&url).await;
    assert!(page.body.contains("New name for phone") && page.body.contains("<html"));

    let clash = app.hx_post(&url, &[("new_name", "laptop")]).await;
    assert_eq!(clash.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(clash
        .body
        .contains("jnowak already has a device named laptop; choose another name."));
    let clash = app.post(&url, &[("new_name", "laptop")]).await;
    assert_eq!(clash.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(clash
        .body
        .contains("jnowak already has a device named laptop"));
    let empty = app.post(&url, &[("new_name", "  ")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("Name the device"));
    assert_eq!(device_names(&app, id), ["laptop", "phone"]);

    let renamed = app.post(&url, &[("new_name", "work phone")]).await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER);
    assert_eq!(renamed.location(), format!("/admin/users/{id}#devices"));
    assert!(app
        .get(&format!("/admin/users/{id}"))
        .await
        .body
        .contains("Renamed the device to work phone."));
    let row = app.hx_post(&url, &[("new_name", "old phone")]).await;
    assert_eq!(row.status, StatusCode::OK);
    assert!(row.body.starts_with(&format!(r#"<tr id="device-{phone}""#)));
    assert!(row.body.contains("old phone"));
    assert_eq!(device_names(&app, id), ["laptop", "old phone"]);
    let renames = app
        .audit_actions()
        .iter()
        .filter(|a| *a == "device.renamed")
        .count();
    assert_eq!(renames, 2);

    let foreign = format!("/admin/users/{other}/devices/{phone}/rename");
    assert_eq!(
        app.post(&foreign, &[("new_name", "mine")]).await.status,
        StatusCode::NOT_FOUND,
        "a device is reached only through its owner"
    );
}

#[tokio::test]
async fn deleting_a_device_takes_its_addresses_and_polling_token_with_it() {
    let (app, id) = setup().await;
    let device = client_device(&app, id, "laptop").await;
    let polling = device.body["token"].as_str().expect("token").to_owned();
    let poll = || call(&app, "poll", json!({ "token": polling }), None);
    assert_eq!(poll().await.status, StatusCode::OK);
    let device_id = device_id(&app, device.body["device"]["pubkey"].as_str().expect("key"));
    let url = format!("/admin/users/{id}/devices/{device_id}/delete");

    let confirm = app.get(&url).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.body.contains("Delete the device laptop of jnowak?"));
    let res = app.post(&url, &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert!(app
        .get(&format!("/admin/users/{id}"))
        .await
        .body
        .contains("Deleted the device laptop."));
    assert!(device_names(&app, id).is_empty());
    for table in ["device_address", "polling_token"] {
        let sql = format!("SELECT count(*) FROM {table} WHERE device_id = ?1");
        assert_eq!(count(&app, &sql, device_id), 0, "{table}");
    }
    assert_eq!(poll().await.status, StatusCode::FORBIDDEN);
    assert!(app.audit_actions().contains(&"device.removed".to_owned()));
    assert_eq!(app.post(&url, &[]).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_pasted_key_is_checked_stored_and_mailed_to_the_user() {
    let (app, id) = setup().await;
    let url = format!("/admin/users/{id}/devices");
    let bad = app
        .post(
            &url,
            &[
                ("device_name", "laptop"),
                ("key_mode", "paste"),
                ("public_key", "not a key"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains(r#"value="not a key""#),
        "the input is kept"
    );
    assert!(
        bad.body.contains(r#"id="public_key-error""#),
        "{}",
        bad.body
    );
    let hx_bad = app
        .hx_post(
            &url,
            &[
                ("device_name", ""),
                ("key_mode", "paste"),
                ("public_key", ""),
            ],
        )
        .await;
    assert_eq!(hx_bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(hx_bad.body.starts_with(r#"<section id="add-device""#));
    assert!(hx_bad.body.contains("Name the device"));

    let public = add_pasted(&app, id, "laptop").await;
    let page = app.get(&format!("/admin/users/{id}")).await;
    assert!(page.body.contains("Added the device laptop for jnowak."));
    assert!(page.body.contains(&public));
    let conn = app.state.db.conn().expect("conn");
    let (to, text): (String, String) = conn
        .query_row(
            "SELECT recipient, body_text FROM outbox WHERE kind = 'new-device'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("mail");
    assert_eq!(to, "jnowak@example.com");
    assert!(text.contains(&public) && text.contains("Location Office: 10.10.0.2, fd00::2"));
    assert!(app.audit_actions().contains(&"device.added".to_owned()));

    let again = app
        .hx_post(
            &url,
            &[
                ("device_name", "phone"),
                ("key_mode", "paste"),
                ("public_key", &public),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("already used by another device"));
    let hx_ok = app
        .hx_post(
            &url,
            &[
                ("device_name", "phone"),
                ("key_mode", "paste"),
                ("public_key", &key()),
            ],
        )
        .await;
    assert_eq!(hx_ok.status, StatusCode::OK);
    assert_eq!(hx_ok.header("hx-redirect"), format!("/admin/users/{id}"));
    assert_eq!(device_names(&app, id), ["laptop", "phone"]);
}

fn private_key_in(body: &str) -> String {
    let at = body.find("PrivateKey = ").expect("a private key") + "PrivateKey = ".len();
    body[at..at + 44].to_owned()
}

fn public_of(private: &str) -> String {
    let engine = base64::engine::general_purpose::STANDARD;
    let bytes: [u8; 32] = engine
        .decode(private)
        .expect("base64")
        .try_into()
        .expect("32 bytes");
    let public = x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(bytes));
    engine.encode(public.as_bytes())
}

#[tokio::test]
async fn a_generated_key_pair_is_shown_once_and_never_stored() {
    let (app, id) = setup().await;
    let url = format!("/admin/users/{id}/devices");
    let form = [
        ("device_name", "phone"),
        ("key_mode", "generate"),
        ("public_key", ""),
    ];
    let shown = app.post(&url, &form).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert_eq!(shown.header("cache-control"), "no-store");
    assert!(shown.body.contains(r#"hx-history="false""#));
    let private = private_key_in(&shown.body);
    let conn = app.state.db.conn().expect("conn");
    let stored: String = conn
        .query_row(
            "SELECT public_key FROM device WHERE user_id = ?1",
            [id],
            |r| r.get(0),
        )
        .expect("stored");
    assert_eq!(public_of(&private), stored, "the key pair belongs together");
    assert!(
        shown.body.contains("Address = 10.10.0.2/32"),
        "{}",
        shown.body
    );
    assert!(shown.body.contains(r#"download="office.conf""#));
    assert!(shown.body.contains("data:text/plain;charset=utf-8;base64,"));
    assert!(shown.body.contains("<svg"), "a QR code");
    assert!(!app.dump_database().contains(&private), "never stored");

    // A reload posts again: the name is taken now, and nothing secret comes back.
    let reload = app.post(&url, &form).await;
    assert_eq!(reload.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!reload.body.contains("PrivateKey"));
    assert!(reload
        .body
        .contains("jnowak already has a device named phone"));
    let page = app.get(&format!("/admin/users/{id}")).await;
    assert!(!page.body.contains(&private) && !page.body.contains("PrivateKey"));

    let fragment = app
        .hx_post(
            &url,
            &[
                ("device_name", "tablet"),
                ("key_mode", "generate"),
                ("public_key", ""),
            ],
        )
        .await;
    assert_eq!(fragment.status, StatusCode::OK);
    assert_eq!(fragment.header("cache-control"), "no-store");
    assert!(fragment.body.starts_with(r#"<section id="add-device""#));
    assert!(fragment.body.contains("PrivateKey = "));
}

#[tokio::test]
async fn the_device_limit_refuses_with_a_clear_message() {
    let (app, id) = setup().await;
    {
        let conn = app.state.db.conn().expect("conn");
        onramp::db::settings::set(&conn, onramp::services::settings::MAX_DEVICES, "1")
            .expect("limit");
    }
    add_pasted(&app, id, "laptop").await;
    let refused = app
        .post(
            &format!("/admin/users/{id}/devices"),
            &[
                ("device_name", "phone"),
                ("key_mode", "generate"),
                ("public_key", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains(
        "jnowak already has 1 device, the most this instance allows. Delete one first, or raise the limit in Settings."
    ));
    assert!(!refused.body.contains("PrivateKey"));
    assert_eq!(device_names(&app, id), ["laptop"]);
}

#[tokio::test]
async fn device_actions_without_the_csrf_token_are_refused() {
    let (app, id) = setup().await;
    let public = add_pasted(&app, id, "laptop").await;
    let device = device_id(&app, &public);
    for (path, fields) in [
        (
            format!("/admin/users/{id}/devices"),
            vec![("device_name", "phone"), ("key_mode", "generate")],
        ),
        (
            format!("/admin/users/{id}/devices/{device}/rename"),
            vec![("new_name", "phone")],
        ),
        (format!("/admin/users/{id}/devices/{device}/delete"), vec![]),
    ] {
        let res = app.post_raw(&path, &fields).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(device_names(&app, id), ["laptop"]);
}
