//! Time-based one-time passwords (RFC 6238): 6 digits, 30-second steps, HMAC-SHA1, which is
//! what every authenticator app reads from an `otpauth://` URI. A code is accepted for the
//! current step and one step either side (clock drift), and never for a step at or before the
//! last one accepted, so a code seen over a shoulder cannot be used again.

use totp_rs::{Algorithm, Secret, TOTP};

/// Seconds per step.
pub const STEP: u64 = 30;
/// Digits per code.
pub const DIGITS: usize = 6;

/// A new random secret, base32 without padding (160 bits, the RFC's recommendation).
pub fn new_secret() -> String {
    let bytes: [u8; 20] = rand::random();
    Secret::Raw(bytes.to_vec()).to_encoded().to_string()
}

fn totp(secret_b32: &str, issuer: &str, account: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret_b32.to_owned()).to_bytes().ok()?;
    // `new_unchecked`: the label rules of `new` refuse a ':' in the account name, and the
    // 128-bit minimum is met by every secret made here.
    Some(TOTP::new_unchecked(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP,
        bytes,
        Some(issuer.replace(':', " ")),
        account.replace(':', " "),
    ))
}

/// The `otpauth://totp/…` URI an authenticator app scans.
pub fn otpauth_uri(secret_b32: &str, issuer: &str, account: &str) -> Option<String> {
    totp(secret_b32, issuer, account).map(|t| t.get_url())
}

/// The code for the step that contains `unix_time`.
pub fn code_at(secret_b32: &str, unix_time: u64) -> Option<String> {
    totp(secret_b32, "x", "x").map(|t| t.generate(unix_time))
}

/// The step `unix_time` falls in.
pub fn step_of(unix_time: u64) -> i64 {
    i64::try_from(unix_time / STEP).unwrap_or(i64::MAX)
}

/// Checks `code` at `unix_time`: returns the step it matched when that step is newer than
/// `last_step`. Spaces in the code are ignored (apps show "123 456").
pub fn verify(secret_b32: &str, code: &str, unix_time: u64, last_step: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret_b32, "x", "x")?;
    let now_step = step_of(unix_time);
    let mut matched = None;
    // Every candidate is computed and compared in constant time, so timing does not tell
    // which step matched.
    for step in [now_step - 1, now_step, now_step + 1] {
        let Ok(at) = u64::try_from(step) else {
            continue;
        };
        let expected = t.generate(at * STEP);
        if crate::crypto::constant_time_eq(&expected, &code) && step > last_step {
            matched = Some(step);
        }
    }
    matched
}

/// Normalises a typed recovery code: case, spaces and dashes do not matter.
pub fn normalise_recovery_code(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Ten new recovery codes, shown as `xxxxx-xxxxx` (50 bits each, lower-case letters and digits
/// without look-alikes).
pub fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    (0..10)
        .map(|_| {
            let mut s = String::with_capacity(11);
            for i in 0..10 {
                if i == 5 {
                    s.push('-');
                }
                let idx = rand::random_range(0..ALPHABET.len());
                s.push(char::from(ALPHABET[idx]));
            }
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B, SHA-1 seed "12345678901234567890", truncated to 6 digits.
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn rfc_6238_vectors() {
        assert_eq!(code_at(RFC_SECRET, 59).as_deref(), Some("287082"));
        assert_eq!(
            code_at(RFC_SECRET, 1_111_111_109).as_deref(),
            Some("081804")
        );
        assert_eq!(
            code_at(RFC_SECRET, 2_000_000_000).as_deref(),
            Some("279037")
        );
    }

    #[test]
    fn accepts_one_step_either_side_and_never_twice() {
        let secret = new_secret();
        let now = 1_800_000_000;
        let code = code_at(&secret, now).unwrap();
        let step = verify(&secret, &code, now, 0).unwrap();
        assert_eq!(step, step_of(now));
        assert_eq!(verify(&secret, &code, now, step), None, "reused");
        let prev = code_at(&secret, now - STEP).unwrap();
        assert!(verify(&secret, &prev, now, 0).is_some());
        let old = code_at(&secret, now - 2 * STEP).unwrap();
        assert_eq!(verify(&secret, &old, now, 0), None);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(verify(&secret, &spaced, now, 0).is_some());
        assert_eq!(verify(&secret, "12345", now, 0), None);
        assert_eq!(verify(&secret, "abcdef", now, 0), None);
    }

    #[test]
    fn uri_names_issuer_and_account() {
        let uri = otpauth_uri(RFC_SECRET, "Acme VPN", "anna").unwrap();
        assert!(uri.starts_with("otpauth://totp/Acme%20VPN:anna?"), "{uri}");
        assert!(uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"));
        assert!(uri.contains("issuer=Acme%20VPN"));
    }

    #[test]
    fn recovery_codes_are_distinct_and_normalise() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        let mut set: Vec<_> = codes.iter().map(|c| normalise_recovery_code(c)).collect();
        set.sort();
        set.dedup();
        assert_eq!(set.len(), 10);
        assert_eq!(normalise_recovery_code(" AbCdE-12345 "), "abcde12345");
    }
}
