//! The admins' setup checklist: items tick themselves off from the data, and it can be hidden.

use crate::helpers::{add_location, TestApp};
use reqwest::StatusCode;

/// The item titled `title` on the checklist page is marked done.
fn done(body: &str, title: &str) -> bool {
    let at = body
        .find(&format!("<strong>{title}</strong>"))
        .expect(title);
    body[at..].starts_with(&format!(
        r#"<strong>{title}</strong><span class="sr-only"> (done)"#
    ))
}

#[tokio::test]
async fn the_checklist_ticks_itself_off_and_can_be_hidden() {
    let smtp = onramp::config::parse_smtp_url("smtp://127.0.0.1:2525?tls=none").expect("URL");
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    let users = app.get("/admin/users").await;
    assert!(users
        .body
        .contains(r#"href="/admin/setup">Setup checklist<"#));
    let page = app.get("/admin/setup").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("0 of 4 done"), "{}", page.body);
    assert!(page
        .body
        .contains(r#"href="/me#password">Change my password<"#));
    let me = app.user_id("admin").expect("admin");
    assert!(page.body.contains(&format!(
        r#"href="/admin/users/{me}/edit">Edit your profile<"#
    )));

    // The admin's own profile, on their user's edit page.
    let saved = app
        .post(
            &format!("/admin/users/{me}/edit"),
            &[
                ("first_name", "Ewa"),
                ("last_name", "Lis"),
                ("email", "ewa@example.com"),
                ("phone", "+48 600 700 800"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    add_location(&app, "Office", "10.10.0.1/24").await;
    let page = app.get("/admin/setup").await;
    assert!(page.body.contains("2 of 4 done"), "{}", page.body);
    assert!(done(&page.body, "Your name, email and phone"));
    assert!(done(&page.body, "First location"));
    assert!(!done(&page.body, "Instance name"));
    assert!(!done(&page.body, "Email (SMTP)"));
    assert!(page.body.contains(">Hide<"));

    // The rest straight in the data: the list reads it, nothing is ticked by hand.
    {
        let conn = app.state.db.conn().expect("conn");
        onramp::db::settings::set(&conn, onramp::db::settings::INSTANCE_NAME, "Acme VPN")
            .expect("name");
    }
    let with_smtp = {
        let mut other = TestApp::spawn_with(move |c| c.smtp = Some(smtp)).await;
        other.admin_login().await;
        other
    };
    let page = with_smtp.get("/admin/setup").await;
    assert!(done(&page.body, "Email (SMTP)"), "{}", page.body);
    let page = app.get("/admin/setup").await;
    assert!(page.body.contains("3 of 4 done"), "{}", page.body);
    assert!(done(&page.body, "Instance name"));

    let hidden = app.post("/admin/setup/hide", &[]).await;
    assert_eq!(hidden.status, StatusCode::SEE_OTHER);
    let users = app.get("/admin/users").await;
    assert!(
        !users.body.contains("Setup checklist"),
        "the header link goes"
    );
    assert!(app.audit_actions().contains(&"setup.hidden".to_owned()));
    let page = app.get("/admin/setup").await;
    assert!(page.body.contains("Show it in the header again"));
    app.post("/admin/setup/show", &[]).await;
    assert!(app
        .get("/admin/users")
        .await
        .body
        .contains("Setup checklist"));
}
