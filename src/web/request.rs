//! Facts about the request: client IP (behind trusted proxies), user agent, htmx headers.

use crate::services::Actor;
use crate::state::AppState;
use actix_web::HttpRequest;
use std::net::IpAddr;

/// The client's IP: the peer, or, when the peer is a trusted proxy, the rightmost
/// `X-Forwarded-For` entry that is not itself a trusted proxy.
pub fn client_ip(req: &HttpRequest, state: &AppState) -> Option<IpAddr> {
    let peer = req.peer_addr().map(|a| a.ip())?;
    let trusted = |ip: &IpAddr| {
        state
            .config
            .trusted_proxies
            .iter()
            .any(|net| net.contains(ip))
    };
    if !trusted(&peer) {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for entry in forwarded.iter().rev() {
        match entry.parse::<IpAddr>() {
            Ok(ip) if trusted(&ip) => continue,
            Ok(ip) => return Some(ip),
            Err(_) => return Some(peer),
        }
    }
    Some(peer)
}

/// The user agent, cut short, without control characters.
pub fn user_agent(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().filter(|c| !c.is_control()).take(256).collect())
}

/// The acting client, for audit events.
pub fn actor(req: &HttpRequest, state: &AppState, username: Option<(&str, i64)>) -> Actor {
    Actor {
        username: username.map_or_else(|| "anonymous".to_owned(), |(u, _)| u.to_owned()),
        user_id: username.map(|(_, id)| id),
        ip: client_ip(req, state).map(|ip| ip.to_string()),
        user_agent: user_agent(req),
    }
}

/// Whether htmx sent this request to swap a fragment (not a history restore or boost).
pub fn wants_fragment(req: &HttpRequest) -> bool {
    let h = req.headers();
    let is = |name: &str| h.get(name).is_some_and(|v| v.as_bytes() == b"true");
    is("hx-request") && !is("hx-history-restore-request") && !is("hx-boosted")
}
