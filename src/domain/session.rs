//! What a session is for. Stored as text in the `session` table; everywhere else this enum.

/// The kinds of sessions onramp opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// A signed-in user (admins too: admin rights are read from the user on every request):
    /// 30 minutes idle, 12 hours at most.
    User,
    /// A login whose password was right, waiting for the second factor: 5 minutes at most.
    SecondFactor,
    /// A password reset link being used: 10 minutes at most.
    Reset,
    /// A browser enrollment wizard, opened with an enrollment link.
    Enrollment,
    /// A desktop client's API session (`defguard_proxy` cookie), opened with a token.
    Api,
}

impl SessionKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::SecondFactor => "mfa",
            Self::Reset => "reset",
            Self::Enrollment => "enrollment",
            Self::Api => "api",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "user" => Some(Self::User),
            "mfa" => Some(Self::SecondFactor),
            "reset" => Some(Self::Reset),
            "enrollment" => Some(Self::Enrollment),
            "api" => Some(Self::Api),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in [
            SessionKind::User,
            SessionKind::SecondFactor,
            SessionKind::Reset,
            SessionKind::Enrollment,
            SessionKind::Api,
        ] {
            assert_eq!(SessionKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(SessionKind::parse("portal"), None);
    }
}
