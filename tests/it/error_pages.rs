//! Error pages carry the instance's name and, for a logged-in admin, the admin navigation;
//! the start page answers at `/`, `/admin` and `/admin/`, to HEAD as to GET.

use crate::helpers::TestApp;
use reqwest::StatusCode;

async fn rename_instance(app: &TestApp) {
    let res = app
        .post(
            "/admin/settings",
            &[
                ("instance_name", "Acme VPN"),
                ("welcome_message", "Hello"),
                ("welcome_email_subject", "Welcome"),
                ("welcome_email_same", "on"),
                ("welcome_email_body", ""),
                ("vpn_step", "optional"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
}

#[tokio::test]
async fn error_pages_show_the_instance_and_the_admin_navigation() {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    rename_instance(&app).await;

    let page = app.get("/admin/no-such-page").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(
        page.body
            .contains("<title>Page not found · Acme VPN</title>"),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"aria-label="Main""#), "{}", page.body);
    assert!(page.body.contains("Signed in as admin"), "{}", page.body);

    let page = app.get("/admin/users?no-such-parameter=1").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body.contains("Cannot do that · Acme VPN"),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"aria-label="Main""#), "{}", page.body);

    // Someone not logged in sees the name, not the admin's navigation.
    let stranger = app.another_browser();
    let page = stranger.get("/no-such-page").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(
        page.body.contains("Page not found · Acme VPN"),
        "{}",
        page.body
    );
    assert!(!page.body.contains(r#"aria-label="Main""#), "{}", page.body);
    // The JSON API keeps its own error bodies.
    let api = stranger.get("/api/v1/no-such-endpoint").await;
    assert!(!api.body.contains("<html"), "{}", api.body);
}

#[tokio::test]
async fn the_start_page_answers_head_and_a_trailing_slash() {
    let app = TestApp::spawn().await;
    for path in ["/", "/admin", "/admin/"] {
        for head in [false, true] {
            let req = if head {
                app.client.head(app.url(path))
            } else {
                app.client.get(app.url(path))
            };
            let res = req.send().await.expect("request");
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path} head={head}");
            assert_eq!(
                res.headers()["location"],
                "/admin/users",
                "{path} head={head}"
            );
        }
    }
}

#[tokio::test]
async fn a_refusal_about_a_user_leads_to_their_page() {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let user_page = format!("/admin/users/{id}");

    // Refused tokens land on the user's page, with the reason.
    let res = app
        .post(
            &format!("{user_page}/desktop"),
            &[("delivery", "manual"), ("email", "")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(res.location(), user_page);
    let page = app.get(&user_page).await;
    assert!(
        page.body.contains("jnowak has not enrolled yet."),
        "{}",
        page.body
    );

    // An error page about one of their things links back to them.
    let page = app.get(&format!("{user_page}/devices/999/delete")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", page.body);
    assert!(
        page.body.contains(&format!(
            r#"<a href="{user_page}">Open the user's page</a>"#
        )),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn too_many_token_emails_keep_the_admin_at_home() {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    rename_instance(&app).await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let issue = || async {
        app.post(
            &format!("/admin/users/{id}/enrollment"),
            &[("delivery", "email"), ("email", "jan@example.com")],
        )
        .await
    };
    for _ in 0..5 {
        assert_eq!(issue().await.status, StatusCode::SEE_OTHER);
    }
    // The dialog comes back inside the admin layout, saying why and what to do instead.
    let page = issue().await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.body);
    assert!(page.body.contains("Acme VPN"), "{}", page.body);
    assert!(page.body.contains(r#"aria-label="Main""#), "{}", page.body);
    assert!(
        page.body.contains("invitation emails per user"),
        "{}",
        page.body
    );
}
