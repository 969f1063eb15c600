//! The wizard's help for a person: focus on each step's heading, completed steps marked in
//! words, errors that go once fixed, the password meter and show toggle, no device step
//! without a location, and the one chance to save a private key made in the browser.

// A failed expectation is a failed test; clippy's allow-*-in-tests covers only `#[test]` fns.
#![allow(clippy::expect_used, clippy::panic)]

use crate::enrollment::{add_office_location, current_value, jnowak_link, start_enrollment};
use crate::support::{later, Browser, Js, Server};
use fantoccini::Locator;

const GOOD_PASSWORD: &str = "plum orbit velvet river";

/// Whether the element matching `css` is shown.
async fn shown(browser: &Browser, css: &str) -> bool {
    match browser.client.find(Locator::Css(css)).await {
        Ok(el) => el.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

/// Presses "Continue" and waits for the next step, whose heading takes focus.
async fn continue_to(browser: &Browser, heading: &str) {
    browser.click_button("Continue").await;
    browser.wait_for_heading(heading).await;
    browser.wait_for_focus(heading).await;
}

#[tokio::test]
async fn password_meter_show_toggle_and_no_device_step_without_a_location() {
    let server = Server::start().await;
    let admin = Browser::start(&server, Js::Enabled).await;
    admin.log_in_as_admin().await;
    let link = jnowak_link(&admin, &server).await;
    admin.close().await;

    let user = Browser::start(&server, Js::Enabled).await;
    user.client.goto(&link).await.expect("open the link");
    start_enrollment(&user).await;
    user.wait_for_focus("Hello, Jan").await;
    // No location: the welcome step promises no VPN device.
    user.wait_for_text("skip the VPN: there is none to set up yet,")
        .await;
    continue_to(&user, "Verify your data").await;
    let done = user
        .eval("return document.querySelector('nav.steps li.done').textContent")
        .await;
    assert_eq!(
        done, "✓ Welcome (completed)",
        "marked in words, not colour only"
    );
    // On a phone, one line says where the user is instead of five wrapping pills.
    user.client
        .set_window_size(375, 812)
        .await
        .expect("a phone-sized window");
    user.wait_for_text("Step 2 of 6: Verify your data").await;
    assert!(!shown(&user, "nav.steps ol").await, "no pills on a phone");
    user.client
        .set_window_size(1280, 900)
        .await
        .expect("a desktop-sized window");
    assert!(
        !shown(&user, ".step-count").await,
        "pills only on a desktop"
    );
    continue_to(&user, "Create password").await;

    // The meter follows typing; its verdict is the policy's.
    user.fill("Password", "password1234").await;
    user.wait_until("the meter calls it too weak", || async {
        user.text_of("#password-strength")
            .await
            .is_some_and(|t| t.contains("Strength: too weak.") && t.contains("too easy to guess"))
    })
    .await;
    user.fill("Password", GOOD_PASSWORD).await;
    user.wait_until("the meter accepts it", || async {
        user.text_of("#password-strength")
            .await
            .is_some_and(|t| t.contains("This password will be accepted."))
    })
    .await;

    // Show password turns both fields into text, and back.
    let kind = |label: &'static str| {
        let user = &user;
        async move {
            user.field(label)
                .await
                .attr("type")
                .await
                .expect("type attribute")
                .unwrap_or_default()
        }
    };
    assert_eq!(kind("Password").await, "password");
    user.click_button("Show password").await;
    assert_eq!(kind("Password").await, "text");
    assert_eq!(kind("Repeat password").await, "text");
    let pressed = user
        .button("Show password")
        .await
        .attr("aria-pressed")
        .await;
    assert_eq!(pressed.expect("attribute").as_deref(), Some("true"));
    user.click_button("Show password").await;
    assert_eq!(kind("Repeat password").await, "password");

    // A mismatch keeps the first field; only the repeat is typed again.
    user.fill("Repeat password", "plum orbit velvet").await;
    user.click_button("Continue").await;
    user.wait_for_text("The two passwords do not match.").await;
    assert_eq!(current_value(&user, "Password").await, GOOD_PASSWORD);
    user.fill("Repeat password", GOOD_PASSWORD).await;
    continue_to(&user, "Configure VPN").await;

    // No location: nothing to generate, only the way to finish.
    user.wait_for_text("There is no VPN to connect to yet.")
        .await;
    assert!(
        user.client
            .find(Locator::Css("[data-keygen-button]"))
            .await
            .is_err(),
        "no key generation without a location"
    );
    user.click_button("Finish enrollment").await;
    later(&user).await;
    user.wait_for_heading("You are all set").await;
    user.wait_for_text("There is no VPN location for you yet, so no device was added.")
        .await;
    user.close().await;
}

#[tokio::test]
async fn the_private_key_has_one_chance_and_a_new_tab_says_it_is_gone() {
    let server = Server::start().await;
    let admin = Browser::start(&server, Js::Enabled).await;
    admin.log_in_as_admin().await;
    add_office_location(&admin).await;
    let link = jnowak_link(&admin, &server).await;
    admin.close().await;

    let user = Browser::start(&server, Js::Enabled).await;
    user.client.goto(&link).await.expect("open the link");
    start_enrollment(&user).await;
    continue_to(&user, "Verify your data").await;
    continue_to(&user, "Create password").await;
    user.fill("Password", GOOD_PASSWORD).await;
    user.fill("Repeat password", GOOD_PASSWORD).await;
    continue_to(&user, "Configure VPN").await;

    // The name is suggested and required; nothing says "optional".
    assert_eq!(current_value(&user, "Device name").await, "Jan's laptop");
    assert!(!user.page_text().await.contains("(optional)"));

    // Both fields empty: two errors. Generating a key after naming the device clears both.
    user.erase("Device name").await;
    user.click_button("Add device and finish").await;
    user.wait_for_text("Name the device").await;
    user.wait_for_text("Enter a WireGuard public key").await;
    user.type_into("Device name", "laptop").await;
    user.click_button("Generate key pair").await;
    user.wait_until("the errors are gone", || async {
        let text = user.page_text().await;
        !text.contains("Name the device")
            && !text.contains("Enter a WireGuard public key")
            && !text.contains("Please correct the following")
    })
    .await;
    let invalid = user
        .eval("return document.querySelectorAll('[aria-invalid]').length")
        .await;
    assert_eq!(invalid, 0, "no field is still marked invalid");
    user.click_button("Add device and finish").await;
    later(&user).await;

    // Done: the warning comes before anything else, with the download and a copy button.
    user.wait_for_heading("You are all set").await;
    user.wait_for_focus("You are all set").await;
    user.wait_for_text("Download or scan now; this key is shown only once.")
        .await;
    user.button("Copy the configuration for Office").await;
    let install = user
        .client
        .find(Locator::LinkText("wireguard.com/install"))
        .await
        .expect("a link to the WireGuard apps");
    assert_eq!(
        install.attr("href").await.expect("href").as_deref(),
        Some("https://www.wireguard.com/install/")
    );
    let config = user
        .eval("return document.querySelector('[data-config-text]').textContent")
        .await;
    assert!(
        !config
            .as_str()
            .unwrap_or_default()
            .contains("PASTE_YOUR_PRIVATE_KEY_HERE"),
        "the key is in this tab's configuration"
    );

    // A new tab of the same browser: no key, and words for someone who never ran wg genkey.
    let tab = user.client.new_window(true).await.expect("a new tab");
    user.client
        .switch_to_window(tab.handle)
        .await
        .expect("switch to the new tab");
    user.open("/enroll/done").await;
    user.wait_for_text("This browser no longer has your private key.")
        .await;
    user.wait_for_text("Ask your administrator (Onramp Admin) to add a new device for you")
        .await;
    assert!(
        !shown(&user, "[data-config-download]").await,
        "no download of a config that cannot connect"
    );
    assert!(
        !shown(&user, "[data-key-missing]").await,
        "no wg genkey hint"
    );
    assert!(!shown(&user, "[data-key-warning]").await);
    assert!(
        !shown(&user, "[data-quick-guide]").await,
        "nothing to import"
    );
    user.close().await;
}
