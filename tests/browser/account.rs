//! Every user's own account in the browser: a non-admin's devices (key pair made by
//! WebCrypto), desktop token and password; two-factor on "My account" and at login; the
//! wizard's two-factor step; the admins' setup checklist. New pages also at 375 px.

// A failed expectation is a failed test; clippy's allow-*-in-tests covers only `#[test]` fns.
#![allow(clippy::expect_used, clippy::panic)]

use crate::enrollment::{current_value, jnowak_link, start_enrollment, walk_to_vpn};
use crate::support::{Browser, Js, Server};
use std::time::{SystemTime, UNIX_EPOCH};

const ANNA_PASSWORD: &str = "lantern orbit pebble crane";
const NEW_PASSWORD: &str = "harbour violet quiz anchor";

/// The admin adds anna with a password (no enrollment process).
async fn add_anna(admin: &Browser) {
    admin.click_link("Add user").await;
    admin.fill("Username", "anna").await;
    admin.fill("First name", "Anna").await;
    admin.fill("Last name", "Nowak").await;
    admin.fill("Email", "anna@example.com").await;
    admin
        .field("Use enrollment process")
        .await
        .click()
        .await
        .expect("uncheck the enrollment process");
    admin.fill("Password", ANNA_PASSWORD).await;
    admin.fill("Repeat password", ANNA_PASSWORD).await;
    admin.click_button("Add user").await;
    admin.wait_for_text("Added anna").await;
}

/// A server where the admin added anna, and the Office location when `location`.
async fn server_with_anna(location: bool) -> Server {
    let server = Server::start().await;
    let admin = Browser::start(&server, Js::Enabled).await;
    admin.log_in_as_admin().await;
    if location {
        crate::enrollment::add_office_location(&admin).await;
        admin.click_link("Users").await;
    }
    add_anna(&admin).await;
    admin.close().await;
    server
}

async fn log_in(user: &Browser, username: &str, password: &str) {
    user.open("/login").await;
    user.fill("Username", username).await;
    user.fill("Password", password).await;
    user.click_button("Log in").await;
}

/// At 375 px the page scrolls only up and down.
async fn assert_no_sideways_scroll(b: &Browser, what: &str) {
    b.client
        .set_window_size(375, 812)
        .await
        .expect("a phone-sized window");
    let fits = b
        .eval("return document.documentElement.scrollWidth <= window.innerWidth")
        .await;
    let widths = b
        .eval("return [document.documentElement.scrollWidth, window.innerWidth]")
        .await;
    b.client
        .set_window_size(1280, 900)
        .await
        .expect("a desktop-sized window");
    assert_eq!(fits, true, "{what} scrolls sideways at 375 px: {widths}");
}

/// The code an authenticator app shows `ahead` seconds from now. The server under test runs
/// on the real clock, so this reads it too.
#[allow(clippy::disallowed_methods)]
fn totp_code(secret: &str, ahead: u64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    onramp::domain::totp::code_at(secret, now + ahead).expect("a code")
}

/// Sets up the authenticator app on the page showing its secret; returns the secret.
async fn turn_on_app(user: &Browser) -> String {
    let secret = user.text_of("#totp-secret").await.expect("the key as text");
    user.fill("Code from the app", &totp_code(&secret, 0)).await;
    user.click_button("Turn on").await;
    secret
}

#[tokio::test]
async fn a_user_manages_devices_desktop_token_and_password() {
    let server = server_with_anna(true).await;
    let user = Browser::start(&server, Js::Enabled).await;
    log_in(&user, "anna", ANNA_PASSWORD).await;
    user.wait_for_heading("My account").await;

    // A device whose key pair this browser makes: the public key fills itself in.
    user.fill("Device name", "laptop").await;
    user.wait_until("the browser made a key pair", || async {
        let key = user
            .eval("return document.getElementById('public_key').value")
            .await;
        key.as_str()
            .is_some_and(|k| k.len() == 44 && k.ends_with('='))
    })
    .await;
    user.click_button("Add device").await;
    user.wait_for_text("Added laptop for anna").await;
    user.wait_for_text("Download or scan now; this key is shown only once.")
        .await;
    user.wait_until("the QR code appears", || async {
        user.eval("return document.querySelector('[data-qr] img') !== null")
            .await
            == true
    })
    .await;
    let config = user
        .eval("return document.querySelector('[data-config-text]').textContent")
        .await;
    let config = config.as_str().unwrap_or_default();
    assert!(config.contains("PrivateKey = ") && !config.contains("PASTE_YOUR_PRIVATE_KEY_HERE"));
    assert_no_sideways_scroll(&user, "the added device").await;
    // Saved: leaving is fine now.
    user.click_link("Download office.conf").await;

    // Removed again.
    user.open("/me").await;
    user.click_link("Delete laptop").await;
    user.click_button("Delete laptop").await;
    user.wait_for_text("Deleted the device laptop.").await;

    // Their own desktop token.
    user.click_button("Get an activation token").await;
    user.wait_for_heading("Activate the desktop client").await;
    let token = current_value(&user, "Token").await;
    assert_eq!(token.len(), 32, "{token}");

    // A new password.
    user.open("/me").await;
    user.fill("Current password", ANNA_PASSWORD).await;
    user.fill("New password", NEW_PASSWORD).await;
    user.fill("Repeat the new password", NEW_PASSWORD).await;
    user.click_button("Change password").await;
    user.wait_for_text("Your password was changed.").await;
    user.click_button("Log out").await;
    log_in(&user, "anna", NEW_PASSWORD).await;
    user.wait_for_heading("My account").await;
    user.close().await;
}

#[tokio::test]
async fn without_javascript_a_user_adds_a_device_with_a_pasted_key() {
    let server = server_with_anna(true).await;
    let user = Browser::start(&server, Js::Disabled).await;
    log_in(&user, "anna", ANNA_PASSWORD).await;
    user.wait_for_heading("My account").await;
    assert!(
        !user.page_text().await.contains("Make it in this browser"),
        "making a key pair needs JavaScript, so it is not offered"
    );
    let private_key = crate::enrollment::wg(&["genkey"], "");
    let public_key = crate::enrollment::wg(&["pubkey"], &format!("{private_key}\n"));
    user.fill("Device name", "laptop").await;
    user.fill("Public key", &public_key).await;
    user.click_button("Add device").await;
    user.wait_for_text("Added laptop for anna").await;
    user.wait_for_text("Replace PASTE_YOUR_PRIVATE_KEY_HERE with the private key")
        .await;
    assert!(user.page_text().await.contains(&public_key));
    user.close().await;
}

#[tokio::test]
async fn two_factor_on_my_account_then_a_code_at_login() {
    let server = server_with_anna(false).await;
    let user = Browser::start(&server, Js::Enabled).await;
    log_in(&user, "anna", ANNA_PASSWORD).await;
    user.click_link("Manage two-factor sign-in").await;
    user.click_button("Set up an authenticator app").await;
    let secret = turn_on_app(&user).await;
    user.wait_for_heading("Your recovery codes").await;
    user.click_link("Done").await;
    user.click_button("Log out").await;

    log_in(&user, "anna", ANNA_PASSWORD).await;
    user.wait_for_heading("Enter your code").await;
    // The app's next code: the current one was spent turning the app on.
    user.fill("Code", &totp_code(&secret, 30)).await;
    user.click_button("Sign in").await;
    user.wait_for_heading("My account").await;
    user.close().await;
}

#[tokio::test]
async fn the_wizard_sets_up_an_authenticator_app() {
    let server = Server::start().await;
    let admin = Browser::start(&server, Js::Enabled).await;
    admin.log_in_as_admin().await;
    crate::enrollment::add_office_location(&admin).await;
    let link = jnowak_link(&admin, &server).await;
    admin.close().await;

    let user = Browser::start(&server, Js::Enabled).await;
    user.client.goto(&link).await.expect("open the link");
    start_enrollment(&user).await;
    walk_to_vpn(&user).await;
    user.click_button("Skip and finish").await;
    user.wait_for_heading("Set up two-factor sign-in").await;
    let current = user
        .eval("return document.querySelector('nav.steps [aria-current=step]').textContent")
        .await;
    assert_eq!(current, "Set up two-factor");
    user.button("Later").await;
    user.click_button("Set up now").await;
    user.wait_for_text("Cannot scan? Type this key").await;
    assert_no_sideways_scroll(&user, "the two-factor step").await;
    turn_on_app(&user).await;
    user.wait_for_heading("Save your recovery codes").await;
    let codes = user
        .eval("return document.querySelectorAll('.recovery-codes li').length")
        .await;
    assert_eq!(codes, 10);
    assert_no_sideways_scroll(&user, "the recovery codes").await;
    user.click_link("Continue").await;
    user.wait_for_heading("You are all set").await;
    user.close().await;
}

#[tokio::test]
async fn the_setup_checklist_ticks_itself_off() {
    let server = Server::start().await;
    let admin = Browser::start(&server, Js::Enabled).await;
    admin.log_in_as_admin().await;
    admin.click_link("Setup checklist").await;
    admin.wait_for_heading("Set up onramp").await;
    admin.wait_for_text("0 of 4 done").await;
    assert_no_sideways_scroll(&admin, "the setup checklist").await;

    admin.click_link("Edit your profile").await;
    admin.fill("First name", "Ewa").await;
    admin.fill("Last name", "Lis").await;
    admin.fill("Email", "ewa@example.com").await;
    admin.click_button("Save changes").await;
    crate::enrollment::add_office_location(&admin).await;
    admin.click_link("Setup checklist").await;
    admin.wait_for_text("2 of 4 done").await;
    let done = admin
        .eval("return [...document.querySelectorAll('.checklist .done strong')].map(e => e.textContent)")
        .await;
    assert_eq!(
        done,
        serde_json::json!(["Your name, email and phone", "First location"])
    );
    assert!(admin.page_text().await.contains("Change my password"));
    admin.click_button("Hide").await;
    admin.wait_for_text("The setup checklist is hidden.").await;
    assert!(
        !admin.page_text().await.contains("Setup checklist"),
        "the header's link goes"
    );
    admin.close().await;
}
