//! The users table keeps its columns when htmx swaps a row, the change is announced, and an
//! open action menu says whose it is.

// A failed expectation is a failed test; clippy's allow-*-in-tests covers only `#[test]` fns.
#![allow(clippy::expect_used, clippy::panic)]

use crate::support::{Browser, Js, Server};
use serde_json::Value;

/// The widths of the users table's columns, in CSS pixels.
async fn column_widths(b: &Browser) -> Vec<f64> {
    let widths = b
        .eval(
            "return [...document.querySelectorAll('table.users thead th')] \
             .map(th => th.getBoundingClientRect().width);",
        )
        .await;
    widths
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_f64)
        .collect()
}

#[tokio::test]
async fn columns_stay_put_when_a_row_changes_and_the_menu_names_its_user() {
    let server = Server::start().await;
    let b = Browser::start(&server, Js::Enabled).await;
    b.log_in_as_admin().await;
    b.add_user("jnowak", "Jan", "Nowak", "jan.nowak@example.com")
        .await;
    // akowalska gets a pending token: the longest status there is.
    b.click_link("Add user").await;
    b.fill("Username", "akowalska").await;
    b.fill("First name", "Anna").await;
    b.fill("Last name", "Kowalska").await;
    b.fill("Email", "anna@example.com").await;
    b.click_button("Add user").await;
    b.hand_over_token().await;
    b.click_link("Back to users").await;
    b.wait_for_row_text("akowalska", "Invited — sent").await;
    let before = column_widths(&b).await;

    b.button("Actions for akowalska")
        .await
        .click()
        .await
        .expect("open the menu");
    b.wait_until("the action menu opens", || b.menu_is_open())
        .await;
    let heading = b
        .eval(
            "const m = document.querySelector('[role=menu]'); \
             return getComputedStyle(m, '::before').content;",
        )
        .await;
    assert_eq!(heading, Value::from("\"Actions for akowalska\""));

    b.click_button("Disable").await;
    b.wait_for_row_text("akowalska", "Disabled").await;
    // The change is confirmed in words, in a live region.
    b.wait_until("the notice says what changed", || async {
        b.text_of("#flash-area")
            .await
            .is_some_and(|t| t.starts_with("Disabled akowalska (pending token revoked)"))
    })
    .await;
    let after = column_widths(&b).await;
    assert_eq!(before.len(), 6, "{before:?}");
    for (was, is) in before.iter().zip(&after) {
        assert!(
            (was - is).abs() < 0.5,
            "columns moved after the row changed: {before:?} → {after:?}"
        );
    }
    b.close().await;
}
