//! The new employee's side: the emailed link, the wizard, key generation in the browser and the
//! downloaded WireGuard config, checked with the real `wg` tool. Once with JavaScript (WebCrypto
//! keys, a blob: download and a QR code) and once without (a pasted public key and the server's
//! config file with a placeholder for the private key).

// A failed expectation is a failed test; clippy's allow-*-in-tests covers only `#[test]` fns.
#![allow(clippy::expect_used, clippy::panic)]

#[path = "../it/smtp_server.rs"]
#[allow(dead_code)]
mod smtp_server;

use crate::support::{later, Browser, Js, Server};
use fantoccini::Locator;
use smtp_server::{Received, SmtpServer};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const GOOD_PASSWORD: &str = "plum orbit velvet river";
/// The mail worker sends within a second or two of queueing; leave room for a busy machine.
const MAIL_TIMEOUT: Duration = Duration::from_secs(15);

/// A test SMTP server and the binary sending to it.
async fn server_with_mail() -> (SmtpServer, Server) {
    let smtp = SmtpServer::start().await;
    let smtp_url = format!("smtp://127.0.0.1:{}?tls=none", smtp.port());
    let server = Server::start_with_env(&[("ONRAMP_SMTP_URL", &smtp_url)]).await;
    (smtp, server)
}

/// Locations → Add location → "Office", with onramp generating the gateway key.
pub(crate) async fn add_office_location(browser: &Browser) {
    browser.click_link("Locations").await;
    browser.click_link("Add location").await;
    browser.fill("Name", "Office").await;
    browser.fill("Gateway address", "10.10.0.1/24").await;
    browser.fill("Endpoint", "vpn.example.com").await;
    browser.fill("Port", "51820").await;
    browser.fill("Allowed IPs", "10.10.0.0/24").await;
    browser.fill("DNS", "10.10.0.1").await;
    let generate = browser.choice("Generate a new key pair").await;
    if !generate.is_selected().await.expect("radio state") {
        generate.click().await.expect("choose to generate a key");
    }
    browser.click_button("Add location").await;
    browser.wait_for_text("Added location Office.").await;
}

/// Users → Add user "jnowak" with "Use enrollment process" on; ends on the token dialog.
pub(crate) async fn add_jnowak(browser: &Browser) {
    browser.click_link("Users").await;
    browser.click_link("Add user").await;
    browser.fill("Username", "jnowak").await;
    browser.fill("First name", "Jan").await;
    browser.fill("Last name", "Nowak").await;
    browser.fill("Email", "jan.nowak@example.com").await;
    let enrollment = browser.choice("Use enrollment process").await;
    assert!(
        enrollment.is_selected().await.expect("checkbox state"),
        "\"Use enrollment process\" should be checked by default"
    );
    browser.click_button("Add user").await;
    browser.wait_for_text("Added jnowak").await;
    browser
        .wait_for_heading("Start enrollment for jnowak")
        .await;
}

/// Adds jnowak and issues a token to hand over; returns the browser link from the card.
pub(crate) async fn jnowak_link(admin: &Browser, server: &Server) -> String {
    add_jnowak(admin).await;
    admin
        .choice("Deliver token yourself")
        .await
        .click()
        .await
        .expect("choose to deliver the token");
    admin.click_button("Create token").await;
    admin.wait_for_text("This token is shown only now.").await;
    let link = admin
        .field_attr("Browser link", "value")
        .await
        .expect("the card shows the browser link");
    assert!(
        link.starts_with(&format!("{}/enroll?token=", server.url)),
        "{link}"
    );
    link
}

/// The value the field labelled `label` holds now (the DOM property, which scripts change,
/// not the attribute the server sent).
pub(crate) async fn current_value(browser: &Browser, label: &str) -> String {
    browser
        .field(label)
        .await
        .prop("value")
        .await
        .expect("read the value")
        .unwrap_or_default()
}

/// The landing page's "Start enrollment": the wizard opens on its first step.
pub(crate) async fn start_enrollment(browser: &Browser) {
    browser.wait_for_heading("Welcome to onramp").await;
    browser.click_button("Start enrollment").await;
    browser.wait_for_heading("Hello, Jan").await;
    assert!(
        browser.url().await.ends_with("/enroll/wizard"),
        "the token must not appear in the wizard's URL: {}",
        browser.url().await
    );
}

/// From the first step ("Hello, Jan") through to the "Configure VPN" step.
pub(crate) async fn walk_to_vpn(browser: &Browser) {
    browser.wait_for_heading("Hello, Jan").await;
    browser.click_button("Continue").await;

    // The account's data is text to read, with the username to sign in with; only the
    // phone is a field.
    browser.wait_for_heading("Verify your data").await;
    let text = browser.page_text().await;
    for shown in [
        "Username\njnowak",
        "First name\nJan",
        "Email\njan.nowak@example.com",
    ] {
        assert!(
            text.replace(" (you sign in with it)", "").contains(shown),
            "{shown:?} on the verify step:\n{text}"
        );
    }
    browser.fill("Phone", "+48 600 700 800").await;
    browser.click_button("Continue").await;

    browser.wait_for_heading("Create password").await;
    browser.fill("Password", GOOD_PASSWORD).await;
    browser.fill("Repeat password", GOOD_PASSWORD).await;
    browser.click_button("Continue").await;

    browser.wait_for_heading("Configure VPN").await;
    browser.fill("Device name", "laptop").await;
}

/// Waits until the browser has finished saving `name` in `dir`; returns its contents.
pub(crate) async fn wait_for_download(dir: &Path, name: &str) -> String {
    let file = dir.join(name);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let in_progress = std::fs::read_dir(dir)
            .expect("read the download directory")
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().ends_with(".crdownload"));
        if !in_progress {
            if let Ok(text) = std::fs::read_to_string(&file) {
                if !text.is_empty() {
                    return text;
                }
            }
        }
        if Instant::now() >= deadline {
            let found: Vec<String> = std::fs::read_dir(dir)
                .expect("read the download directory")
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            panic!("{name} was not downloaded within 10 s; the directory holds {found:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs `wg` with `args`, feeding `input` on stdin; returns its trimmed stdout.
pub(crate) fn wg(args: &[&str], input: &str) -> String {
    let mut child = Command::new("wg")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run wg ({e}); install it with `apt-get install -y wireguard-tools`")
        });
    child
        .stdin
        .take()
        .expect("wg stdin")
        .write_all(input.as_bytes())
        .expect("write to wg");
    let out = child.wait_with_output().expect("wg output");
    assert!(
        out.status.success(),
        "wg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("wg prints UTF-8")
        .trim()
        .to_owned()
}

/// The public key the server stored for jnowak's one device.
pub(crate) fn stored_device_key(server: &Server) -> String {
    let db = rusqlite::Connection::open_with_flags(
        server.database_path(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the server's database");
    db.query_row(
        "SELECT d.public_key FROM device d JOIN user u ON u.id = d.user_id \
         WHERE u.username = 'jnowak'",
        [],
        |r| r.get(0),
    )
    .expect("jnowak's device")
}

/// The value of `key = value` in a WireGuard config, if present.
pub(crate) fn config_value<'a>(config: &'a str, key: &str) -> Option<&'a str> {
    config.lines().find_map(|line| {
        let (k, v) = line.split_once('=')?;
        (k.trim() == key).then(|| v.trim())
    })
}

/// The message sent to `to` whose text part contains `marker`.
fn mail_to<'a>(messages: &'a [Received], to: &str, marker: &str) -> &'a Received {
    messages
        .iter()
        .find(|m| m.envelope_to.iter().any(|t| t == to) && m.part("text/plain").contains(marker))
        .unwrap_or_else(|| {
            let summary: Vec<_> = messages
                .iter()
                .map(|m| (m.envelope_to.clone(), m.header("Subject")))
                .collect();
            panic!("no email to {to} containing {marker:?}; received: {summary:#?}")
        })
}

#[tokio::test]
async fn enrollment_from_email_to_done_with_javascript() {
    let (smtp, server) = server_with_mail().await;
    let admin = Browser::start(&server, Js::Enabled).await;
    admin.log_in_as_admin().await;
    add_office_location(&admin).await;
    add_jnowak(&admin).await;

    // Keep "Send token by email" and the address taken from the account.
    let by_email = admin.choice("Send token by email").await;
    assert!(
        by_email.is_selected().await.expect("radio state"),
        "\"Send token by email\" should be the default"
    );
    assert_eq!(
        current_value(&admin, "Email address").await,
        "jan.nowak@example.com"
    );
    admin.click_button("Create token").await;
    admin.wait_for_heading("Enrollment token for jnowak").await;
    let card_text = admin.page_text().await;
    assert!(
        card_text.contains("The email to jan.nowak@example.com is queued")
            || card_text.contains("The token was emailed to jan.nowak@example.com."),
        "{card_text}"
    );
    let card_token = admin
        .field_attr("Token", "value")
        .await
        .expect("the token card shows the token");

    // The email, as the SMTP server received it.
    let messages = smtp.wait_for(1, MAIL_TIMEOUT).await;
    let mail = &messages[0];
    assert_eq!(mail.envelope_to, ["jan.nowak@example.com"]);
    let content_type = mail.header("Content-Type").unwrap_or_default();
    assert!(
        content_type.starts_with("multipart/alternative"),
        "the enrollment email should be text + HTML, not {content_type:?}"
    );
    let text = mail.part("text/plain");
    let html = mail.part("text/html");
    for part in [&text, &html] {
        assert!(part.contains("24 hours"), "token lifetime missing:\n{part}");
        assert!(part.contains("10 minutes"), "window missing:\n{part}");
        assert!(
            part.contains("defguard://addinstance?token="),
            "desktop client link missing:\n{part}"
        );
    }
    let prefix = format!("{}/enroll?token=", server.url);
    let at = text
        .find(&prefix)
        .unwrap_or_else(|| panic!("no browser link {prefix}… in the text part:\n{text}"))
        + prefix.len();
    let token: String = text[at..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    assert_eq!(token.len(), 32, "the token in the link: {token:?}\n{text}");
    assert_eq!(token, card_token, "the email and the card show one token");
    let link = format!("{prefix}{token}");
    assert!(
        html.contains(&format!("href=\"{link}\"")),
        "the HTML part links to {link}:\n{html}"
    );

    // A mail scanner follows the link before the user does; that must not use it up.
    let scanner = reqwest::Client::new();
    for _ in 0..3 {
        let res = scanner.get(&link).send().await.expect("scanner GET");
        assert_eq!(res.status(), reqwest::StatusCode::OK);
        assert!(res
            .text()
            .await
            .expect("landing page")
            .contains("Start enrollment"));
    }

    // The new employee, in their own browser.
    let downloads = tempfile::tempdir().expect("download directory");
    let user = Browser::start_with_downloads(&server, Js::Enabled, downloads.path()).await;
    user.client
        .goto(&link)
        .await
        .expect("open the emailed link");
    start_enrollment(&user).await;
    let contact = user
        .text_of("aside[aria-label='Your administrator']")
        .await
        .unwrap_or_default();
    assert!(
        contact.contains("admin@localhost"),
        "the issuing admin's contact card: {contact:?}"
    );
    walk_to_vpn(&user).await;

    // WebCrypto makes the key pair; 127.0.0.1 is a secure context.
    user.click_button("Generate key pair").await;
    user.wait_until("the public key is filled in", || async {
        let key = current_value(&user, "Public key").await;
        key.len() == 44 && key.ends_with('=')
    })
    .await;
    let public_key = current_value(&user, "Public key").await;
    user.click_button("Add device and finish").await;
    later(&user).await;

    user.wait_for_heading("You are all set").await;
    user.wait_for_text("Welcome, Jan!").await;
    user.wait_until("the QR code appears", || async {
        match user.client.find(Locator::Css("[data-qr] img")).await {
            Ok(img) => img
                .attr("src")
                .await
                .ok()
                .flatten()
                .is_some_and(|src| src.starts_with("data:image/")),
            Err(_) => false,
        }
    })
    .await;
    user.click_link("Download office.conf").await;
    let config = wait_for_download(downloads.path(), "office.conf").await;

    // WireGuard's own tool: the browser's private key belongs to the key the server stored.
    let private_key = config_value(&config, "PrivateKey")
        .unwrap_or_else(|| panic!("no PrivateKey in the download:\n{config}"));
    assert_ne!(private_key, "PASTE_YOUR_PRIVATE_KEY_HERE", "{config}");
    let stored = stored_device_key(&server);
    assert_eq!(stored, public_key, "the server stored the generated key");
    assert_eq!(
        wg(&["pubkey"], &format!("{private_key}\n")),
        stored,
        "wg pubkey of the downloaded PrivateKey should be the device's public key"
    );
    assert_eq!(config_value(&config, "Address"), Some("10.10.0.2/32"));
    assert_eq!(
        config_value(&config, "Endpoint"),
        Some("vpn.example.com:51820")
    );

    let errors = user.console_errors().await;
    assert!(
        errors.is_empty(),
        "console errors in the wizard (CSP, failed requests): {errors:#?}"
    );

    // The link is spent now.
    user.client.goto(&link).await.expect("open the link again");
    user.wait_for_heading("This link is invalid or has expired")
        .await;

    // The admin sees an active user, and the completion emails went out: welcome, admin
    // notification and "new device".
    admin.open("/admin/users").await;
    admin.wait_for_row_text("jnowak", "Active").await;
    let messages = smtp.wait_for(4, MAIL_TIMEOUT).await;
    mail_to(&messages, "jan.nowak@example.com", &public_key);
    let welcome = mail_to(&messages, "jan.nowak@example.com", "Welcome, Jan!");
    assert!(welcome.part("text/html").contains("jnowak"));
    mail_to(
        &messages,
        "admin@localhost",
        "Jan Nowak (jnowak) completed enrollment",
    );
    user.close().await;
    admin.close().await;
}

#[tokio::test]
async fn enrollment_without_javascript_with_a_pasted_key() {
    let server = Server::start().await;
    let admin = Browser::start(&server, Js::Disabled).await;
    admin.log_in_as_admin().await;
    add_office_location(&admin).await;
    let link = jnowak_link(&admin, &server).await;
    admin.close().await;

    let downloads = tempfile::tempdir().expect("download directory");
    let user = Browser::start_with_downloads(&server, Js::Disabled, downloads.path()).await;
    user.client.goto(&link).await.expect("open the link");
    start_enrollment(&user).await;

    // Jumping ahead is impossible: the done page and its config send the user back.
    for path in ["/enroll/done", "/enroll/done/1.conf"] {
        user.open(path).await;
        user.wait_for_heading("Hello, Jan").await;
        assert!(
            user.url().await.ends_with("/enroll/wizard"),
            "{path} before finishing should redirect to the current step, not {}",
            user.url().await
        );
    }
    walk_to_vpn(&user).await;

    // Without JavaScript the page explains wg genkey, and the Generate button stays hidden.
    user.wait_for_text("wg genkey | tee private.key | wg pubkey")
        .await;
    let generate = user
        .client
        .find(Locator::XPath(
            "//button[normalize-space()='Generate key pair']",
        ))
        .await
        .expect("the Generate button is in the page");
    assert!(
        !generate.is_displayed().await.expect("visibility"),
        "\"Generate key pair\" cannot work without JavaScript and should stay hidden"
    );
    let private_key = wg(&["genkey"], "");
    let public_key = wg(&["pubkey"], &format!("{private_key}\n"));
    user.fill("Public key", &public_key).await;
    user.click_button("Add device and finish").await;
    later(&user).await;

    user.wait_for_heading("You are all set").await;
    user.wait_for_text("Welcome, Jan!").await;
    user.wait_for_text("Replace PASTE_YOUR_PRIVATE_KEY_HERE with the private key")
        .await;
    user.click_link("Download office.conf").await;
    let config = wait_for_download(downloads.path(), "office.conf").await;
    assert_eq!(
        config_value(&config, "PrivateKey"),
        Some("PASTE_YOUR_PRIVATE_KEY_HERE"),
        "{config}"
    );
    assert_eq!(config_value(&config, "Address"), Some("10.10.0.2/32"));
    assert_eq!(
        config_value(&config, "Endpoint"),
        Some("vpn.example.com:51820")
    );
    assert_eq!(stored_device_key(&server), public_key);
    // With the user's own private key in place, the config belongs to the stored key.
    let filled = config.replace("PASTE_YOUR_PRIVATE_KEY_HERE", &private_key);
    let filled_key = config_value(&filled, "PrivateKey").expect("PrivateKey");
    assert_eq!(wg(&["pubkey"], &format!("{filled_key}\n")), public_key);
    user.close().await;
}

#[tokio::test]
async fn bad_links_and_expiry_in_the_browser() {
    let server = Server::start_with_env(&[("ONRAMP_ENROLLMENT_SESSION_TTL", "4s")]).await;
    let browser = Browser::start(&server, Js::Enabled).await;

    // A made-up token: one page for every bad link.
    browser
        .open(&format!("/enroll?token={}", "A".repeat(32)))
        .await;
    browser
        .wait_for_heading("This link is invalid or has expired")
        .await;

    // No token: a field to type it in, and a wrong one gets the same answer.
    browser.open("/enroll").await;
    browser.fill("Enrollment token", "not-a-real-token").await;
    browser.click_button("Start enrollment").await;
    browser
        .wait_for_heading("This link is invalid or has expired")
        .await;

    // A real token, but the enrollment window (4 s here) runs out before the user continues.
    browser.log_in_as_admin().await;
    let link = jnowak_link(&browser, &server).await;
    let (_, token) = link.split_once("token=").expect("the link holds the token");
    browser.open("/enroll").await;
    browser.fill("Enrollment token", token).await;
    browser.click_button("Start enrollment").await;
    browser.wait_for_heading("Hello, Jan").await;
    // The last minute is announced once, politely.
    browser
        .wait_until("the last minute is announced", || async {
            browser
                .text_of("[role=status][data-time-warning]")
                .await
                .is_some_and(|t| t.starts_with("Less than a minute left."))
        })
        .await;
    // At zero: a banner with the admin's contact, and nothing left to press.
    browser
        .wait_for_text("Time is up. Nothing more can be saved on this page.")
        .await;
    let banner = browser.text_of("[role=alert][data-time-up]").await;
    assert!(
        banner
            .as_deref()
            .is_some_and(|b| b.contains("admin@localhost")),
        "the banner names whom to ask: {banner:?}"
    );
    let proceed = browser.button("Continue").await;
    assert!(
        !proceed.is_enabled().await.expect("button state"),
        "\"Continue\" should be disabled once time is up"
    );
    // The next page load says the same, with the contact card.
    browser.open("/enroll/wizard").await;
    browser.wait_for_heading("Time is up").await;
    browser.wait_for_text("Need help?").await;
    // The link is spent with the window.
    browser.open(&format!("/enroll?token={token}")).await;
    browser
        .wait_for_heading("This link is invalid or has expired")
        .await;
    browser.close().await;
}
