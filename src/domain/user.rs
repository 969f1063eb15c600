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

/// Whether `c` is a Unicode format character (general category Cf): invisible characters
/// such as zero-width spaces and joiners, bidirectional overrides and the byte order mark.
/// In a name or address they make two identical-looking values differ, or text read
/// differently from what it is.
pub fn is_format_char(c: char) -> bool {
    matches!(
        u32::from(c),
        0xAD | 0x600..=0x605
            | 0x61C
            | 0x6DD
            | 0x70F
            | 0x890..=0x891
            | 0x8E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    )
}

fn format_char_error(field: &'static str, what: &str, c: char) -> FieldError {
    FieldError::new(
        field,
        format!(
            "{what} contains an invisible formatting character (U+{:04X}); remove it and type the text again.",
            u32::from(c)
        ),
    )
}

impl PersonName {
    /// Parses a first or last name; `label` names it in the message.
    pub fn parse(field: &'static str, label: &str, raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim_matches(' ');
        if s.is_empty() {
            return Err(FieldError::new(field, format!("Enter the {label}.")));
        }
        if let Some(c) = s.chars().find(|c| is_format_char(*c)) {
            return Err(format_char_error(field, &format!("The {label}"), c));
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
        if let Some(c) = s.chars().find(|c| is_format_char(*c)) {
            return Err(format_char_error(field, "The email address", c));
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

/// The status an admin can narrow the users list to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Active and enrolled.
    Active,
    /// Not enrolled, with an enrollment token that still works.
    Invited,
    /// Not enrolled; the enrollment token ran out (or its session was abandoned) unused.
    InvitationExpired,
    /// Active, not enrolled, no unused enrollment token.
    NotEnrolled,
    /// Cannot log in or enroll.
    Disabled,
}

impl StatusFilter {
    /// Every filter, in the order the list offers them.
    pub const ALL: [Self; 5] = [
        Self::Active,
        Self::Invited,
        Self::InvitationExpired,
        Self::NotEnrolled,
        Self::Disabled,
    ];

    /// Parses the `status` query parameter; empty means no filter.
    pub fn parse(raw: &str) -> Result<Option<Self>, FieldError> {
        if raw.is_empty() {
            return Ok(None);
        }
        Self::ALL
            .into_iter()
            .find(|s| s.param() == raw)
            .map(Some)
            .ok_or_else(|| {
                FieldError::new(
                    "status",
                    "Choose a status from the list: Active, Invited, Invitation expired, Not enrolled or Disabled.",
                )
            })
    }

    /// The value in URLs.
    pub fn param(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Invited => "invited",
            Self::InvitationExpired => "invitation-expired",
            Self::NotEnrolled => "not-enrolled",
            Self::Disabled => "disabled",
        }
    }

    /// The label shown to admins.
    pub fn label(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Invited => "Invited",
            Self::InvitationExpired => "Invitation expired",
            Self::NotEnrolled => "Not enrolled",
            Self::Disabled => "Disabled",
        }
    }
}

/// A users-list search: up to four words, each case-folded. A user matches when every word
/// occurs anywhere in their username, first name, last name or email.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchWords {
    text: String,
    words: Vec<String>,
}

impl SearchWords {
    /// Most characters of search text kept.
    pub const MAX_CHARS: usize = 100;
    /// Most words a search uses; more narrow nothing a person needs.
    pub const MAX_WORDS: usize = 4;

    /// Parses the search box: trimmed, control and format characters dropped, capped.
    pub fn parse(raw: &str) -> Self {
        let text: String = raw
            .trim()
            .chars()
            .filter(|c| !c.is_control() && !is_format_char(*c))
            .take(Self::MAX_CHARS)
            .collect();
        let words = text
            .split_whitespace()
            .map(fold)
            .take(Self::MAX_WORDS)
            .collect();
        Self {
            text: text.trim().to_owned(),
            words,
        }
    }

    /// The text as typed (cleaned), for the search box and links.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The folded words.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Whether there is nothing to search for.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Whether every word occurs in one of `fields`.
    pub fn matches(&self, fields: &[&str]) -> bool {
        // Most fields and words are ASCII: compare those in place, and fold a field only
        // when a word needs it.
        let mut folded: Vec<Option<String>> = Vec::new();
        self.words.iter().all(|w| {
            fields.iter().enumerate().any(|(i, f)| {
                if compares_as_ascii(w, f) {
                    return contains_ascii_folded(f.as_bytes(), w.as_bytes());
                }
                if folded.is_empty() {
                    folded.resize(fields.len(), None);
                }
                folded[i]
                    .get_or_insert_with(|| fold(f))
                    .contains(w.as_str())
            })
        })
    }
}

/// The characters outside ASCII whose [`fold`] holds ASCII: the capital I with a dot and the
/// Kelvin sign.
const FOLDS_TO_ASCII: [char; 2] = ['\u{130}', '\u{212A}'];

/// Whether the folded `word` occurs in `field` exactly when it occurs in it ignoring ASCII
/// case: the field is ASCII, or the word is and the field has no character that folds to
/// ASCII (every byte of any other character is 0x80 or more, so it matches no ASCII byte).
fn compares_as_ascii(word: &str, field: &str) -> bool {
    field.is_ascii() || word.is_ascii() && !field.contains(FOLDS_TO_ASCII)
}

/// Whether ASCII `text` contains the folded `word`, ignoring ASCII case.
fn contains_ascii_folded(text: &[u8], word: &[u8]) -> bool {
    word.is_empty()
        || word.len() <= text.len()
            && text
                .windows(word.len())
                .any(|w| w.eq_ignore_ascii_case(word))
}

/// Case-folds `s` for search: full Unicode lowercase, so "ŁUK", "Łuk" and "łuk" are equal
/// (SQLite's own `lower()` only knows ASCII). The capital I with a dot, "İ", folds to a plain
/// "i" rather than to "i" and a combining dot, so "istanbul" finds "İstanbul".
pub fn fold(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let lower = if c == '\u{130}' { 'i' } else { c };
            lower.to_lowercase()
        })
        .collect()
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
    fn format_characters_are_refused_with_their_code_point() {
        for bad in [
            "\u{202E}evil",
            "Zo\u{200D}ë",
            "\u{FEFF}Jan",
            "Jan\u{200B}",
            "a\u{AD}b",
        ] {
            let e = PersonName::parse("first_name", "first name", bad).unwrap_err();
            assert!(
                e.message.contains("invisible formatting character (U+"),
                "{bad:?}"
            );
        }
        assert!(PersonName::parse("f", "first name", "Łukasz Żak-Éluard").is_ok());
        let e = Email::parse("email", "jan\u{200B}@example.com").unwrap_err();
        assert!(e.message.contains("U+200B"), "{}", e.message);
        assert!(Username::parse("u", "jan\u{200D}").is_err());
    }

    #[test]
    fn search_folds_unicode_case_and_matches_substrings() {
        let fields = ["lzielinski", "Łukasz", "Żak", "l.zak@example.com"];
        for q in [
            "łuk",
            "ŁUK",
            "ukasz",
            "ŻAK",
            "ż",
            "example.com",
            "łuk żak",
            "@EXAMPLE",
        ] {
            assert!(SearchWords::parse(q).matches(&fields), "{q}");
        }
        for q in ["lukasz", "łuk nowak", "zz"] {
            assert!(!SearchWords::parse(q).matches(&fields), "{q}");
        }
        let s = SearchWords::parse("  a\u{202E}b  c d e f ");
        assert_eq!(s.text(), "ab  c d e f");
        assert_eq!(s.words(), ["ab", "c", "d", "e"]);
        assert!(SearchWords::parse(" \t ").is_empty());
    }

    /// The ASCII shortcut of `matches` is exact only if no other character folds to ASCII.
    #[test]
    fn only_the_listed_characters_fold_to_ascii() {
        let folding: Vec<char> = (0x80..=0x10FFFF)
            .filter_map(char::from_u32)
            .filter(|c| fold(&c.to_string()).chars().any(|f| f.is_ascii()))
            .collect();
        assert_eq!(folding, FOLDS_TO_ASCII);
        // ASCII words still meet them in fields that are not ASCII.
        let fields = ["u1", "\u{212A}ARŁ", "Zİel", "u1@example.com"];
        assert!(SearchWords::parse("kar").matches(&fields));
        assert!(SearchWords::parse("ziel").matches(&fields));
        assert!(SearchWords::parse("arł").matches(&fields));
        assert!(!SearchWords::parse("kar ziel q").matches(&fields));
    }

    #[test]
    fn status_filters_parse_from_their_url_values() {
        for s in StatusFilter::ALL {
            assert_eq!(StatusFilter::parse(s.param()), Ok(Some(s)));
        }
        assert_eq!(StatusFilter::parse(""), Ok(None));
        assert!(StatusFilter::parse("pending").is_err());
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
