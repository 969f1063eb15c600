//! Pure rules and newtypes. Nothing here knows about HTTP, SQL or HTML.

pub mod group;
pub mod import;
pub mod oidc;
pub mod outbox;
pub mod password;
pub mod session;
pub mod template;
pub mod token;
pub mod totp;
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

/// Whether `s` contains a control character (line breaks included) or a bidirectional
/// formatting character, which can make text read differently from what it is (U+202E turns
/// `exe.txt` around).
pub fn has_control_chars(s: &str) -> bool {
    s.chars().any(|c| c.is_control() || is_bidi_control(c))
}

/// Whether `c` is one of Unicode's bidirectional formatting characters: the marks, embeddings,
/// overrides and isolates.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{61C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// `s` safe to store and show as one line of a log: every control and bidirectional
/// character written as a visible `\u{…}` escape, cut to `max` characters with `…` at the
/// end. Applying it again changes nothing, so text stored before this rule existed can be
/// passed through it when shown.
pub fn visible_text(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n == max {
            out.push('…');
            break;
        }
        if c.is_control() || is_bidi_control(c) {
            out.push_str(&format!("\\u{{{:X}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// The network a rate limit counts an address by: an IPv4 address itself, an IPv6 address's
/// /64 (an IPv4-mapped IPv6 address counts as its IPv4 address).
pub fn network_of(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{net}/64")
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_controls_count_as_control_characters() {
        assert!(has_control_chars("laptop\u{202E}txt.exe"));
        assert!(has_control_chars("a\u{2066}b"));
        assert!(has_control_chars("line\nbreak"));
        assert!(!has_control_chars("Zoë's laptop (ąę)"));
    }

    #[test]
    fn visible_text_escapes_and_caps() {
        assert_eq!(visible_text("a\u{1b}[31mb", 100), "a\\u{1B}[31mb");
        assert_eq!(visible_text("x\u{202E}y", 100), "x\\u{202E}y");
        let once = visible_text("a\u{1b}b\u{202E}", 100);
        assert_eq!(visible_text(&once, 100), once);
        assert_eq!(visible_text(&"x".repeat(20_000), 5), "xxxxx…");
        assert_eq!(visible_text("plain", 5), "plain");
    }

    #[test]
    fn ipv6_addresses_count_by_their_64() {
        let net = |s: &str| network_of(s.parse().unwrap());
        assert_eq!(net("192.0.2.7"), "192.0.2.7");
        assert_eq!(net("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(net("2001:db8:1:2:ffff::9"), "2001:db8:1:2::/64");
        assert_ne!(net("2001:db8:1:3::1"), net("2001:db8:1:2::1"));
        assert_eq!(net("::ffff:192.0.2.7"), "192.0.2.7");
    }
}
