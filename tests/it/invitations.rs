//! The invitation lifecycle: a chosen validity, one reminder, and the note to the admin when
//! an invitation expires unused, driven on the fake clock.

use crate::helpers::{issue_token, TestApp};
use onramp::services::invitations::run_due;
use reqwest::StatusCode;
use time::Duration;

fn outbox(app: &TestApp, kind: &str) -> Vec<(String, String)> {
    let conn = app.state.db.conn().expect("conn");
    let mut stmt = conn
        .prepare("SELECT recipient, body_text FROM outbox WHERE kind = ?1 ORDER BY id")
        .expect("prepare");
    stmt.query_map([kind], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

/// Emails an enrollment token to `username`'s own address; returns the secret on the card.
async fn invite(app: &TestApp, username: &str, validity: &str) -> String {
    let id = app.add_user(username, "Anna", "Nowak").await;
    let email = app.user(username).expect("user").email;
    let card = issue_token(
        app,
        id,
        "enrollment",
        &[
            ("delivery", "email"),
            ("email", &email),
            ("validity", validity),
        ],
    )
    .await;
    let marker = r#"id="token-value" type="text" readonly value=""#;
    let at = card.body.find(marker).expect("token on the card") + marker.len();
    card.body[at..at + card.body[at..].find('"').expect("end")].to_owned()
}

async fn admin() -> TestApp {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    app
}

#[tokio::test]
async fn the_admin_chooses_the_validity_and_the_email_states_it() {
    let app = admin().await;
    let dialog = app.get("/admin/users/1/enrollment").await;
    assert!(dialog.body.contains("Valid for"), "{}", dialog.body);
    invite(&app, "anna", "3d").await;
    let (created, expires): (i64, i64) = app
        .state
        .db
        .conn()
        .expect("conn")
        .query_row("SELECT created_at, expires_at FROM token", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("token");
    assert_eq!(expires - created, 3 * 86_400);
    let mails = outbox(&app, "enrollment");
    assert!(
        mails[0].1.contains("The token works for 3 days."),
        "{}",
        mails[0].1
    );

    let id = app.add_user("bob", "Bob", "Smith").await;
    let refused = app
        .post(
            &format!("/admin/users/{id}/enrollment"),
            &[("delivery", "manual"), ("email", ""), ("validity", "90d")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("between 1 hour and 30 days"),
        "{}",
        refused.body
    );
    assert_eq!(outbox(&app, "enrollment").len(), 1, "nothing issued");
}

#[tokio::test]
async fn one_reminder_after_n_days_never_once_opened_or_expired() {
    let app = admin().await;
    let saved = app
        .post(
            "/admin/settings/invitations",
            &[("reminder_days", "2"), ("notify_expired", "on")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let bad = app
        .post("/admin/settings/invitations", &[("reminder_days", "99")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    invite(&app, "anna", "7d").await;
    let opened = invite(&app, "olaf", "7d").await;
    invite(&app, "short", "1d").await;
    // olaf opens his link: the invitation arrived.
    assert_eq!(
        app.get(&format!("/enroll?token={opened}")).await.status,
        StatusCode::OK
    );

    app.clock.advance(Duration::days(1) - Duration::minutes(1));
    assert_eq!(
        run_due(&app.state).await.expect("run"),
        Default::default(),
        "not yet"
    );
    app.clock.advance(Duration::days(1) + Duration::minutes(2));
    let run = run_due(&app.state).await.expect("run");
    assert_eq!(
        run.reminded, 1,
        "only anna: olaf opened his, short's expired"
    );
    let reminders = outbox(&app, "reminder");
    assert_eq!(reminders.len(), 1);
    assert!(reminders[0].0.starts_with("anna"), "{:?}", reminders);
    assert_eq!(run.expired, 1, "short's admin hears that it expired unused");
    let notes = outbox(&app, "invitation-expired");
    assert!(notes[0].1.contains("short"), "{}", notes[0].1);

    app.clock.advance(Duration::days(1));
    let again = run_due(&app.state).await.expect("run");
    assert_eq!(again.reminded, 0, "one reminder only");
    assert_eq!(again.expired, 0, "one note only");
    assert!(app.dump_database().contains("token.reminded"));
}

#[tokio::test]
async fn reminders_are_off_by_default() {
    let app = admin().await;
    invite(&app, "anna", "7d").await;
    app.clock.advance(Duration::days(8));
    assert_eq!(run_due(&app.state).await.expect("run"), Default::default());
}
