//! How an [`AppError`] becomes a response: an error page, or JSON under `/api`.

use super::{state_of, viewer};
use crate::error::AppError;
use crate::services::auth::AdminSession;
use crate::services::bootstrap::instance_name;
use crate::views::errors::{error_page, WayOn};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpResponse, ResponseError};

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if let AppError::Internal(e) | AppError::Unavailable(e) = self {
            tracing::error!(
                error = format!("{e:#}"),
                status = status.as_u16(),
                "request failed"
            );
        }
        let heading = self.heading();
        let mut res = HttpResponse::build(status);
        if let AppError::RateLimited(secs) = self {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        res.content_type("text/html; charset=utf-8").body(
            error_page(
                status.as_u16(),
                heading,
                &self.to_string(),
                "onramp",
                None,
                &WayOn::default(),
            )
            .into_string(),
        )
    }
}

impl AppError {
    /// The heading of this error's page.
    fn heading(&self) -> &'static str {
        match self.status_code() {
            StatusCode::NOT_FOUND => "Page not found",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => "Cannot do that",
            StatusCode::SERVICE_UNAVAILABLE => "Busy",
            _ => "Something went wrong",
        }
    }
}

/// The page of the user a request under `/admin/users/{id}/…` was about; the user page
/// itself failing means there is no such page to go to.
fn user_page_of(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/admin/users/")?;
    let (id, action) = rest.split_once('/')?;
    let id: i64 = id.parse().ok()?;
    (!action.is_empty()).then(|| format!("/admin/users/{id}"))
}

/// Dresses an error page in the instance's name and, for a logged-in admin, the admin
/// navigation; [`ResponseError`] has no request to learn either from. Form errors (422)
/// are not pages, and the JSON APIs keep their bodies.
pub async fn dress_error_pages(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let res = next.call(req).await?;
    let Some(error) = res
        .response()
        .error()
        .and_then(|e| e.as_error::<AppError>())
    else {
        return Ok(res.map_into_left_body());
    };
    let status = res.status();
    let path = res.request().path();
    if status == StatusCode::UNPROCESSABLE_ENTITY || path == "/api" || path.starts_with("/api/") {
        return Ok(res.map_into_left_body());
    }
    let (heading, message) = (error.heading(), error.to_string());
    let req = res.request().clone();
    let Ok(state) = state_of(&req) else {
        return Ok(res.map_into_left_body());
    };
    let instance = instance_name(&state)
        .await
        .unwrap_or_else(|_| "onramp".into());
    let session = AdminSession::extract(&req).await.ok();
    let viewer = session.as_ref().map(viewer);
    let way_on = WayOn {
        user_page: viewer.as_ref().and(user_page_of(req.path())),
    };
    let page = error_page(
        status.as_u16(),
        heading,
        &message,
        &instance,
        viewer.as_ref(),
        &way_on,
    );
    let (req, mut old) = res.into_parts();
    let mut fresh = HttpResponse::build(status);
    for (name, value) in old.headers_mut().drain() {
        if let Some(name) = name {
            if name != header::CONTENT_LENGTH {
                fresh.append_header((name, value));
            }
        }
    }
    let fresh = fresh.body(page.into_string());
    Ok(ServiceResponse::new(req, fresh).map_into_right_body())
}

#[cfg(test)]
mod tests {
    use super::user_page_of;

    #[test]
    fn errors_about_one_user_lead_to_their_page() {
        assert_eq!(
            user_page_of("/admin/users/7/enrollment").as_deref(),
            Some("/admin/users/7")
        );
        assert_eq!(user_page_of("/admin/users/7"), None);
        assert_eq!(user_page_of("/admin/users/new/x"), None);
        assert_eq!(user_page_of("/admin/locations/7/edit"), None);
    }
}
