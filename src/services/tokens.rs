//! Issuing and revoking enrollment and desktop tokens (docs/security.md, item 1–8).
//!
//! Issuing never shows the token itself: it leaves a sealed card for the issuing admin
//! session, and the card's page takes it exactly once, so a reload or Back shows nothing
//! and issues nothing.

use super::Actor;
use crate::crypto::{random_alphanumeric, sha256_hex};
use crate::db::{audit, locations, outbox, settings as settings_repo, token_cards, tokens, users};
use crate::domain::outbox::OutboxStatus;
use crate::domain::user::Email;
use crate::error::AppError;
use crate::mail::templates::{self, Contact, TokenEmail};
use crate::state::AppState;
use base64::Engine;

/// Characters in a token secret (32 × log2(62) ≈ 190 bits).
pub const TOKEN_LEN: usize = 32;
/// Most invitation emails (tokens sent by email) to one user within [`RESEND_WINDOW`]
/// seconds; handing a token over is not limited.
pub const RESEND_LIMIT: usize = 5;
/// The window of [`RESEND_LIMIT`], seconds.
pub const RESEND_WINDOW: i64 = 600;
/// How long an unseen token card waits for the admin's browser, seconds.
const CARD_TTL: i64 = 300;

pub use crate::domain::token::Purpose;

/// How the token reaches the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// onramp emails it to this address.
    Email(String),
    /// The admin hands it over.
    Manual,
}

/// Where the email carrying a token stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailState {
    /// Waiting in the outbox; without SMTP it waits until SMTP is set up.
    Queued {
        /// Whether an SMTP server is configured at all.
        smtp_configured: bool,
    },
    /// Accepted by the SMTP server.
    Sent,
    /// Given up.
    Failed,
}

/// A token being shown on its card: once, never again.
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
    /// The address its email goes to, and where that email stands.
    pub mail: Option<(String, MailState)>,
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
/// email when asked to. Returns the id of the card that shows the token once to the admin
/// session `session_id` (see [`take_card`]). More than [`RESEND_LIMIT`] emails in the window
/// is `RateLimited` with the seconds until the next one may go.
pub async fn issue_token(
    state: &AppState,
    actor: &Actor,
    session_id: &str,
    user_id: i64,
    purpose: Purpose,
    delivery: Delivery,
) -> Result<String, AppError> {
    issue_token_valid_for(state, actor, session_id, user_id, purpose, delivery, None).await
}

/// [`issue_token`] with a chosen validity in seconds (see
/// [`crate::domain::token::parse_validity`]); `None` is the configured default.
pub async fn issue_token_valid_for(
    state: &AppState,
    actor: &Actor,
    session_id: &str,
    user_id: i64,
    purpose: Purpose,
    delivery: Delivery,
    validity: Option<i64>,
) -> Result<String, AppError> {
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
    let ttl = validity.unwrap_or_else(|| default_validity(state, purpose));
    let session_ttl = state.config.enrollment_session_ttl.whole_seconds();
    let url = state.config.public_url.clone();
    let actor = actor.clone();
    let sealed = state.secrets.seal(&secret)?;
    let card_id = random_alphanumeric(TOKEN_LEN);
    let card = card_id.clone();
    let session_id = session_id.to_owned();
    let emailed = email.is_some();
    state
        .db
        .write(move |tx| {
            let user = users::get(tx, user_id)?.ok_or(AppError::NotFound)?;
            check_eligible(tx, &user, purpose)?;
            if email.is_some() {
                let recent = tokens::emailed_since(tx, user_id, now - RESEND_WINDOW)?;
                if let Some(oldest_counted) = recent.get(RESEND_LIMIT - 1) {
                    let wait = (oldest_counted + RESEND_WINDOW - now).max(1);
                    return Err(AppError::RateLimited(wait.unsigned_abs()));
                }
            }
            token_cards::delete_expired(tx, now)?;
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
                match &email {
                    Some(to) => format!("queued for email to {}", to.as_str()),
                    None => "handed over by the admin".to_owned(),
                },
                if revoked > 0 {
                    format!(", revoked {revoked} earlier")
                } else {
                    String::new()
                }
            );
            event.detail = Some(&detail);
            audit::insert(tx, &event)?;
            let mut outbox_id = None;
            if let Some(to) = &email {
                let instance = settings_repo::get(tx, settings_repo::INSTANCE_NAME)?
                    .unwrap_or_else(|| "onramp".into());
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
                outbox_id = Some(super::outbox::queue_sealed(
                    tx,
                    purpose.as_str(),
                    &message,
                    Some(&sealed),
                    now,
                )?);
                let mut mailed = actor.event(now, "token.mailed", Some(&user.username));
                let to_detail = format!("to {}", to.as_str());
                mailed.detail = Some(&to_detail);
                audit::insert(tx, &mailed)?;
            }
            token_cards::insert(
                tx,
                &token_cards::NewCard {
                    id: &card,
                    session_id: &session_id,
                    user_id,
                    token_id,
                    secret_enc: &sealed,
                    outbox_id,
                    expires_at: now + CARD_TTL,
                },
            )?;
            Ok(())
        })
        .await?;
    if emailed {
        state.mail_wake.notify_one();
    }
    Ok(card_id)
}

/// How long a token for `purpose` lasts unless the admin chooses otherwise, seconds.
pub fn default_validity(state: &AppState, purpose: Purpose) -> i64 {
    match purpose {
        Purpose::Enrollment => state.config.enrollment_token_ttl,
        Purpose::Desktop => state.config.desktop_token_ttl,
    }
    .whole_seconds()
}

/// Whether `user` may get a token for `purpose` now: active, and not yet enrolled for an
/// enrollment token, enrolled (with a location to connect to) for a desktop token.
pub fn check_eligible(
    tx: &rusqlite::Connection,
    user: &users::UserRow,
    purpose: Purpose,
) -> Result<(), AppError> {
    if !user.is_active {
        return Err(AppError::Forbidden(format!(
            "{} is disabled; enable the account first.",
            user.username
        )));
    }
    match purpose {
        Purpose::Enrollment if user.is_enrolled() => Err(AppError::Forbidden(format!(
            "{} has already enrolled. Use Configure Desktop Client to set up their desktop.",
            user.username
        ))),
        Purpose::Desktop if !user.is_enrolled() => Err(AppError::Forbidden(format!(
            "{} has not enrolled yet. Start enrollment instead.",
            user.username
        ))),
        Purpose::Desktop if locations::count(tx)? == 0 => Err(AppError::Forbidden(
            "Add a location first: a desktop client needs one to connect to.".into(),
        )),
        _ => Ok(()),
    }
}

/// Takes the card `card_id` of user `user_id` left for the admin session `session_id`: the
/// token on it, once. `None` when it was shown already, belongs to another session, waited
/// too long, or its token no longer works.
pub async fn take_card(
    state: &AppState,
    session_id: &str,
    user_id: i64,
    card_id: &str,
) -> Result<Option<IssuedToken>, AppError> {
    let now = state.now().unix_timestamp();
    let (session_id, card_id) = (session_id.to_owned(), card_id.to_owned());
    let url = state.config.public_url.clone();
    let st = state.clone();
    state
        .db
        .write(move |tx| {
            token_cards::delete_expired(tx, now)?;
            let Some(card) = token_cards::take(tx, &card_id, &session_id, user_id, now)? else {
                return Ok(None);
            };
            let Some(token) = tokens::get(tx, card.token_id)?.filter(|t| t.is_live(now)) else {
                return Ok(None);
            };
            let user = users::get(tx, user_id)?.ok_or(AppError::NotFound)?;
            let smtp_configured = {
                let settings = super::settings::load(tx)?;
                super::settings::effective_smtp(&st, &settings).is_some()
            };
            let mail_state = match card.outbox_id {
                Some(id) => outbox::get(tx, id)?.map(|m| match m.status {
                    OutboxStatus::Sent => MailState::Sent,
                    OutboxStatus::Failed => MailState::Failed,
                    OutboxStatus::Queued | OutboxStatus::Sending => {
                        MailState::Queued { smtp_configured }
                    }
                }),
                None => None,
            };
            Ok(Some(IssuedToken {
                secret: st.secrets.open(&card.secret_enc)?,
                purpose: token.purpose,
                username: user.username,
                expires_at: token.expires_at,
                mail: token.email.zip(mail_state),
                url,
            }))
        })
        .await
}

/// Revokes a user's pending tokens (enrollment or desktop activation) and ends the sessions
/// opened with them; returns the username and what the live token was for.
pub async fn revoke_pending(
    state: &AppState,
    actor: &Actor,
    user_id: i64,
) -> Result<(String, Purpose), AppError> {
    let now = state.now().unix_timestamp();
    let actor = actor.clone();
    state
        .db
        .write(move |tx| {
            let user = users::get(tx, user_id)?.ok_or(AppError::NotFound)?;
            let Some(pending) = tokens::pending_for_user(tx, user_id, now)? else {
                return Err(AppError::BadRequest(format!(
                    "{} has no pending token.",
                    user.username
                )));
            };
            tokens::revoke_for_user(tx, user_id, now)?;
            tokens::end_token_sessions(tx, user_id)?;
            token_cards::delete_for_user(tx, user_id)?;
            remove_pending_devices(tx, &actor, &user, now)?;
            let mut event = actor.event(now, "token.revoked", Some(&user.username));
            let detail = format!("{} token #{}", pending.purpose.as_str(), pending.id);
            event.detail = Some(&detail);
            audit::insert(tx, &event)?;
            Ok((user.username, pending.purpose))
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

/// What every invitation of one batch shares: where links point, how long tokens last and
/// who the emails name as the contact.
#[derive(Debug, Clone)]
pub struct InviteContext {
    /// The instance's display name.
    pub instance: String,
    /// The public URL.
    pub url: String,
    /// Token lifetime, seconds.
    pub ttl: i64,
    /// Enrollment window, seconds.
    pub session_ttl: i64,
    /// The issuing admin, if a person issues it.
    pub admin_id: Option<i64>,
    /// The contact the email names.
    pub contact: Contact,
}

impl InviteContext {
    /// The context for invitations `actor` issues now, valid for `ttl` seconds. Without a
    /// logged-in admin (the command line) the emails name the oldest active admin.
    pub fn load(
        tx: &rusqlite::Connection,
        state: &AppState,
        actor: &Actor,
        ttl: i64,
    ) -> Result<Self, AppError> {
        let admin = match actor.user_id {
            Some(id) => users::get(tx, id)?,
            None => users::first_active_admin(tx)?,
        }
        .ok_or_else(|| {
            AppError::Forbidden(
                "Invitations name an admin as the contact, and there is no active admin.".into(),
            )
        })?;
        Ok(Self {
            instance: settings_repo::get(tx, settings_repo::INSTANCE_NAME)?
                .unwrap_or_else(|| "onramp".into()),
            url: state.config.public_url.clone(),
            ttl,
            session_ttl: state.config.enrollment_session_ttl.whole_seconds(),
            admin_id: actor.user_id,
            contact: admin_contact(&admin),
        })
    }
}

/// An enrollment token issued inside a batch.
#[derive(Debug, Clone)]
pub struct Invitation {
    /// The token's id.
    pub token_id: i64,
    /// The secret, for a caller that hands it over itself.
    pub secret: String,
}

/// Issues a token for `purpose` to `user` inside the caller's transaction, revoking the
/// user's earlier unused tokens, audits it, and queues its email when `email` is given (the
/// secret sealed until delivery). The caller checks that the user may have one and wakes
/// the mail worker.
#[allow(clippy::too_many_arguments)]
pub fn invite_in_tx(
    tx: &rusqlite::Connection,
    state: &AppState,
    actor: &Actor,
    user: &users::UserRow,
    purpose: Purpose,
    email: Option<&Email>,
    ctx: &InviteContext,
    now: i64,
) -> Result<Invitation, AppError> {
    let secret = random_alphanumeric(TOKEN_LEN);
    let revoked = tokens::revoke_for_user(tx, user.id, now)?;
    tokens::end_token_sessions(tx, user.id)?;
    remove_pending_devices(tx, actor, user, now)?;
    let token_id = tokens::insert(
        tx,
        &tokens::NewToken {
            hash: &sha256_hex(&secret),
            purpose,
            user_id: user.id,
            admin_id: ctx.admin_id,
            email: email.map(Email::as_str),
            created_at: now,
            expires_at: now + ctx.ttl,
        },
    )?;
    let detail = format!(
        "{} token #{token_id}, {}{}",
        purpose.as_str(),
        match email {
            Some(to) => format!("queued for email to {}", to.as_str()),
            None => "handed over through the API".to_owned(),
        },
        if revoked > 0 {
            format!(", revoked {revoked} earlier")
        } else {
            String::new()
        }
    );
    audit::insert(
        tx,
        &actor
            .event(now, "token.issued", Some(&user.username))
            .with_detail(&detail),
    )?;
    if let Some(to) = email {
        let data = TokenEmail {
            to: to.as_str(),
            first_name: &user.first_name,
            instance: &ctx.instance,
            url: &ctx.url,
            token_ttl: ctx.ttl,
            session_ttl: ctx.session_ttl,
            admin: &ctx.contact,
        };
        let message = match purpose {
            Purpose::Enrollment => templates::enrollment_email(&data),
            Purpose::Desktop => templates::desktop_email(&data),
        };
        let sealed = state.secrets.seal(&secret)?;
        super::outbox::queue_sealed(tx, purpose.as_str(), &message, Some(&sealed), now)?;
        let to_detail = format!("to {}", to.as_str());
        audit::insert(
            tx,
            &actor
                .event(now, "token.mailed", Some(&user.username))
                .with_detail(&to_detail),
        )?;
    }
    Ok(Invitation { token_id, secret })
}
