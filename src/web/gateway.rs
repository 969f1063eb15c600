//! The gateway agent's API under `/api/gateway/v1`: its location's WireGuard state by
//! long-poll, and its report of what the interface sees. Authenticated with the location's
//! gateway token as `Authorization: Bearer …`; every error is `{"error": "…"}`.

use super::request::actor;
use crate::error::AppError;
use crate::services::gateways::{self as svc, GatewayConfig, PeerSeen};
use crate::state::AppState;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Header the agent names its version in.
pub const VERSION_HEADER: &str = "onramp-gateway-version";
/// Header the agent names its host in.
pub const HOST_HEADER: &str = "onramp-gateway-host";

/// Registers the gateway API.
pub fn scope() -> actix_web::Scope {
    web::scope("/api/gateway/v1")
        .app_data(
            web::JsonConfig::default()
                .limit(4 * 1024 * 1024)
                .error_handler(|_, _| {
                    actix_web::error::InternalError::from_response(
                        "bad json",
                        error(StatusCode::BAD_REQUEST, "The body must be a JSON report."),
                    )
                    .into()
                }),
        )
        .app_data(web::QueryConfig::default().error_handler(|_, _| {
            actix_web::error::InternalError::from_response(
                "bad query",
                error(StatusCode::BAD_REQUEST, "Unknown or malformed parameters."),
            )
            .into()
        }))
        .route("/config", web::get().to(show_config))
        .route("/status", web::post().to(submit_status))
}

fn error(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(serde_json::json!({ "error": message }))
}

fn app_error(e: AppError) -> HttpResponse {
    match e {
        AppError::Forbidden(m) => error(StatusCode::UNAUTHORIZED, &m),
        AppError::RateLimited(s) => {
            let mut res = error(StatusCode::TOO_MANY_REQUESTS, "Too many failed attempts.");
            if let Ok(v) = header::HeaderValue::from_str(&s.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
        AppError::NotFound => error(StatusCode::NOT_FOUND, "This location no longer exists."),
        other => {
            tracing::error!(error = format!("{other:#}"), "gateway api");
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

fn header_text(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().filter(|c| !c.is_control()).take(64).collect())
}

async fn location(req: &HttpRequest, state: &AppState) -> Result<i64, HttpResponse> {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            error(
                StatusCode::UNAUTHORIZED,
                "Send the gateway token as Authorization: Bearer <token>.",
            )
        })?;
    let who = actor(req, state, None);
    let id = svc::authenticate(state, &who, token)
        .await
        .map_err(app_error)?;
    svc::touch(
        state,
        id,
        header_text(req, VERSION_HEADER),
        header_text(req, HOST_HEADER),
    )
    .await
    .map_err(app_error)?;
    Ok(id)
}

/// The query of a config request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigQuery {
    /// The version the agent applied last.
    #[serde(default)]
    version: Option<String>,
    /// Seconds to wait for a change.
    #[serde(default)]
    wait: Option<u64>,
}

/// A peer on the wire.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WirePeer {
    /// Public key.
    pub public_key: String,
    /// Host networks.
    pub allowed_ips: Vec<String>,
}

/// The gateway state on the wire.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WireConfig {
    /// Send it back as `version` to wait for the next change.
    pub version: String,
    /// Location name.
    pub location: String,
    /// The gateway's public key.
    pub public_key: String,
    /// The gateway's private key, when onramp holds it.
    pub private_key: Option<String>,
    /// Listen port.
    pub listen_port: u16,
    /// The gateway's own tunnel addresses.
    pub addresses: Vec<String>,
    /// One per device that may connect.
    pub peers: Vec<WirePeer>,
}

impl From<GatewayConfig> for WireConfig {
    fn from(c: GatewayConfig) -> Self {
        Self {
            version: c.version,
            location: c.location,
            public_key: c.public_key,
            private_key: c.private_key,
            listen_port: c.listen_port,
            addresses: c.addresses,
            peers: c
                .peers
                .into_iter()
                .map(|p| WirePeer {
                    public_key: p.public_key,
                    allowed_ips: p.allowed_ips,
                })
                .collect(),
        }
    }
}

/// The location's state: at once when it differs from `version`, else when it changes,
/// else `204 No Content` after `wait` seconds (at most 30).
pub async fn show_config(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ConfigQuery>,
) -> HttpResponse {
    let id = match location(&req, &state).await {
        Ok(id) => id,
        Err(res) => return res,
    };
    let q = query.into_inner();
    let wait = Duration::from_secs(q.wait.unwrap_or(0));
    match svc::wait_for_config(&state, id, q.version, wait).await {
        Ok(Some(config)) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(WireConfig::from(config)),
        Ok(None) => HttpResponse::NoContent().finish(),
        Err(e) => app_error(e),
    }
}

/// One peer in a report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WirePeerSeen {
    /// Public key.
    pub public_key: String,
    /// Latest handshake, unix seconds; 0 or absent if never.
    #[serde(default)]
    pub last_handshake: Option<i64>,
    /// Bytes received from the peer.
    #[serde(default)]
    pub rx_bytes: i64,
    /// Bytes sent to the peer.
    #[serde(default)]
    pub tx_bytes: i64,
}

/// What the agent sees on its interface.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WireReport {
    /// Every peer of the interface.
    pub peers: Vec<WirePeerSeen>,
}

/// Stores the agent's report.
pub async fn submit_status(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<WireReport>,
) -> HttpResponse {
    let id = match location(&req, &state).await {
        Ok(id) => id,
        Err(res) => return res,
    };
    let peers = body
        .into_inner()
        .peers
        .into_iter()
        .map(|p| PeerSeen {
            public_key: p.public_key,
            last_handshake: p.last_handshake.filter(|t| *t > 0),
            rx_bytes: p.rx_bytes.max(0),
            tx_bytes: p.tx_bytes.max(0),
        })
        .collect();
    match svc::report(&state, id, peers).await {
        Ok(_) => HttpResponse::NoContent().finish(),
        Err(e) => app_error(e),
    }
}
