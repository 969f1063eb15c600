//! Issuing tokens from the admin pages: the dialog, the one-time card behind a redirect,
//! revoking, the invitation-email limit, and what the outbox says about sealed tokens.

use crate::helpers::{add_location, hand_over_token, issue_token, Page, TestApp};
use reqwest::StatusCode;

async fn admin() -> TestApp {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    app
}

fn count(app: &TestApp, sql: &str) -> i64 {
    let conn = app.state.db.conn().expect("conn");
    conn.query_row(sql, [], |r| r.get(0)).expect("count")
}

fn tokens(app: &TestApp) -> i64 {
    count(app, "SELECT count(*) FROM token")
}

fn issued_events(app: &TestApp) -> usize {
    app.audit_actions()
        .iter()
        .filter(|a| *a == "token.issued")
        .count()
}

fn is_checked(page: &Page, value: &str) -> bool {
    page.body
        .contains(&format!(r#"name="delivery" value="{value}" checked"#))
}

/// Submits "Deliver token yourself" in the enrollment dialog, without following the redirect.
async fn submit_hand_over(app: &TestApp, id: i64) -> Page {
    app.post(
        &format!("/admin/users/{id}/enrollment"),
        &[("delivery", "manual"), ("email", "")],
    )
    .await
}

/// An enrolled user (added with a password) and a location, so a desktop token can be issued.
async fn enrolled_user(app: &TestApp) -> i64 {
    add_location(app, "Office", "10.10.0.1/24").await;
    app.add_enrolled_user("anowak", "Anna", "Nowak").await
}

#[tokio::test]
async fn the_card_shows_the_token_once_and_reloading_issues_nothing() {
    let app = admin().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let res = submit_hand_over(&app, id).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let card_url = res.location().to_owned();
    assert!(card_url.starts_with(&format!("/admin/users/{id}/token/")));
    assert_eq!((tokens(&app), issued_events(&app)), (1, 1));

    // Another admin session cannot take the card.
    let mut other = app.another_browser();
    other.admin_login().await;
    let stolen = other.get(&card_url).await;
    assert!(stolen.body.contains("This token was already shown."));
    assert!(!stolen.body.contains("token-value"));

    let card = app.get(&card_url).await;
    assert_eq!(card.status, StatusCode::OK);
    assert_eq!(card.header("cache-control"), "no-store");
    assert!(card.body.contains(r#"id="token-value""#), "{}", card.body);
    assert!(!card.body.contains("role=\"dialog\""));

    // Reload and Back: the same URL says it was shown, with the way to a new one.
    for _ in 0..2 {
        let again = app.get(&card_url).await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(again.header("cache-control"), "no-store");
        assert!(
            again
                .body
                .contains("This token was already shown. Issue a new one?"),
            "{}",
            again.body
        );
        assert!(again
            .body
            .contains(&format!(r#"href="/admin/users/{id}/enrollment""#)));
        assert!(!again.body.contains("token-value"));
    }
    assert_eq!(
        (tokens(&app), issued_events(&app)),
        (1, 1),
        "nothing was issued again"
    );
    assert_eq!(count(&app, "SELECT count(*) FROM token_card"), 0);
    // Nothing of the token stays readable.
    let secret = card
        .body
        .split(r#"id="token-value" type="text" readonly value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("secret")
        .to_owned();
    assert!(!app.dump_database().contains(&secret));
}

#[tokio::test]
async fn an_unseen_card_dies_after_a_few_minutes() {
    let app = admin().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let res = submit_hand_over(&app, id).await;
    app.clock.advance(time::Duration::minutes(6));
    // The periodic clean-up drops it even if nobody comes back.
    onramp::services::auth::prune_sessions(&app.state)
        .await
        .expect("prune");
    assert_eq!(count(&app, "SELECT count(*) FROM token_card"), 0);
    let late = app.get(res.location()).await;
    assert!(late.body.contains("This token was already shown."));
    assert_eq!(count(&app, "SELECT count(*) FROM token_card"), 0);
}

#[tokio::test]
async fn htmx_callers_are_sent_to_the_card_too() {
    let app = admin().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let res = app
        .hx_post(
            &format!("/admin/users/{id}/enrollment"),
            &[("delivery", "manual"), ("email", "")],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let to = res.header("hx-redirect").to_owned();
    assert!(to.starts_with(&format!("/admin/users/{id}/token/")), "{to}");
    assert!(res.body.is_empty());
    assert!(app.get(&to).await.body.contains("token-value"));
}

#[tokio::test]
async fn without_smtp_the_dialog_says_so_and_hands_over_by_default() {
    let app = admin().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let dialog = app.get(&format!("/admin/users/{id}/enrollment")).await;
    assert!(
        dialog.body.contains("SMTP is not configured"),
        "{}",
        dialog.body
    );
    assert!(is_checked(&dialog, "manual"), "{}", dialog.body);
    assert!(!is_checked(&dialog, "email"));
    // A page, not a dialog without dialog behaviour: focus starts on its heading.
    assert!(!dialog.body.contains("role=\"dialog\""));
    assert!(dialog
        .body
        .contains(r#"<h1 id="dialog-title" tabindex="-1" data-autofocus>"#));

    let card = issue_token(
        &app,
        id,
        "enrollment",
        &[("delivery", "email"), ("email", "jan@example.com")],
    )
    .await;
    assert!(card
        .body
        .contains("The email to jan@example.com is queued (SMTP is not configured)."));
    assert!(!card.body.contains("emailed"));

    let outbox = app.get("/admin/outbox").await;
    assert!(
        outbox.body.contains("flash flash-warning"),
        "{}",
        outbox.body
    );
    assert!(outbox
        .body
        .contains("the token is sealed and goes only into the delivered email"));
    assert!(!outbox.body.contains("Retry now"), "{}", outbox.body);
    let one = app.get("/admin/outbox/1").await;
    assert!(
        one.body.contains("Queued</span> not tried yet"),
        "{}",
        one.body
    );
    assert!(!one.body.contains("attempt(s)"));
    assert!(!one.body.contains("Retry now"));
    let retry = app.post("/admin/outbox/1/retry", &[]).await;
    assert_eq!(retry.status, StatusCode::SEE_OTHER);
    assert!(app
        .get("/admin/outbox")
        .await
        .body
        .contains("SMTP is not configured, so there is nothing to retry with."));
}

#[tokio::test]
async fn with_smtp_the_dialog_sends_by_email_by_default() {
    let config = onramp::config::parse_smtp_url("smtp://127.0.0.1:9?tls=none").expect("url");
    let mut app = TestApp::spawn_with(move |c| c.smtp = Some(config)).await;
    app.admin_login().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let dialog = app.get(&format!("/admin/users/{id}/enrollment")).await;
    assert!(!dialog.body.contains("SMTP is not configured"));
    assert!(is_checked(&dialog, "email"));
    let card = issue_token(
        &app,
        id,
        "enrollment",
        &[("delivery", "email"), ("email", "jan@example.com")],
    )
    .await;
    assert!(
        card.body.contains("The email to jan@example.com is queued"),
        "{}",
        card.body
    );
    assert!(!card.body.contains("SMTP is not configured"));
}

#[tokio::test]
async fn revoke_pending_token_covers_desktop_tokens() {
    let app = admin().await;
    let id = enrolled_user(&app).await;
    let menu = app.hx_get(&format!("/admin/users/{id}/actions")).await;
    assert!(!menu.body.contains("Revoke pending token"));
    let secret = hand_over_token(&app, id, "desktop").await;
    let menu = app.hx_get(&format!("/admin/users/{id}/actions")).await;
    assert!(menu.body.contains("Revoke pending token"), "{}", menu.body);

    let res = app
        .post(&format!("/admin/users/{id}/revoke-token"), &[])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let list = app.get("/admin/users").await;
    assert!(
        list.body
            .contains("Revoked the pending desktop activation token of anowak."),
        "{}",
        list.body
    );
    let conn = app.state.db.conn().expect("conn");
    let row = onramp::db::tokens::find_by_hash(&conn, &onramp::crypto::sha256_hex(&secret))
        .expect("query")
        .expect("token");
    assert!(row.revoked_at.is_some());
    let detail: String = conn
        .query_row(
            "SELECT detail FROM audit_event WHERE action = 'token.revoked'",
            [],
            |r| r.get(0),
        )
        .expect("audited");
    assert_eq!(detail, format!("desktop token #{}", row.id));
    drop(conn);
    let menu = app.hx_get(&format!("/admin/users/{id}/actions")).await;
    assert!(!menu.body.contains("Revoke pending token"));
}

#[tokio::test]
async fn disabling_says_what_it_ended_in_a_live_region() {
    let app = admin().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    hand_over_token(&app, id, "enrollment").await;
    let res = app
        .hx_post(&format!("/admin/users/{id}/disable"), &[])
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.body.starts_with(&format!(r#"<tr id="user-{id}""#)));
    assert!(
        res.body.contains(
            r#"<div id="flash-area" hx-swap-oob="innerHTML"><div class="flash">Disabled jnowak (pending token revoked).</div></div>"#
        ),
        "{}",
        res.body
    );
    // The layout's notice area is a live region from the first load.
    assert!(app
        .get("/admin/users")
        .await
        .body
        .contains(r#"<div id="flash-area" role="status">"#));
    let res = app.post(&format!("/admin/users/{id}/enable"), &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(app
        .get("/admin/users")
        .await
        .body
        .contains("Enabled jnowak."));
}
