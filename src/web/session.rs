//! The admin session cookie and the extractor that requires it.

use super::request::wants_fragment;
use crate::crypto::constant_time_eq;
use crate::error::AppError;
use crate::services::auth::{self, AdminSession, UserSession};
use crate::state::AppState;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use std::future::Future;
use std::pin::Pin;

/// Name of the session cookie; `__Host-` bound to the origin when served over https.
pub fn session_cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-onramp_session"
    } else {
        "onramp_session"
    }
}

/// Name of the cookie holding the login form's CSRF token.
pub fn login_csrf_cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-onramp_login"
    } else {
        "onramp_login"
    }
}

/// The CSRF token of a form shown before any session (login, password reset request): the
/// browser's current one when it has a well-formed one, else a new one. The caller sets it as
/// the [`login_csrf_cookie_name`] cookie on its response.
pub fn pre_session_token(req: &HttpRequest, https: bool) -> String {
    req.cookie(login_csrf_cookie_name(https))
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 43)
        .unwrap_or_else(|| crate::crypto::random_alphanumeric(43))
}

/// Checks a form posted before any session (login, password reset request): same-origin
/// (an error), then its token against the [`login_csrf_cookie_name`] cookie (`false` when
/// the form expired, so the caller can show it again with a message).
pub fn pre_session_form_ok(
    req: &HttpRequest,
    state: &AppState,
    form_token: &str,
) -> Result<bool, AppError> {
    verify_origin(req, state)?;
    let expected = req
        .cookie(login_csrf_cookie_name(state.config.is_https()))
        .map(|c| c.value().to_owned());
    Ok(expected.is_some_and(|e| constant_time_eq(&e, form_token)))
}

/// Name of the one-shot notice cookie shown after a redirect.
pub const FLASH_COOKIE: &str = "onramp_flash";

/// A cookie with the house attributes: HttpOnly, SameSite=Strict, Path=/, Secure on https.
pub fn cookie(name: &'static str, value: String, https: bool) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(https)
        .finish()
}

/// A cookie that tells the browser to forget `name`.
pub fn removal(name: &'static str, https: bool) -> Cookie<'static> {
    let mut c = cookie(name, String::new(), https);
    c.make_removal();
    c
}

/// Not signed in, or not allowed here: send the browser elsewhere (the login page, the
/// two-factor set-up, or a non-admin's own account page).
#[derive(Debug)]
pub struct Redirect {
    htmx: bool,
    to: &'static str,
}

impl std::fmt::Display for Redirect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "redirect to {}", self.to)
    }
}

impl ResponseError for Redirect {
    fn error_response(&self) -> HttpResponse {
        if self.htmx {
            // htmx follows this with a full page load.
            HttpResponse::Ok()
                .insert_header(("HX-Redirect", self.to))
                .finish()
        } else {
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, self.to))
                .finish()
        }
    }
}

/// Where a user who must set up two-factor first is sent; only these paths (and logout) work
/// until they have.
pub const MFA_SETUP_PATH: &str = "/me/two-factor";

/// The login page for a path: both addresses serve the same form; an admin bookmark keeps its
/// own.
pub fn login_path(path: &str) -> &'static str {
    if path.starts_with("/admin") {
        "/admin/login"
    } else {
        "/login"
    }
}

/// The signed-in user of a request, or the redirect that applies.
async fn signed_in(req: &HttpRequest) -> Result<UserSession, actix_web::Error> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no app state")))?
        .clone();
    let name = session_cookie_name(state.config.is_https());
    let htmx = wants_fragment(req) || req.headers().contains_key("hx-request");
    let to = login_path(req.path());
    let Some(value) = req.cookie(name).map(|c| c.value().to_owned()) else {
        return Err(Redirect { htmx, to }.into());
    };
    let Some(session) = auth::authenticate(&state, &value).await? else {
        return Err(Redirect { htmx, to }.into());
    };
    let path = req.path();
    if session.must_set_up_mfa && !path.starts_with(MFA_SETUP_PATH) && path != "/logout" {
        return Err(Redirect {
            htmx,
            to: MFA_SETUP_PATH,
        }
        .into());
    }
    Ok(session)
}

impl FromRequest for UserSession {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { signed_in(&req).await })
    }
}

impl FromRequest for AdminSession {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let session = signed_in(&req).await?;
            // Someone without admin rights who opens an admin page lands on their own account.
            let mut admin = session.admin().ok_or_else(|| {
                let htmx = wants_fragment(&req) || req.headers().contains_key("hx-request");
                actix_web::Error::from(Redirect { htmx, to: "/me" })
            })?;
            // Only whole pages have the header that links to the checklist.
            let fragment = wants_fragment(&req) || req.headers().contains_key("hx-request");
            if let (false, Some(state)) = (fragment, req.app_data::<web::Data<AppState>>()) {
                admin.checklist_link = !state.db.read(crate::services::setup::hidden).await?;
            }
            Ok(admin)
        })
    }
}

/// Checks that a state-changing request comes from our own pages (docs/security.md, item 12):
/// `Sec-Fetch-Site: same-origin` when the browser sends it, else an `Origin` equal to the
/// public URL's; then the synchronizer token, from the `X-CSRF-Token` header or the form.
pub fn verify_csrf(
    req: &HttpRequest,
    state: &AppState,
    expected: &str,
    form_token: Option<&str>,
) -> Result<(), AppError> {
    verify_origin(req, state)?;
    let header_token = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok());
    let given = header_token.or(form_token).unwrap_or_default();
    if given.is_empty() || !constant_time_eq(given, expected) {
        return Err(AppError::Forbidden(
            "This form has expired. Go back, reload the page and try again.".into(),
        ));
    }
    Ok(())
}

/// The origin half of [`verify_csrf`], for forms without a session (login).
pub fn verify_origin(req: &HttpRequest, state: &AppState) -> Result<(), AppError> {
    let refuse =
        || AppError::Forbidden("This request came from another site and was refused.".into());
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        // Chromium sends `Origin: null` on same-origin posts from no-referrer pages, so the
        // fetch metadata decides when present.
        return if site == "same-origin" {
            Ok(())
        } else {
            Err(refuse())
        };
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => Ok(()),
        Some(origin) if origin == public_origin(&state.config.public_url) => Ok(()),
        Some(_) => Err(refuse()),
    }
}

/// `scheme://host[:port]` of the public URL.
fn public_origin(public_url: &str) -> &str {
    let after_scheme = public_url.find("://").map_or(0, |i| i + 3);
    match public_url[after_scheme..].find('/') {
        Some(i) => &public_url[..after_scheme + i],
        None => public_url,
    }
}

/// The checks every signed-in POST starts with: same-origin and the session's CSRF token.
/// Returns the acting user for the audit log.
pub fn user_post(
    req: &HttpRequest,
    state: &AppState,
    session: &UserSession,
    form_token: Option<&str>,
) -> Result<crate::services::Actor, AppError> {
    verify_csrf(req, state, &session.csrf_token, form_token)?;
    Ok(super::request::actor(
        req,
        state,
        Some((&session.username, session.user_id)),
    ))
}

/// The checks every admin POST starts with: same-origin and the session's CSRF token. Returns
/// the acting admin for the audit log.
pub fn admin_post(
    req: &HttpRequest,
    state: &AppState,
    session: &AdminSession,
    form_token: Option<&str>,
) -> Result<crate::services::Actor, AppError> {
    verify_csrf(req, state, &session.csrf_token, form_token)?;
    Ok(super::request::actor(
        req,
        state,
        Some((&session.username, session.user_id)),
    ))
}

#[cfg(test)]
mod tests {
    use super::public_origin;

    #[test]
    fn origin_of_public_url() {
        assert_eq!(
            public_origin("https://vpn.example.com"),
            "https://vpn.example.com"
        );
        assert_eq!(
            public_origin("http://localhost:8080/onramp"),
            "http://localhost:8080"
        );
    }
}
