//! Issuing and revoking enrollment and desktop tokens (docs/security.md, item 1–8).

use super::Actor;
use crate::crypto::{random_alphanumeric, sha256_hex};
use crate::db::{audit, locations, settings as settings_repo, tokens, users};
use crate::domain::user::Email;
use crate::error::AppError;
use crate::mail::templates::{self, Contact, TokenEmail};
use crate::state::AppState;
use base64::Engine;

/// Characters in a token secret (32 × log2(62) ≈ 190 bits).
pub const TOKEN_LEN: usize = 32;
/// Most token emails to one user within [`RESEND_WINDOW`] seconds.
const RESEND_LIMIT: i64 = 5;
const RESEND_WINDOW: i64 = 600;

pub use crate::domain::token::Purpose;

/// How the token reaches the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// onramp emails it to this address.
    Email(String),
    /// The admin hands it over.
    Manual,
}

/// A token just issued: shown once, never again.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The secret.
    pub secret: String,
    /// What it is for.
    pub purpose: Purpose,
    /// Whose token.
    pub username: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// Where it was emailed.
    pub emailed_to: Option<String>,
    /// The instance URL the client adds.
    pub url: String,
}

impl IssuedToken {
    /// `defguard://addinstance?token=…&url=…` for the desktop client.
    pub fn deeplink(&self) -> String {
        let q = serde_urlencoded::to_string([
            ("token", self.secret.as_str()),
            ("url", self.url.as_str()),
        ])
        .unwrap_or_default();
        format!("defguard://addinstance?{q}")
    }

    /// The browser link (enrollment tokens).
    pub fn browser_link(&self) -> String {
        format!("{}/enroll?token={}", self.url, self.secret)
    }

    /// What the mobile client's QR code holds: base64 of `{"token":…,"url":…}`.
    pub fn qr_payload(&self) -> String {
        let json = serde_json::json!({"token": self.secret, "url": self.url}).to_string();
        base64::engine::general_purpose::STANDARD.encode(json)
    }
}

/// The admin contact card for a user's token.
pub fn admin_contact(admin: &users::UserRow) -> Contact {
    Contact {
        name: format!("{} {}", admin.first_name, admin.last_name),
        email: admin.email.clone(),
        phone: admin.phone.clone(),
    }
}

/// Issues a token for `user_id`, revoking the user's earlier unused tokens, and queues the
/// email when asked to.
pub async fn issue_token(
    state: &AppState,
    actor: &Actor,
    user_id: i64,
    purpose: Purpose,
    delivery: Delivery,
) -> Result<IssuedToken, AppError> {
    let email = match &delivery {
        Delivery::Email(raw) => {
            Some(Email::parse("email", raw).map_err(|e| AppError::Validation(vec![e]))?)
        }
        Delivery::Manual => None,
    };
    let admin_id = actor
        .user_id
        .ok_or_else(|| AppError::Forbidden("Only an admin can issue tokens.".into()))?;
    let secret = random_alphanumeric(TOKEN_LEN);
    let hash = sha256_hex(&secret);
    let now = state.now().unix_timestamp();
    let ttl = match purpose {
        Purpose::Enrollment => state.config.enrollment_token_ttl,
        Purpose::Desktop => state.config.desktop_token_ttl,
    }
    .whole_seconds();
    let session_ttl = state.config.enrollment_session_ttl.whole_seconds();
    let url = state.config.public_url.clone();
    let actor = actor.clone();
    let st = state.clone();
    let for_mail = secret.clone();
    let issued = state
        .db
        .write(move |tx| {
            let user = users::get(tx, user_id)?.ok_or(AppError::NotFound)?;
            if !user.is_active {
                return Err(AppError::Forbidden(format!("{} is disabled; enable the account first.", user.username)));
            }
            match purpose {
                Purpose::Enrollment if user.is_enrolled() => {
                    return Err(AppError::Forbidden(format!(
                        "{} has already enrolled. Use Configure Desktop Client to set up their desktop.",
                        user.username
                    )))
                }
                Purpose::Desktop if !user.is_enrolled() => {
                    return Err(AppError::Forbidden(format!("{} has not enrolled yet. Start enrollment instead.", user.username)))
                }
                Purpose::Desktop if locations::count(tx)? == 0 => {
                    return Err(AppError::Forbidden("Add a location first: a desktop client needs one to connect to.".into()))
                }
                _ => {}
            }
            if email.is_some() && tokens::issued_since(tx, user_id, now - RESEND_WINDOW)? >= RESEND_LIMIT {
                return Err(AppError::RateLimited(60));
            }
            let admin = users::get(tx, admin_id)?.ok_or(AppError::NotFound)?;
            let revoked = tokens::revoke_for_user(tx, user_id, now)?;
            tokens::end_token_sessions(tx, user_id)?;
            remove_pending_devices(tx, &actor, &user, now)?;
            let token_id = tokens::insert(
                tx,
                &tokens::NewToken {
                    hash: &hash,
                    purpose,
                    user_id,
                    admin_id: Some(admin_id),
                    email: email.as_ref().map(|e| e.as_str()),
                    created_at: now,
                    expires_at: now + ttl,
                },
            )?;
            let mut event = actor.event(now, "token.issued", Some(&user.username));
            let detail = format!(
                "{} token #{token_id}, {}{}",
                purpose.as_str(),
                if email.is_some() { "emailed" } else { "handed over by the admin" },
                if revoked > 0 { format!(", revoked {revoked} earlier") } else { String::new() }
            );
            event.detail = Some(&detail);
            audit::insert(tx, &event)?;
            if let Some(to) = &email {
                let instance = settings_repo::get(tx, settings_repo::INSTANCE_NAME)?.unwrap_or_else(|| "onramp".into());
                let contact = admin_contact(&admin);
                let data = TokenEmail {
                    to: to.as_str(),
                    first_name: &user.first_name,
                    instance: &instance,
                    url: &url,
                    token_ttl: ttl,
                    session_ttl,
                    admin: &contact,
                };
                let message = match purpose {
                    Purpose::Enrollment => templates::enrollment_email(&data),
                    Purpose::Desktop => templates::desktop_email(&data),
                };
                super::outbox::queue_with_secret(tx, &st, purpose.as_str(), &message, &for_mail, now)?;
                let mut mailed = actor.event(now, "token.mailed", Some(&user.username));
                let to_detail = format!("to {}", to.as_str());
                mailed.detail = Some(&to_detail);
                audit::insert(tx, &mailed)?;
            }
            Ok(IssuedToken {
                secret: for_mail,
                purpose,
                username: user.username,
                expires_at: now + ttl,
                emailed_to: email.map(|e| e.as_str().to_owned()),
                url,
            })
        })
        .await?;
    if issued.emailed_to.is_some() {
        state.mail_wake.notify_one();
    }
    Ok(IssuedToken { secret, ..issued })
}

/// Revokes a user's pending tokens and ends the sessions opened with them.
pub async fn revoke_pending(
    state: &AppState,
    actor: &Actor,
    user_id: i64,
) -> Result<String, AppError> {
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            let user = users::get(tx, user_id)?.ok_or(AppError::NotFound)?;
            let revoked = tokens::revoke_for_user(tx, user_id, now)?;
            tokens::end_token_sessions(tx, user_id)?;
            remove_pending_devices(tx, &actor, &user, now)?;
            if revoked == 0 {
                return Err(AppError::BadRequest(format!(
                    "{} has no pending token.",
                    user.username
                )));
            }
            audit::insert(tx, &actor.event(now, "token.revoked", Some(&user.username)))?;
            Ok(user.username)
        })
        .await
}

/// An admin called off a user's unfinished enrollment (revoked it, or issued a new token in
/// its place): the devices that enrollment registered through the desktop client go too,
/// with their addresses and polling tokens, so no device outlives an enrollment nobody
/// finished. A finished enrollment's devices are ordinary devices and stay.
fn remove_pending_devices(
    tx: &rusqlite::Connection,
    actor: &Actor,
    user: &users::UserRow,
    now: i64,
) -> Result<(), AppError> {
    if user.is_enrolled() {
        return Ok(());
    }
    for name in crate::db::devices::delete_pending_for_user(tx, user.id)? {
        let mut e = actor.event(now, "device.removed", Some(&user.username));
        let detail = format!("{name}: registered by an unfinished enrollment that was revoked");
        e.detail = Some(&detail);
        audit::insert(tx, &e)?;
    }
    Ok(())
}
