//! Use cases, one function per user intent. Services parse input into domain types, read the
//! time from the clock, run one transaction and return a small result.

pub mod access;
pub mod account;
pub mod admin_api;
pub mod admin_rights;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod bulk;
pub mod client_api;
pub mod devices;
pub mod enrollment;
pub mod gateways;
pub mod groups;
pub mod import;
pub mod invitations;
pub mod locations;
pub mod mfa;
pub mod oidc;
pub mod outbox;
pub mod password_reset;
pub mod settings;
pub mod setup;
pub mod test_email;
pub mod tokens;
pub mod upkeep;
pub mod users;

use crate::db::audit as audit_repo;
use crate::domain::password::{Password, PasswordRejected};

/// Checks a new password against the policy off the async workers: zxcvbn's estimate takes
/// milliseconds, which the reactor should spend answering other requests.
pub async fn check_password(
    password: &str,
    context: &[&str],
) -> Result<Password, PasswordRejected> {
    crate::domain::password::check_length(password)?;
    let password = password.to_owned();
    let context: Vec<String> = context.iter().map(|c| (*c).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let words: Vec<&str> = context.iter().map(String::as_str).collect();
        Password::new(&password, &words)
    })
    .await
    .unwrap_or_else(|_| {
        Err(PasswordRejected(
            "The password could not be checked; try again.".into(),
        ))
    })
}

/// Who is acting, for audit events.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    /// Username, or `anonymous`.
    pub username: String,
    /// The acting user's id, when logged in.
    pub user_id: Option<i64>,
    /// Client IP.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
}

impl Actor {
    /// The client's address as rate limits count it: an IPv4 address as is, an IPv6 address
    /// by its /64 network, since one subscriber usually holds a whole /64 and could otherwise
    /// step through 2^64 addresses to escape a per-address limit.
    pub fn limit_key(&self) -> String {
        match self.ip.as_deref().map(str::parse::<std::net::IpAddr>) {
            Some(Ok(ip)) => crate::domain::network_of(ip),
            Some(Err(_)) => self.ip.clone().unwrap_or_default(),
            None => "-".to_owned(),
        }
    }

    /// An audit event by this actor.
    pub fn event<'a>(
        &'a self,
        at: i64,
        action: &'a str,
        target: Option<&'a str>,
    ) -> audit_repo::NewEvent<'a> {
        audit_repo::NewEvent {
            at,
            actor: &self.username,
            action,
            target,
            ip: self.ip.as_deref(),
            user_agent: self.user_agent.as_deref(),
            detail: None,
        }
    }
}
