//! HTML, with maud only. Every fragment is one function used both by its full page and by
//! the htmx response that swaps it in.

pub mod account;
pub mod api_tokens;
pub mod apps;
pub mod audit;
pub mod bulk;
pub mod components;
pub mod enroll;
pub mod errors;
pub mod gateways;
pub mod groups;
pub mod import;
pub mod invitations;
pub mod layout;
pub mod locations;
pub mod login;
pub mod oidc;
pub mod outbox;
pub mod reset;
pub mod settings;
pub mod setup;
pub mod sign_in_admin;
pub mod tokens;
pub mod user_page;
pub mod users;

use maud::{html, Markup};
use time::OffsetDateTime;

/// Unix seconds as a `datetime` attribute: `2026-11-24T14:05:00Z`.
pub fn iso_time(unix: i64) -> Option<String> {
    let t = OffsetDateTime::from_unix_timestamp(unix).ok()?;
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    ))
}

/// A moment as a `<time>`: UTC as text (`2026-11-24 14:05 UTC`), which app.js turns into the
/// reader's local time and how far away it is.
pub fn time_tag(unix: i64) -> Markup {
    match iso_time(unix) {
        Some(iso) => html! { time datetime=(iso) data-local { (format_time(unix)) } },
        None => html! { "-" },
    }
}

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

/// How long ago `then` was, seen at `now` (both unix seconds): "never", "just now",
/// "3 minutes ago", "2 days ago".
pub fn time_ago(now: i64, then: Option<i64>) -> String {
    let Some(then) = then else {
        return String::from("never");
    };
    let seconds = now.saturating_sub(then);
    let (n, unit) = match seconds {
        ..=9 => return String::from("just now"),
        10..=59 => (seconds, "second"),
        60..=3_599 => (seconds / 60, "minute"),
        3_600..=86_399 => (seconds / 3_600, "hour"),
        _ => (seconds / 86_400, "day"),
    };
    let plural = if n == 1 { "" } else { "s" };
    format!("{n} {unit}{plural} ago")
}

/// "1 device", "4 devices": a count with its noun in the right number (`plural` for the
/// irregular ones, e.g. "people").
pub fn count_of(n: impl Into<i64>, singular: &str, plural: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { singular } else { plural })
}

#[cfg(test)]
mod tests {
    use super::{time_ago, time_tag};

    #[test]
    fn a_time_tag_shows_utc_and_carries_the_moment() {
        assert_eq!(
            time_tag(1_764_590_700).into_string(),
            r#"<time datetime="2025-12-01T12:05:00Z" data-local>2025-12-01 12:05 UTC</time>"#
        );
    }

    #[test]
    fn times_read_as_people_say_them() {
        let now = 1_000_000;
        assert_eq!(time_ago(now, None), "never");
        assert_eq!(time_ago(now, Some(now + 5)), "just now");
        assert_eq!(time_ago(now, Some(now - 3)), "just now");
        assert_eq!(time_ago(now, Some(now - 45)), "45 seconds ago");
        assert_eq!(time_ago(now, Some(now - 60)), "1 minute ago");
        assert_eq!(time_ago(now, Some(now - 180)), "3 minutes ago");
        assert_eq!(time_ago(now, Some(now - 7_300)), "2 hours ago");
        assert_eq!(time_ago(now, Some(now - 86_400 * 3)), "3 days ago");
    }
}
