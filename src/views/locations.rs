//! The locations list and its form.

use super::components::{breakable, checkboxes, error_summary, field, flash, radios, Input};
use super::layout::{admin_page, csrf_field, Nav, Viewer};
use crate::db::locations::LocationRow;
use crate::domain::FieldError;
use crate::services::access::describe;
use crate::services::gateways::GatewayState;
use crate::services::groups::GroupRef;
use crate::services::locations::LocationSummary;
use maud::{html, Markup};

/// The list of locations.
pub fn locations_page(
    instance: &str,
    viewer: &Viewer,
    list: &[LocationSummary],
    gateways: &std::collections::HashMap<i64, GatewayState>,
    notice: Option<&str>,
) -> Markup {
    admin_page(
        "Locations",
        instance,
        Nav::Locations,
        viewer,
        html! {
            div class="row spread" {
                h1 { "Locations" }
                a class="button button-primary" href="/admin/locations/new" { "Add location" }
            }
            (flash(notice))
            @if list.is_empty() {
                div class="card stack" {
                    p { "No locations yet. A location is a WireGuard network people connect to: its gateway's address pool, endpoint and key." }
                    p { "Enrollment can still run without one: people set their password and skip the VPN device. Once you add a location, give them VPN access with Configure Desktop Client, or by adding a device on their user page." }
                }
            } @else {
                table class="data" {
                    caption class="sr-only" { "Locations" }
                    thead { tr {
                        th scope="col" { "Name" } th scope="col" { "Addresses" } th scope="col" { "Endpoint" }
                        th scope="col" class="num" { "Devices" } th scope="col" { "Who can connect" } th scope="col" { "Gateway" } th scope="col" { "Gateway public key" } th scope="col" { span class="sr-only" { "Actions" } }
                    } }
                    tbody {
                        @for s in list {
                            @let l = &s.location;
                            tr {
                                td { (l.name) }
                                td data-label="Addresses" {
                                    @for (i, a) in l.addresses.split(',').map(str::trim).enumerate() {
                                        @if i > 0 { ", " }
                                        code class="nowrap" { (a) }
                                    }
                                }
                                td data-label="Endpoint" { code { (breakable(&crate::domain::wireguard::endpoint(&l.endpoint, l.port))) } }
                                td class="num" data-label="Devices" { (s.devices) }
                                td data-label="Who can connect" { (describe(&s.access)) }
                                td { (super::gateways::gateway_cell(l.id, &l.name, gateways.get(&l.id).unwrap_or(&GatewayState::NotSetUp), &viewer.csrf_token)) }
                                td data-label="Gateway key" { code class="key abbrev" title=(l.public_key) { (l.public_key) } }
                                td class="actions-cell" { div class="row" {
                                    a href=(format!("/admin/locations/{}/edit", l.id)) aria-label=(format!("Edit {}", l.name)) { "Edit" }
                                    a href=(format!("/admin/locations/{}/gateway.conf", l.id)) download aria-label=(format!("Download the gateway config of {}", l.name)) { "Gateway config" }
                                    a href=(format!("/admin/locations/{}/delete", l.id)) aria-label=(format!("Delete {}", l.name)) { "Delete" }
                                } }
                            }
                        }
                    }
                }
                p class="hint" { "Gateway sync keeps each gateway's WireGuard interface equal to its location within seconds: set it up once per location and run the command it shows on the gateway host. Without it, the gateway config is a wg-quick file with the interface and one peer per device: "
                    code { "wg-quick up ./office.conf" } ", or " code { "onramp gateway-config Office" } "; download it again after every change." }
            }
        },
    )
}

/// Values shown in the location form.
#[derive(Debug, Clone, Default)]
pub struct LocationFormValues {
    /// Name.
    pub name: String,
    /// Pool.
    pub addresses: String,
    /// Endpoint host.
    pub endpoint: String,
    /// Port.
    pub port: String,
    /// Allowed IPs.
    pub allowed_ips: String,
    /// DNS.
    pub dns: String,
    /// Keepalive.
    pub keepalive: String,
    /// generate / paste / keep.
    pub key_mode: String,
    /// Pasted key.
    pub public_key: String,
    /// Who can connect: `everyone` or `groups`.
    pub access: String,
    /// The ids of the groups checked under "Who can connect".
    pub checked_groups: Vec<String>,
    /// Every group, for the checkboxes.
    pub all_groups: Vec<GroupRef>,
}

impl LocationFormValues {
    /// The form for a new location.
    pub fn new_location() -> Self {
        Self {
            port: "51820".into(),
            keepalive: "25".into(),
            key_mode: "generate".into(),
            access: "everyone".into(),
            ..Default::default()
        }
    }

    /// The form filled from a stored location.
    pub fn from_row(l: &LocationRow) -> Self {
        Self {
            name: l.name.clone(),
            addresses: l.addresses.clone(),
            endpoint: l.endpoint.clone(),
            port: l.port.to_string(),
            allowed_ips: l.allowed_ips.clone(),
            dns: l.dns.clone(),
            keepalive: l.keepalive.to_string(),
            key_mode: "keep".into(),
            access: "everyone".into(),
            ..Default::default()
        }
    }

    /// Fills in "Who can connect": every group, and those allowed (none: everyone).
    pub fn with_access(mut self, all_groups: Vec<GroupRef>, allowed: &[GroupRef]) -> Self {
        self.all_groups = all_groups;
        self.access = if allowed.is_empty() {
            "everyone"
        } else {
            "groups"
        }
        .into();
        self.checked_groups = allowed.iter().map(|g| g.id.to_string()).collect();
        self
    }
}

/// The add / edit form; `existing` is the stored location when editing.
pub fn location_form_page(
    instance: &str,
    viewer: &Viewer,
    existing: Option<&LocationRow>,
    v: &LocationFormValues,
    errors: &[FieldError],
) -> Markup {
    let (title, action, submit) = match existing {
        Some(l) => (
            format!("Edit {}", l.name),
            format!("/admin/locations/{}/edit", l.id),
            "Save changes",
        ),
        None => (
            "Add location".to_owned(),
            "/admin/locations".to_owned(),
            "Add location",
        ),
    };
    let mut key_options = vec![(
        "generate",
        "Generate a new key pair (onramp keeps the private key for the gateway config)",
    )];
    if existing.is_some() {
        key_options.insert(0, ("keep", "Keep the current key"));
    }
    key_options.push(("paste", "Use the gateway's own public key (paste it below)"));
    admin_page(
        &title,
        instance,
        Nav::Locations,
        viewer,
        html! {
            div class="card stack" {
                h1 { (title) }
                (error_summary(errors))
                form class="form stack" method="post" action=(action) novalidate {
                    (csrf_field(&viewer.csrf_token))
                    (field(Input { maxlength: 64, ..Input::new("name", "Name", &v.name) }, errors))
                    (field(Input { hint: Some("The gateway's own address with the network size; several separated by commas. For example 10.10.0.1/24, fd00::1/64."), maxlength: 400, ..Input::new("addresses", "Gateway address", &v.addresses) }, errors))
                    (field(Input { hint: Some("The public host name or IP address clients connect to."), maxlength: 253, ..Input::new("endpoint", "Endpoint", &v.endpoint) }, errors))
                    (field(Input { kind: "number", maxlength: 5, ..Input::new("port", "Port", &v.port) }, errors))
                    (field(Input { hint: Some("Networks routed through the tunnel, separated by commas; 0.0.0.0/0, ::/0 sends everything."), maxlength: 1000, ..Input::new("allowed_ips", "Allowed IPs", &v.allowed_ips) }, errors))
                    (field(Input { required: false, hint: Some("DNS servers for clients, separated by commas."), maxlength: 400, ..Input::new("dns", "DNS", &v.dns) }, errors))
                    (field(Input { kind: "number", hint: Some("Seconds between keepalive packets; 25 keeps NAT mappings open, 0 turns it off."), maxlength: 5, ..Input::new("keepalive", "Keepalive", &v.keepalive) }, errors))
                    @if let Some(l) = existing {
                        p { "Current gateway public key: " code class="key" { (l.public_key) } }
                    }
                    (radios("key_mode", "Gateway key", &key_options, &v.key_mode, errors))
                    (field(Input { required: false, hint: Some("44 characters, as printed by wg pubkey."), maxlength: 64, ..Input::new("public_key", "Gateway public key", &v.public_key) }, errors))
                    (radios("access", "Who can connect", &[("everyone", "Everyone"), ("groups", "Only members of the groups checked below")], &v.access, errors))
                    (checkboxes("groups", "Groups that can connect", &super::groups::group_options(&v.all_groups), &v.checked_groups,
                        html! { "No groups yet. " a href="/admin/groups" { "Add a group" } " to let only its members connect." }, errors))
                    div class="actions" {
                        button type="submit" class="button-primary" { (submit) }
                        a class="button button-secondary" href="/admin/locations" { "Cancel" }
                    }
                }
            }
        },
    )
}

/// Confirmation before deleting a location.
pub fn delete_location_page(instance: &str, viewer: &Viewer, s: &LocationSummary) -> Markup {
    let l = &s.location;
    admin_page(
        &format!("Delete {}", l.name),
        instance,
        Nav::Locations,
        viewer,
        html! {
            div class="card stack confirm" {
                h1 { "Delete " (l.name) "?" }
                p {
                    @if s.devices == 1 { "The 1 device with an address in " (l.name) " loses access to it" }
                    @else { "The " (s.devices) " devices with an address in " (l.name) " lose access to it" }
                    ", and its gateway key is forgotten. This cannot be undone."
                }
                form method="post" action=(format!("/admin/locations/{}/delete", l.id)) class="actions" {
                    (csrf_field(&viewer.csrf_token))
                    button type="submit" class="button-danger" { "Delete " (l.name) }
                    a class="button button-secondary" href="/admin/locations" { "Cancel" }
                }
            }
        },
    )
}
