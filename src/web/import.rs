//! "Import users": a CSV upload (multipart), its dry run, and the confirmation.

use super::flash::{self, Kind};
use super::session::admin_post;
use super::{html, viewer};
use crate::domain::import::MAX_BYTES;
use crate::domain::FieldError;
use crate::error::AppError;
use crate::services::auth::AdminSession;
use crate::services::bootstrap::instance_name;
use crate::services::import as svc;
use crate::services::settings::{effective_smtp, get_settings};
use crate::state::AppState;
use crate::views::import as view;
use actix_multipart::Multipart;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;

/// Where files are uploaded; the only route that takes a body larger than a form.
pub const UPLOAD_PATH: &str = "/admin/users/import";
/// Largest upload body: the file plus the multipart framing and the CSRF field.
pub const UPLOAD_LIMIT: usize = MAX_BYTES + 64 * 1024;

const TOO_LARGE: &str = "The file is larger than 5 MB. Split it into smaller files.";

/// The upload form.
pub async fn show_import(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
) -> Result<HttpResponse, AppError> {
    let instance = instance_name(&state).await?;
    let (_, error) = flash::notices(&req);
    let mut res = html(
        StatusCode::OK,
        view::import_page(&instance, &viewer(&session), &[], error.as_deref()),
    );
    flash::clear_on(&mut res, &req, state.config.is_https())?;
    Ok(res)
}

/// The upload's fields: the CSRF token and the file.
#[derive(Default)]
struct Upload {
    csrf_token: Option<String>,
    file: Option<Vec<u8>>,
    too_large: bool,
}

async fn read_upload(mut payload: Multipart) -> Result<Upload, AppError> {
    let unreadable =
        || AppError::BadRequest("The upload could not be read. Choose the file again.".into());
    let mut upload = Upload::default();
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|_| unreadable())?;
        let name = field.name().unwrap_or_default().to_owned();
        let mut data = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| unreadable())?;
            if data.len() + chunk.len() > MAX_BYTES {
                upload.too_large = true;
                break;
            }
            data.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "csrf_token" => upload.csrf_token = String::from_utf8(data).ok(),
            "file" => upload.file = Some(data),
            _ => return Err(unreadable()),
        }
    }
    Ok(upload)
}

/// Checks an uploaded file and shows the dry run; nothing is added.
pub async fn submit_import(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let upload = if declared.is_some_and(|n| n > UPLOAD_LIMIT) {
        Upload {
            too_large: true,
            ..Upload::default()
        }
    } else {
        read_upload(payload).await?
    };
    if !upload.too_large {
        admin_post(&req, &state, &session, upload.csrf_token.as_deref())?;
    }
    let instance = instance_name(&state).await?;
    let v = viewer(&session);
    let refuse = |message: &str| {
        html(
            StatusCode::UNPROCESSABLE_ENTITY,
            view::import_page(&instance, &v, &[FieldError::new("file", message)], None),
        )
    };
    let file = match upload {
        Upload {
            too_large: true, ..
        } => return Ok(refuse(TOO_LARGE)),
        Upload { file: Some(f), .. } if !f.is_empty() => f,
        _ => return Ok(refuse("Choose a CSV file to upload.")),
    };
    let plan = match svc::dry_run(&state, file).await {
        Ok(plan) => plan,
        Err(AppError::Validation(errors)) => {
            return Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                view::import_page(&instance, &v, &errors, None),
            ))
        }
        Err(e) => return Err(e),
    };
    let import_id = if plan.errors() == 0 && !plan.creates.is_empty() {
        Some(svc::stash(&state, &session.id_hash, &plan).await?)
    } else {
        None
    };
    let settings = get_settings(&state).await?;
    let checked = view::Checked {
        plan: &plan,
        import_id: import_id.as_deref(),
        smtp_configured: effective_smtp(&state, &settings).is_some(),
    };
    let status = if plan.errors() > 0 {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(html(status, view::checked_page(&instance, &v, &checked)))
}

/// The confirmation form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmForm {
    #[serde(default)]
    csrf_token: Option<String>,
    import: String,
    #[serde(default)]
    delivery: String,
}

/// Adds everyone of a checked file, or no one.
pub async fn submit_confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: AdminSession,
    form: web::Form<ConfirmForm>,
) -> Result<HttpResponse, AppError> {
    let who = admin_post(&req, &state, &session, form.csrf_token.as_deref())?;
    let invite = match form.delivery.as_str() {
        "email" => true,
        "none" => false,
        _ => {
            return Err(AppError::BadRequest(
                "Choose whether to send invitations by email.".into(),
            ))
        }
    };
    let https = state.config.is_https();
    match svc::confirm(&state, &who, &session.id_hash, &form.import, invite).await {
        Ok(summary) => {
            let mut message = format!(
                "Imported {} {}.",
                summary.created,
                if summary.created == 1 {
                    "user"
                } else {
                    "users"
                }
            );
            if invite {
                message.push_str(&format!(
                    " {} invitation {} queued in the Outbox.",
                    summary.invited,
                    if summary.invited == 1 {
                        "email is"
                    } else {
                        "emails are"
                    }
                ));
            }
            Ok(flash::redirect_with(
                "/admin/users",
                Kind::Notice,
                &message,
                https,
            ))
        }
        Err(AppError::BadRequest(message)) => Ok(flash::redirect_with(
            "/admin/users/import",
            Kind::Error,
            &message,
            https,
        )),
        Err(e) => Err(e),
    }
}
