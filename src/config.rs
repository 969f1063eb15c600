//! Typed, validated configuration. Every error names the setting's variable.

use crate::cli::RawSettings;
use ipnet::IpNet;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use time::Duration;

/// A setting that could not be used, with the variable that holds it.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    /// The environment variable (also the flag) that is wrong.
    pub variable: &'static str,
    /// What is wrong with it, as a sentence.
    pub message: String,
}

fn bad(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

/// The first admin's username, names, email and the default instance name: a password made
/// from them is easy to guess.
const FIRST_ADMIN_CONTEXT: &[&str] = &["admin", "Onramp", "Admin", "admin@localhost", "onramp"];

/// A value that must never be printed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// TLS mode of an SMTP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain text (only for servers on a trusted network).
    None,
    /// Plain connection upgraded with STARTTLS (usually port 587).
    Starttls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

impl FromStr for SmtpSecurity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Self::None),
            "starttls" => Ok(Self::Starttls),
            "tls" => Ok(Self::Tls),
            other => Err(format!(
                "unknown TLS mode \"{other}\"; use none, starttls or tls"
            )),
        }
    }
}

/// Where and how to send mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// Server host name.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// TLS mode.
    pub security: SmtpSecurity,
    /// Login user, if the server wants one.
    pub username: Option<String>,
    /// Login password.
    pub password: Option<Secret>,
    /// The From address; defaults to onramp@<host of the public URL>.
    pub sender: Option<String>,
}

/// The validated configuration of one onramp instance.
#[derive(Debug, Clone)]
pub struct Config {
    /// Socket address to listen on.
    pub listen: SocketAddr,
    /// SQLite file.
    pub database: PathBuf,
    /// Public base URL without a trailing slash.
    pub public_url: String,
    /// First admin's password, if given.
    pub admin_password: Option<Secret>,
    /// Enrollment token lifetime.
    pub enrollment_token_ttl: Duration,
    /// Enrollment session window.
    pub enrollment_session_ttl: Duration,
    /// Desktop token lifetime.
    pub desktop_token_ttl: Duration,
    /// Password reset link lifetime.
    pub reset_token_ttl: Duration,
    /// Window to finish a reset once the link is opened.
    pub reset_session_ttl: Duration,
    /// SMTP from the environment, which overrides the settings page.
    pub smtp: Option<SmtpConfig>,
    /// Proxies allowed to set X-Forwarded-For.
    pub trusted_proxies: Vec<IpNet>,
    /// Emit JSON log lines.
    pub log_json: bool,
    /// Longest a client may take to send a whole request body; a slower one gets 408 and its
    /// connection is closed, so slow senders cannot hold connections. Not a setting: 15 s
    /// (a 16 KiB form over the slowest link still fits); tests shorten it.
    pub body_timeout: std::time::Duration,
}

/// Default of [`Config::body_timeout`].
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

impl Config {
    /// Validates raw settings.
    pub fn from_raw(raw: &RawSettings) -> Result<Self, ConfigError> {
        let listen = raw.listen.parse::<SocketAddr>().map_err(|_| {
            bad(
                "ONRAMP_LISTEN",
                format!(
                    "\"{}\" is not an address and port such as 127.0.0.1:8080",
                    raw.listen
                ),
            )
        })?;
        if raw.database.as_os_str().is_empty() {
            return Err(bad("ONRAMP_DATABASE", "the database path is empty"));
        }
        let public_url = parse_public_url(&raw.public_url)?;
        let admin_password = match raw.admin_password.as_deref() {
            None | Some("") => None,
            Some(p) => {
                // The same policy as every other password, with the first admin's own names
                // (see services::bootstrap) as the words that make it guessable.
                crate::domain::password::Password::new(p, FIRST_ADMIN_CONTEXT)
                    .map_err(|e| bad("ONRAMP_ADMIN_PASSWORD", e.to_string()))?;
                Some(Secret::new(p))
            }
        };
        let smtp = match raw.smtp_url.as_deref() {
            None | Some("") => None,
            Some(url) => Some(parse_smtp_url(url).map_err(|m| bad("ONRAMP_SMTP_URL", m))?),
        };
        let log_json = match raw.log_format.as_str() {
            "text" => false,
            "json" => true,
            other => {
                return Err(bad(
                    "ONRAMP_LOG_FORMAT",
                    format!("\"{other}\" is not a log format; use text or json"),
                ))
            }
        };
        Ok(Self {
            listen,
            database: raw.database.clone(),
            public_url,
            admin_password,
            enrollment_token_ttl: parse_ttl(
                "ONRAMP_ENROLLMENT_TOKEN_TTL",
                &raw.enrollment_token_ttl,
            )?,
            enrollment_session_ttl: parse_ttl(
                "ONRAMP_ENROLLMENT_SESSION_TTL",
                &raw.enrollment_session_ttl,
            )?,
            desktop_token_ttl: parse_ttl("ONRAMP_DESKTOP_TOKEN_TTL", &raw.desktop_token_ttl)?,
            reset_token_ttl: parse_ttl("ONRAMP_RESET_TOKEN_TTL", &raw.reset_token_ttl)?,
            reset_session_ttl: parse_ttl("ONRAMP_RESET_SESSION_TTL", &raw.reset_session_ttl)?,
            smtp,
            trusted_proxies: parse_proxies(&raw.trusted_proxies)?,
            log_json,
            body_timeout: BODY_TIMEOUT,
        })
    }

    /// Whether the public URL is https, which turns on Secure cookies and HSTS.
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// A configuration for tests: a given database, defaults elsewhere.
    pub fn for_tests(database: PathBuf) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database,
            public_url: "http://localhost:8080".into(),
            admin_password: None,
            enrollment_token_ttl: Duration::hours(24),
            enrollment_session_ttl: Duration::minutes(10),
            desktop_token_ttl: Duration::hours(24),
            reset_token_ttl: Duration::hours(24),
            reset_session_ttl: Duration::minutes(10),
            smtp: None,
            trusted_proxies: Vec::new(),
            log_json: false,
            body_timeout: BODY_TIMEOUT,
        }
    }
}

fn parse_public_url(value: &str) -> Result<String, ConfigError> {
    const VAR: &str = "ONRAMP_PUBLIC_URL";
    let trimmed = value.trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| {
            bad(
                VAR,
                format!("\"{value}\" must start with http:// or https://"),
            )
        })?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || rest.contains(['?', '#', ' ', '@']) || rest.chars().any(char::is_control)
    {
        return Err(bad(
            VAR,
            format!("\"{value}\" is not a URL such as https://vpn.example.com"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Parses a duration written as a whole number and a unit: `90s`, `10m`, `24h`, `7d`.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("\"{value}\" has no unit; write it like 90s, 10m or 24h"))?;
    let (number, unit) = value.split_at(split);
    let n: i64 = number
        .parse()
        .map_err(|_| format!("\"{value}\" is not a duration such as 90s, 10m or 24h"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => return Err(format!("\"{value}\" has an unknown unit; use s, m, h or d")),
    };
    if seconds <= 0 {
        return Err(format!("\"{value}\" must be longer than zero"));
    }
    if seconds > 366 * 86_400 {
        return Err(format!("\"{value}\" is longer than a year"));
    }
    Ok(Duration::seconds(seconds))
}

fn parse_ttl(variable: &'static str, value: &str) -> Result<Duration, ConfigError> {
    parse_duration(value).map_err(|m| bad(variable, m))
}

fn parse_proxies(value: &str) -> Result<Vec<IpNet>, ConfigError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    bad(
                        "ONRAMP_TRUSTED_PROXIES",
                        format!("\"{s}\" is not an IP address or CIDR such as 10.0.0.0/8"),
                    )
                })
        })
        .collect()
}

/// Parses `smtp://user:pass@host:port?tls=none|starttls|tls&from=...`.
pub fn parse_smtp_url(url: &str) -> Result<SmtpConfig, String> {
    let rest = url
        .strip_prefix("smtp://")
        .or_else(|| url.strip_prefix("smtps://"))
        .ok_or_else(|| "the URL must start with smtp:// (for example smtp://user:pass@mail.example.com:587?tls=starttls)".to_owned())?;
    let implicit_tls = url.starts_with("smtps://");
    let (authority, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let authority = authority.trim_end_matches('/');
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (
            h,
            Some(
                p.parse::<u16>()
                    .map_err(|_| format!("\"{p}\" is not a port number"))?,
            ),
        ),
        None => (hostport, None),
    };
    if host.is_empty() {
        return Err("the URL has no host".into());
    }
    let (username, password) = match userinfo {
        Some(u) => {
            let (user, pass) = u.split_once(':').unwrap_or((u, ""));
            (
                Some(percent_decode(user)?),
                (!pass.is_empty())
                    .then(|| percent_decode(pass).map(Secret::new))
                    .transpose()?,
            )
        }
        None => (None, None),
    };
    let mut security = if implicit_tls {
        SmtpSecurity::Tls
    } else {
        SmtpSecurity::Starttls
    };
    let mut sender = None;
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "tls" => security = v.parse()?,
            "from" => sender = Some(percent_decode(v)?),
            other => return Err(format!("unknown parameter \"{other}\"; known: tls, from")),
        }
    }
    let port = port.unwrap_or(match security {
        SmtpSecurity::None => 25,
        SmtpSecurity::Starttls => 587,
        SmtpSecurity::Tls => 465,
    });
    Ok(SmtpConfig {
        host: host.to_owned(),
        port,
        security,
        username: username.filter(|u| !u.is_empty()),
        password,
        sender,
    })
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| "the URL has a broken %-escape".to_owned())?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the URL's %-escapes are not UTF-8".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn raw(args: &[&str]) -> RawSettings {
        let mut all = vec!["onramp"];
        all.extend_from_slice(args);
        crate::cli::Cli::parse_from(all).settings
    }

    #[test]
    fn durations_take_units() {
        assert_eq!(parse_duration("90s"), Ok(Duration::seconds(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::minutes(10)));
        assert_eq!(parse_duration("24h"), Ok(Duration::hours(24)));
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5w").is_err());
        assert!(parse_duration("-5s").is_err());
    }

    #[test]
    fn errors_name_the_variable() {
        let e = Config::from_raw(&raw(&["--listen", "nope"])).unwrap_err();
        assert_eq!(e.variable, "ONRAMP_LISTEN");
        let e = Config::from_raw(&raw(&["--public-url", "ftp://x"])).unwrap_err();
        assert!(e.to_string().starts_with("ONRAMP_PUBLIC_URL: "));
        let e = Config::from_raw(&raw(&["--enrollment-session-ttl", "ten"])).unwrap_err();
        assert_eq!(e.variable, "ONRAMP_ENROLLMENT_SESSION_TTL");
        let e = Config::from_raw(&raw(&["--trusted-proxies", "10.0.0.0/8,banana"])).unwrap_err();
        assert_eq!(e.variable, "ONRAMP_TRUSTED_PROXIES");
        let e = Config::from_raw(&raw(&["--smtp-url", "smtp://h?tls=ssl"])).unwrap_err();
        assert_eq!(e.variable, "ONRAMP_SMTP_URL");
        let e = Config::from_raw(&raw(&["--admin-password", "short"])).unwrap_err();
        assert_eq!(e.variable, "ONRAMP_ADMIN_PASSWORD");
    }

    #[test]
    fn the_admin_password_follows_the_password_policy() {
        for weak in ["password1234", "aaaaaaaaaaaa", "onrampadmin2024"] {
            let e = Config::from_raw(&raw(&["--admin-password", weak])).unwrap_err();
            assert_eq!(e.variable, "ONRAMP_ADMIN_PASSWORD", "{weak}");
            assert!(e.to_string().starts_with("ONRAMP_ADMIN_PASSWORD: "), "{e}");
        }
        let ok = Config::from_raw(&raw(&["--admin-password", "plum orbit velvet river"]));
        assert!(ok.is_ok());
    }

    #[test]
    fn defaults_are_valid() {
        let c = Config::from_raw(&raw(&[])).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_url, "http://localhost:8080");
        assert_eq!(c.enrollment_session_ttl, Duration::minutes(10));
        assert!(!c.is_https());
    }

    #[test]
    fn smtp_urls_parse() {
        let s = parse_smtp_url("smtp://me%40x.com:p%3Ass@mail.example.com:2525?tls=none").unwrap();
        assert_eq!(s.host, "mail.example.com");
        assert_eq!(s.port, 2525);
        assert_eq!(s.security, SmtpSecurity::None);
        assert_eq!(s.username.as_deref(), Some("me@x.com"));
        assert_eq!(s.password.as_ref().map(Secret::expose), Some("p:ss"));
        let s = parse_smtp_url("smtp://mail.example.com").unwrap();
        assert_eq!((s.port, s.security), (587, SmtpSecurity::Starttls));
        assert!(parse_smtp_url("http://x").is_err());
        assert!(parse_smtp_url("smtp://:25").is_err());
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(***)");
    }

    #[test]
    fn proxies_accept_ips_and_cidrs() {
        let p = parse_proxies("127.0.0.1, 10.0.0.0/8 ,::1").unwrap();
        assert_eq!(p.len(), 3);
    }
}
