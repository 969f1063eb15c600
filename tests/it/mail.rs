//! Mail through lettre's SMTP transport to a real SMTP server in the test: the message on the
//! wire, the outbox when SMTP is down, not configured or refuses, and the hints an admin sees.

use crate::helpers::{Page, TestApp};
use crate::smtp_server::{Options, SmtpServer};
use onramp::db::outbox::MailRow;
use reqwest::StatusCode;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

/// `ONRAMP_SMTP_URL` pointing at a plain SMTP server on 127.0.0.1.
fn smtp_url(port: u16, tls: &str) -> onramp::config::SmtpConfig {
    onramp::config::parse_smtp_url(&format!("smtp://127.0.0.1:{port}?tls={tls}")).expect("SMTP URL")
}

async fn app_with_smtp(port: u16, tls: &str) -> TestApp {
    let config = smtp_url(port, tls);
    let mut app = TestApp::spawn_with(move |c| c.smtp = Some(config)).await;
    app.admin_login().await;
    app
}

/// Every outbox row, oldest first.
fn outbox(app: &TestApp) -> Vec<MailRow> {
    let conn = app.state.db.conn().expect("conn");
    let mut rows = onramp::db::outbox::recent(&conn, None, None, 1000).expect("outbox");
    rows.reverse();
    rows
}

/// The only outbox row.
fn only_mail(app: &TestApp) -> MailRow {
    let rows = outbox(app);
    assert_eq!(rows.len(), 1, "expected one email in the outbox: {rows:#?}");
    rows.into_iter().next().expect("one row")
}

fn mail(app: &TestApp, id: i64) -> MailRow {
    let conn = app.state.db.conn().expect("conn");
    onramp::db::outbox::get(&conn, id)
        .expect("query")
        .expect("the email exists")
}

/// Waits until the email's status is `status` (the background worker may be the one that
/// gets there).
async fn wait_for_status(app: &TestApp, id: i64, status: &str) -> MailRow {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let row = mail(app, id);
        if row.status.as_str() == status {
            return row;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "email {id} did not become {status} within {WAIT:?}: {row:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Clicks "Send test email" (with the SMTP fields left out, so what is in effect is
/// tested); the answer is the settings page with the outcome.
async fn send_test_email(app: &TestApp, to: &str) -> Page {
    let page = app.post("/admin/settings/test-email", &[("to", to)]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page
}

/// Adds a user and issues their enrollment token by email to `to`; returns the queued
/// email's id.
async fn queue_invitation(app: &TestApp, to: &str) -> i64 {
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let res = app
        .post(
            &format!("/admin/users/{id}/enrollment"),
            &[("delivery", "email"), ("email", to)],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    outbox(app)
        .into_iter()
        .find(|m| m.kind == "enrollment")
        .expect("queued")
        .id
}

/// Waits until the worker has tried email `id` at least once.
async fn wait_for_attempt(app: &TestApp, id: i64) -> MailRow {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let row = mail(app, id);
        if row.attempts > 0 && row.status.as_str() != "sending" {
            return row;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never tried: {row:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The settings form with everything valid; SMTP fields left out, as a browser does when
/// `ONRAMP_SMTP_URL` disables them.
fn settings_without_smtp(instance_name: &str) -> Vec<(&'static str, String)> {
    vec![
        ("instance_name", instance_name.to_owned()),
        (
            "welcome_message",
            "## Welcome, {{ first_name }}!".to_owned(),
        ),
        (
            "welcome_email_subject",
            "Welcome to {{ instance_name }}".to_owned(),
        ),
        ("welcome_email_same", "on".to_owned()),
        ("welcome_email_body", String::new()),
        ("vpn_step", "optional".to_owned()),
    ]
}

async fn save_settings(app: &TestApp, fields: &[(&'static str, String)]) -> Page {
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.post("/admin/settings", &borrowed).await
}

#[tokio::test]
async fn test_email_arrives_as_multipart_text_and_html_with_public_url_links() {
    let smtp = SmtpServer::start().await;
    let app = app_with_smtp(smtp.port(), "none").await;

    // A forged forwarding header must not leak into links (docs/security.md, item 21).
    let res = app
        .client
        .post(app.url("/admin/settings/test-email"))
        .header("X-Forwarded-Host", "evil.example")
        .form(&[("csrf_token", app.csrf.as_str()), ("to", "ada@example.com")])
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.text().await.expect("page");
    assert!(
        body.contains("Test email sent to ada@example.com."),
        "{body}"
    );

    let messages = smtp.wait_for(1, WAIT).await;
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.envelope_from, "onramp@127.0.0.1");
    assert_eq!(m.envelope_to, ["ada@example.com"]);
    let from = m.header("From").expect("From header");
    assert!(
        from.contains("<onramp@127.0.0.1>") || from == "onramp@127.0.0.1",
        "From should default to onramp@<host of the public URL>: {from}"
    );
    assert_eq!(m.header("To").as_deref(), Some("ada@example.com"));
    assert_eq!(
        m.header("Subject").as_deref(),
        Some("Test email from onramp")
    );
    let content_type = m.header("Content-Type").expect("Content-Type");
    assert!(
        content_type.starts_with("multipart/alternative"),
        "{content_type}"
    );
    let parts = m.parts();
    let types: Vec<String> = parts.iter().map(|p| p.content_type()).collect();
    assert_eq!(types, ["text/plain", "text/html"], "{}", m.raw);

    let text = m.part("text/plain");
    assert!(text.contains(&app.address), "text part: {text}");
    assert!(text.contains("test email from onramp"), "text part: {text}");
    let html = m.part("text/html");
    assert!(
        html.contains(&format!(r#"href="{}""#, app.address)),
        "links use the public URL: {html}"
    );
    assert!(!m.raw.contains("evil.example"), "{}", m.raw);
    assert!(!m.raw.contains("localhost:8080"), "{}", m.raw);

    let row = wait_for_status(&app, only_mail(&app).id, "sent").await;
    assert_eq!(row.attempts, 1);
    assert_eq!(row.kind, "test");
    assert!(row.sent_at.is_some());
    assert!(app.audit_actions().iter().any(|a| a == "email.tested"));
}

#[tokio::test]
async fn smtp_down_then_up_delivers_exactly_once() {
    let reserved = SmtpServer::reserve_port();
    let port = reserved.port();
    let app = app_with_smtp(port, "none").await;

    // SMTP is down: the test email says so at once and is never sent later.
    let page = send_test_email(&app, "ada@example.com").await;
    assert!(page.body.contains("role=\"alert\""), "{}", page.body);
    assert!(
        page.body.contains(
            "The test email to ada@example.com was not sent, and onramp will not retry it."
        ),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!("127.0.0.1:{port}")), "the hint");
    let test = only_mail(&app);
    assert_eq!((test.status.as_str(), test.attempts), ("failed", 1));

    // An invitation queued meanwhile: the admin's action succeeds and the worker retries.
    let id = queue_invitation(&app, "jan@example.com").await;
    let row = wait_for_attempt(&app, id).await;
    assert_eq!(row.status.as_str(), "queued");
    assert_eq!(row.attempts, 1);
    assert!(row.last_error.as_deref().is_some_and(|e| !e.is_empty()));
    let hint = row.last_hint.clone().unwrap_or_default();
    assert!(
        hint.contains(&format!("127.0.0.1:{port}")),
        "the hint names host and port: {hint:?}"
    );
    let now = app.state.now().unix_timestamp();
    assert_eq!(
        row.next_attempt_at,
        now + 30,
        "the first retry is 30 s later"
    );

    // Not due yet: nothing is attempted before the backoff has passed.
    assert_eq!(
        onramp::services::outbox::deliver_due(&app.state)
            .await
            .unwrap(),
        0
    );
    let outbox_page = app.get("/admin/outbox").await;
    assert!(
        outbox_page.body.contains(&format!("127.0.0.1:{port}")),
        "the outbox shows the hint: {}",
        outbox_page.body
    );

    // SMTP comes back; after the backoff the invitation goes out once, the test email never.
    let smtp = SmtpServer::start_on_reserved(reserved, Options::default()).await;
    app.clock.advance(time::Duration::seconds(31));
    onramp::services::outbox::deliver_due(&app.state)
        .await
        .unwrap();
    let messages = smtp.wait_for(1, WAIT).await;
    assert_eq!(messages[0].envelope_to, ["jan@example.com"]);
    let row = wait_for_status(&app, row.id, "sent").await;
    assert_eq!(row.attempts, 2);
    assert_eq!(row.last_error, None);

    // Later deliveries never send it again.
    assert_eq!(
        onramp::services::outbox::deliver_due(&app.state)
            .await
            .unwrap(),
        0
    );
    app.clock.advance(time::Duration::hours(2));
    assert_eq!(
        onramp::services::outbox::deliver_due(&app.state)
            .await
            .unwrap(),
        0
    );
    app.state.mail_wake.notify_one();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(smtp.messages().len(), 1, "an email was sent twice");
    assert_eq!(mail(&app, row.id).status.as_str(), "sent");
    assert_eq!(mail(&app, test.id).status.as_str(), "failed");
}

#[tokio::test]
async fn without_smtp_mail_waits_in_the_outbox_and_is_readable() {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;

    // A test email without SMTP says so and queues nothing.
    let page = send_test_email(&app, "ada@example.com").await;
    assert!(
        page.body.contains("SMTP is not configured"),
        "{}",
        page.body
    );
    assert!(outbox(&app).is_empty());

    let id = queue_invitation(&app, "jan@example.com").await;
    let row = mail(&app, id);
    assert_eq!(row.status.as_str(), "queued");
    assert_eq!(row.attempts, 0);
    assert_eq!(
        onramp::services::outbox::deliver_due(&app.state)
            .await
            .unwrap(),
        0
    );
    app.clock.advance(time::Duration::hours(1));
    assert_eq!(
        onramp::services::outbox::deliver_due(&app.state)
            .await
            .unwrap(),
        0
    );
    assert_eq!(mail(&app, row.id).attempts, 0);
    // The admin session idled out meanwhile.
    app.admin_login().await;

    let list = app.get("/admin/outbox").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body.contains("SMTP is not configured"),
        "{}",
        list.body
    );
    assert!(
        list.body.contains("jan@<wbr>example.<wbr>com"),
        "{}",
        list.body
    );
    assert!(
        list.body
            .contains(&format!(r#"href="/admin/outbox/{}""#, row.id)),
        "{}",
        list.body
    );
    let subject = "Your onramp account is ready: finish setting it up";
    assert!(list.body.contains(subject), "{}", list.body);

    let one = app.get(&format!("/admin/outbox/{}", row.id)).await;
    assert_eq!(one.status, StatusCode::OK);
    assert!(one.body.contains(subject), "{}", one.body);
    // The text part as text, the HTML part as escaped source.
    assert!(
        one.body.contains("Start enrollment in your browser: "),
        "{}",
        one.body
    );
    assert!(one.body.contains(&app.address), "{}", one.body);
    assert!(
        one.body.contains("&lt;h1&gt;Hello Jan,&lt;/h1&gt;"),
        "the HTML source is shown escaped: {}",
        one.body
    );
    assert!(!one.body.contains("<h1>Hello Jan,</h1>"), "{}", one.body);

    assert_eq!(
        app.get("/admin/outbox/999999").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn permanent_rejection_fails_for_good_until_retried() {
    let smtp = SmtpServer::start_rejecting().await;
    let mut app = app_with_smtp(smtp.port(), "none").await;

    // A test email is sent once and reported; "Retry now" is not offered for it.
    let page = send_test_email(&app, "nobody@example.com").await;
    assert!(page.body.contains("was not sent"), "{}", page.body);
    let test = only_mail(&app);
    assert_eq!((test.status.as_str(), test.attempts), ("failed", 1));
    let res = app
        .post(&format!("/admin/outbox/{}/retry", test.id), &[])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(mail(&app, test.id).status.as_str(), "failed");

    let id = queue_invitation(&app, "nobody@example.com").await;
    let row = wait_for_attempt(&app, id).await;
    assert_eq!(row.status.as_str(), "failed");
    assert_eq!(row.attempts, 1);
    let error = row.last_error.clone().unwrap_or_default();
    assert!(
        error.contains("550"),
        "the SMTP error is recorded: {error:?}"
    );
    assert_eq!(
        smtp.rejected(),
        ["nobody@example.com", "nobody@example.com"]
    );

    // No more automatic retries, however long we wait.
    app.clock.advance(time::Duration::hours(3));
    assert_eq!(
        onramp::services::outbox::deliver_due(&app.state)
            .await
            .unwrap(),
        0
    );
    assert_eq!(mail(&app, row.id).status.as_str(), "failed");
    assert_eq!(smtp.rejected().len(), 2);
    // The admin session idled out meanwhile.
    app.admin_login().await;
    let list = app.get("/admin/outbox?status=failed").await;
    assert!(list.body.contains("550"), "{}", list.body);
    assert_eq!(
        list.body.matches(">Retry now<").count(),
        1,
        "only the invitation can be retried: {}",
        list.body
    );

    // The admin fixes the mail server and clicks "Retry now": queued again, then delivered.
    smtp.set_reject_rcpt(false);
    let res = app
        .post(&format!("/admin/outbox/{}/retry", row.id), &[])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(res.location(), "/admin/outbox");
    assert_ne!(mail(&app, row.id).status.as_str(), "failed");
    let list = app.get("/admin/outbox").await;
    assert!(list.body.contains("Retrying now."), "{}", list.body);
    onramp::services::outbox::deliver_due(&app.state)
        .await
        .unwrap();
    smtp.wait_for(1, WAIT).await;
    let row = wait_for_status(&app, row.id, "sent").await;
    assert_eq!(row.attempts, 2);
    assert_eq!(smtp.messages().len(), 1);

    // A sent email cannot be retried.
    let res = app
        .post(&format!("/admin/outbox/{}/retry", row.id), &[])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let list = app.get("/admin/outbox").await;
    assert!(list.body.contains("already sent"), "{}", list.body);
    assert_eq!(smtp.messages().len(), 1);
}

#[tokio::test]
async fn tls_mode_mismatch_gets_a_tls_hint() {
    let smtp = SmtpServer::start().await;
    let app = app_with_smtp(smtp.port(), "tls").await;

    let page = send_test_email(&app, "ada@example.com").await;
    let flash = page
        .body
        .split(r#"role="alert">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_default();
    assert!(flash.contains("was not sent"), "{}", page.body);
    assert!(
        flash.contains("TLS"),
        "the notice carries the TLS hint: {flash}"
    );
    assert!(flash.contains("will not retry"), "{flash}");
    let row = only_mail(&app);
    assert_eq!(row.attempts, 1);
    assert_eq!(
        row.status.as_str(),
        "failed",
        "a test email is never retried"
    );
    let hint = row.last_hint.clone().unwrap_or_default();
    assert!(hint.contains("TLS"), "the hint mentions TLS: {hint:?}");
    assert!(smtp.messages().is_empty());
}

#[tokio::test]
async fn every_value_in_the_html_part_is_escaped() {
    let smtp = SmtpServer::start().await;
    let app = app_with_smtp(smtp.port(), "none").await;
    let res = save_settings(&app, &settings_without_smtp("<b>Acme & Co</b>")).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);

    send_test_email(&app, "ada@example.com").await;
    let messages = smtp.wait_for(1, WAIT).await;
    let m = &messages[0];
    let html = m.part("text/html");
    assert!(
        html.contains("&lt;b&gt;Acme &amp; Co&lt;/b&gt;"),
        "the instance name is escaped in the HTML part: {html}"
    );
    assert!(!html.contains("<b>Acme"), "{html}");
    let text = m.part("text/plain");
    assert!(text.contains("<b>Acme & Co</b>"), "{text}");
    assert_eq!(
        m.header("Subject").as_deref(),
        Some("Test email from <b>Acme & Co</b>")
    );
}

#[tokio::test]
async fn smtp_from_the_settings_page_with_auth_and_sender() {
    // No ONRAMP_SMTP_URL: the settings page configures SMTP.
    let smtp = SmtpServer::start_on(
        0,
        Options {
            auth: true,
            ..Options::default()
        },
    )
    .await;
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    let port = smtp.port().to_string();
    let res = app
        .post(
            "/admin/settings",
            &[
                ("instance_name", "Acme VPN"),
                ("welcome_message", "Hi"),
                ("welcome_email_subject", "Welcome"),
                ("welcome_email_same", "on"),
                ("welcome_email_body", ""),
                ("vpn_step", "optional"),
                ("smtp_host", "127.0.0.1"),
                ("smtp_port", &port),
                ("smtp_security", "none"),
                ("smtp_username", "mailer"),
                ("smtp_password", "smtp-secret-1"),
                ("smtp_sender", "Acme VPN <vpn@acme.example>"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);

    let page = send_test_email(&app, "ada@example.com").await;
    assert!(
        page.body.contains("Test email sent to ada@example.com."),
        "{}",
        page.body
    );
    let messages = smtp.wait_for(1, WAIT).await;
    let m = &messages[0];
    assert_eq!(m.envelope_from, "vpn@acme.example");
    let from = m.header("From").unwrap_or_default();
    assert!(from.contains("vpn@acme.example"), "{from}");
    assert!(from.contains("Acme VPN"), "{from}");
    assert_eq!(
        m.header("Subject").as_deref(),
        Some("Test email from Acme VPN")
    );
    // The stored (write-only) password is what onramp logs in with.
    assert_eq!(
        smtp.logins(),
        [("mailer".to_owned(), "smtp-secret-1".to_owned())]
    );
}

#[tokio::test]
async fn invitation_emails_put_the_browser_first_and_never_double_vpn() {
    let smtp = SmtpServer::start().await;
    let app = app_with_smtp(smtp.port(), "none").await;
    let res = save_settings(&app, &settings_without_smtp("Acme VPN")).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let id = app.add_user("anowak", "Anna", "Nowak").await;
    crate::helpers::issue_token(
        &app,
        id,
        "enrollment",
        &[("delivery", "email"), ("email", "anna@example.com")],
    )
    .await;
    let messages = smtp.wait_for(1, WAIT).await;
    let text = messages[0].part("text/plain").replace("\r\n", "\n");
    let html = messages[0].part("text/html");
    assert!(
        text.starts_with("Hello Anna,\n\nAn account on Acme VPN has been created for you."),
        "{text}"
    );
    assert!(
        text.contains("Start enrollment in your browser: "),
        "{text}"
    );
    assert!(text.contains("https://defguard.net/download/"), "{text}");
    assert!(text
        .contains("The token works for 24 hours. Once you start, you have 10 minutes to finish."));
    // The first link, styled as the button, is the browser's.
    let first_link = html.split("<a href=\"").nth(1).unwrap_or_default();
    assert!(
        first_link.starts_with(&format!("{}/enroll?token=", app.address)),
        "{html}"
    );
    assert!(
        html.contains(">Start enrollment in your browser</a>"),
        "{html}"
    );
    assert!(
        html.contains(r#"href="https://defguard.net/download/""#),
        "{html}"
    );

    // The desktop activation email, for an enrolled user.
    crate::helpers::add_location(&app, "Office", "10.10.0.1/24").await;
    let bea = app.add_enrolled_user("bkowal", "Bea", "Kowal").await;
    crate::helpers::issue_token(
        &app,
        bea,
        "desktop",
        &[("delivery", "email"), ("email", "bkowal@example.com")],
    )
    .await;
    let messages = smtp.wait_for(2, WAIT).await;
    let desktop = &messages[1];
    assert_eq!(
        desktop.header("Subject").as_deref(),
        Some("Set up Acme VPN on your desktop")
    );
    let text = desktop.part("text/plain").replace("\r\n", "\n");
    assert!(text.starts_with("Hello Bea,\n\nTo configure"), "{text}");
    assert!(text.contains("https://defguard.net/download/"), "{text}");
    assert!(text.contains("The token works for 24 hours."), "{text}");
}

#[tokio::test]
async fn the_test_email_uses_the_smtp_values_on_the_screen_unsaved() {
    let smtp = SmtpServer::start().await;
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    let port = smtp.port().to_string();
    let mut form = settings_without_smtp("Acme VPN");
    form.extend([
        ("smtp_host", "127.0.0.1".to_owned()),
        ("smtp_port", port.clone()),
        ("smtp_security", "none".to_owned()),
        ("smtp_username", String::new()),
        ("smtp_password", String::new()),
        ("smtp_sender", String::new()),
        ("to", "ada@example.com".to_owned()),
    ]);
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = app.post("/admin/settings/test-email", &fields).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("Test email sent to ada@example.com."),
        "{}",
        page.body
    );
    // The page keeps what was typed, and nothing was saved.
    assert!(
        page.body.contains(&format!(r#"value="{port}""#)),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"value="Acme VPN""#));
    let messages = smtp.wait_for(1, WAIT).await;
    assert_eq!(messages[0].envelope_to, ["ada@example.com"]);
    let conn = app.state.db.conn().expect("conn");
    let stored = onramp::services::settings::load(&conn).expect("settings");
    assert_eq!(stored.smtp.host, "");
    assert_eq!(stored.instance_name, "onramp");
    drop(conn);

    // A bad value on the screen is reported on its field, and nothing is sent.
    let mut bad = form.clone();
    bad.retain(|(k, _)| *k != "smtp_port");
    bad.push(("smtp_port", "99999".to_owned()));
    let fields: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = app.post("/admin/settings/test-email", &fields).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains(r#"id="smtp_port-error""#),
        "{}",
        page.body
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(smtp.messages().len(), 1);
    // Saving with the test address on the form works as before.
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        app.post("/admin/settings", &fields).await.status,
        StatusCode::SEE_OTHER
    );
}
