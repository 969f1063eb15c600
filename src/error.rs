//! The application's error type. `Display` is what a person may read; the cause is in `source()`.

use crate::domain::FieldError;

/// Everything a use case can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Form input that breaks a rule; shown next to the fields.
    #[error("Some fields need your attention.")]
    Validation(Vec<FieldError>),
    /// A request that cannot be understood.
    #[error("{0}")]
    BadRequest(String),
    /// Nothing here.
    #[error("This page does not exist.")]
    NotFound,
    /// Not allowed, with the reason.
    #[error("{0}")]
    Forbidden(String),
    /// Too many attempts; try again after this many seconds.
    #[error("Too many attempts. Try again in {0} seconds.")]
    RateLimited(u64),
    /// The database did not answer in time.
    #[error("onramp is busy right now. Try again in a moment.")]
    Unavailable(#[source] anyhow::Error),
    /// A fault on our side; details go to the log only.
    #[error("Something went wrong on our side. Try again, and tell your administrator if it keeps happening.")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    /// A validation error for a single field.
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// Wraps an unexpected failure.
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Self::Internal(e.into())
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                Self::Unavailable(e.into())
            }
            _ => Self::Internal(e.into()),
        }
    }
}

impl From<r2d2::Error> for AppError {
    fn from(e: r2d2::Error) -> Self {
        Self::Unavailable(e.into())
    }
}
