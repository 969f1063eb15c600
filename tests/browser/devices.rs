//! The admin manages a user's devices from the user's page: a key pair made by onramp shown
//! once with its QR code and download, a rename in place, and a delete after a confirmation.

use crate::enrollment::{
    add_office_location, config_value, stored_device_key, wait_for_download, wg,
};
use crate::support::{Browser, Js, Server};
use fantoccini::Locator;

#[tokio::test]
async fn admin_adds_renames_and_deletes_a_device_on_the_user_page() {
    let server = Server::start().await;
    let downloads = tempfile::tempdir().expect("download directory");
    let admin = Browser::start_with_downloads(&server, Js::Enabled, downloads.path()).await;
    admin.log_in_as_admin().await;
    add_office_location(&admin).await;
    admin.click_link("Users").await;
    admin
        .add_user("jnowak", "Jan", "Nowak", "jan.nowak@example.com")
        .await;

    // From the list to the user's page.
    admin.click_link("jnowak").await;
    admin.wait_for_heading("jnowak").await;
    admin.wait_for_text("jnowak has no devices yet.").await;

    // A key pair made by onramp: its config, QR code and download, shown this once.
    admin.fill("Device name", "phone").await;
    let generate = admin.choice("Let onramp make a key pair").await;
    assert!(generate.is_selected().await.expect("radio state"));
    admin.click_button("Add device").await;
    admin
        .wait_for_text("The private key is shown only now")
        .await;
    let qr = "//figure[figcaption[normalize-space()='Scan with the WireGuard mobile app to add the Office tunnel.']]/*[local-name()='svg']";
    let code = admin
        .client
        .find(Locator::XPath(qr))
        .await
        .expect("a QR code named by its caption");
    assert!(code.is_displayed().await.expect("QR visible"));
    admin.click_link("Download office.conf").await;
    let config = wait_for_download(downloads.path(), "office.conf").await;
    let private_key = config_value(&config, "PrivateKey")
        .unwrap_or_else(|| panic!("no PrivateKey in the download:\n{config}"));
    assert_eq!(
        wg(&["pubkey"], &format!("{private_key}\n")),
        stored_device_key(&server),
        "wg pubkey of the downloaded PrivateKey should be the stored public key"
    );

    // Back on the page the device is listed, and nothing secret is shown any more.
    admin.click_link("Back to jnowak").await;
    admin.wait_for_text("1 of at most 10 devices.").await;
    assert!(!admin.page_text().await.contains(private_key));

    // Rename in place (htmx swaps the row into a form and back).
    admin.click_link("Rename phone").await;
    admin.fill("New name for phone", "work phone").await;
    admin.click_button("Save name").await;
    admin.wait_for_text("work phone").await;
    assert_eq!(admin.title().await.split(" · ").next(), Some("jnowak"));

    // Delete after the confirmation.
    admin.click_link("Delete work phone").await;
    admin.wait_for_text("This cannot be undone").await;
    admin.click_button("Delete work phone").await;
    admin.wait_for_text("Deleted the device work phone.").await;
    admin.wait_for_text("jnowak has no devices yet.").await;
    assert!(
        admin.console_errors().await.is_empty(),
        "the page should run without console errors"
    );
    admin.close().await;
}
