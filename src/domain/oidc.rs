//! OpenID Connect rules that need no storage: redirect URIs, PKCE, scopes, `prompt`, and the
//! safe `next` path after a login.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// Whether an app keeps a secret (a server) or cannot (a browser or mobile app).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// Authenticates at the token endpoint with its secret.
    Confidential,
    /// Has no secret; PKCE with S256 is required.
    Public,
}

impl ClientKind {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confidential => "confidential",
            Self::Public => "public",
        }
    }

    /// Parses the stored or submitted form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "confidential" => Some(Self::Confidential),
            "public" => Some(Self::Public),
            _ => None,
        }
    }
}

/// Parses the redirect URIs an admin typed, one a line: absolute `https://` URIs, or `http://`
/// only for loopback hosts (a developer's machine), without fragments. Empty lines are skipped.
pub fn parse_redirect_uris(raw: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for line in raw.lines().map(str::trim).filter(|l| !l.is_empty()) {
        check_redirect_uri(line)?;
        if !out.iter().any(|u| u == line) {
            out.push(line.to_owned());
        }
    }
    Ok(out)
}

fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("{uri} is not a usable address: {why}"));
    if uri.len() > 512 {
        return bad("it is longer than 512 characters");
    }
    if super::has_control_chars(uri) || uri.contains(char::is_whitespace) {
        return bad("it contains spaces or control characters");
    }
    if uri.contains('#') {
        return bad("it must not contain a fragment (#)");
    }
    let rest = if let Some(r) = uri.strip_prefix("https://") {
        r
    } else if let Some(r) = uri.strip_prefix("http://") {
        let host = r.split(['/', '?']).next().unwrap_or_default();
        let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
        if !matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
            return bad("use https:// (plain http:// only for localhost)");
        }
        r
    } else {
        return bad("it must start with https://");
    };
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    if host.is_empty() || host.contains('@') {
        return bad("it has no host, or has a user name in it");
    }
    Ok(())
}

/// A PKCE challenge method. `plain` is refused: it protects nothing a network observer cannot
/// see.
pub fn check_challenge(challenge: Option<&str>, method: Option<&str>) -> Result<(), &'static str> {
    match (challenge, method) {
        (None, None) => Ok(()),
        (Some(c), Some("S256")) if c.len() == 43 && is_b64url(c) => Ok(()),
        (Some(_), Some("S256")) => Err("code_challenge must be 43 base64url characters"),
        (Some(_), Some("plain") | None) => {
            Err("code_challenge_method must be S256; plain is not supported")
        }
        (Some(_), Some(_)) => Err("code_challenge_method must be S256"),
        (None, Some(_)) => Err("code_challenge_method without code_challenge"),
    }
}

fn is_b64url(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `verifier` (RFC 7636: 43–128 unreserved characters) hashes to `challenge` (S256).
pub fn verify_pkce(challenge: &str, verifier: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !well_formed {
        return false;
    }
    let digest = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    crate::crypto::constant_time_eq(&digest, challenge)
}

/// The scopes onramp knows; others are dropped (OpenID Connect Core 3.1.2.1).
pub const SCOPES: [&str; 5] = ["openid", "profile", "email", "groups", "offline_access"];

/// The known scopes of a request, in a fixed order; `None` without `openid`.
pub fn parse_scope(raw: &str) -> Option<Vec<&'static str>> {
    let asked: Vec<&str> = raw.split_ascii_whitespace().collect();
    if !asked.contains(&"openid") {
        return None;
    }
    Some(SCOPES.into_iter().filter(|s| asked.contains(s)).collect())
}

/// The `prompt` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Prompt {
    /// Show nothing; fail when a login or consent would be needed.
    pub none: bool,
    /// Ask for the password again even with a session.
    pub login: bool,
    /// Ask for consent again even when given before.
    pub consent: bool,
}

impl Prompt {
    /// Parses a space-separated `prompt`; `none` with anything else is an error.
    pub fn parse(raw: Option<&str>) -> Result<Self, &'static str> {
        let mut p = Self::default();
        for v in raw.unwrap_or_default().split_ascii_whitespace() {
            match v {
                "none" => p.none = true,
                "login" => p.login = true,
                "consent" => p.consent = true,
                "select_account" => {}
                _ => return Err("prompt has an unknown value"),
            }
        }
        if p.none && (p.login || p.consent) {
            return Err("prompt=none cannot be combined with other values");
        }
        Ok(p)
    }
}

/// A path to continue at after logging in, when it is safe: a path on this site (`/…`, not
/// `//host` or `/\host`, which browsers read as another site) without control characters.
pub fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.contains('\\')
        && next.len() <= 2048
        && !super::has_control_chars(next);
    ok.then_some(next)
}

/// `amr` for a sign-in (RFC 8176): the password, and with a second factor `mfa` and `otp`.
pub fn amr(mfa: bool) -> Vec<&'static str> {
    if mfa {
        vec!["pwd", "mfa", "otp"]
    } else {
        vec!["pwd"]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_site() {
        assert_eq!(
            safe_next("/oidc/authorize?x=1"),
            Some("/oidc/authorize?x=1")
        );
        for bad in [
            "//evil.example",
            "/\\evil",
            "https://evil.example",
            "evil",
            "/a\nb",
            "",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn pkce_s256_matches_rfc_7636_example() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verify_pkce(challenge, verifier));
        assert!(!verify_pkce(
            challenge,
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx"
        ));
        assert!(check_challenge(Some(challenge), Some("plain")).is_err());
        assert!(check_challenge(Some(challenge), Some("S256")).is_ok());
    }

    #[test]
    fn redirect_uris_need_https_except_loopback() {
        assert!(parse_redirect_uris("https://grafana.example.com/login/generic_oauth").is_ok());
        assert!(parse_redirect_uris("http://localhost:3000/cb\n\nhttp://127.0.0.1/cb").is_ok());
        assert!(parse_redirect_uris("http://grafana.example.com/cb").is_err());
        assert!(parse_redirect_uris("https://a.example/cb#x").is_err());
        assert!(parse_redirect_uris("https://user@a.example/cb").is_err());
    }

    #[test]
    fn scope_needs_openid_and_prompt_none_stands_alone() {
        assert_eq!(parse_scope("email openid x"), Some(vec!["openid", "email"]));
        assert_eq!(parse_scope("email"), None);
        assert!(Prompt::parse(Some("none login")).is_err());
        assert!(Prompt::parse(Some("login consent")).is_ok_and(|p| p.login && p.consent));
    }
}
