//! Browser tests: the real `onramp` binary driven through chromedriver and headless Chromium,
//! once with JavaScript (htmx, keyboard menus) and once without (plain forms and links).
//!
//! Each test starts its own server and chromedriver on free ports, so they run in parallel.
//! Elements are found by label, role and accessible name; if a test cannot find something that
//! way, the page is missing a label or name, and that is the bug.

mod account;
mod audit;
mod devices;
mod enrollment;
mod layout;
mod oidc;
mod pages;
mod support;
mod team;
mod tokens;
mod users_list;
mod wizard;

use fantoccini::key::Key;
use fantoccini::Locator;
use support::{Browser, Js, Server};

#[tokio::test]
async fn admin_journey_with_javascript() {
    let server = Server::start().await;
    let browser = Browser::start(&server, Js::Enabled).await;
    browser.log_in_as_admin().await;

    // Add a user with every field, the enrollment process left on.
    browser.click_link("Add user").await;
    browser.fill("Username", "jnowak").await;
    browser.fill("First name", "Jan").await;
    browser.fill("Last name", "Nowak").await;
    browser.fill("Email", "jan.nowak@example.com").await;
    browser.fill("Phone", "+48 123 456 789").await;
    let enrollment = browser.field("Use enrollment process").await;
    assert!(
        enrollment.is_selected().await.expect("checkbox state"),
        "\"Use enrollment process\" should be checked by default"
    );
    browser.click_button("Add user").await;
    browser.wait_for_text("Added jnowak").await;
    // Next comes the enrollment token dialog; the token is issued later in the enrollment tests.
    browser.wait_for_text("Send token by email").await;
    browser.click_link("Cancel").await;
    browser.wait_for_row_text("jnowak", "Not enrolled").await;
    browser
        .add_user("akowalska", "Anna", "Kowalska", "anna@example.com")
        .await;

    // Live search: typing alone (no Enter) narrows the table and records the query in the URL.
    browser.type_into("Search users", "kowal").await;
    browser
        .wait_until("the search shows akowalska and hides jnowak", || async {
            let names = browser.table_usernames().await;
            names.iter().any(|n| n == "akowalska") && !names.iter().any(|n| n == "jnowak")
        })
        .await;
    browser
        .wait_until("the URL holds the query", || async {
            browser.url().await.contains("q=kowal")
        })
        .await;
    browser.erase("Search users").await;
    browser
        .wait_until("clearing the search shows everyone again", || async {
            let names = browser.table_usernames().await;
            names.iter().any(|n| n == "akowalska") && names.iter().any(|n| n == "jnowak")
        })
        .await;

    // The row action menu by keyboard only.
    let actions = browser.button("Actions for jnowak").await;
    browser.focus(&actions).await;
    browser.press(Key::Enter).await;
    browser
        .wait_until("the action menu opens", || browser.menu_is_open())
        .await;
    browser.wait_for_focus("Open").await;
    assert_eq!(
        browser.active_element_role().await.as_deref(),
        Some("menuitem"),
        "focus should be on the menu item \"Open\", not on a plain link"
    );
    browser.press(Key::Down).await;
    browser.wait_for_focus("Edit").await;
    browser.press(Key::Down).await;
    browser.wait_for_focus("Disable").await;
    browser.press(Key::Escape).await;
    browser
        .wait_until("Escape closes the menu", || async {
            !browser.menu_is_open().await
        })
        .await;
    browser.wait_for_focus("Actions for jnowak").await;

    browser.press(Key::Enter).await;
    browser.wait_for_focus("Open").await;
    browser.press(Key::Down).await;
    browser.wait_for_focus("Edit").await;
    browser.press(Key::Down).await;
    browser.wait_for_focus("Disable").await;
    browser.press(Key::Enter).await;
    browser.wait_for_row_text("jnowak", "Disabled").await;
    // Said in the layout's live region, so screen readers announce it.
    browser.wait_for_text("Disabled jnowak.").await;
    assert_eq!(
        browser
            .text_of("#flash-area[role='status']")
            .await
            .as_deref(),
        Some("Disabled jnowak.")
    );
    // The swap replaced the focused row; focus must land on the new row's button, not <body>.
    browser.wait_for_focus("Actions for jnowak").await;
    assert!(
        !browser.menu_is_open().await,
        "the menu should be gone after Disable"
    );

    browser.click_button("Log out").await;
    browser.wait_for_text("You are logged out.").await;
    browser.close().await;
}

#[tokio::test]
async fn add_user_shows_every_problem_at_once() {
    let server = Server::start().await;
    let browser = Browser::start(&server, Js::Enabled).await;
    browser.log_in_as_admin().await;
    browser
        .add_user("jnowak", "Jan", "Nowak", "jan.nowak@example.com")
        .await;

    browser.click_link("Add user").await;
    browser.fill("Username", "jnowak").await;
    browser.fill("First name", "Jan").await;
    browser.fill("Last name", "Nowak").await;
    browser.fill("Email", "nope").await;
    browser.click_button("Add user").await;
    browser.wait_for_text("is not a valid email address").await;
    assert_eq!(
        browser.field_attr("Email", "aria-invalid").await.as_deref(),
        Some("true"),
        "the Email field should be marked invalid"
    );
    // The form keeps what was typed, so only the mistakes need fixing.
    assert_eq!(
        browser.field_attr("Email", "value").await.as_deref(),
        Some("nope")
    );
    let text = browser.page_text().await;
    assert!(
        text.contains("The username jnowak is already taken."),
        "a taken username should be reported together with the bad email, not only after the \
         email is fixed\n--- page text ---\n{text}"
    );
    assert_eq!(
        browser
            .field_attr("Username", "aria-invalid")
            .await
            .as_deref(),
        Some("true"),
        "the Username field should be marked invalid"
    );
    browser.close().await;
}

#[tokio::test]
async fn admin_journey_without_javascript() {
    let server = Server::start().await;
    let browser = Browser::start(&server, Js::Disabled).await;
    browser.log_in_as_admin().await;
    // Guards against a test that silently ran with JavaScript after all.
    let html_class = browser
        .client
        .find(Locator::Css("html"))
        .await
        .expect("html element")
        .attr("class")
        .await
        .expect("class attribute");
    assert_eq!(
        html_class.as_deref(),
        Some("no-js"),
        "JavaScript should be off"
    );

    browser
        .add_user("jnowak", "Jan", "Nowak", "jan.nowak@example.com")
        .await;
    browser
        .add_user("akowalska", "Anna", "Kowalska", "anna@example.com")
        .await;
    browser.wait_for_row_text("jnowak", "Not enrolled").await;

    // Search by submitting the form: the Search button is there without JavaScript.
    browser.fill("Search users", "nowak").await;
    browser.click_button("Search").await;
    browser
        .wait_until("the search shows only jnowak", || async {
            browser.table_usernames().await == ["jnowak"]
        })
        .await;
    assert!(browser.url().await.contains("q=nowak"));

    // The menu button submits a GET form to a page with the same menu.
    browser.click_button("Actions for jnowak").await;
    browser
        .wait_until("the actions page opens", || async {
            browser.title().await.starts_with("Actions for jnowak")
        })
        .await;
    // Plain controls here: the page must not depend on menu keyboard handling.
    browser.click_button("Disable").await;
    browser.wait_for_text("Disabled jnowak.").await;
    browser.wait_for_row_text("jnowak", "Disabled").await;

    browser.click_button("Actions for jnowak").await;
    browser.click_link("Delete").await;
    browser.wait_for_text("This cannot be undone.").await;
    browser.click_button("Delete jnowak").await;
    browser.wait_for_text("Deleted jnowak.").await;
    // Back on the same search, now empty.
    assert!(browser.url().await.contains("q=nowak"));
    browser.wait_for_text("No users match \"nowak\".").await;
    browser.open("/admin/users").await;
    assert!(browser.row_text("akowalska").await.is_some());
    assert!(
        browser.row_text("jnowak").await.is_none(),
        "jnowak should be gone from the table"
    );

    browser.click_button("Log out").await;
    browser.wait_for_text("You are logged out.").await;
    browser.close().await;
}

#[tokio::test]
async fn csp_holds_and_no_console_errors() {
    let server = Server::start().await;
    let browser = Browser::start(&server, Js::Enabled).await;
    browser.log_in_as_admin().await;
    // Both scripts ran under `script-src 'self'`: app.js flips the class, htmx defines itself.
    let ran = browser
        .eval(
            "return [document.documentElement.classList.contains('js'), \
             typeof window.htmx !== 'undefined'];",
        )
        .await;
    assert_eq!(
        ran,
        serde_json::json!([true, true]),
        "app.js and htmx should run"
    );
    // htmx swaps must not need inline styles or scripts either: search, then open a menu.
    browser.type_into("Search users", "adm").await;
    browser
        .wait_until("the URL holds the query", || async {
            browser.url().await.contains("q=adm")
        })
        .await;
    browser.click_button("Actions for admin").await;
    browser
        .wait_until("the action menu opens", || browser.menu_is_open())
        .await;
    // A CSP violation (inline style or script, blocked asset) shows up as a console error,
    // and so does any failed request, such as a missing asset.
    let errors = browser.console_errors().await;
    assert!(
        errors.is_empty(),
        "console errors on the users page: {errors:#?}"
    );
    browser.close().await;
}

#[tokio::test]
async fn locations_and_settings_with_javascript() {
    let server = Server::start().await;
    let browser = Browser::start(&server, Js::Enabled).await;
    browser.log_in_as_admin().await;

    // Add a location through the nav, with onramp generating the gateway key.
    browser.click_link("Locations").await;
    browser.wait_for_text("No locations yet.").await;
    browser.click_link("Add location").await;
    browser.fill("Name", "Office").await;
    browser.fill("Gateway address", "10.10.0.1/24").await;
    browser.fill("Endpoint", "vpn.example.com").await;
    browser.fill("Port", "51820").await;
    browser.fill("Allowed IPs", "10.10.0.0/24").await;
    browser.fill("DNS", "10.10.0.1").await;
    let generate = browser.choice("Generate a new key pair").await;
    assert!(
        generate.is_selected().await.expect("radio state"),
        "\"Generate a new key pair\" should be the default"
    );
    browser.click_button("Add location").await;
    browser.wait_for_text("Added location Office.").await;
    browser
        .wait_for_row_text("Office", "vpn.example.com:51820")
        .await;

    // Settings: rename the instance and preview a welcome message before saving.
    browser.click_link("Settings").await;
    browser.wait_for_text("Instance ID").await;
    browser.fill("Instance name", "Acme VPN").await;
    browser
        .fill(
            "Welcome message",
            "## Hello {{ first_name }}\n\nWelcome aboard, **{{ username }}**.",
        )
        .await;
    browser.click_button("Preview").await;
    browser
        .wait_until("the preview renders the heading", || async {
            browser
                .text_of("#welcome-preview h2")
                .await
                .is_some_and(|h| h.contains("Hello Jan"))
        })
        .await;
    assert_eq!(
        browser.text_of("#welcome-preview strong").await.as_deref(),
        Some("jnowak"),
        "tags are filled with sample values and markdown is rendered"
    );
    browser.click_button("Save settings").await;
    browser.wait_for_text("Settings saved.").await;
    browser
        .wait_until("the brand shows the new name", || async {
            browser.text_of(".brand").await.as_deref() == Some("Acme VPN")
        })
        .await;
    assert_eq!(
        browser
            .field_attr("Instance name", "value")
            .await
            .as_deref(),
        Some("Acme VPN")
    );
    let errors = browser.console_errors().await;
    assert!(
        errors.is_empty(),
        "console errors on the locations and settings pages: {errors:#?}"
    );
    browser.close().await;
}
