//! The audit log with the mouse: choosing an action or typing part of a name filters at once
//! and the address keeps the filters; without JavaScript the Filter button does the same.

// A failed expectation is a failed test; clippy's allow-*-in-tests covers only `#[test]` fns.
#![allow(clippy::expect_used, clippy::panic)]

use crate::support::{Browser, Js, Server};
use fantoccini::Locator;

/// The text of the audit results.
async fn results(b: &Browser) -> String {
    b.text_of("#audit-results").await.unwrap_or_default()
}

/// Picks the option `label` in the select labelled `field` with the mouse.
async fn pick(b: &Browser, field: &str, label: &str) {
    let select = b.field(field).await;
    select.click().await.expect("open the select");
    let option = select
        .find(Locator::XPath(&format!(
            ".//option[normalize-space()='{label}']"
        )))
        .await
        .unwrap_or_else(|e| panic!("no option {label:?}: {e}"));
    option.click().await.expect("choose the option");
}

async fn admin_with_two_users(js: Js) -> (Server, Browser) {
    let server = Server::start().await;
    let b = Browser::start(&server, js).await;
    b.log_in_as_admin().await;
    b.add_user("jnowak", "Jan", "Nowak", "jan.nowak@example.com")
        .await;
    b.add_user("akowalska", "Anna", "Kowalska", "anna@example.com")
        .await;
    (server, b)
}

#[tokio::test]
async fn audit_filters_apply_as_soon_as_they_change() {
    let (_server, b) = admin_with_two_users(Js::Enabled).await;
    b.click_link("Audit log").await;
    b.wait_for_text("Signed in").await;
    // The button is there for whoever wants it, though nothing needs it.
    b.button("Filter").await;

    pick(&b, "Action", "User added (user.created)").await;
    b.wait_until("only added users are listed", || async {
        let text = results(&b).await;
        text.contains("User added") && !text.contains("Signed in")
    })
    .await;
    b.wait_until("the address holds the action", || async {
        b.url().await.contains("action=user.created")
    })
    .await;

    // Part of a surname, in another case: typing alone filters.
    b.type_into("User", "KOWAL").await;
    b.wait_until("only akowalska's events are listed", || async {
        let text = results(&b).await;
        text.contains("akowalska") && !text.contains("jnowak")
    })
    .await;
    b.wait_until("the address holds the user", || async {
        let url = b.url().await;
        url.contains("user=KOWAL") && url.contains("action=user.created")
    })
    .await;

    // Times read in local time with how long ago; UTC stays in the tooltip.
    let time = b
        .client
        .find(Locator::Css("#audit-results time[data-local]"))
        .await
        .expect("a time");
    let text = time.text().await.expect("time text");
    assert!(text.contains("just now") || text.contains("ago"), "{text}");
    let title = time.attr("title").await.expect("title").unwrap_or_default();
    assert!(title.ends_with("UTC"), "{title}");
    assert!(b.console_errors().await.is_empty());
    b.close().await;
}

#[tokio::test]
async fn audit_filters_work_without_javascript() {
    let (_server, b) = admin_with_two_users(Js::Disabled).await;
    b.open("/admin/audit").await;
    pick(&b, "Action", "User added (user.created)").await;
    b.fill("User", "nowak").await;
    b.click_button("Filter").await;
    b.wait_until("the filters apply", || async {
        let url = b.url().await;
        url.contains("user=nowak") && url.contains("action=user.created")
    })
    .await;
    let text = results(&b).await;
    assert!(
        text.contains("jnowak") && !text.contains("akowalska"),
        "{text}"
    );
    // Without JavaScript times stay in UTC.
    assert!(text.contains(" UTC"), "{text}");
    b.close().await;
}
