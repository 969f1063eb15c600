//! `GET /health`: 200 when the database answers, 503 when it does not.

use crate::state::AppState;
use actix_web::{web, HttpResponse};
use std::time::Duration;

/// Longest a health check waits for the database.
const DEADLINE: Duration = Duration::from_secs(2);

/// Reports whether the database file is there and answers a query within the deadline.
pub async fn show_health(state: web::Data<AppState>) -> HttpResponse {
    let path = state.config.database.clone();
    let query = state.db.read(move |c| {
        // Open connections keep working on a deleted file; the operator wants to know.
        if !path.is_file() {
            return Err(crate::error::AppError::internal(anyhow::anyhow!(
                "database file missing"
            )));
        }
        Ok(
            c.query_row("SELECT count(*) FROM schema_migration", [], |r| {
                r.get::<_, i64>(0)
            })?,
        )
    });
    match tokio::time::timeout(DEADLINE, query).await {
        Ok(Ok(_)) => HttpResponse::Ok().json(serde_json::json!({"status": "ok"})),
        Ok(Err(e)) => unavailable(&e.to_string()),
        Err(_) => unavailable("timed out"),
    }
}

fn unavailable(reason: &str) -> HttpResponse {
    tracing::warn!(reason, "health check failed");
    HttpResponse::ServiceUnavailable()
        .json(serde_json::json!({"status": "unavailable", "error": "the database does not answer"}))
}
