//! Onboarding a team in a real browser: a CSV import checked then confirmed, and a bulk
//! action on rows chosen with their checkboxes; with and without JavaScript.

#![allow(clippy::expect_used)]

use crate::support::{Browser, Js, Server};
use fantoccini::Locator;

async fn import_then_disable_one(js: Js) {
    let server = Server::start().await;
    let browser = Browser::start(&server, js).await;
    browser.log_in_as_admin().await;

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("team.csv");
    std::fs::write(
        &file,
        "\u{feff}username;first_name;last_name;email;groups\r\n\
         anna.nowak;Anna;Nowak;anna@example.com;\r\n\
         jan.kowal;Jan;Kowal;jan@example.com;\r\n",
    )
    .expect("write the file");
    browser.click_link("Import users").await;
    browser.wait_for_heading("Import users").await;
    browser
        .field("CSV file")
        .await
        .send_keys(file.to_str().expect("path"))
        .await
        .expect("choose the file");
    browser.click_button("Check file").await;
    browser
        .wait_for_text("2 to add, 0 skipped, 0 with errors.")
        .await;
    if js == Js::Enabled {
        browser.assert_accessible("the import's dry run").await;
    }
    browser.click_button("Import 2 users").await;
    browser.wait_for_text("Imported 2 users.").await;
    assert!(browser.page_text().await.contains("Invited — sent"));
    if js == Js::Enabled {
        browser
            .assert_accessible("the users list with bulk actions")
            .await;
    }

    browser
        .client
        .find(Locator::Css("input[aria-label='Choose jan.kowal']"))
        .await
        .expect("a checkbox named for the row")
        .click()
        .await
        .expect("choose jan.kowal");
    browser
        .field("Action")
        .await
        .select_by_label("Disable")
        .await
        .expect("pick Disable");
    browser.click_button("Apply to chosen users").await;
    browser.wait_for_text("1 disabled.").await;
    assert_eq!(
        browser
            .row_text("jan.kowal")
            .await
            .map(|t| t.contains("Disabled")),
        Some(true)
    );
    browser.close().await;
}

#[tokio::test]
async fn import_and_bulk_disable_with_javascript() {
    import_then_disable_one(Js::Enabled).await;
}

#[tokio::test]
async fn import_and_bulk_disable_without_javascript() {
    import_then_disable_one(Js::Disabled).await;
}
