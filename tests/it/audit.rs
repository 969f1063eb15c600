//! The audit log's filters: a user found anywhere in their names or email, in any case; an
//! action shown in words; a range of days; bad dates refused on the form.

use crate::helpers::TestApp;
use reqwest::StatusCode;

async fn admin_with_users() -> TestApp {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    app.add_user("lzielinski", "Łukasz", "Zieliński").await;
    app.add_user("jnowak", "Jan", "Nowak").await;
    app
}

/// The results fragment htmx swaps in for `query`.
async fn results(app: &TestApp, query: &str) -> String {
    let page = app.hx_get(&format!("/admin/audit?{query}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.starts_with(r#"<div id="audit-results">"#),
        "htmx gets the results only: {}",
        page.body
    );
    page.body
}

#[tokio::test]
async fn the_user_filter_matches_names_and_emails_anywhere_in_any_case() {
    let app = admin_with_users().await;
    for query in [
        "user=%C5%81UKASZ",
        "user=ZIELI%C5%84",
        "user=lziel",
        "user=inski",
    ] {
        let body = results(&app, query).await;
        assert!(body.contains("lzielinski"), "{query}: {body}");
        assert!(!body.contains("jnowak"), "{query}: {body}");
    }
    // Part of an email finds everyone at that domain.
    let body = results(&app, "user=example.com").await;
    assert!(
        body.contains("lzielinski") && body.contains("jnowak"),
        "{body}"
    );
    // The actor counts too: what the admin did.
    let body = results(&app, "user=ADMI").await;
    assert!(body.contains("Signed in"), "{body}");
    let body = results(&app, "user=nobody-like-this").await;
    assert!(body.contains("No events match."), "{body}");
}

#[tokio::test]
async fn actions_read_in_words_with_their_code_beside_them() {
    let app = admin_with_users().await;
    let body = results(&app, "action=user.created").await;
    assert!(body.contains("User added"), "{body}");
    assert!(
        body.contains(r#"<code class="event-code">user.created</code>"#),
        "{body}"
    );
    assert!(!body.contains("Signed in"), "{body}");

    let page = app.get("/admin/audit?action=user.created").await;
    assert!(
        page.body
            .contains(r#"<option value="login.success">Signed in (login.success)</option>"#),
        "{}",
        page.body
    );
    // Choosing filters applies them at once with JavaScript, and the button stays for
    // everyone else.
    assert!(
        page.body.contains(r#"hx-trigger="change""#),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains(r#"<button type="submit" class="button-secondary">Filter</button>"#));
}

#[tokio::test]
async fn a_range_of_days_limits_the_events() {
    // The test clock stands at 2026-11-24 09:00 UTC.
    let app = admin_with_users().await;
    let body = results(&app, "from=2026-11-24&to=2026-11-24").await;
    assert!(body.contains("User added"), "{body}");
    let body = results(&app, "from=2026-11-25").await;
    assert!(body.contains("No events match."), "{body}");
    let body = results(&app, "to=2026-11-23").await;
    assert!(body.contains("No events match."), "{body}");
    // Times are machine-readable, in UTC without JavaScript.
    assert!(results(&app, "").await.contains(
        r#"<time datetime="2026-11-24T09:00:00Z" data-local>2026-11-24 09:00 UTC</time>"#
    ));
}

#[tokio::test]
async fn unreadable_dates_are_refused_on_the_form() {
    let app = admin_with_users().await;
    let page = app.get("/admin/audit?from=yesterday&user=jan").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body
            .contains("From must be a date such as 2026-12-01."),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(r#"aria-invalid="true""#),
        "{}",
        page.body
    );
    // What was typed stays, and no list pretends to be filtered.
    assert!(page.body.contains(r#"value="yesterday""#), "{}", page.body);
    assert!(!page.body.contains("<table"), "{}", page.body);

    let page = app.get("/admin/audit?from=2026-11-24&to=2026-11-23").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page
        .body
        .contains("To must be the same day as From or later."));
}

#[tokio::test]
async fn the_next_page_keeps_the_filters() {
    let app = admin_with_users().await;
    for i in 0..55 {
        app.add_user(&format!("user{i:02}"), "Many", "Users").await;
    }
    let page = app.get("/admin/audit?action=user.created&user=many").await;
    assert!(
        page.body
            .contains("/admin/audit?user=many&amp;action=user.created&amp;before="),
        "{}",
        page.body
    );
}
