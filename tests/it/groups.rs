//! Groups and "Who can connect": the admin screens, and that every place handing out a
//! location (client API, wizard, gateway peers) follows group membership at once.

use crate::client_api::{call, key, setup};
use crate::enrollment::{start as browser_start, step, walk_to_vpn};
use crate::helpers::{add_location, hand_over_token, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn count(app: &TestApp, sql: &str) -> i64 {
    let conn = app.state.db.conn().expect("conn");
    conn.query_row(sql, [], |r| r.get(0)).expect("count")
}

/// The location form for "Lab" (location 2 as `lab` adds it) with these access fields.
async fn set_lab_access(app: &TestApp, access: &[(&str, &str)]) -> crate::helpers::Page {
    let mut fields = vec![
        ("name", "Lab"),
        ("addresses", "10.20.0.1/24"),
        ("endpoint", "lab.example.com"),
        ("port", "51821"),
        ("allowed_ips", "10.20.0.0/24"),
        ("dns", ""),
        ("keepalive", "25"),
        ("key_mode", "keep"),
        ("public_key", ""),
    ];
    fields.extend_from_slice(access);
    app.post("/admin/locations/2/edit", &fields).await
}

/// Adds "Lab" as location 2, next to `setup`'s open "Office".
async fn lab(app: &TestApp) {
    add_location(app, "Lab", "10.20.0.1/24").await;
    let open = set_lab_access(app, &[("access", "everyone")]).await;
    assert_eq!(open.status, StatusCode::SEE_OTHER, "{}", open.body);
}

/// Lets only group 1 ("ops") connect to `setup`'s Office; an edit that leaves out the
/// optional fields keeps their defaults.
async fn office_for_ops(app: &TestApp) {
    let office = app
        .post(
            "/admin/locations/1/edit",
            &[
                ("name", "Office"),
                ("addresses", "10.10.0.1/24, fd00::1/64"),
                ("endpoint", "vpn.example.com"),
                ("port", "51820"),
                ("allowed_ips", "10.10.0.0/24"),
                ("key_mode", "keep"),
                ("access", "groups"),
                ("groups", "1"),
            ],
        )
        .await;
    assert_eq!(office.status, StatusCode::SEE_OTHER, "{}", office.body);
}

async fn add_group(app: &TestApp, name: &str) -> crate::helpers::Page {
    app.post("/admin/groups", &[("name", name)]).await
}

fn network_names(device_config: &Value) -> Vec<String> {
    device_config["configs"]
        .as_array()
        .expect("configs")
        .iter()
        .map(|c| c["network_name"].as_str().expect("name").to_owned())
        .collect()
}

/// The gateway config text of a location.
fn gateway(app: &TestApp, location_id: i64) -> String {
    let conn = app.state.db.conn().expect("conn");
    let row = onramp::db::locations::get(&conn, location_id)
        .expect("query")
        .expect("location");
    onramp::services::locations::gateway_config(&conn, &row).expect("config")
}

/// Enrolls jnowak in the client with a device; returns (its public key, polling token,
/// the `create_device` answer).
async fn client_device(app: &TestApp, id: i64, name: &str) -> (String, String, Value) {
    let token = hand_over_token(app, id, "enrollment").await;
    let start = call(app, "enrollment/start", json!({ "token": token }), None).await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.body);
    let pubkey = key();
    let device = call(
        app,
        "enrollment/create_device",
        json!({ "name": name, "pubkey": pubkey, "token": null }),
        Some(&start.set_cookie()),
    )
    .await;
    assert_eq!(device.status, StatusCode::OK, "{}", device.body);
    let polling = device.body["token"].as_str().expect("token").to_owned();
    (pubkey, polling, device.body)
}

async fn poll(app: &TestApp, polling: &str) -> Value {
    let res = call(app, "poll", json!({ "token": polling }), None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.body["device_config"].clone()
}

#[tokio::test]
async fn groups_are_added_renamed_filled_and_deleted_with_audit() {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    for (bad, message) in [
        ("", "Enter a name for the group"),
        ("   ", "Enter a name for the group"),
        ("a\nb", "without line breaks"),
    ] {
        let res = add_group(&app, bad).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
        assert!(res.body.contains(message), "{}", res.body);
    }
    assert_eq!(count(&app, "SELECT count(*) FROM user_group"), 0);
    assert_eq!(add_group(&app, " ops ").await.status, StatusCode::SEE_OTHER);
    let twice = add_group(&app, "OPS").await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(twice.body.contains("A group named OPS already exists."));
    assert_eq!(add_group(&app, "dev").await.status, StatusCode::SEE_OTHER);

    let clash = app.post("/admin/groups/2/edit", &[("name", "Ops")]).await;
    assert_eq!(clash.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(clash.body.contains("A group named Ops already exists."));
    let renamed = app
        .post("/admin/groups/2/edit", &[("name", "developers")])
        .await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER, "{}", renamed.body);

    app.add_user("jnowak", "Jan", "Nowak").await;
    let nobody = app
        .post("/admin/groups/1/members", &[("username", "nobody")])
        .await;
    assert_eq!(nobody.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(nobody.body.contains("No user is named nobody."));
    let bad = app
        .post("/admin/groups/1/members", &[("username", "NO PE")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let added = app
        .post("/admin/groups/1/members", &[("username", "jnowak")])
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let again = app
        .post("/admin/groups/1/members", &[("username", "jnowak")])
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("jnowak is already a member of ops."));
    assert_eq!(count(&app, "SELECT count(*) FROM group_member"), 1);

    let page = app.get("/admin/groups/1").await;
    assert!(
        page.body.contains("Remove jnowak from ops"),
        "{}",
        page.body
    );
    let list = app.get("/admin/groups").await;
    assert!(list
        .body
        .contains(r#"href="/admin/groups" aria-current="page""#));
    assert!(list.body.contains("Members of developers") && list.body.contains("Delete ops"));
    let uid = app.user_id("jnowak").expect("id");
    let removed = app
        .post(&format!("/admin/groups/1/members/{uid}/remove"), &[])
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert_eq!(count(&app, "SELECT count(*) FROM group_member"), 0);

    assert_eq!(
        app.get("/admin/groups/2/delete").await.status,
        StatusCode::OK
    );
    let deleted = app.post("/admin/groups/2/delete", &[]).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(count(&app, "SELECT count(*) FROM user_group"), 1);
    let actions = app.audit_actions();
    for action in [
        "group.created",
        "group.renamed",
        "group.member_added",
        "group.member_removed",
        "group.deleted",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
    assert_eq!(actions.iter().filter(|a| *a == "group.created").count(), 2);
}

#[tokio::test]
async fn the_user_form_sets_memberships() {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    add_group(&app, "ops").await;
    add_group(&app, "dev").await;
    let form = app.get("/admin/users/new").await;
    assert!(
        form.body.contains(r#"name="groups" value="1""#),
        "{}",
        form.body
    );
    let user = |groups: &'static [(&'static str, &'static str)]| {
        let mut fields = vec![
            ("username", "jnowak"),
            ("first_name", "Jan"),
            ("last_name", "Nowak"),
            ("email", "jnowak@example.com"),
            ("use_enrollment", "on"),
            ("groups_shown", "1"),
        ];
        fields.extend_from_slice(groups);
        fields
    };
    let stale = app.post("/admin/users", &user(&[("groups", "99")])).await;
    assert_eq!(stale.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(stale.body.contains("A group you chose no longer exists."));
    assert_eq!(app.user_id("jnowak"), None, "a refused form writes nothing");
    let res = app
        .post("/admin/users", &user(&[("groups", "1"), ("groups", "2")]))
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let id = app.user_id("jnowak").expect("id");
    let names = |app: &TestApp| -> Vec<String> {
        let conn = app.state.db.conn().expect("conn");
        onramp::db::groups::of_user(&conn, id)
            .expect("groups")
            .into_iter()
            .map(|g| g.name)
            .collect()
    };
    assert_eq!(names(&app), ["dev", "ops"]);
    let edit = app.get(&format!("/admin/users/{id}/edit")).await;
    assert!(
        edit.body.contains(r#"name="groups" value="2" checked"#),
        "{}",
        edit.body
    );

    let profile = [
        ("first_name", "Jan"),
        ("last_name", "Nowak"),
        ("email", "jnowak@example.com"),
    ];
    // A client that does not know about groups leaves them alone.
    let path = format!("/admin/users/{id}/edit");
    assert_eq!(
        app.post(&path, &profile).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(names(&app), ["dev", "ops"]);
    let mut only_ops = profile.to_vec();
    only_ops.extend([("groups_shown", "1"), ("groups", "1")]);
    assert_eq!(
        app.post(&path, &only_ops).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(names(&app), ["ops"]);
    let mut none = profile.to_vec();
    none.push(("groups_shown", "1"));
    assert_eq!(app.post(&path, &none).await.status, StatusCode::SEE_OTHER);
    assert!(names(&app).is_empty());
    let actions = app.audit_actions();
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "group.member_added")
            .count(),
        2
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "group.member_removed")
            .count(),
        2
    );
}

#[tokio::test]
async fn a_restricted_location_follows_group_membership_everywhere() {
    let app = setup().await;
    lab(&app).await;
    add_group(&app, "ops").await;
    for (fields, message) in [
        (
            vec![("access", "groups")],
            "Choose at least one group that may connect",
        ),
        (
            vec![("access", "groups"), ("groups", "99")],
            "A group you chose no longer exists.",
        ),
        (vec![("access", "nobody")], "Choose whether everyone"),
    ] {
        let res = set_lab_access(&app, &fields).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert!(res.body.contains(message), "{}", res.body);
    }
    assert_eq!(count(&app, "SELECT count(*) FROM location_access"), 0);
    let restrict = set_lab_access(&app, &[("access", "groups"), ("groups", "1")]).await;
    assert_eq!(restrict.status, StatusCode::SEE_OTHER, "{}", restrict.body);
    let list = app.get("/admin/locations").await;
    assert!(list.body.contains("Who can connect") && list.body.contains("Members of ops"));
    let form = app.get("/admin/locations/2/edit").await;
    assert!(
        form.body.contains(r#"name="groups" value="1" checked"#),
        "{}",
        form.body
    );
    assert!(app
        .audit_actions()
        .contains(&"location.access_changed".to_owned()));

    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let (pubkey, polling, created) = client_device(&app, id, "laptop").await;
    assert_eq!(network_names(&created), ["Office"]);
    assert_eq!(network_names(&poll(&app, &polling).await), ["Office"]);
    assert!(gateway(&app, 1).contains(&pubkey));
    assert!(
        !gateway(&app, 2).contains(&pubkey),
        "not a peer where they may not go"
    );

    let added = app
        .post("/admin/groups/1/members", &[("username", "jnowak")])
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    let now = poll(&app, &polling).await;
    assert_eq!(network_names(&now), ["Lab", "Office"]);
    assert_eq!(
        now["configs"][0]["assigned_ip"], "10.20.0.2",
        "the address kept all along"
    );
    assert!(gateway(&app, 2).contains(&pubkey));

    let removed = app
        .post(&format!("/admin/groups/1/members/{id}/remove"), &[])
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert_eq!(network_names(&poll(&app, &polling).await), ["Office"]);
    assert!(!gateway(&app, 2).contains(&pubkey));

    // Opening the location again brings it back without a membership, and its news by email.
    let news = "SELECT count(*) FROM outbox WHERE kind = 'new-location' AND recipient = 'jnowak@example.com'";
    assert_eq!(count(&app, news), 0);
    set_lab_access(&app, &[("access", "everyone")]).await;
    assert_eq!(count(&app, news), 1);
    assert_eq!(
        network_names(&poll(&app, &polling).await),
        ["Lab", "Office"]
    );
    assert_eq!(count(&app, "SELECT count(*) FROM location_access"), 0);
}

#[tokio::test]
async fn a_dg_user_gets_the_one_location_open_to_them() {
    let app = setup().await;
    lab(&app).await;
    add_group(&app, "ops").await;
    // Office (location 1) becomes ops-only; Lab stays open.
    office_for_ops(&app).await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let (_, polling, created) = client_device(&app, id, "").await;
    assert_eq!(created["device"]["name"], "cli");
    assert_eq!(
        network_names(&created),
        ["Lab"],
        "dg needs exactly one location"
    );
    assert_eq!(network_names(&poll(&app, &polling).await), ["Lab"]);
}

#[tokio::test]
async fn the_wizard_says_so_when_no_location_is_open() {
    let app = setup().await;
    add_group(&app, "ops").await;
    office_for_ops(&app).await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let token = hand_over_token(&app, id, "enrollment").await;
    let (user, _) = browser_start(&app, &token).await;
    walk_to_vpn(&user).await;
    // A location exists, but none is open to jnowak: no device to add.
    let vpn = user.get("/enroll/wizard").await;
    assert!(
        vpn.body.contains("There is no VPN to connect to yet."),
        "{}",
        vpn.body
    );
    let done = step(&user, "/enroll/wizard/vpn", &[("action", "skip")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    crate::enrollment::later(&user).await;
    let page = user.get("/enroll/done").await;
    assert!(
        page.body
            .contains("There is no VPN location for you yet, so no device was added."),
        "{}",
        page.body
    );
    assert!(!page.body.contains("/enroll/done/1.conf"));
    assert_eq!(
        user.get("/enroll/done/1.conf").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_group_that_decides_access_is_not_deleted() {
    let app = setup().await;
    lab(&app).await;
    add_group(&app, "ops").await;
    set_lab_access(&app, &[("access", "groups"), ("groups", "1")]).await;
    let confirm = app.get("/admin/groups/1/delete").await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        confirm.body.contains("decides who can connect to Lab"),
        "{}",
        confirm.body
    );
    assert!(!confirm.body.contains(r#"class="button-danger""#));
    let refused = app.post("/admin/groups/1/delete", &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused
        .body
        .contains("The group ops cannot be deleted while it decides who can connect to Lab."));
    assert_eq!(count(&app, "SELECT count(*) FROM user_group"), 1);
    assert!(!app.audit_actions().contains(&"group.deleted".to_owned()));

    set_lab_access(&app, &[("access", "everyone")]).await;
    assert_eq!(
        app.post("/admin/groups/1/delete", &[]).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(count(&app, "SELECT count(*) FROM user_group"), 0);
}
