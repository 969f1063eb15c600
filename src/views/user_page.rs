//! A user's page in the admin: profile, devices with their actions, token state and recent
//! audit events; and the device screens behind it (rename, delete, the one-off config).

use super::audit::event_cells;
use super::components::{error_for, error_summary, field, flash, flash_error, qr_svg, Input};
use super::layout::{admin_page, csrf_field, Nav, Viewer};
use super::{format_time, time_ago, time_tag};
use crate::domain::token::Purpose;
use crate::domain::FieldError;
use crate::services::devices::admin::{AddedDevice, DeviceSummary, UserOverview, ADD_FORM};
use base64::Engine;
use maud::{html, Markup, PreEscaped};

/// What the "Add device" form shows.
#[derive(Debug, Clone)]
pub struct AddValues {
    /// The device name typed so far.
    pub name: String,
    /// Whether onramp makes the key pair (else the admin pastes a public key).
    pub generate: bool,
    /// The pasted public key.
    pub public_key: String,
}

impl Default for AddValues {
    fn default() -> Self {
        Self {
            name: String::new(),
            generate: true,
            public_key: String::new(),
        }
    }
}

/// A device row being renamed, without JavaScript shown on the page itself.
#[derive(Debug, Clone, Copy)]
pub struct Renaming<'a> {
    /// The device.
    pub device_id: i64,
    /// The name typed so far.
    pub value: &'a str,
    /// What is wrong with it.
    pub errors: &'a [FieldError],
}

/// Where a user's devices live: `/admin/users/{id}` for an admin, `/me` for the user.
pub fn user_url(user_id: i64) -> String {
    format!("/admin/users/{user_id}")
}

fn device_url(base: &str, device_id: i64, action: &str) -> String {
    format!("{base}/devices/{device_id}/{action}")
}

/// The user page.
#[allow(clippy::too_many_arguments)]
pub fn user_page(
    instance: &str,
    viewer: &Viewer,
    o: &UserOverview,
    notice: Option<&str>,
    error: Option<&str>,
    renaming: Option<Renaming<'_>>,
    add: &AddValues,
    add_errors: &[FieldError],
) -> Markup {
    let p = &o.profile;
    admin_page(
        &p.username,
        instance,
        Nav::Users,
        viewer,
        html! {
            p { a href="/admin/users" { "← All users" } }
            div class="row spread" {
                h1 { (p.username) }
                div class="actions" {
                    a class="button button-secondary" href=(format!("{}/edit", user_url(p.id))) { "Edit profile" }
                    a class="button button-secondary" href=(format!("{}/actions", user_url(p.id))) { "More actions" }
                }
            }
            (flash(notice))
            (flash_error(error))
            section class="card stack" aria-labelledby="profile-title" {
                h2 id="profile-title" { "Profile" }
                dl {
                    dt { "Name" } dd { (p.full_name) }
                    dt { "Email" } dd { (p.email) }
                    dt { "Phone" } dd { (p.phone.as_deref().unwrap_or("—")) }
                    dt { "Status" } dd { (super::users::badge(p.status, None)) }
                    dt { "Admin" } dd { @if p.is_admin { "Yes" } @else { "No" } }
                }
            }
            (sign_in_section(viewer, o))
            (devices_section(viewer, &user_url(p.id), o, renaming))
            (add_device_form(viewer, &user_url(p.id), "Add device for this user", add, add_errors))
            (token_section(viewer, o))
            (events_section(o))
        },
    )
}

/// The devices table; `base` is [`user_url`] or `/me`.
pub fn devices_section(
    viewer: &Viewer,
    base: &str,
    o: &UserOverview,
    renaming: Option<Renaming<'_>>,
) -> Markup {
    html! {
        section id="devices" class="stack" aria-labelledby="devices-title" {
            h2 id="devices-title" { "Devices" }
            p class="muted" { (o.devices.len()) " of at most " (o.limit) " devices." }
            @if o.devices.is_empty() {
                @if base == "/me" { p { "You have no devices yet." } }
                @else { p { (o.profile.username) " has no devices yet." } }
            } @else {
                table class="data" {
                    caption class="sr-only" { "Devices of " (o.profile.username) }
                    thead { tr {
                        th scope="col" { "Name" }
                        th scope="col" { "Public key" }
                        th scope="col" { "Addresses" }
                        th scope="col" { "Created" }
                        th scope="col" { "Last handshake" }
                        th scope="col" { span class="sr-only" { "Actions" } }
                    } }
                    tbody {
                        @for d in &o.devices {
                            @match renaming {
                                Some(r) if r.device_id == d.id => (rename_row(viewer, base, d, r.value, r.errors)),
                                _ => (device_row(base, d, o.now)),
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One row of the devices table.
pub fn device_row(base: &str, d: &DeviceSummary, now: i64) -> Markup {
    let rename = device_url(base, d.id, "rename");
    html! {
        tr id=(format!("device-{}", d.id)) {
            td {
                (d.name)
                @if d.pending { " " span class="badge badge-pending" { "Enrollment unfinished" } }
            }
            td data-label="Public key" { code class="key abbrev-narrow" title=(d.public_key) { (d.public_key) } }
            td data-label="Addresses" {
                @if d.locations.is_empty() { span class="muted" { "No location yet" } }
                @for l in &d.locations { div { (l.name) ": " code { (l.addresses) } } }
            }
            td data-label="Created" { (time_tag(d.created_at)) }
            td data-label="Last handshake" {
                @if let Some(at) = d.last_handshake {
                    time datetime=[super::iso_time(at)] title=(format_time(at)) { (time_ago(now, Some(at))) }
                } @else { "never" }
            }
            td class="menu-cell" {
                div class="actions" {
                    a href=(rename) hx-get=(rename) hx-target=(format!("#device-{}", d.id)) hx-swap="outerHTML"
                        aria-label=(format!("Rename {}", d.name)) { "Rename" }
                    a href=(device_url(base, d.id, "delete")) aria-label=(format!("Delete {}", d.name)) { "Delete" }
                }
            }
        }
    }
}

/// A device row turned into its rename form; the field is `new_name`.
pub fn rename_row(
    viewer: &Viewer,
    base: &str,
    d: &DeviceSummary,
    value: &str,
    errors: &[FieldError],
) -> Markup {
    let action = device_url(base, d.id, "rename");
    let row_id = format!("device-{}", d.id);
    let label = format!("New name for {}", d.name);
    html! {
        tr id=(row_id) {
            td colspan="6" {
                form class="form row" method="post" action=(action) hx-post=(action)
                    hx-target=(format!("#{row_id}")) hx-swap="outerHTML" novalidate {
                    (csrf_field(&viewer.csrf_token))
                    (field(Input { maxlength: 64, ..Input::new("new_name", &label, value) }, errors))
                    div class="actions" {
                        button type="submit" class="button-primary" { "Save name" }
                        // No fragment: on the user page itself that would not reload the row.
                        a class="button button-secondary" href=(base) { "Cancel" }
                    }
                }
            }
        }
    }
}

/// The "Add device" form, on the user page (or `/me`) and swapped in by htmx.
pub fn add_device_form(
    viewer: &Viewer,
    base: &str,
    heading: &str,
    v: &AddValues,
    errors: &[FieldError],
) -> Markup {
    let action = format!("{base}/devices");
    let own = base == "/me";
    let (made, key_hint) = if own {
        (
            ("browser", "Make it in this browser: the private key never leaves it, and the configuration is shown once"),
            "Make a key pair on the device with wg genkey | tee private.key | wg pubkey and paste the public key: 44 characters ending in =.",
        )
    } else {
        (
            ("generate", "Let onramp make a key pair: the private key is shown once, with a QR code, and never stored"),
            "Only when using a key made on the device: 44 characters ending in =.",
        )
    };
    html! {
        section id=(ADD_FORM) class="card stack" aria-labelledby="add-device-title" tabindex="-1" {
            h2 id="add-device-title" { (heading) }
            (error_summary(errors))
            (flash_error(error_for(errors, ADD_FORM)))
            form class="form stack" method="post" action=(action) hx-post=(action)
                hx-target=(format!("#{ADD_FORM}")) hx-swap="outerHTML" novalidate {
                (csrf_field(&viewer.csrf_token))
                (field(Input { maxlength: 64, hint: Some("For example \"work laptop\"."), ..Input::new("device_name", "Device name", &v.name) }, errors))
                // On "My account" the key pair is made in this browser (enroll.js), so that
                // choice needs JavaScript; without it, or in a browser that cannot, a pasted key.
                fieldset class=(if own { "field js-only" } else { "field" }) data-own-keygen[own] {
                    legend { "Key pair" }
                    label class="checkbox" {
                        input type="radio" name="key_mode" value=(made.0) checked[v.generate];
                        " " (made.1)
                    }
                    label class="checkbox" {
                        input type="radio" name="key_mode" value="paste" checked[!v.generate];
                        " Use a public key made on the device (wg genkey | wg pubkey)"
                    }
                }
                div data-own-key-field {
                    (field(Input { maxlength: 64, required: false, hint: Some(key_hint),
                        ..Input::new("public_key", "Public key", &v.public_key) }, errors))
                }
                div class="actions" { button type="submit" class="button-primary" { "Add device" } }
            }
        }
    }
}

/// Two-factor state and the admin's sign-in actions: password reset link, two-factor reset,
/// admin rights.
fn sign_in_section(viewer: &Viewer, o: &UserOverview) -> Markup {
    let p = &o.profile;
    let base = user_url(p.id);
    let f = o.factors;
    html! {
        section class="card stack" aria-labelledby="sign-in-title" {
            h2 id="sign-in-title" { "Sign-in" }
            p {
                "Two-factor: "
                @if f.totp && f.email { "authenticator app and email codes" }
                @else if f.totp { "authenticator app" }
                @else if f.email { "email codes" }
                @else { "off" }
                @if f.any() { " (" (f.recovery_left) " recovery codes left)" }
                "."
            }
            div class="actions" {
                a class="button button-secondary" href=(format!("{base}/password-reset")) { "Send password reset" }
                @if f.any() {
                    a class="button button-secondary" href=(format!("{base}/two-factor/reset")) { "Reset two-factor" }
                }
                form method="post" action=(format!("{base}/admin")) {
                    (csrf_field(&viewer.csrf_token))
                    @if p.is_admin {
                        input type="hidden" name="admin" value="false";
                        button type="submit" class="button-secondary" { "Remove admin rights" }
                    } @else {
                        input type="hidden" name="admin" value="true";
                        button type="submit" class="button-secondary" { "Make admin" }
                    }
                }
            }
        }
    }
}

fn token_section(viewer: &Viewer, o: &UserOverview) -> Markup {
    let base = user_url(o.profile.id);
    html! {
        section class="stack" aria-labelledby="token-title" {
            h2 id="token-title" { "Token" }
            @match &o.token {
                None => p { "No enrollment or desktop token is waiting to be used." },
                Some(t) => {
                    p {
                        @match t.purpose {
                            Purpose::Enrollment => "Enrollment pending",
                            Purpose::Desktop => "Desktop activation token issued",
                        }
                        " — expires " (time_tag(t.expires_at)) "."
                        @if t.started { " The user has started with it." }
                        // Queued is not delivered: the outbox says which it is.
                        @if let Some(to) = &t.emailed_to { " Its email goes to " (to) "; see the " a href="/admin/outbox" { "outbox" } "." }
                    }
                    form method="post" action=(format!("{base}/revoke-token")) {
                        (csrf_field(&viewer.csrf_token))
                        button type="submit" class="button-secondary" { "Revoke pending token" }
                    }
                }
            }
        }
    }
}

fn events_section(o: &UserOverview) -> Markup {
    let all = serde_urlencoded::to_string([("user", o.profile.username.as_str())])
        .map(|q| format!("/admin/audit?{q}"))
        .unwrap_or_else(|_| "/admin/audit".to_owned());
    html! {
        section class="stack" aria-labelledby="events-title" {
            h2 id="events-title" { "Recent events" }
            @if o.events.is_empty() {
                p { "No events yet." }
            } @else {
                table class="data" {
                    caption class="sr-only" { "Recent events of " (o.profile.username) }
                    thead { tr {
                        th scope="col" { "Time" } th scope="col" { "Actor" } th scope="col" { "Action" }
                        th scope="col" { "Target" } th scope="col" { "Detail" }
                    } }
                    tbody {
                        @for e in &o.events {
                            tr { (event_cells(e.at, &e.actor, &e.action, e.target.as_deref(), e.detail.as_deref())) }
                        }
                    }
                }
            }
            p { a href=(all) { "All events of " (o.profile.username) " in the audit log" } }
        }
    }
}

/// The question before deleting a device; `base` is [`user_url`] or `/me`.
pub fn delete_device_confirm(
    viewer: &Viewer,
    base: &str,
    question: &str,
    d: &DeviceSummary,
) -> Markup {
    html! {
            div class="card stack confirm" {
                h1 { (question) }
                p {
                    "Its addresses are released, its peer leaves every gateway within seconds, and a desktop client using it stops receiving updates. "
                    "This cannot be undone; to connect again, the device must be added again."
                }
                p { "Public key: " code { (d.public_key) } }
                form method="post" action=(device_url(base, d.id, "delete")) class="actions" {
                    (csrf_field(&viewer.csrf_token))
                    button type="submit" class="button-danger" { "Delete " (d.name) }
                    a class="button button-secondary" href=(format!("{base}#devices")) { "Cancel" }
                }
            }
    }
}

/// The device just added with its configs; when onramp made the key pair, the only time the
/// private key is shown. Swapped in by htmx or shown on a page of its own.
pub fn added_device(base: &str, a: &AddedDevice) -> Markup {
    html! {
        section id=(ADD_FORM) class="card stack" hx-history="false" aria-labelledby="added-title" {
            h2 id="added-title" { "Added " (a.name) " for " (a.username) }
            @if a.generated {
                div class="flash flash-error" role="note" {
                    "The private key is shown only now and is not stored. Download the configuration or scan the QR code before you leave this page."
                }
            } @else {
                p { "Public key: " code { (a.public_key) } }
            }
            @if a.configs.is_empty() {
                p { "There are no locations yet; the device gets an address when one is added." }
            }
            @if a.generated {
                @for c in &a.configs { (config_block(c)) }
            } @else if !a.configs.is_empty() {
                (key_templates(a))
            }
            // No fragment: htmx showed this on the user page, which must load again.
            p { a href=(base) { "Back to " (a.username) } }
        }
    }
}

fn config_block(c: &crate::services::devices::admin::NewConfig) -> Markup {
    let text = c.text.expose();
    let data = format!(
        "data:text/plain;charset=utf-8;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(text)
    );
    html! {
        section class="stack config" {
            h3 { (c.location) }
            p { a class="button button-primary" href=(data) download=(c.file_name) { "Download " (c.file_name) } }
            figure class="qr" {
                @match qr_svg(text) {
                    Ok(svg) => (PreEscaped(svg)),
                    Err(_) => p { "This configuration is too long for a QR code; download it instead." },
                }
                figcaption { "Scan with the WireGuard mobile app to add the " (c.location) " tunnel." }
            }
            details { summary { "Show the configuration" } pre class="mail-text" { (text) } }
        }
    }
}

/// The configs of a device whose private key onramp never saw, with the key's placeholder:
/// the browser that made the key pair fills it in (enroll.js: download, QR code, the warning
/// that it is shown once); anyone else reads how to put their own key in.
fn key_templates(a: &AddedDevice) -> Markup {
    html! {
        div class="stack" data-device-key=(a.public_key) {
            div class="flash flash-error" data-key-warning role="note" hidden {
                p { strong { "Download or scan now; this key is shown only once." } }
                p { "The private key exists only in this browser tab. Once you leave this page it is gone, and the device needs to be added again." }
            }
            div class="flash flash-error" data-key-gone role="note" hidden {
                p { strong { "This browser no longer has the private key." } }
                p { "It was made in another tab and never sent anywhere. Delete this device and add it again." }
            }
            @for c in &a.configs {
                @let text = c.text.expose();
                section class="stack config" data-config-for=(c.file_name) {
                    h3 { (c.location) }
                    p class="row" data-config-actions {
                        a class="button button-primary" href=(format!("data:text/plain;charset=utf-8;base64,{}", base64::engine::general_purpose::STANDARD.encode(text)))
                            download=(c.file_name) data-config-download { "Download " (c.file_name) }
                    }
                    div class="qr" data-qr hidden {}
                    p class="hint" data-key-missing {
                        "Replace " code { "PASTE_YOUR_PRIVATE_KEY_HERE" } " with the private key of the key pair you made on the device."
                    }
                    details { summary { "Show the configuration" } pre class="mail-text" data-config-text { (text) } }
                }
            }
        }
    }
}
