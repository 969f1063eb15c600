//! Headers on every response (docs/security.md, item 13) and a guard so a panicking handler answers
//! 500 instead of taking its worker down (docs/security.md, item 25).

use crate::error::AppError;
use crate::state::AppState;
use actix_web::body::EitherBody;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::{DefaultHeaders, Next};
use actix_web::{web, HttpMessage, HttpResponse};
use futures_util::FutureExt;
use futures_util::StreamExt;
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

/// Reads the request body within [`crate::config::Config::body_timeout`], before any handler
/// waits for it, and answers `408` and closes the connection when the client is slower. A
/// body trickling in at a byte a second would otherwise hold its connection, and its file
/// descriptor, for as long as the client likes. At most one byte more than the largest body
/// any route takes is read; the extractors then refuse it as too large.
pub async fn read_body_in_time(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let expects_body = req.headers().contains_key(header::CONTENT_LENGTH)
        || req.headers().contains_key(header::TRANSFER_ENCODING);
    let deadline = req
        .app_data::<web::Data<AppState>>()
        .map_or(crate::config::BODY_TIMEOUT, |s| s.config.body_timeout);
    if !expects_body {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    // Only the CSV upload takes more than a form.
    let limit = if req.method() == Method::POST && req.path() == super::import::UPLOAD_PATH {
        super::import::UPLOAD_LIMIT
    } else {
        super::FORM_LIMIT
    };
    let mut payload = req.take_payload();
    let read = async {
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk: web::Bytes = chunk?;
            body.extend_from_slice(&chunk);
            if body.len() > limit {
                break;
            }
        }
        Ok::<_, actix_web::error::PayloadError>(body.freeze())
    };
    match tokio::time::timeout(deadline, read).await {
        Ok(Ok(body)) => {
            req.set_payload(actix_web::dev::Payload::from(body));
            next.call(req)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
        Ok(Err(e)) => Err(e.into()),
        Err(_) => {
            tracing::info!("request body not received in time");
            let res = HttpResponse::RequestTimeout()
                .force_close()
                .content_type("text/plain; charset=utf-8")
                .body("The request body did not arrive in time.");
            Ok(req.into_response(res).map_into_right_body())
        }
    }
}
