//! Who a user is: validated names, email and phone.

use super::{has_control_chars, FieldError};
use std::fmt;

macro_rules! string_newtype {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);
        impl $name {
            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_newtype!(
    /// `^[a-z][a-z0-9._-]{2,31}$`.
    Username
);
string_newtype!(
    /// A first or last name: 1–64 characters, no control characters.
    PersonName
);
string_newtype!(
    /// An email address accepted by lettre's parser, at most 254 characters.
    Email
);
string_newtype!(
    /// A phone number: optional +, then digits with spaces, dashes, dots or parentheses; 5–15 digits.
    Phone
);

impl Username {
    /// Parses a username for the form field `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim_matches(' ');
        if s.is_empty() {
            return Err(FieldError::new(field, "Enter a username."));
        }
        let len = s.chars().count();
        let mut chars = s.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
        let rest_ok =
            chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
        if !(3..=32).contains(&len) || !first_ok || !rest_ok {
            return Err(FieldError::new(
                field,
                "A username is 3–32 characters: lowercase letters, digits, dots, dashes and underscores, starting with a letter.",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// Wraps a value read back from the database, which was validated when written.
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

impl PersonName {
    /// Parses a first or last name; `label` names it in the message.
    pub fn parse(field: &'static str, label: &str, raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim_matches(' ');
        if s.is_empty() {
            return Err(FieldError::new(field, format!("Enter the {label}.")));
        }
        if has_control_chars(s) {
            return Err(FieldError::new(
                field,
                format!("The {label} cannot contain line breaks or control characters."),
            ));
        }
        if s.chars().count() > 64 {
            return Err(FieldError::new(
                field,
                format!("The {label} can be at most 64 characters."),
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

impl Email {
    /// Parses an email address with the rules the mail sender applies: lettre's `Mailbox`
    /// parser (what `mail::build_message` uses for the recipient) must read it as exactly this
    /// address, and the address must be a plain `local@host.name`. Quoted local parts
    /// (`"x y"@example.com`) and address literals (`a@[127.0.0.1]`) are valid in RFC 5321 but
    /// the sender refuses them, so accepting them would only queue mail that cannot go out.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim_matches(' ');
        if s.is_empty() {
            return Err(FieldError::new(field, "Enter an email address."));
        }
        if s.len() > 254 || has_control_chars(s) {
            return Err(FieldError::new(
                field,
                "Enter a valid email address, such as jan@example.com.",
            ));
        }
        let plain = !s.contains(['"', '[', ']', '<', '>', ' ', '(', ')', ',', ';', '\\']);
        let sendable = s
            .parse::<lettre::message::Mailbox>()
            .is_ok_and(|m| m.name.is_none() && m.email.to_string() == s);
        if plain && sendable && s.parse::<lettre::Address>().is_ok() {
            Ok(Self(s.to_owned()))
        } else {
            Err(FieldError::new(
                field,
                format!("\"{s}\" is not a valid email address; use the form name@example.com."),
            ))
        }
    }
}

impl Phone {
    /// Parses an optional phone number; empty input is `None`.
    pub fn parse_optional(field: &'static str, raw: &str) -> Result<Option<Self>, FieldError> {
        let s = raw.trim_matches(' ');
        if s.is_empty() {
            return Ok(None);
        }
        let body = s.strip_prefix('+').unwrap_or(s);
        let allowed = body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'));
        let digits = body.chars().filter(char::is_ascii_digit).count();
        if !allowed || !(5..=15).contains(&digits) || s.len() > 32 {
            return Err(FieldError::new(
                field,
                "Enter a phone number of 5–15 digits, optionally starting with + (spaces, dashes and parentheses are fine).",
            ));
        }
        Ok(Some(Self(s.to_owned())))
    }
}

/// A user's state as shown in the users list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    /// Active and enrolled (has a password).
    Active,
    /// Active, no password yet.
    NotEnrolled,
    /// Has a VPN device but no password: an enrollment in the desktop client ended
    /// without one.
    PasswordNotSet,
    /// Cannot log in or enroll.
    Disabled,
}

impl UserStatus {
    /// Derives the status from the stored flags.
    pub fn of(is_active: bool, enrolled: bool, has_devices: bool) -> Self {
        match (is_active, enrolled, has_devices) {
            (false, _, _) => Self::Disabled,
            (true, true, _) => Self::Active,
            (true, false, true) => Self::PasswordNotSet,
            (true, false, false) => Self::NotEnrolled,
        }
    }

    /// The label shown to admins.
    pub fn label(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::NotEnrolled => "Not enrolled",
            Self::PasswordNotSet => "Password not set",
            Self::Disabled => "Disabled",
        }
    }
}

/// A new or edited user's validated profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// First name.
    pub first_name: PersonName,
    /// Last name.
    pub last_name: PersonName,
    /// Email address.
    pub email: Email,
    /// Phone number, if given.
    pub phone: Option<Phone>,
}

impl Profile {
    /// Parses the profile fields, collecting every field's error.
    pub fn parse(
        first_name: &str,
        last_name: &str,
        email: &str,
        phone: &str,
    ) -> Result<Self, Vec<FieldError>> {
        let first = PersonName::parse("first_name", "first name", first_name);
        let last = PersonName::parse("last_name", "last name", last_name);
        let email = Email::parse("email", email);
        let phone = Phone::parse_optional("phone", phone);
        match (first, last, email, phone) {
            (Ok(first_name), Ok(last_name), Ok(email), Ok(phone)) => Ok(Self {
                first_name,
                last_name,
                email,
                phone,
            }),
            (a, b, c, d) => Err([a.err(), b.err(), c.err(), d.err()]
                .into_iter()
                .flatten()
                .collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in [
            "jan",
            "jan.nowak",
            "a_b-c.1",
            "abcdefghijklmnopqrstuvwxyz012345",
        ] {
            assert!(Username::parse("u", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "ja",
            "Jan",
            "1jan",
            "jan nowak",
            "jan\n",
            "abcdefghijklmnopqrstuvwxyz0123456",
            "jan@x",
            "żaba",
        ] {
            assert!(Username::parse("u", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_reject_control_characters_and_length() {
        assert!(PersonName::parse("f", "first name", "Zoë").is_ok());
        assert!(PersonName::parse("f", "first name", "a\r\nBcc: x").is_err());
        assert!(PersonName::parse("f", "first name", &"x".repeat(65)).is_err());
        assert_eq!(
            PersonName::parse("f", "first name", " ")
                .unwrap_err()
                .message,
            "Enter the first name."
        );
    }

    #[test]
    fn emails() {
        for ok in [
            "jan@example.com",
            "jan.nowak+vpn@mail.example.co.uk",
            "o'brien@example.ie",
        ] {
            assert!(Email::parse("e", ok).is_ok(), "{ok}");
            let to: lettre::message::Mailbox = ok.parse().unwrap();
            assert_eq!(to.email.to_string(), ok);
        }
        for bad in [
            "jan",
            "jan@",
            "@x.com",
            "a@b@c",
            "jan@example.com\r\nBcc: x@y.z",
            "\"x y\"@example.com",
            "a@[127.0.0.1]",
            "Jan <jan@example.com>",
        ] {
            assert!(Email::parse("e", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn phones() {
        assert_eq!(Phone::parse_optional("p", "").unwrap(), None);
        assert!(Phone::parse_optional("p", "+48 123 456 789")
            .unwrap()
            .is_some());
        assert!(Phone::parse_optional("p", "(555) 123-4567")
            .unwrap()
            .is_some());
        for bad in [
            "123",
            "+48 abc",
            "<script>",
            "1234567890123456",
            "+1\n555 1234",
        ] {
            assert!(Phone::parse_optional("p", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn profile_collects_every_error() {
        let errs = Profile::parse("", "", "nope", "x").unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["first_name", "last_name", "email", "phone"]);
    }

    #[test]
    fn status() {
        assert_eq!(UserStatus::of(true, true, false).label(), "Active");
        assert_eq!(UserStatus::of(true, false, false).label(), "Not enrolled");
        assert_eq!(
            UserStatus::of(true, false, true).label(),
            "Password not set"
        );
        assert_eq!(UserStatus::of(false, true, true).label(), "Disabled");
    }
}
