//! Every page, with realistic data, on a laptop and on a phone: no accessibility violations
//! (axe-core, WCAG 2.2 AA and best practices) and nothing that scrolls sideways, not even
//! on the phone. A new page is one more line in `admin_pages`.

// A failed expectation is a failed test; clippy's allow-*-in-tests covers only `#[test]` fns.
#![allow(clippy::expect_used)]

use crate::support::{Browser, Js, Server};

/// The screens every page is checked at.
const VIEWPORTS: [(u32, u32); 2] = [(1280, 800), (375, 812)];

/// What to do on a page after opening it, before checking it.
#[derive(Debug, Clone, Copy)]
enum Then {
    /// Check the page as it loads.
    Nothing,
    /// Open the row action menu with this accessible name.
    OpenMenu(&'static str),
    /// Press the button with this name and check the page that answers, once it shows
    /// this text.
    Press(&'static str, &'static str),
}

/// One page to check: what it is called in failures, where it is, what to do there.
struct Page {
    name: &'static str,
    path: String,
    then: Then,
}

fn page(name: &'static str, path: &str) -> Page {
    Page {
        name,
        path: path.to_owned(),
        then: Then::Nothing,
    }
}

fn page_then(name: &'static str, path: &str, then: Then) -> Page {
    Page {
        name,
        path: path.to_owned(),
        then,
    }
}

const LONG_USER: &str = "maximiliana.wolfeschlegel";
const LONG_FIRST: &str = "Maximiliana-Alexandrina";
const LONG_LAST: &str = "Wolfeschlegelsteinhausenbergerdorff";
const LONG_EMAIL: &str =
    "maximiliana.wolfeschlegelsteinhausenbergerdorff@engineering.example-company.com";

/// The admin pages, after [`seed`]: user 2 has a pending token and a device, user 3 a queued
/// invitation email, group 1 a member, location 1 an IPv6 pool.
fn admin_pages() -> Vec<Page> {
    vec![
        page("users", "/admin/users"),
        page_then(
            "users with the action menu open",
            "/admin/users",
            Then::OpenMenu("Actions for maximiliana.wolfeschlegel"),
        ),
        page("new user", "/admin/users/new"),
        page("user page", "/admin/users/2"),
        page("edit user", "/admin/users/2/edit"),
        page("delete user", "/admin/users/2/delete"),
        page("token dialog", "/admin/users/3/enrollment"),
        page_then(
            "token card",
            "/admin/users/3/enrollment",
            Then::Press("Create token", "This token is shown only now"),
        ),
        page("groups", "/admin/groups"),
        page("group page", "/admin/groups/1"),
        page("locations", "/admin/locations"),
        page("new location", "/admin/locations/new"),
        page("edit location", "/admin/locations/1/edit"),
        page("settings", "/admin/settings"),
        page("outbox", "/admin/outbox"),
        page("one email", "/admin/outbox/1"),
        page("audit log", "/admin/audit"),
        page("account rules", "/admin/settings/accounts"),
        page("send password reset", "/admin/users/2/password-reset"),
        page("reset two-factor", "/admin/users/2/two-factor/reset"),
        page("my account", "/me"),
        page("my two-factor", "/me/two-factor"),
        page("forgot password", "/reset/request"),
        page("reset link not valid", "/reset?token=nope"),
        page("page not found", "/admin/no-such-page"),
        page("users, nothing found", "/admin/users?q=nobody-like-this"),
        page("audit log, unreadable date", "/admin/audit?from=yesterday"),
        page_then(
            "new user with errors",
            "/admin/users/new",
            Then::Press("Add user", "Please correct the following"),
        ),
        page_then(
            "new location with errors",
            "/admin/locations/new",
            Then::Press("Add location", "Please correct the following"),
        ),
    ]
}

/// Adds what an instance in use holds: a group with a member, a location with IPv4 and IPv6
/// pools and a gateway key, a user with long names, a pending token and a device, a user
/// whose invitation waits in the outbox, and the audit events all this records. Returns the
/// pending token.
async fn seed(b: &Browser) -> String {
    b.click_link("Settings").await;
    b.fill("Instance name", "Acme Corporation Remote Access")
        .await;
    b.click_button("Save settings").await;
    b.wait_for_text("Settings saved.").await;

    b.click_link("Locations").await;
    b.click_link("Add location").await;
    b.fill("Name", "Warsaw headquarters").await;
    b.fill("Gateway address", "10.10.0.1/24, fd00:1234:5678:9abc::1/64")
        .await;
    b.fill(
        "Endpoint",
        "vpn-gateway.warsaw.headquarters.example-company.com",
    )
    .await;
    b.fill("Allowed IPs", "10.10.0.0/24, fd00:1234:5678:9abc::/64")
        .await;
    b.fill("DNS", "10.10.0.1").await;
    b.click_button("Add location").await;
    b.wait_for_text("Added location Warsaw headquarters.").await;

    // A user with long names and a token handed over by the admin.
    b.click_link("Users").await;
    b.click_link("Add user").await;
    b.fill("Username", LONG_USER).await;
    b.fill("First name", LONG_FIRST).await;
    b.fill("Last name", LONG_LAST).await;
    b.fill("Email", LONG_EMAIL).await;
    b.click_button("Add user").await;
    b.wait_for_text(&format!("Added {LONG_USER}")).await;
    let token = b.hand_over_token().await;

    // A device for them, made on their page.
    b.open("/admin/users/2").await;
    b.fill("Device name", "ThinkPad X1 Carbon (work)").await;
    b.click_button("Add device").await;
    b.wait_for_text("The private key is shown only now").await;

    // A second user whose invitation email waits in the outbox (no SMTP here).
    b.open("/admin/users/new").await;
    b.fill("Username", "anna.kowalska").await;
    b.fill("First name", "Anna").await;
    b.fill("Last name", "Kowalska").await;
    b.fill("Email", "anna.kowalska@example.com").await;
    b.click_button("Add user").await;
    b.wait_for_text("Added anna.kowalska").await;
    b.choice("Send token by email")
        .await
        .click()
        .await
        .expect("choose to email the token");
    b.click_button("Create token").await;
    b.wait_for_text("This token is shown only now").await;

    b.open("/admin/groups").await;
    b.fill("Group name", "Engineering and Operations").await;
    b.click_button("Add group").await;
    b.wait_for_text("Added group Engineering and Operations.")
        .await;
    b.open("/admin/groups/1").await;
    b.fill("Username", LONG_USER).await;
    b.click_button("Add member").await;
    b.wait_for_text(LONG_FIRST).await;
    token
}

/// Opens `p` and checks it at the current viewport.
async fn check(b: &Browser, p: &Page, (width, height): (u32, u32)) {
    b.open(&p.path).await;
    match p.then {
        Then::Nothing => {}
        Then::OpenMenu(name) => {
            b.button(name)
                .await
                .click()
                .await
                .expect("open the action menu");
            b.wait_until("the action menu opens", || b.menu_is_open())
                .await;
        }
        Then::Press(name, text) => {
            b.click_button(name).await;
            b.wait_for_text(text).await;
        }
    }
    let what = format!("{} at {width}×{height}", p.name);
    // ONRAMP_SCREENSHOTS=dir keeps a picture of every page checked, for a person to look at.
    if let Some(dir) = std::env::var_os("ONRAMP_SCREENSHOTS") {
        let png = b.client.screenshot().await.expect("screenshot");
        let file = format!("{}-{width}.png", p.name.replace(' ', "-"));
        std::fs::write(std::path::Path::new(&dir).join(file), png).expect("save screenshot");
    }
    b.assert_accessible(&what).await;
    b.assert_no_sideways_scroll(&what).await;
}

#[tokio::test]
async fn every_page_is_accessible_and_fits_a_phone() {
    let server = Server::start().await;
    let b = Browser::start(&server, Js::Enabled).await;

    // axe works here: an unlabelled field planted on a page is found.
    b.open("/admin/login").await;
    b.eval("document.querySelector('main').append(document.createElement('input'));")
        .await;
    let planted = b.accessibility_violations().await;
    assert!(
        planted.iter().any(|v| v.starts_with("- \"label\"")),
        "axe should find the unlabelled field: {planted:?}"
    );

    let login = page("login", "/admin/login");
    for viewport in VIEWPORTS {
        b.set_viewport(viewport.0, viewport.1).await;
        check(&b, &login, viewport).await;
    }

    b.set_viewport(1280, 800).await;
    b.log_in_as_admin().await;
    let token = seed(&b).await;

    let mut pages = admin_pages();
    pages.push(page(
        "enrollment landing page",
        &format!("/enroll?token={token}"),
    ));
    for viewport in VIEWPORTS {
        b.set_viewport(viewport.0, viewport.1).await;
        for p in &pages {
            check(&b, p, viewport).await;
        }
    }
    b.close().await;
}
