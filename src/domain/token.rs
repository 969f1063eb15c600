//! What a token is for. Stored as text in the `token` table; everywhere else it is this enum.

/// What a token lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The full enrollment: set a password, optionally add a device.
    Enrollment,
    /// An enrolled user's desktop client: register exactly one device, never a password.
    Desktop,
}

impl Purpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enrollment => "enrollment",
            Self::Desktop => "desktop",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "enrollment" => Some(Self::Enrollment),
            "desktop" => Some(Self::Desktop),
            _ => None,
        }
    }
}

/// Shortest validity an admin may choose for an invitation, seconds (1 hour).
pub const MIN_VALIDITY: i64 = 3600;
/// Longest validity an admin may choose for an invitation, seconds (30 days).
pub const MAX_VALIDITY: i64 = 30 * 86_400;

/// Parses a chosen token validity such as `72h` or `7d`: 1 hour to 30 days.
pub fn parse_validity(raw: &str) -> Result<i64, String> {
    let refused = || {
        format!(
            "The validity must be between 1 hour and 30 days, written like 12h or 7d (got \"{}\").",
            raw.trim()
        )
    };
    let seconds = crate::config::parse_duration(raw)
        .map_err(|_| refused())?
        .whole_seconds();
    if (MIN_VALIDITY..=MAX_VALIDITY).contains(&seconds) {
        Ok(seconds)
    } else {
        Err(refused())
    }
}

/// Where a user's latest invitation (enrollment token) stands, for the users list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationState {
    /// Issued at this time, not opened yet.
    Sent(i64),
    /// Its link was first opened at this time.
    Opened(i64),
    /// The wizard was started at this time.
    Started(i64),
    /// It ended unused at this time.
    Expired(i64),
}

impl InvitationState {
    /// The state of a token issued at `created`, first opened at `opened`, started at
    /// `started`, dying at `dies`; `None` once it was used or revoked.
    pub fn of(
        created: i64,
        opened: Option<i64>,
        started: Option<i64>,
        dies: i64,
        finished: bool,
        now: i64,
    ) -> Option<Self> {
        if finished {
            return None;
        }
        Some(if dies <= now {
            Self::Expired(dies)
        } else if let Some(at) = started {
            Self::Started(at)
        } else if let Some(at) = opened {
            Self::Opened(at)
        } else {
            Self::Sent(created)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_round_trip() {
        for p in [Purpose::Enrollment, Purpose::Desktop] {
            assert_eq!(Purpose::parse(p.as_str()), Some(p));
        }
        assert_eq!(Purpose::parse("password_reset"), None);
    }

    #[test]
    fn validity_is_one_hour_to_thirty_days() {
        assert_eq!(parse_validity("1h"), Ok(3600));
        assert_eq!(parse_validity("30d"), Ok(30 * 86_400));
        assert!(parse_validity("59m").is_err());
        assert!(parse_validity("31d").is_err());
        assert!(parse_validity("soon").is_err());
    }
}
