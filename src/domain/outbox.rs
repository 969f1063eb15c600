//! Where an email in the outbox stands. Stored as text; everywhere else this enum.

/// An outbox email's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxStatus {
    /// Waiting for its next attempt.
    Queued,
    /// Handed to the worker; back to queued if onramp stops mid-send.
    Sending,
    /// Accepted by the SMTP server.
    Sent,
    /// Given up after the last attempt (or a test email that failed).
    Failed,
}

impl OutboxStatus {
    /// Every status, in the order pages list them.
    pub const ALL: [OutboxStatus; 4] = [Self::Queued, Self::Sending, Self::Sent, Self::Failed];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for s in OutboxStatus::ALL {
            assert_eq!(OutboxStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(OutboxStatus::parse("bounced"), None);
    }
}
