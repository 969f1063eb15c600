//! Pure rules and newtypes. Nothing here knows about HTTP, SQL or HTML.

pub mod password;
pub mod template;
pub mod token;
pub mod user;
pub mod wireguard;

/// A problem with one form field, shown next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The form field's name.
    pub field: &'static str,
    /// A full sentence for the person filling in the form.
    pub message: String,
}

impl FieldError {
    /// A message for `field`.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// Whether `s` contains a control character (line breaks included).
pub fn has_control_chars(s: &str) -> bool {
    s.chars().any(char::is_control)
}
