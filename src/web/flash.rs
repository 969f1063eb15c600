//! One-shot notices carried across a post-redirect-get in a short-lived cookie.

use super::session::{cookie, removal, FLASH_COOKIE};
use actix_web::cookie::Cookie;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// A notice kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Something worked.
    Notice,
    /// Something was refused.
    Error,
}

/// `303 See Other` to `location`, carrying a notice for the next page.
pub fn redirect_with(location: &str, kind: Kind, message: &str, https: bool) -> HttpResponse {
    let tag = match kind {
        Kind::Notice => 'n',
        Kind::Error => 'e',
    };
    let value = URL_SAFE_NO_PAD.encode(format!("{tag}{message}"));
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_owned()))
        .cookie(cookie(FLASH_COOKIE, value, https))
        .finish()
}

/// For an htmx request: a full page load of `location` (`HX-Redirect`), carrying a notice.
pub fn hx_redirect_with(location: &str, kind: Kind, message: &str, https: bool) -> HttpResponse {
    let mut res = redirect_with(location, kind, message, https);
    *res.status_mut() = actix_web::http::StatusCode::OK;
    res.headers_mut().remove(header::LOCATION);
    if let Ok(value) = header::HeaderValue::from_str(location) {
        res.headers_mut()
            .insert(header::HeaderName::from_static("hx-redirect"), value);
    }
    res
}

/// The notice carried by the request, if any.
pub fn take(req: &HttpRequest) -> Option<(Kind, String)> {
    let raw = req.cookie(FLASH_COOKIE)?;
    let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(raw.value()).ok()?).ok()?;
    let mut chars = decoded.chars();
    let kind = match chars.next()? {
        'n' => Kind::Notice,
        'e' => Kind::Error,
        _ => return None,
    };
    let message: String = chars.filter(|c| !c.is_control()).take(800).collect();
    Some((kind, message))
}

/// The carried notice split into (success, error) for views that show either.
pub fn notices(req: &HttpRequest) -> (Option<String>, Option<String>) {
    match take(req) {
        Some((Kind::Notice, m)) => (Some(m), None),
        Some((Kind::Error, m)) => (None, Some(m)),
        None => (None, None),
    }
}

/// Clears the notice cookie on the response that showed it.
pub fn clear_on(
    res: &mut HttpResponse,
    req: &HttpRequest,
    https: bool,
) -> Result<(), crate::error::AppError> {
    if req.cookie(FLASH_COOKIE).is_some() {
        let c: Cookie<'static> = removal(FLASH_COOKIE, https);
        res.add_cookie(&c)
            .map_err(crate::error::AppError::internal)?;
    }
    Ok(())
}
