//! Gateway sync on the Locations page: each location's gateway state, and the one-time card
//! with a new gateway token and the command to run on the gateway host.

use super::layout::{admin_page, csrf_field, Nav, Viewer};
use super::tokens::copy_row;
use crate::services::gateways::GatewayState;
use maud::{html, Markup};

/// "3 s", "5 minutes", "2 hours", "3 days".
pub fn elapsed_words(seconds: i64) -> String {
    let s = seconds.max(0);
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => plural(s / 60, "minute"),
        3600..=86_399 => plural(s / 3600, "hour"),
        _ => plural(s / 86_400, "day"),
    }
}

/// The gateway column of one location: its state and the token button.
pub fn gateway_cell(
    location_id: i64,
    location_name: &str,
    state: &GatewayState,
    csrf: &str,
) -> Markup {
    let (text, class, button) = match state {
        GatewayState::NotSetUp => (
            "Not synced: set up gateway sync".to_owned(),
            "muted",
            "Set up gateway sync",
        ),
        GatewayState::NeverConnected => (
            "Waiting for the gateway to connect".to_owned(),
            "muted",
            "New gateway token",
        ),
        GatewayState::Connected { seconds_ago, .. } => (
            format!(
                "Gateway connected · last seen {} ago",
                elapsed_words(*seconds_ago)
            ),
            "ok",
            "New gateway token",
        ),
        GatewayState::Silent { seconds_ago } => (
            format!("Gateway silent for {}", elapsed_words(*seconds_ago)),
            "warn",
            "New gateway token",
        ),
    };
    html! {
        div class="stack" {
            span class=(class) { (text) }
            @if let GatewayState::Connected { version: Some(v), .. } = state {
                span class="muted" { "agent " (v) }
            }
            form method="post" action=(format!("/admin/locations/{location_id}/gateway-token")) {
                (csrf_field(csrf))
                button type="submit" class="button-secondary" aria-label=(format!("{button} for {location_name}")) { (button) }
            }
        }
    }
}

/// The gateway token, shown once, with the command for the gateway host.
pub fn gateway_token_page(
    instance: &str,
    viewer: &Viewer,
    location: &str,
    token: &str,
    url: &str,
    interface: &str,
) -> Markup {
    let title = format!("Gateway token for {location}");
    let command =
        format!("ONRAMP_GATEWAY_TOKEN={token} onramp gateway --url {url} --interface {interface}");
    admin_page(
        &title,
        instance,
        Nav::Locations,
        viewer,
        html! {
            div class="card stack" hx-history="false" {
                h1 { (title) }
                div class="flash flash-error" role="note" {
                    "This token is shown only now. Any earlier gateway token of " (location) " has stopped working."
                }
                (copy_row("gateway-token", "Gateway token", token))
                p { "On the gateway host, with the WireGuard interface " code { (interface) } " already created (" code { "ip link add " (interface) " type wireguard" } ", or " code { "wireguard-go " (interface) } ") and its address and routes set up, run as root:" }
                (copy_row("gateway-command", "Command", &command))
                p class="hint" { "The agent keeps the interface's private key, listen port and peers equal to this location, applying only what changed, within seconds of every change. It reports each device's last handshake back here." }
                p class="copy-status muted" role="status" {}
                p { a href="/admin/locations" { "Back to locations" } }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::elapsed_words;

    #[test]
    fn elapsed_time_reads_naturally() {
        assert_eq!(elapsed_words(3), "3 s");
        assert_eq!(elapsed_words(61), "1 minute");
        assert_eq!(elapsed_words(7200), "2 hours");
        assert_eq!(elapsed_words(3 * 86_400), "3 days");
    }
}
