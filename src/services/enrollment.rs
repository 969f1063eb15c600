//! The enrollment wizard (SPEC §4): a landing page that changes nothing, a POST that opens
//! the window, steps in order, and completion in one transaction.

use super::devices::{self, parse_device_name};
use super::Actor;
use crate::crypto::{random_alphanumeric, sha256_hex};
use crate::db::{audit, sessions, tokens, users};
use crate::domain::template::TagValues;
use crate::domain::token::Purpose;
use crate::domain::user::Phone;
use crate::domain::wireguard::WgKey;
use crate::domain::FieldError;
use crate::error::AppError;
use crate::mail::templates::{self, Contact};
use crate::services::settings::{load as load_settings, render_welcome, VpnStep};
use crate::state::AppState;
use rusqlite::{params, Connection};

mod done;
mod password;
mod two_factor;
pub use done::{done, Done, DoneConfig};
pub use password::{password_strength, submit_password};
pub use two_factor::{
    confirm_two_factor, skip_two_factor, start_two_factor, two_factor, TwoFactorStep,
};

/// Starts and link opens per address per minute, counted together.
const START_LIMIT: usize = 10;
/// Failed link opens from one address within this window share one audit row.
const LINK_FAILURES_WINDOW: time::Duration = time::Duration::minutes(5);

/// Counts one start or link open from the actor's address; `Err(seconds)` when over the limit.
fn count_start(state: &AppState, actor: &Actor, now: time::OffsetDateTime) -> Result<(), u64> {
    let key = format!("enroll-start:{}", actor.limit_key());
    state
        .limits
        .hit(&key, START_LIMIT, time::Duration::minutes(1), now)
}

/// The wizard's steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// "Hello, <first name>".
    Welcome = 0,
    /// Names and email read-only, phone editable.
    Verify = 1,
    /// Password and repeat.
    Password = 2,
    /// Device name and key, or skip when optional.
    Vpn = 3,
    /// The account exists: an authenticator app, mandatory when two-factor is required.
    TwoFactor = 4,
    /// Completed: the onboarding message and configs.
    Done = 5,
}

impl Step {
    fn from_i64(n: i64) -> Self {
        match n {
            1 => Self::Verify,
            2 => Self::Password,
            3 => Self::Vpn,
            4 => Self::TwoFactor,
            5 => Self::Done,
            _ => Self::Welcome,
        }
    }

    /// The step's title in the step list.
    pub fn title(self) -> &'static str {
        match self {
            Self::Welcome => "Welcome",
            Self::Verify => "Verify your data",
            Self::Password => "Create password",
            Self::Vpn => "Configure VPN",
            Self::TwoFactor => "Set up two-factor",
            Self::Done => "Done",
        }
    }

    /// Whether the enrollment is complete at this step (the account exists, the token is
    /// spent): the steps from here on outlive the token.
    pub fn is_complete(self) -> bool {
        self >= Self::TwoFactor
    }

    /// Every step.
    pub const ALL: [Step; 6] = [
        Step::Welcome,
        Step::Verify,
        Step::Password,
        Step::Vpn,
        Step::TwoFactor,
        Step::Done,
    ];
}

/// What a link's token is, judged without changing anything (for the GET landing page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkKind {
    /// Unknown, expired, revoked, consumed, or for a disabled user: one answer for all.
    Invalid,
    /// A live enrollment token.
    Enrollment,
    /// A desktop token: show how to use it in the desktop client.
    Desktop,
}

fn classify(
    c: &Connection,
    secret: &str,
    now: i64,
) -> Result<(LinkKind, Option<tokens::TokenRow>), AppError> {
    let Some(token) = tokens::find_by_hash(c, &sha256_hex(secret.trim()))? else {
        return Ok((LinkKind::Invalid, None));
    };
    let user = users::get(c, token.user_id)?;
    let usable = token.is_live(now) && user.as_ref().is_some_and(|u| u.is_active);
    let kind = match (usable, token.purpose) {
        (false, _) => LinkKind::Invalid,
        (true, Purpose::Desktop) => LinkKind::Desktop,
        (true, _) if user.as_ref().is_some_and(users::UserRow::is_enrolled) => LinkKind::Invalid,
        (true, _) => LinkKind::Enrollment,
    };
    Ok((kind, Some(token)))
}

/// Classifies a link's token. Opening a link counts in the same per-address limit as
/// starting, since it tells a live token from a dead one; failures are audited, one row per
/// address and [`LINK_FAILURES_WINDOW`] that counts them, so a flood cannot fill the log.
pub async fn check_link(
    state: &AppState,
    actor: &Actor,
    secret: String,
) -> Result<LinkKind, AppError> {
    let now_t = state.now();
    count_start(state, actor, now_t).map_err(AppError::RateLimited)?;
    let now = now_t.unix_timestamp();
    let hash = sha256_hex(secret.trim());
    let kind = if secret.len() > 64 {
        LinkKind::Invalid
    } else {
        state
            .db
            .read(move |c| Ok(classify(c, &secret, now)?.0))
            .await?
    };
    if kind == LinkKind::Enrollment {
        // Opening the link spends nothing; it only tells the admin the invitation arrived.
        state
            .db
            .write(move |tx| Ok(crate::db::tokens::mark_opened(tx, &hash, now)?))
            .await?;
    }
    if kind == LinkKind::Invalid {
        let key = format!("enroll-link-fail:{}", actor.limit_key());
        state.limits.record(&key, LINK_FAILURES_WINDOW, now_t);
        let times = state.limits.count(&key, LINK_FAILURES_WINDOW, now_t);
        let detail = format!(
            "enrollment link refused when opened: {times} time{} from this address in {} minutes",
            if times == 1 { "" } else { "s" },
            LINK_FAILURES_WINDOW.whole_minutes()
        );
        let since = now - LINK_FAILURES_WINDOW.whole_seconds();
        let actor = actor.clone();
        state
            .db
            .write(move |tx| {
                let mut e = actor.event(now, "token.invalid", None);
                e.detail = Some(&detail);
                Ok(audit::insert_or_update_recent(
                    tx,
                    &e,
                    since,
                    "enrollment link refused when opened",
                )?)
            })
            .await?;
    }
    Ok(kind)
}

/// Why starting failed.
#[derive(Debug)]
pub enum StartError {
    /// The one "invalid or expired link" answer.
    Invalid,
    /// A desktop token: not for the wizard.
    Desktop,
    /// Too many attempts from this address.
    RateLimited(u64),
    /// Something else broke.
    App(AppError),
}

impl From<AppError> for StartError {
    fn from(e: AppError) -> Self {
        Self::App(e)
    }
}

/// Opens (or reopens) the enrollment window for a token; returns the new session's cookie
/// value. The first start fixes the deadline; a later start inside the window gets a new
/// session with the same deadline and ends the older one.
pub async fn start(state: &AppState, actor: &Actor, secret: &str) -> Result<String, StartError> {
    let now_t = state.now();
    count_start(state, actor, now_t).map_err(StartError::RateLimited)?;
    let now = now_t.unix_timestamp();
    let window = state.config.enrollment_session_ttl.whole_seconds();
    let secret = secret.trim().to_owned();
    let cookie_value = random_alphanumeric(43);
    let id_hash = sha256_hex(&cookie_value);
    let csrf = random_alphanumeric(43);
    let actor = actor.clone();
    let outcome = state
        .db
        .write(move |tx| {
            let (kind, token) = if secret.len() > 64 { (LinkKind::Invalid, None) } else { classify(tx, &secret, now)? };
            let token = match (kind, token) {
                (LinkKind::Enrollment, Some(t)) => t,
                (LinkKind::Desktop, _) => return Ok(Err(StartError::Desktop)),
                _ => {
                    // Never the token itself: only that a bad one was tried, and from where.
                    let mut e = actor.event(now, "token.invalid", None);
                    e.detail = Some("enrollment link refused (unknown, expired, revoked, used or user disabled)");
                    audit::insert(tx, &e)?;
                    return Ok(Err(StartError::Invalid));
                }
            };
            let user = users::get(tx, token.user_id)?.ok_or(AppError::NotFound)?;
            let deadline = match token.session_deadline {
                Some(d) => d,
                None => {
                    let d = (now + window).min(token.expires_at);
                    tokens::mark_started(tx, token.id, now, d)?;
                    d
                }
            };
            let ended = tx.execute("DELETE FROM session WHERE token_id = ?1", [token.id])?;
            sessions::insert(
                tx,
                &sessions::SessionRow {
                    id_hash: id_hash.clone(),
                    kind: crate::domain::session::SessionKind::Enrollment,
                    user_id: token.user_id,
                    csrf_token: csrf.clone(),
                    created_at: now,
                    last_seen_at: now,
                    expires_at: deadline,
                    auth_time: now,
                    mfa: false,
                },
                actor.ip.as_deref(),
                actor.user_agent.as_deref(),
            )?;
            tx.execute("UPDATE session SET token_id = ?2 WHERE id_hash = ?1", params![id_hash, token.id])?;
            let action = if token.started_at.is_none() { "token.started" } else { "enrollment.reopened" };
            let mut e = actor.event(now, action, Some(&user.username));
            let detail = if ended > 0 { "older session ended" } else { "enrollment window opened" };
            e.detail = Some(detail);
            audit::insert(tx, &e)?;
            Ok(Ok(()))
        })
        .await?;
    outcome.map(|()| cookie_value)
}

/// Everything a wizard page shows.
#[derive(Debug, Clone)]
pub struct Wizard {
    /// Hash of the session cookie.
    pub session_hash: String,
    /// The session's CSRF token.
    pub csrf_token: String,
    /// Current step.
    pub step: Step,
    /// End of the window, unix seconds.
    pub deadline: i64,
    /// The enrolling user.
    pub user: users::UserRow,
    /// Who to ask.
    pub admin: Option<Contact>,
    /// The instance's name.
    pub instance: String,
    /// Whether the VPN step may be skipped.
    pub vpn_optional: bool,
    /// Whether the user already has a device (registered by the desktop client in this
    /// enrollment), which satisfies a mandatory VPN step.
    pub has_devices: bool,
    /// Whether any location is open to the user; without one the VPN step adds no device.
    pub has_locations: bool,
    /// Whether a second factor is mandatory, so the two-factor step cannot be skipped.
    pub mfa_required: bool,
    /// Phone as entered on the verify step.
    pub pending_phone: Option<String>,
    /// The token.
    pub token_id: i64,
    /// The device added at completion.
    pub device_id: Option<i64>,
}

/// Why a wizard request cannot go on.
#[derive(Debug)]
pub enum WizardError {
    /// No session, or it ended: start again from the link.
    NoSession,
    /// An admin ended it: disabled or deleted the user, or revoked or replaced the token.
    Cancelled,
    /// The window closed; who to ask for a new link.
    Expired(Option<Contact>),
    /// The window closed after the enrollment was completed; who to ask for a new device.
    Closed(Option<Contact>),
    /// A step was submitted out of order; go to this one.
    WrongStep(Step),
    /// Something else.
    App(AppError),
}

impl From<AppError> for WizardError {
    fn from(e: AppError) -> Self {
        Self::App(e)
    }
}

fn load_wizard(
    c: &Connection,
    id_hash: &str,
    now: i64,
) -> Result<Result<Wizard, WizardError>, AppError> {
    let row = c
        .query_row(
            "SELECT s.csrf_token, s.step, s.expires_at, s.user_id, s.pending_phone, s.token_id, s.device_id
             FROM session s WHERE s.id_hash = ?1 AND s.kind = 'enrollment'",
            [id_hash],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                    r.get::<_, Option<i64>>(6)?,
                ))
            },
        )
        .ok();
    let Some((csrf, step, deadline, user_id, phone, token_id, device_id)) = row else {
        return Ok(Err(if sessions::was_cancelled(c, id_hash)? {
            WizardError::Cancelled
        } else {
            WizardError::NoSession
        }));
    };
    let Some(token_id) = token_id else {
        return Ok(Err(WizardError::NoSession));
    };
    let step = Step::from_i64(step);
    let token = tokens::get(c, token_id)?.ok_or(AppError::NotFound)?;
    let admin = match token.admin_id {
        Some(id) => users::get(c, id)?.map(|a| super::tokens::admin_contact(&a)),
        None => None,
    };
    if now >= deadline {
        return Ok(Err(if step.is_complete() {
            WizardError::Closed(admin)
        } else {
            WizardError::Expired(admin)
        }));
    }
    let user = users::get(c, user_id)?.ok_or(AppError::NotFound)?;
    // Revoked, or the user disabled meanwhile: the session is over (done pages stay readable).
    if !step.is_complete() && (token.revoked_at.is_some() || !user.is_active) {
        return Ok(Err(WizardError::Cancelled));
    }
    if !step.is_complete() && !token.is_live(now) {
        return Ok(Err(WizardError::NoSession));
    }
    let settings = load_settings(c)?;
    Ok(Ok(Wizard {
        session_hash: id_hash.to_owned(),
        csrf_token: csrf,
        step,
        deadline,
        user,
        admin,
        instance: settings.instance_name,
        vpn_optional: settings.vpn_step == VpnStep::Optional,
        has_devices: crate::db::devices::count_for_user(c, user_id)? > 0,
        has_locations: crate::db::locations::any_accessible_to(c, user_id)?,
        mfa_required: super::mfa::required(c)?,
        pending_phone: phone,
        token_id,
        device_id,
    }))
}

/// The wizard a session cookie belongs to.
pub async fn wizard(state: &AppState, cookie_value: &str) -> Result<Wizard, WizardError> {
    let id_hash = sha256_hex(cookie_value);
    let now = state.now().unix_timestamp();
    let result = state
        .db
        .read(move |c| load_wizard(c, &id_hash, now))
        .await?;
    if let Err(WizardError::Expired(_)) = &result {
        let id_hash = sha256_hex(cookie_value);
        state
            .db
            .write(move |tx| {
                let user: Option<String> = tx
                    .query_row(
                        "SELECT u.username FROM session s JOIN user u ON u.id = s.user_id WHERE s.id_hash = ?1",
                        [&id_hash],
                        |r| r.get(0),
                    )
                    .ok();
                if tx.execute("DELETE FROM session WHERE id_hash = ?1", [&id_hash])? > 0 {
                    audit::insert(
                        tx,
                        &audit::NewEvent { at: now, actor: "system", action: "session.expired", target: user.as_deref(), ..Default::default() },
                    )?;
                }
                Ok(())
            })
            .await?;
    }
    result
}

fn expect_step(w: &Wizard, step: Step) -> Result<(), WizardError> {
    if w.step == step {
        Ok(())
    } else {
        Err(WizardError::WrongStep(w.step))
    }
}

/// Moves the wizard one step on, and records that the user finished `from`.
fn set_step(
    c: &Connection,
    id_hash: &str,
    step: Step,
    from: Step,
    username: &str,
    now: i64,
) -> Result<bool, AppError> {
    let moved = c.execute(
        "UPDATE session SET step = ?2 WHERE id_hash = ?1 AND step = ?3",
        params![id_hash, step as i64, from as i64],
    )? == 1;
    if moved {
        let detail = format!("finished \"{}\"", from.title());
        audit::insert(
            c,
            &audit::NewEvent {
                at: now,
                actor: username,
                action: "enrollment.step",
                target: Some(username),
                detail: Some(&detail),
                ..Default::default()
            },
        )?;
    }
    Ok(moved)
}

/// Welcome → Verify.
pub async fn submit_welcome(state: &AppState, w: &Wizard) -> Result<(), WizardError> {
    expect_step(w, Step::Welcome)?;
    let (user, now) = (w.user.username.clone(), state.now().unix_timestamp());
    let h = w.session_hash.clone();
    state
        .db
        .write(move |tx| set_step(tx, &h, Step::Verify, Step::Welcome, &user, now))
        .await?;
    Ok(())
}

/// Verify → Password, keeping the phone number for completion.
pub async fn submit_verify(state: &AppState, w: &Wizard, phone: &str) -> Result<(), WizardError> {
    expect_step(w, Step::Verify)?;
    let phone = Phone::parse_optional("phone", phone).map_err(|e| AppError::Validation(vec![e]))?;
    let phone = phone.as_ref().map(|p| p.as_str().to_owned());
    keep_and_advance(state, w, Pending::Phone(phone), Step::Password).await
}

/// A value a step keeps on the session until completion.
enum Pending {
    /// The phone number from the verify step.
    Phone(Option<String>),
    /// The password's hash from the password step.
    PasswordHash(String),
}

/// Keeps `value` on the session and moves the wizard from its current step to `to`.
async fn keep_and_advance(
    state: &AppState,
    w: &Wizard,
    value: Pending,
    to: Step,
) -> Result<(), WizardError> {
    let (user, now) = (w.user.username.clone(), state.now().unix_timestamp());
    let (h, from) = (w.session_hash.clone(), w.step);
    state
        .db
        .write(move |tx| {
            match value {
                Pending::Phone(phone) => sessions::set_pending_phone(tx, &h, phone.as_deref())?,
                Pending::PasswordHash(hash) => sessions::set_pending_password_hash(tx, &h, &hash)?,
            };
            set_step(tx, &h, to, from, &user, now)
        })
        .await?;
    Ok(())
}

/// A device to add at completion.
#[derive(Debug, Clone)]
pub struct NewDevice {
    /// Device name.
    pub name: String,
    /// WireGuard public key.
    pub public_key: String,
}

/// Completes the enrollment in one transaction: token consumed (exactly once), password and
/// phone set, the device and its addresses created, the session closed for changes, the
/// welcome email, admin notification and new-device email queued. All or nothing.
pub async fn complete(
    state: &AppState,
    actor: &Actor,
    w: &Wizard,
    device: Option<NewDevice>,
) -> Result<(), WizardError> {
    expect_step(w, Step::Vpn)?;
    let device = match device {
        // No location to connect to: a key pair now would be thrown away, so none is added.
        _ if !w.has_locations => None,
        Some(d) => {
            let name = parse_device_name(&d.name);
            let key = WgKey::parse("public_key", &d.public_key);
            match (name, key) {
                (Ok(n), Ok(k)) => Some((n, k)),
                (n, k) => {
                    return Err(AppError::Validation(
                        [n.err(), k.err()].into_iter().flatten().collect(),
                    )
                    .into())
                }
            }
        }
        // A device registered earlier in this enrollment (by the desktop client) counts.
        None if w.vpn_optional || w.has_devices => None,
        None => {
            return Err(AppError::Validation(vec![FieldError::new(
                "device_name",
                "Adding a VPN device is required to finish.",
            )])
            .into())
        }
    };
    let now = state.now().unix_timestamp();
    let w2 = w.clone();
    let actor = Actor {
        username: w.user.username.clone(),
        user_id: Some(w.user.id),
        ..actor.clone()
    };
    let url = state.config.public_url.clone();
    let limit = super::settings::get_settings(state)
        .await?
        .max_devices_per_user;
    state
        .db
        .write(move |tx| {
            let pending: Option<String> = tx.query_row(
                "SELECT pending_password_hash FROM session WHERE id_hash = ?1 AND step = ?2",
                params![w2.session_hash, Step::Vpn as i64],
                |r| r.get(0),
            ).map_err(|_| AppError::BadRequest("This enrollment was already completed.".into()))?;
            let hash = pending.ok_or_else(|| AppError::BadRequest("Create your password first.".into()))?;
            if !tokens::consume(tx, w2.token_id, now)? {
                return Err(AppError::BadRequest("This enrollment link was already used or has expired.".into()));
            }
            let user = users::get(tx, w2.user.id)?.ok_or(AppError::NotFound)?;
            if !user.is_active || user.is_enrolled() {
                return Err(AppError::BadRequest("This account cannot be enrolled.".into()));
            }
            users::set_password_hash(tx, user.id, &hash)?;
            tx.execute("UPDATE user SET phone = ?2 WHERE id = ?1", params![user.id, w2.pending_phone])?;
            let mut event = actor.event(now, "token.consumed", Some(&user.username));
            let detail = format!("token #{}", w2.token_id);
            event.detail = Some(&detail);
            audit::insert(tx, &event)?;
            audit::insert(tx, &actor.event(now, "password.set", Some(&user.username)))?;
            let device_id = match &device {
                Some((name, key)) => {
                    let new = devices::NewDevice { user_id: user.id, name, key, pending_token_id: None };
                    let id = devices::add(tx, &new, limit, now).map_err(AppError::from)?;
                    let mut e = actor.event(now, "device.added", Some(&user.username));
                    e.detail = Some(name);
                    audit::insert(tx, &e)?;
                    Some(id)
                }
                None => None,
            };
            tx.execute(
                "UPDATE session SET step = ?2, pending_password_hash = NULL, device_id = ?3 WHERE id_hash = ?1",
                params![w2.session_hash, Step::TwoFactor as i64, device_id],
            )?;
            close_enrollment(tx, user.id, w2.token_id, now)?;
            queue_completion_mail(tx, &url, &user, w2.token_id, device.as_ref().map(|(n, k)| (n.as_str(), k.as_str())), device_id, now)?;
            Ok(())
        })
        .await?;
    state.mail_wake.notify_one();
    Ok(())
}

fn queue_completion_mail(
    tx: &Connection,
    url: &str,
    user: &users::UserRow,
    token_id: i64,
    device: Option<(&str, &str)>,
    device_id: Option<i64>,
    now: i64,
) -> Result<(), AppError> {
    let settings = load_settings(tx)?;
    let token = tokens::get(tx, token_id)?.ok_or(AppError::NotFound)?;
    let admin = match token.admin_id {
        Some(id) => users::get(tx, id)?,
        None => None,
    };
    let values = tag_values(user, admin.as_ref(), url, &settings.instance_name);
    let body = if settings.welcome_email_same {
        &settings.welcome_message
    } else {
        &settings.welcome_email_body
    };
    let subject: String =
        crate::domain::template::substitute(&settings.welcome_email_subject, &values)
            .chars()
            .filter(|c| !c.is_control())
            .collect();
    let text = crate::domain::template::markdown_to_text(&crate::domain::template::substitute(
        body, &values,
    ));
    let html = render_welcome(body, &values);
    let welcome = templates::markdown_email(&user.email, &subject, &text, &html);
    super::outbox::queue(tx, "welcome", &welcome, now)?;
    if let Some(admin) = &admin {
        let full = format!("{} {}", user.first_name, user.last_name);
        let note = templates::admin_notification(
            &admin.email,
            &full,
            &user.username,
            &settings.instance_name,
            device.map(|d| d.0),
        );
        super::outbox::queue(tx, "admin-notification", &note, now)?;
    }
    if let (Some((name, key)), Some(id)) = (device, device_id) {
        let locations = devices::mail_locations(tx, id)?;
        let mail = templates::new_device_email(
            &user.email,
            &settings.instance_name,
            name,
            key,
            &locations,
        );
        super::outbox::queue(tx, "new-device", &mail, now)?;
    }
    Ok(())
}

/// What every finished enrollment does, in the browser or the desktop client: devices the
/// enrollment registered become ordinary devices, the token's desktop-client sessions end,
/// and the user's other live tokens (a follow-up link, say) die, since they have nothing
/// left to do.
pub fn close_enrollment(
    tx: &Connection,
    user_id: i64,
    token_id: i64,
    now: i64,
) -> Result<(), AppError> {
    crate::db::devices::finish_pending(tx, user_id)?;
    tokens::end_api_sessions(tx, token_id)?;
    tokens::revoke_for_user(tx, user_id, now)?;
    Ok(())
}

/// Queues the welcome email and the admin notification for a user who just enrolled.
pub fn queue_welcome_and_notice(
    tx: &Connection,
    url: &str,
    user: &users::UserRow,
    token_id: i64,
    now: i64,
) -> Result<(), AppError> {
    queue_completion_mail(tx, url, user, token_id, None, None, now)
}

/// The tag values for a user's messages.
pub fn tag_values(
    user: &users::UserRow,
    admin: Option<&users::UserRow>,
    url: &str,
    instance_name: &str,
) -> TagValues {
    TagValues {
        instance_name: instance_name.to_owned(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        username: user.username.clone(),
        admin_first_name: admin.map(|a| a.first_name.clone()).unwrap_or_default(),
        admin_last_name: admin.map(|a| a.last_name.clone()).unwrap_or_default(),
        admin_email: admin.map(|a| a.email.clone()).unwrap_or_default(),
        admin_phone: admin.and_then(|a| a.phone.clone()).unwrap_or_default(),
        url: url.to_owned(),
    }
}
