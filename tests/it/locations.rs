use crate::helpers::TestApp;
use reqwest::StatusCode;
use std::process::{Command, Stdio};

async fn logged_in() -> TestApp {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    app
}

fn office<'a>(name: &'a str, addresses: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("addresses", addresses),
        ("endpoint", "vpn.example.com"),
        ("port", "51820"),
        ("allowed_ips", "10.10.0.0/24, 192.168.1.0/24"),
        ("dns", "10.10.0.1"),
        ("keepalive", "25"),
        ("key_mode", "generate"),
        ("public_key", ""),
    ]
}

/// Runs a wireguard-tools command with `input` on stdin.
fn wg(args: &[&str], input: &str) -> (bool, String, String) {
    use std::io::Write;
    let mut child = Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "{} is needed (apt-get install wireguard-tools): {e}",
                args[0]
            )
        });
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn value_of<'a>(config: &'a str, key: &str) -> &'a str {
    config
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("no {key} in:\n{config}"))
}

/// A user with one device, seeded through the repositories and the allocation service.
fn add_device(app: &TestApp, username: &str, public_key: &str) -> i64 {
    let conn = app.state.db.conn().expect("conn");
    let user_id = match app.user_id(username) {
        Some(id) => id,
        None => onramp::db::users::insert(
            &conn,
            &onramp::db::users::NewUser {
                username,
                first_name: "Dev",
                last_name: "Ice",
                email: &format!("{username}@example.com"),
                phone: None,
                is_admin: false,
                password_hash: None,
                created_at: 0,
            },
        )
        .expect("user"),
    };
    conn.execute(
        "INSERT INTO device (user_id, name, public_key, created_at) VALUES (?1, 'laptop', ?2, 0)",
        rusqlite::params![user_id, public_key],
    )
    .expect("device");
    let id = conn.last_insert_rowid();
    onramp::services::locations::allocate_for_device(&conn, id).expect("allocate");
    id
}

fn device_key() -> String {
    onramp::services::locations::generate_keypair().1
}

#[tokio::test]
async fn a_generated_gateway_key_works_with_wg_and_the_config_parses() {
    let app = logged_in().await;
    let res = app
        .post("/admin/locations", &office("Office", "10.10.0.1/24"))
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let list = app.get("/admin/locations").await;
    assert!(list.body.contains("Added location Office."));
    assert!(list.body.contains("vpn.<wbr>example.<wbr>com:<wbr>51820"));
    let key = add_device(&app, "jnowak", &device_key());
    let _ = key;
    let id: i64 = app
        .state
        .db
        .conn()
        .expect("conn")
        .query_row("SELECT id FROM location", [], |r| r.get(0))
        .expect("id");
    let res = app
        .get(&format!("/admin/locations/{id}/gateway.conf"))
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.header("content-type"), "text/plain; charset=utf-8");
    assert_eq!(
        res.header("content-disposition"),
        r#"attachment; filename="office.conf""#
    );
    assert_eq!(res.header("cache-control"), "no-store");
    let config = res.body;
    assert!(config.contains("ListenPort = 51820"));
    assert!(config.contains("Address = 10.10.0.1/24"));
    assert!(config.contains("# jnowak / laptop"));
    assert!(config.contains("AllowedIPs = 10.10.0.2/32"));
    for banned in [
        "PreUp",
        "PostUp",
        "PreDown",
        "PostDown",
        "SaveConfig",
        "Table",
    ] {
        assert!(!config.contains(banned));
    }
    // The private key onramp kept maps to the public key it shows.
    let stored: String = app
        .state
        .db
        .conn()
        .expect("conn")
        .query_row("SELECT public_key FROM location", [], |r| r.get(0))
        .expect("key");
    let (ok, derived, err) = wg(&["wg", "pubkey"], value_of(&config, "PrivateKey"));
    assert!(ok, "{err}");
    assert_eq!(derived, stored);
    // wg-quick accepts the file.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("office.conf");
    std::fs::write(&path, &config).expect("write");
    let out = Command::new("wg-quick")
        .arg("strip")
        .arg(&path)
        .output()
        .expect("wg-quick is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stripped = String::from_utf8_lossy(&out.stdout);
    assert!(stripped.contains("[Peer]") && stripped.contains("PublicKey = "));
    assert!(app.audit_actions().contains(&"location.created".to_owned()));
}

#[tokio::test]
async fn keys_from_wg_are_accepted_when_pasted() {
    let app = logged_in().await;
    let (ok, private, _) = wg(&["wg", "genkey"], "");
    assert!(ok);
    let (_, public, _) = wg(&["wg", "pubkey"], &private);
    let mut form = office("Office", "10.10.0.1/24");
    form[7] = ("key_mode", "paste");
    form[8] = ("public_key", &public);
    let res = app.post("/admin/locations", &form).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let (key, private_key): (String, Option<String>) = app
        .state
        .db
        .conn()
        .expect("conn")
        .query_row("SELECT public_key, private_key FROM location", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("row");
    assert_eq!(key, public);
    assert_eq!(private_key, None, "onramp never saw the private key");
    let config = app.get("/admin/locations/1/gateway.conf").await.body;
    assert!(config.contains("PrivateKey = REPLACE_WITH_THE_GATEWAY_PRIVATE_KEY"));
}

#[tokio::test]
async fn every_bad_field_gets_a_clear_message_and_nothing_is_written() {
    let app = logged_in().await;
    let cases: &[(&str, &str, &str)] = &[
        ("name", "", "Enter a name"),
        ("name", "Office\nBcc", "without line breaks"),
        ("addresses", "10.10.0.0/24", "gateway's own address"),
        ("addresses", "10.10.0.255/24", "gateway's own address"),
        (
            "addresses",
            "10.10.0.1",
            "not an address with a network size",
        ),
        ("addresses", "10.10.0.1/31", "leaves no address"),
        ("addresses", "10.0.0.1/8, 10.1.0.1/16", "overlaps"),
        (
            "endpoint",
            "vpn.example.com:51820",
            "port has its own field",
        ),
        ("endpoint", "", "host name or IP address"),
        ("port", "0", "from 1 to 65535"),
        ("port", "70000", "from 1 to 65535"),
        ("allowed_ips", "", "Enter the allowed IPs"),
        ("allowed_ips", "10.0.0.0/33", "is not a network"),
        ("dns", "dns.example.com", "is not an IP address"),
        ("keepalive", "-1", "keepalive in seconds"),
    ];
    for (field, value, message) in cases {
        let mut form = office("Office", "10.10.0.1/24");
        for pair in form.iter_mut() {
            if pair.0 == *field {
                pair.1 = value;
            }
        }
        let res = app.post("/admin/locations", &form).await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value:?}"
        );
        assert!(
            res.body.contains(message),
            "{field}={value:?}: expected {message:?}"
        );
    }
    let keys: &[(&str, &str)] = &[
        ("", "Enter a WireGuard public key"),
        ("not-a-key", "exactly 44 characters"),
        ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "all-zero"),
        ("HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykx=", "canonical"),
        (
            "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8yk-=",
            "base64 characters",
        ),
    ];
    for (key, message) in keys {
        let mut form = office("Office", "10.10.0.1/24");
        form[7] = ("key_mode", "paste");
        form[8] = ("public_key", key);
        let res = app.post("/admin/locations", &form).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{key}");
        assert!(res.body.contains(message), "{key}: {message}");
    }
    let count: i64 = app
        .state
        .db
        .conn()
        .expect("conn")
        .query_row("SELECT count(*) FROM location", [], |r| r.get(0))
        .expect("n");
    assert_eq!(count, 0);
    assert_eq!(
        app.post("/admin/locations", &office("Office", "10.10.0.1/24"))
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let res = app
        .post("/admin/locations", &office("office", "10.20.0.1/24"))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("A location named office already exists."));
}

#[tokio::test]
async fn existing_devices_join_a_new_location_and_a_full_pool_is_refused() {
    let app = logged_in().await;
    add_device(&app, "alice", &device_key());
    add_device(&app, "bob", &device_key());
    // A /30 has one address besides the gateway: too small for two devices.
    let res = app
        .post("/admin/locations", &office("Tiny", "10.9.0.1/30"))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.body.contains(
            "The network 10.9.0.1/30 has room for 1 device, but 2 devices need an address in it."
        ),
        "{}",
        res.body
    );
    let res = app
        .post(
            "/admin/locations",
            &office("Office", "10.10.0.1/24, fd00::1/64"),
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let conn = app.state.db.conn().expect("conn");
    let mut addresses: Vec<String> = conn
        .prepare("SELECT address FROM device_address ORDER BY address")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    addresses.sort();
    assert_eq!(addresses, ["10.10.0.2", "10.10.0.3", "fd00::2", "fd00::3"]);
    // Moving the pool moves the addresses.
    let mut form = office("Office", "10.20.0.1/24");
    form[7] = ("key_mode", "keep");
    let res = app.post("/admin/locations/1/edit", &form).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let moved: Vec<String> = conn
        .prepare("SELECT address FROM device_address ORDER BY address")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(moved, ["10.20.0.2", "10.20.0.3"]);
    // Deleting the location takes its addresses back.
    assert!(app
        .get("/admin/locations/1/delete")
        .await
        .body
        .contains("Delete Office?"));
    assert_eq!(
        app.post("/admin/locations/1/delete", &[]).await.status,
        StatusCode::SEE_OTHER
    );
    let left: i64 = conn
        .query_row("SELECT count(*) FROM device_address", [], |r| r.get(0))
        .expect("n");
    assert_eq!(left, 0);
}

#[test]
fn the_cli_prints_the_gateway_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("onramp.db");
    let config = onramp::Config::for_tests(db.clone());
    let state =
        onramp::startup::open_state(config, std::sync::Arc::new(onramp::clock::SystemClock))
            .expect("state");
    {
        let conn = state.db.conn().expect("conn");
        let (private, public) = onramp::services::locations::generate_keypair();
        onramp::db::locations::insert(
            &conn,
            &onramp::db::locations::LocationFields {
                name: "Office",
                addresses: "10.10.0.1/24",
                endpoint: "vpn.example.com",
                port: 51820,
                public_key: &public,
                private_key: Some(&private),
                allowed_ips: "10.10.0.0/24",
                dns: "",
                keepalive: 25,
            },
            0,
        )
        .expect("insert");
    }
    drop(state);
    let out = Command::new(env!("CARGO_BIN_EXE_onramp"))
        .env("ONRAMP_DATABASE", &db)
        .args(["gateway-config", "office"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("[Interface]\nPrivateKey = "));
    assert!(text.contains("ListenPort = 51820"));
    let out = Command::new(env!("CARGO_BIN_EXE_onramp"))
        .env("ONRAMP_DATABASE", &db)
        .args(["gateway-config", "Nowhere"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no location named \"Nowhere\""));
}

#[tokio::test]
async fn the_error_summary_lists_problems_in_form_order() {
    let app = logged_in().await;
    let mut form = office("", "");
    for pair in form.iter_mut() {
        if ["endpoint", "allowed_ips"].contains(&pair.0) {
            pair.1 = "";
        }
    }
    let res = app.post("/admin/locations", &form).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let summary = &res.body[res.body.find("form-errors").expect("a summary")..];
    let at = |field: &str| {
        summary
            .find(&format!(r##"href="#{field}""##))
            .unwrap_or_else(|| panic!("{field} in the summary: {summary}"))
    };
    assert!(at("name") < at("addresses"));
    assert!(at("addresses") < at("endpoint"));
    assert!(at("endpoint") < at("allowed_ips"));
}
