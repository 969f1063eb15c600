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
}
