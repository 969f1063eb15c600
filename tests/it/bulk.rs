//! Bulk actions on the users list, and the invitation state in words.

use crate::helpers::TestApp;
use reqwest::StatusCode;

async fn admin() -> TestApp {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    app
}

async fn bulk(app: &TestApp, fields: &[(&str, &str)]) -> String {
    let res = app.post("/admin/users/bulk", fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(res.location(), "/admin/users");
    app.get("/admin/users").await.body
}

fn count(app: &TestApp, sql: &str) -> i64 {
    app.state
        .db
        .conn()
        .expect("conn")
        .query_row(sql, [], |r| r.get(0))
        .expect("count")
}

#[tokio::test]
async fn start_enrollment_for_the_chosen_users_skips_who_it_does_not_apply_to() {
    let app = admin().await;
    let anna = app.add_user("anna", "Anna", "Nowak").await.to_string();
    let bob = app
        .add_enrolled_user("bob", "Bob", "Smith")
        .await
        .to_string();
    let carl = app.add_user("carl", "Carl", "Jung").await.to_string();
    app.post(&format!("/admin/users/{carl}/disable"), &[]).await;
    let list = app.get("/admin/users").await.body;
    assert!(
        list.contains(r#"aria-label="Choose anna""#),
        "a checkbox per row"
    );

    let page = bulk(
        &app,
        &[
            ("action", "start_enrollment"),
            ("user", &anna),
            ("user", &bob),
            ("user", &carl),
        ],
    )
    .await;
    assert!(
        page.contains("1 invited, 2 skipped: already enrolled (bob); disabled (carl)."),
        "{page}"
    );
    assert!(page.contains("Invited — sent"), "the state in words");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM outbox WHERE kind = 'enrollment'"
        ),
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_event WHERE action = 'token.issued' AND target = 'anna'"
        ),
        1
    );

    // "Select all" follows the status filter too: only the invited.
    let page = bulk(
        &app,
        &[
            ("action", "disable"),
            ("all_matching", "on"),
            ("q", ""),
            ("status", "invited"),
        ],
    )
    .await;
    assert!(page.contains("1 disabled."), "{page}");
    assert_eq!(app.user("anna").map(|u| u.is_active), Some(false));
}

#[tokio::test]
async fn select_all_matching_the_search_then_add_to_group_disable_and_enable() {
    let app = admin().await;
    for name in ["ops.anna", "ops.bob", "dev.carl"] {
        app.add_user(name, "Some", "One").await;
    }
    app.post("/admin/groups", &[("name", "ops")]).await;
    let group = count(&app, "SELECT id FROM user_group WHERE name = 'ops'").to_string();
    let page = bulk(
        &app,
        &[
            ("action", "add_to_group"),
            ("group", &group),
            ("all_matching", "on"),
            ("q", "ops"),
        ],
    )
    .await;
    assert!(page.contains("2 added."), "{page}");
    assert_eq!(count(&app, "SELECT count(*) FROM group_member"), 2);

    let page = bulk(
        &app,
        &[("action", "disable"), ("all_matching", "on"), ("q", "")],
    )
    .await;
    assert!(
        page.contains("3 disabled, 1 skipped: You cannot disable your own account (admin)."),
        "{page}"
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM user WHERE is_active = 0"),
        3
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_event WHERE action = 'user.disabled'"
        ),
        3
    );
    let page = bulk(
        &app,
        &[("action", "enable"), ("all_matching", "on"), ("q", "ops")],
    )
    .await;
    assert!(page.contains("2 enabled."), "{page}");
}

#[tokio::test]
async fn delete_asks_first_naming_how_many_and_who() {
    let app = admin().await;
    let anna = app.add_user("anna", "Anna", "Nowak").await.to_string();
    let bob = app.add_user("bob", "Bob", "Smith").await.to_string();
    let before = app.user_count();
    let ask = app
        .post(
            "/admin/users/bulk",
            &[("action", "delete"), ("user", &anna), ("user", &bob)],
        )
        .await;
    assert_eq!(ask.status, StatusCode::OK);
    assert!(ask.body.contains("Delete 2 users?"), "{}", ask.body);
    assert!(ask.body.contains("anna, bob"));
    assert_eq!(app.user_count(), before, "nothing deleted yet");
    let page = bulk(
        &app,
        &[
            ("action", "delete"),
            ("confirmed", "on"),
            ("user", &anna),
            ("user", &bob),
        ],
    )
    .await;
    assert!(page.contains("2 deleted."), "{page}");
    assert_eq!(app.user_count(), before - 2);

    let res = app
        .post("/admin/users/bulk", &[("action", "disable")])
        .await;
    assert_eq!(
        res.status,
        StatusCode::SEE_OTHER,
        "no one chosen is a message, not a failure"
    );
}
