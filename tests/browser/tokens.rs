//! The admin's token dialog and one-time card in a real browser: keyboard focus, and that
//! reloading or going Back never issues a token.

// A failed expectation is a failed test; clippy's allow-*-in-tests covers only `#[test]` fns.
#![allow(clippy::expect_used)]

use crate::support::{Browser, Js, Server};
use fantoccini::key::Key;
use fantoccini::Locator;

/// Tokens issued so far, and their `token.issued` audit events.
fn issued(server: &Server) -> (i64, i64) {
    let conn = rusqlite::Connection::open(server.database_path()).expect("open the database");
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect("count") };
    (
        count("SELECT count(*) FROM token"),
        count("SELECT count(*) FROM audit_event WHERE action = 'token.issued'"),
    )
}

async fn wait_for_gone_card(browser: &Browser) {
    browser.wait_for_heading("Token already shown").await;
    let text = browser.page_text().await;
    assert!(
        text.contains("This token was already shown. Issue a new one?"),
        "{text}"
    );
    assert!(
        browser
            .client
            .find(Locator::Id("token-value"))
            .await
            .is_err(),
        "the token is not shown again"
    );
}

#[tokio::test]
async fn the_token_card_shows_once_and_reload_or_back_issues_nothing() {
    let server = Server::start().await;
    let browser = Browser::start(&server, Js::Enabled).await;
    browser.log_in_as_admin().await;
    browser.click_link("Add user").await;
    browser.fill("Username", "jnowak").await;
    browser.fill("First name", "Jan").await;
    browser.fill("Last name", "Nowak").await;
    browser.fill("Email", "jan.nowak@example.com").await;
    browser.click_button("Add user").await;

    // The dialog is a page of its own that starts at its heading, so the keyboard starts
    // in the form, not in the top navigation.
    browser
        .wait_for_heading("Start enrollment for jnowak")
        .await;
    browser.wait_for_focus("Start enrollment for jnowak").await;
    browser.press(Key::Tab).await;
    assert_eq!(
        browser
            .eval("return document.activeElement.closest('main') !== null")
            .await,
        serde_json::Value::Bool(true),
        "Tab from the heading stays in the page's content"
    );
    // No SMTP: the dialog says so and hands over by default.
    assert!(browser.page_text().await.contains("SMTP is not configured"));
    let manual = browser.choice("Deliver token yourself").await;
    assert!(manual.is_selected().await.expect("radio state"));

    browser.click_button("Create token").await;
    browser
        .wait_for_heading("Enrollment token for jnowak")
        .await;
    let token = browser
        .field_attr("Token", "value")
        .await
        .unwrap_or_default();
    assert_eq!(token.len(), 32, "the card shows the token");
    let card_url = browser.url().await;
    assert!(card_url.contains("/admin/users/"), "{card_url}");
    assert_eq!(issued(&server), (1, 1));

    // Reload: the card says it was shown, and nothing is issued.
    browser.client.refresh().await.expect("reload");
    wait_for_gone_card(&browser).await;
    assert_eq!(issued(&server), (1, 1), "reloading issued a token");

    // Back leads to the dialog (a plain GET), Forward to the card again.
    browser.client.back().await.expect("back");
    browser
        .wait_for_heading("Start enrollment for jnowak")
        .await;
    browser.client.forward().await.expect("forward");
    wait_for_gone_card(&browser).await;

    // Back from the users list lands on the card's URL, not on a form resubmission.
    browser.click_link("Back to users").await;
    browser.wait_for_heading("Users").await;
    browser.client.back().await.expect("back");
    wait_for_gone_card(&browser).await;
    assert_eq!(browser.url().await, card_url);
    assert_eq!(issued(&server), (1, 1), "Back issued a token");

    // The way to a new token leads to the dialog.
    browser.click_link("Issue a new token").await;
    browser
        .wait_for_heading("Start enrollment for jnowak")
        .await;
    assert_eq!(issued(&server), (1, 1));
    assert!(
        browser.console_errors().await.is_empty(),
        "no console errors"
    );
    browser.close().await;
}

#[tokio::test]
async fn the_email_body_hides_while_it_is_the_welcome_message_without_javascript() {
    let server = Server::start().await;
    let browser = Browser::start(&server, Js::Disabled).await;
    browser.log_in_as_admin().await;
    browser.open("/admin/settings").await;
    browser.wait_for_heading("Settings").await;
    let body = browser
        .client
        .find(Locator::Id("welcome_email_body"))
        .await
        .expect("the email body field");
    assert!(
        !body.is_displayed().await.expect("displayed"),
        "hidden while the same"
    );
    browser
        .choice("Same as welcome message")
        .await
        .click()
        .await
        .expect("uncheck");
    browser
        .wait_until("the email body shows", || async {
            body.is_displayed().await.unwrap_or(false)
        })
        .await;
    browser.close().await;
}
