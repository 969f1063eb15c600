//! Headers on every response (SECURITY.md 13) and a guard so a panicking handler answers
//! 500 instead of taking its worker down (SECURITY.md 25).

use crate::error::AppError;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::{DefaultHeaders, Next};
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;

const CSP: &str =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// The security headers; handlers that set their own `Cache-Control` keep it.
pub fn security_headers(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add(("Content-Security-Policy", CSP))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
        .add(("Cross-Origin-Resource-Policy", "same-origin"))
        .add((
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=()",
        ))
        .add(("Cache-Control", "no-store"));
    if https {
        headers.add(("Strict-Transport-Security", "max-age=31536000"))
    } else {
        headers
    }
}

/// Turns a panic inside a handler into a plain 500.
pub async fn catch_panics(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    match AssertUnwindSafe(next.call(req)).catch_unwind().await {
        Ok(result) => result,
        Err(_) => {
            tracing::error!("a request handler panicked");
            Err(AppError::internal(anyhow::anyhow!("handler panicked")).into())
        }
    }
}

/// Answers `HEAD` wherever `GET` works. Routes are registered for GET; a HEAD is routed as a
/// GET, and the HTTP layer, which remembers the request was a HEAD, sends the headers only.
/// GET handlers change nothing, so neither does a HEAD.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}
