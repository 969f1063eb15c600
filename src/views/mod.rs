//! HTML, with maud only. Every fragment is one function used both by its full page and by
//! the htmx response that swaps it in.

pub mod audit;
pub mod components;
pub mod enroll;
pub mod errors;
pub mod gateways;
pub mod groups;
pub mod layout;
pub mod locations;
pub mod login;
pub mod outbox;
pub mod settings;
pub mod tokens;
pub mod users;

use time::OffsetDateTime;

/// Formats unix seconds as `2026-11-24 14:05 UTC`.
pub fn format_time(unix: i64) -> String {
    let Ok(t) = OffsetDateTime::from_unix_timestamp(unix) else {
        return String::from("-");
    };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}
