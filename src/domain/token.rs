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
