//! Groups of users: the name rule.

use super::{has_control_chars, FieldError};
use std::fmt;

/// Longest group name, in characters.
const NAME_MAX: usize = 64;

/// A group name: 1–64 characters without line breaks or control characters, spaces at
/// either end removed. Unique without regard to case (`Ops` and `ops` are one group).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupName(String);

impl GroupName {
    /// Parses a group name typed into the form field `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim_matches(' ');
        if s.is_empty() {
            return Err(FieldError::new(
                field,
                "Enter a name for the group, such as ops.",
            ));
        }
        if has_control_chars(s) || s.chars().count() > NAME_MAX {
            return Err(FieldError::new(
                field,
                "A group name is at most 64 characters, without line breaks or control characters.",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The validated text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GroupName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(GroupName::parse("name", "  ops ").unwrap().as_str(), "ops");
        assert_eq!(
            GroupName::parse("name", "Zoë's team (ąę)")
                .unwrap()
                .as_str(),
            "Zoë's team (ąę)"
        );
        assert!(GroupName::parse("name", "   ").is_err());
        assert!(GroupName::parse("name", "a\nb").is_err());
        assert!(GroupName::parse("name", "x\u{202E}y").is_err());
        assert!(GroupName::parse("name", &"x".repeat(64)).is_ok());
        assert!(GroupName::parse("name", &"x".repeat(65)).is_err());
    }
}
