//! The settings page: labels, saving, validation, the write-only SMTP password,
//! `ONRAMP_SMTP_URL` taking precedence, and the sanitised welcome-message preview.

use crate::helpers::{Page, TestApp};
use reqwest::StatusCode;

const SMTP_PASSWORD: &str = "Smtp-Secret-9f3a";

/// A complete, valid settings form.
fn valid_form() -> Vec<(&'static str, String)> {
    [
        ("instance_name", "Acme VPN"),
        (
            "welcome_message",
            "## Hello {{ first_name }}\n\nWelcome to **Acme**.",
        ),
        ("welcome_email_subject", "Welcome to Acme, {{ first_name }}"),
        ("welcome_email_body", "Hi {{ first_name }}, see {{ url }}."),
        ("vpn_step", "mandatory"),
        ("smtp_host", "mail.example.com"),
        ("smtp_port", "2525"),
        ("smtp_security", "starttls"),
        ("smtp_username", "mailer"),
        ("smtp_password", ""),
        ("smtp_sender", "Acme VPN <vpn@example.com>"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect()
}

/// `form` with `field` replaced (or added) by `value`.
fn with(
    mut form: Vec<(&'static str, String)>,
    field: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    form.retain(|(k, _)| *k != field);
    form.push((field, value.to_owned()));
    form
}

fn without(mut form: Vec<(&'static str, String)>, fields: &[&str]) -> Vec<(&'static str, String)> {
    form.retain(|(k, _)| !fields.contains(k));
    form
}

async fn save(app: &TestApp, form: &[(&'static str, String)]) -> Page {
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.post("/admin/settings", &fields).await
}

async fn admin() -> TestApp {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    app
}

fn stored(app: &TestApp) -> onramp::services::settings::Settings {
    let conn = app.state.db.conn().expect("conn");
    onramp::services::settings::load(&conn).expect("settings")
}

/// The inline error under `field`, if the page shows one.
fn inline_error(page: &Page, field: &str) -> Option<String> {
    let marker = format!(r#"id="{field}-error">"#);
    let at = page.body.find(&marker)? + marker.len();
    let rest = &page.body[at..];
    Some(rest[..rest.find('<')?].to_owned())
}

#[tokio::test]
async fn settings_page_labels_every_field_and_shows_the_instance_id() {
    let app = admin().await;
    let page = app.get("/admin/settings").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("cache-control"), "no-store");
    for (id, label) in [
        ("instance_name", "Instance name"),
        ("welcome_message", "Welcome message"),
        ("welcome_email_subject", "Email subject"),
        ("welcome_email_body", "Email body"),
        ("smtp_host", "SMTP host"),
        ("smtp_port", "SMTP port"),
        ("smtp_username", "SMTP username"),
        ("smtp_password", "SMTP password"),
        ("smtp_sender", "Sender"),
        ("to", "Send to"),
    ] {
        assert!(
            page.body.contains(&format!(r#"<label for="{id}">{label}"#)),
            "no label {label:?} for #{id}"
        );
        assert!(
            page.body.contains(&format!(r#"id="{id}""#)),
            "no control #{id}"
        );
    }
    for legend in ["VPN step", "Encryption"] {
        assert!(
            page.body.contains(&format!("<legend>{legend}</legend>")),
            "no legend {legend:?}"
        );
    }
    assert!(page.body.contains("Same as welcome message"));
    for tag in ["{{ first_name }}", "{{ admin_email }}", "{{ url }}"] {
        assert!(page.body.contains(tag), "the tag {tag} is listed");
    }

    let id = stored(&app).instance_id;
    assert_eq!(id.len(), 36, "instance id is a UUID: {id:?}");
    assert!(page.body.contains("Instance ID"));
    assert!(page.body.contains(&id), "the page shows the instance ID");
    // No SMTP yet: the page says mail waits in the outbox.
    assert!(page.body.contains("mail waits in the outbox"));
    assert!(page.body.contains("No password is stored."));
}

#[tokio::test]
async fn valid_settings_are_saved_and_shown_again() {
    let app = admin().await;
    let res = save(&app, &valid_form()).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(res.location(), "/admin/settings");

    let page = app.get("/admin/settings").await;
    assert!(page.body.contains("Settings saved."), "{}", page.body);
    assert!(page.body.contains(r#"value="Acme VPN""#));
    assert!(page.body.contains(r#"class="brand""#));
    assert!(
        page.body.contains(">Acme VPN</a>"),
        "the brand shows the name"
    );
    assert!(page.body.contains("## Hello {{ first_name }}"));
    assert!(page.body.contains(r#"value="mail.example.com""#));
    assert!(page.body.contains(r#"value="2525""#));
    assert!(page.body.contains(r#"value="mailer""#));
    assert!(page
        .body
        .contains(r#"value="Acme VPN &lt;vpn@example.com&gt;""#));
    assert!(page
        .body
        .contains(r#"name="vpn_step" value="mandatory" checked"#));
    assert!(page
        .body
        .contains(r#"name="smtp_security" value="starttls" checked"#));
    // The flash is shown once.
    let again = app.get("/admin/settings").await;
    assert!(!again.body.contains("Settings saved."));

    let s = stored(&app);
    assert_eq!(s.instance_name, "Acme VPN");
    assert_eq!(s.vpn_step, onramp::services::settings::VpnStep::Mandatory);
    assert_eq!(s.smtp.host, "mail.example.com");
    assert_eq!(s.smtp.port, 2525);
    assert_eq!(s.smtp.security, "starttls");
    assert_eq!(s.smtp.sender, "Acme VPN <vpn@example.com>");
    assert_eq!(s.welcome_email_body, "Hi {{ first_name }}, see {{ url }}.");
    assert!(!s.welcome_email_same, "the unchecked checkbox is saved off");
    assert!(app.audit_actions().iter().any(|a| a == "settings.updated"));

    // The instance name is escaped everywhere it is shown.
    let res = save(
        &app,
        &with(valid_form(), "instance_name", "<b>Acme & Co</b>"),
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let page = app.get("/admin/users").await;
    assert!(page.body.contains("&lt;b&gt;Acme &amp; Co&lt;/b&gt;"));
    assert!(!page.body.contains("<b>Acme"));
}

#[tokio::test]
async fn invalid_settings_get_422_with_inline_messages_and_change_nothing() {
    let app = admin().await;
    let before = stored(&app);
    let form = with(valid_form(), "instance_name", "");
    let form = with(form, "vpn_step", "bogus");
    let form = with(form, "smtp_port", "70000");
    let form = with(form, "smtp_sender", "not an address");
    let form = with(form, "smtp_password", SMTP_PASSWORD);
    let page = save(&app, &form).await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    assert!(page.body.contains("Please correct the following"));
    for field in ["instance_name", "vpn_step", "smtp_port", "smtp_sender"] {
        assert!(
            inline_error(&page, field).is_some_and(|m| !m.is_empty()),
            "no inline error for {field}:\n{}",
            page.body
        );
    }
    assert!(inline_error(&page, "instance_name")
        .unwrap()
        .contains("Enter a name"));
    assert!(inline_error(&page, "smtp_port").unwrap().contains("65535"));
    assert!(inline_error(&page, "smtp_sender")
        .unwrap()
        .contains("address"));
    assert!(page.body.contains(r#"id="smtp_port""#));
    assert!(
        page.body.contains(r#"aria-invalid="true""#),
        "fields are marked invalid"
    );
    // What was typed is kept, except the password.
    assert!(page.body.contains(r#"value="not an address""#));
    assert!(!page.body.contains(SMTP_PASSWORD), "the password is echoed");

    for bad_name in ["Acme\nVPN", "Acme\r\nVPN", "Acme\u{7}VPN", "Acme\u{0}VPN"] {
        let page = save(&app, &with(valid_form(), "instance_name", bad_name)).await;
        assert_eq!(
            page.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad_name:?} was accepted"
        );
        let message = inline_error(&page, "instance_name").unwrap_or_default();
        assert!(
            message.contains("line breaks or control characters"),
            "{bad_name:?}: {message:?}"
        );
    }
    let page = save(
        &app,
        &with(
            valid_form(),
            "smtp_host",
            "mail.example.com\r\nRCPT TO:<x@y>",
        ),
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = save(&app, &with(valid_form(), "instance_name", &"x".repeat(65))).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(inline_error(&page, "instance_name")
        .unwrap_or_default()
        .contains("at most 64"));

    let after = stored(&app);
    assert_eq!(after.instance_name, before.instance_name);
    assert_eq!(after.smtp, before.smtp, "nothing was written");
    assert!(!app.audit_actions().iter().any(|a| a == "settings.updated"));

    // Unknown fields are refused, not ignored.
    let page = save(&app, &with(valid_form(), "is_admin", "1")).await;
    assert!(page.status.is_client_error(), "{}", page.status);
    assert_eq!(stored(&app).instance_name, before.instance_name);
}

#[tokio::test]
async fn smtp_password_is_write_only() {
    let app = admin().await;
    let res = save(&app, &with(valid_form(), "smtp_password", SMTP_PASSWORD)).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(stored(&app).smtp.password, SMTP_PASSWORD);
    let page = app.get("/admin/settings").await;
    assert!(!page.body.contains(SMTP_PASSWORD), "the password is shown");
    assert!(page.body.contains("A password is stored."));
    assert!(page.body.contains("Remove the stored password"));
    assert!(page
        .body
        .contains(r#"name="smtp_password" type="password""#));

    // An empty password field keeps the stored one.
    let res = save(&app, &valid_form()).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(stored(&app).smtp.password, SMTP_PASSWORD);
    let page = app.get("/admin/settings").await;
    assert!(!page.body.contains(SMTP_PASSWORD));
    assert!(page.body.contains("A password is stored."));
    // Neither the audit log nor the outbox pages show it.
    let audit = app.get("/admin/audit").await;
    assert!(!audit.body.contains(SMTP_PASSWORD));

    // The checkbox removes it.
    let res = save(&app, &with(valid_form(), "smtp_password_clear", "on")).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(stored(&app).smtp.password, "");
    let page = app.get("/admin/settings").await;
    assert!(page.body.contains("No password is stored."));
    assert!(!page.body.contains("Remove the stored password"));
}

#[tokio::test]
async fn onramp_smtp_url_overrides_the_page_and_keeps_stored_smtp() {
    let env = onramp::config::parse_smtp_url("smtp://relay.example.net:2526?tls=none").unwrap();
    let mut app = TestApp::spawn_with(move |c| c.smtp = Some(env)).await;
    app.admin_login().await;
    {
        let conn = app.state.db.conn().expect("conn");
        for (k, v) in [
            ("smtp_host", "mail.example.com"),
            ("smtp_port", "465"),
            ("smtp_security", "tls"),
            ("smtp_username", "mailer"),
            ("smtp_password", SMTP_PASSWORD),
            ("smtp_sender", "vpn@example.com"),
        ] {
            onramp::db::settings::set(&conn, k, v).expect("store setting");
        }
    }
    let page = app.get("/admin/settings").await;
    assert!(
        page.body.contains("ONRAMP_SMTP_URL is set"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("relay.example.net:2526"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("<fieldset class=\"stack\" disabled"),
        "the SMTP fields are disabled"
    );
    assert!(!page.body.contains(SMTP_PASSWORD));

    // A browser leaves disabled fields out of the form.
    let form = without(
        valid_form(),
        &[
            "smtp_host",
            "smtp_port",
            "smtp_security",
            "smtp_username",
            "smtp_password",
            "smtp_sender",
        ],
    );
    let res = save(&app, &form).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let s = stored(&app);
    assert_eq!(s.instance_name, "Acme VPN");
    assert_eq!(s.smtp.host, "mail.example.com");
    assert_eq!(s.smtp.port, 465);
    assert_eq!(s.smtp.security, "tls");
    assert_eq!(s.smtp.username, "mailer");
    assert_eq!(s.smtp.password, SMTP_PASSWORD);
    assert_eq!(s.smtp.sender, "vpn@example.com");

    // Mail goes to ONRAMP_SMTP_URL's server, not the page's.
    let smtp = onramp::services::settings::effective_smtp(&app.state, &s).expect("SMTP");
    assert_eq!(smtp.host, "relay.example.net");
    assert_eq!(smtp.port, 2526);
}

#[tokio::test]
async fn preview_renders_sanitised_markdown_with_sample_values() {
    let app = admin().await;
    let message = "## Welcome, {{ first_name }}!\n\n\
        Your username is **{{ username }}**; write to {{ admin_email }}.\n\n\
        <script>alert(1)</script>\n\n\
        [click](javascript:alert(1))\n\n\
        <img src=x onerror=alert(1)>\n\n\
        {{ 7*7 }}\n\n\
        {% for x in users %}\n\n\
        ${7*7}\n\n\
        {{ config }}";
    let page = app
        .hx_post("/admin/settings/preview", &[("welcome_message", message)])
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let html = &page.body;
    assert!(!html.contains("<html"), "a fragment, not a page: {html}");
    assert!(html.contains(r#"id="welcome-preview""#), "{html}");
    assert!(html.contains("<h2>Welcome, Jan!</h2>"), "{html}");
    assert!(html.contains("<strong>jnowak</strong>"), "{html}");
    assert!(html.contains("ada@example.com"), "{html}");
    let lower = html.to_lowercase();
    assert!(!lower.contains("<script"), "{html}");
    assert!(!lower.contains("javascript:"), "{html}");
    assert!(!lower.contains("onerror"), "{html}");
    assert!(!html.contains("alert(1)</script>"), "{html}");
    // Template-engine syntax is text, not code.
    assert!(html.contains("{{ 7*7 }}"), "{html}");
    assert!(!html.contains("49"), "{html}");
    assert!(html.contains("{% for x in users %}"), "{html}");
    assert!(html.contains("${7*7}"), "{html}");
    assert!(html.contains("{{ config }}"), "{html}");

    // The preview changes state on nothing, but still needs the CSRF header.
    let res = app
        .client
        .post(app.url("/admin/settings/preview"))
        .header("HX-Request", "true")
        .form(&[("welcome_message", "hi")])
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Without a session there is no preview at all.
    let stranger = app.another_browser();
    let res = stranger
        .hx_post("/admin/settings/preview", &[("welcome_message", "hi")])
        .await;
    assert_eq!(res.header("hx-redirect"), "/admin/login");
    assert!(!res.body.contains("welcome-preview"));
}

#[tokio::test]
async fn unknown_tags_are_flagged_in_the_preview_and_refused_on_save() {
    let app = admin().await;
    assert_eq!(
        stored(&app).welcome_email_subject,
        "Welcome to {{ instance_name }}",
        "the default subject names the instance"
    );
    let preview = app
        .hx_post(
            "/admin/settings/preview",
            &[("welcome_message", "Hi {{ first_name }} {{ unknown_tag }}")],
        )
        .await;
    assert!(
        preview
            .body
            .contains("{{ unknown_tag }} is not a tag onramp knows"),
        "{}",
        preview.body
    );
    let clean = app
        .hx_post(
            "/admin/settings/preview",
            &[("welcome_message", "Welcome to {{ instance_name }}")],
        )
        .await;
    assert!(clean.body.contains("Welcome to onramp"), "{}", clean.body);
    assert!(!clean.body.contains("is not a tag"));

    let res = save(
        &app,
        &with(valid_form(), "welcome_email_subject", "Hi {{ nickname }}"),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let error = inline_error(&res, "welcome_email_subject").unwrap_or_default();
    assert!(
        error.starts_with("{{ nickname }} is not a tag onramp knows"),
        "{error}"
    );
    assert!(
        error.contains("{{ first_name }}"),
        "names the known tags: {error}"
    );
    assert_eq!(stored(&app).instance_name, "onramp", "nothing was written");

    // The email body is not used, so not checked, while it is the welcome message.
    let same = with(
        with(valid_form(), "welcome_email_same", "on"),
        "welcome_email_body",
        "{{ nope }}",
    );
    assert_eq!(save(&app, &same).await.status, StatusCode::SEE_OTHER);
    let page = app.get("/admin/settings").await;
    assert!(page.body.contains(r#"<div class="email-body">"#));
}

#[tokio::test]
async fn the_old_default_subject_is_upgraded_and_an_edited_one_kept() {
    let app = admin().await;
    for (stored_subject, after) in [
        ("Welcome to {{ url }}", "Welcome to {{ instance_name }}"),
        (
            "Hi {{ first_name }}, welcome",
            "Hi {{ first_name }}, welcome",
        ),
    ] {
        let mut conn = rusqlite::Connection::open(app.state.config.database.clone()).expect("open");
        // The database as it was before migration 0009, holding `stored_subject`.
        conn.execute_batch(
            "DROP TABLE token_card; DELETE FROM schema_migration WHERE version = 9;",
        )
        .expect("undo 0009");
        onramp::db::settings::set(&conn, "welcome_email_subject", stored_subject).expect("set");
        onramp::db::migrate::run(&mut conn).expect("migrate");
        assert_eq!(stored(&app).welcome_email_subject, after);
    }
}
