//! Embedded static files. A request whose hash matches the content is cached for a year.

use crate::assets::{hash_of, Assets};
use crate::error::AppError;
use actix_web::http::header;
use actix_web::{web, HttpResponse};

/// Serves `/assets/<hash>/<path>`.
pub async fn show_asset(path: web::Path<(String, String)>) -> Result<HttpResponse, AppError> {
    let (hash, file) = path.into_inner();
    let data = Assets::get(&file).ok_or(AppError::NotFound)?;
    let mime = mime_guess::from_path(&file).first_or_octet_stream();
    let cache = if hash_of(&file) == Some(hash.as_str()) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Ok(HttpResponse::Ok()
        .content_type(format!("{}; charset=utf-8", mime.essence_str()))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(data.data.into_owned()))
}
