//! The users list: search across Unicode case and the status filter, with and without
//! JavaScript.

// A failed expectation is a failed test; clippy's allow-*-in-tests covers only `#[test]` fns.
#![allow(clippy::expect_used, clippy::panic)]

use crate::support::{Browser, Js, Server};
use fantoccini::Locator;

/// Picks `option` in the select labelled `label` with the mouse: open it, click the option.
async fn pick(browser: &Browser, label: &str, option: &str) {
    let select = browser.field(label).await;
    select.click().await.expect("open the select");
    select
        .find(Locator::XPath(&format!(
            "./option[normalize-space()='{option}']"
        )))
        .await
        .unwrap_or_else(|e| panic!("no option {option:?} in {label:?}: {e}"))
        .click()
        .await
        .expect("click the option");
}

#[tokio::test]
async fn search_folds_unicode_and_the_status_filter_narrows_the_list() {
    let server = Server::start().await;
    let browser = Browser::start(&server, Js::Enabled).await;
    browser.log_in_as_admin().await;
    browser
        .add_user("lzielinski", "Łukasz", "Zieliński", "lukasz@example.com")
        .await;
    browser
        .add_user("jnowak", "Jan", "Nowak", "jan@example.com")
        .await;

    // A lowercase Ł finds the capital one, as you type.
    browser.type_into("Search users", "łuk").await;
    browser
        .wait_until("the search shows only lzielinski", || async {
            browser.table_usernames().await == ["lzielinski"]
        })
        .await;
    browser.wait_for_text("1 user").await;
    browser.erase("Search users").await;
    browser
        .wait_until("clearing the search shows everyone", || async {
            browser.table_usernames().await.len() == 3
        })
        .await;

    // Choosing a status with the mouse filters at once and records it in the URL.
    pick(&browser, "Status", "Active").await;
    browser
        .wait_until("only the enrolled admin is listed", || async {
            browser.table_usernames().await == ["admin"]
        })
        .await;
    browser
        .wait_until("the URL holds the status", || async {
            browser.url().await.contains("status=active")
        })
        .await;
    pick(&browser, "Status", "Not enrolled").await;
    browser
        .wait_until("the two new users are listed", || async {
            browser.table_usernames().await == ["jnowak", "lzielinski"]
        })
        .await;
    // Reload keeps the filter, in the list and in the select.
    let url = browser.url().await;
    browser
        .open(&url[url.find("/admin").expect("path")..])
        .await;
    assert_eq!(browser.table_usernames().await, ["jnowak", "lzielinski"]);
    assert_eq!(
        browser
            .field("Status")
            .await
            .prop("value")
            .await
            .expect("value")
            .as_deref(),
        Some("not-enrolled")
    );
    browser.close().await;
}

#[tokio::test]
async fn the_status_filter_works_without_javascript() {
    let server = Server::start().await;
    let browser = Browser::start(&server, Js::Disabled).await;
    browser.log_in_as_admin().await;
    browser
        .add_user("pzak", "Paweł", "Żak", "pawel@example.com")
        .await;
    pick(&browser, "Status", "Not enrolled").await;
    browser.fill("Search users", "ŻAK").await;
    browser.click_button("Search").await;
    browser
        .wait_until("the filtered search shows pzak", || async {
            browser.table_usernames().await == ["pzak"]
        })
        .await;
    let url = browser.url().await;
    assert!(url.contains("status=not-enrolled"), "{url}");
    pick(&browser, "Status", "Active").await;
    browser.click_button("Search").await;
    browser
        .wait_for_text("No users with the status Active match \"ŻAK\".")
        .await;
    browser.close().await;
}
