//! Password policy (ASVS 5.0): 12–128 Unicode characters, no composition rules,
//! common and context-guessable passwords rejected by zxcvbn.

use std::fmt;

/// Fewest characters in a password.
pub const MIN_CHARS: usize = 12;
/// Most characters in a password.
pub const MAX_CHARS: usize = 128;
/// Bytes of input looked at before counting characters (4 bytes per character at most).
const MAX_BYTES: usize = MAX_CHARS * 4;

/// Why a password was refused, as a sentence for the person choosing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordRejected(pub String);

impl fmt::Display for PasswordRejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PasswordRejected {}

/// A password that passed the policy. Its Debug output hides it.
#[derive(Clone)]
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    /// The password's text, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Checks a new password against the policy; `context` holds the user's names, email,
    /// username and the instance name, which make a password guessable.
    pub fn new(raw: &str, context: &[&str]) -> Result<Self, PasswordRejected> {
        assess(raw, context).verdict?;
        Ok(Self(raw.to_owned()))
    }
}

/// How strong a password looks, for the live meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    /// Nothing typed yet.
    Empty,
    /// Refused by the policy.
    Weak,
    /// Accepted.
    Good,
    /// Accepted with room to spare.
    Strong,
}

/// A password's strength and, when refused, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// The meter's level.
    pub strength: Strength,
    /// `Ok` when the policy accepts the password.
    pub verdict: Result<(), PasswordRejected>,
}

/// Judges a password by the policy: the one rule behind [`Password::new`] and the meter.
pub fn assess(raw: &str, context: &[&str]) -> Assessment {
    let weak = |e: PasswordRejected| Assessment {
        strength: if raw.is_empty() {
            Strength::Empty
        } else {
            Strength::Weak
        },
        verdict: Err(e),
    };
    if let Err(e) = check_length(raw) {
        return weak(e);
    }
    let mut words: Vec<&str> = context.iter().copied().filter(|w| !w.is_empty()).collect();
    // The parts of an email address are guessable on their own.
    let parts: Vec<&str> = context
        .iter()
        .flat_map(|w| w.split(['@', '.', '_', '-', ' ']))
        .filter(|w| w.len() >= 3)
        .collect();
    words.extend(parts);
    let estimate = zxcvbn::zxcvbn(raw, &words);
    let lowered = raw.to_lowercase();
    let has_context = words
        .iter()
        .any(|w| w.chars().count() >= 4 && lowered.contains(&w.to_lowercase()));
    if has_context && estimate.score() < zxcvbn::Score::Four {
        return weak(PasswordRejected(
            "This password contains your name, username or email; choose one that does not.".into(),
        ));
    }
    if estimate.score() < zxcvbn::Score::Three {
        let hint = estimate
            .feedback()
            .and_then(|f| f.warning())
            .map(|w| sentence_after_colon(&w.to_string()))
            .unwrap_or_default();
        return weak(PasswordRejected(format!(
            "This password is too easy to guess{hint} Try a longer phrase of unrelated words."
        )));
    }
    Assessment {
        strength: if estimate.score() == zxcvbn::Score::Four {
            Strength::Strong
        } else {
            Strength::Good
        },
        verdict: Ok(()),
    }
}

/// ": this is a very common password." from zxcvbn's "This is a very common password.";
/// "." when there is no warning to add.
fn sentence_after_colon(warning: &str) -> String {
    let w = warning.trim().trim_end_matches('.');
    let mut chars = w.chars();
    match chars.next() {
        None => ".".into(),
        Some(first) => format!(": {}{}.", first.to_lowercase(), chars.as_str()),
    }
}

/// Checks only the length rule; cheap, so it runs before anything is hashed.
pub fn check_length(raw: &str) -> Result<(), PasswordRejected> {
    if raw.len() > MAX_BYTES || raw.chars().count() > MAX_CHARS {
        return Err(PasswordRejected(format!(
            "A password can be at most {MAX_CHARS} characters."
        )));
    }
    if raw.chars().count() < MIN_CHARS {
        return Err(PasswordRejected(format!(
            "A password needs at least {MIN_CHARS} characters."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_counts_unicode_characters() {
        assert!(check_length("ąęśćżźńółąęś").is_ok()); // 12 characters, 24 bytes
        assert!(check_length("short").is_err());
        assert!(check_length(&"x".repeat(129)).is_err());
        assert!(check_length(&"x".repeat(100_000)).is_err());
    }

    #[test]
    fn common_and_context_passwords_are_rejected() {
        assert!(Password::new("password1234", &[]).is_err());
        assert!(Password::new("qwertyuiop123", &[]).is_err());
        let ctx = [
            "Jan",
            "Nowakowski",
            "jan.nowakowski@example.com",
            "jnowakowski",
            "Acme VPN",
        ];
        assert!(Password::new("nowakowski2024", &ctx).is_err());
        assert!(Password::new("correct horse battery staple", &ctx).is_ok());
        assert!(Password::new("plum-orbit-velvet-42", &ctx).is_ok());
        let common = assess("password1234", &[]);
        assert_eq!(common.strength, Strength::Weak);
        let message = common.verdict.expect_err("refused").0;
        assert!(
            !message.contains("(") && !message.contains(".."),
            "{message}"
        );
        assert_eq!(assess("", &[]).strength, Strength::Empty);
    }

    #[test]
    fn no_composition_rules() {
        assert!(Password::new("zebra kettle mountain quietly", &[]).is_ok());
    }

    #[test]
    fn debug_hides_the_password() {
        let p = Password::new("zebra kettle mountain quietly", &[]).unwrap();
        assert_eq!(format!("{p:?}"), "Password(***)");
    }
}
