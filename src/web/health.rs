//! `GET /health`: 200 when the database answers, 503 when it does not.

use crate::state::AppState;
use actix_web::{web, HttpResponse};

/// Reports whether the database answers.
pub async fn show_health(state: web::Data<AppState>) -> HttpResponse {
    let ok = state
        .db
        .read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
        .await
        .is_ok();
    if ok {
        HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
    } else {
        HttpResponse::ServiceUnavailable().json(serde_json::json!({"status": "unavailable", "error": "the database does not answer"}))
    }
}
