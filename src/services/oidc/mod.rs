//! onramp as an OpenID Connect provider: the authorization step (who signs in to which app,
//! consent), then [`tokens`] for the back channel, [`keys`] for signing and [`apps`] for the
//! admin's registrations.

pub mod apps;
pub mod keys;
pub mod tokens;

use super::Actor;
use crate::crypto::{random_alphanumeric, sha256_hex};
use crate::db::oidc::{self as repo, ClientRow};
use crate::db::{audit, oidc_tokens, users};
use crate::domain::oidc::{check_challenge, parse_scope, ClientKind, Prompt};
use crate::error::AppError;
use crate::services::auth::UserSession;
use crate::state::AppState;
use rusqlite::Connection;

/// How long an authorization code lives.
pub const CODE_TTL: i64 = 60;
/// How long an ID token lives.
pub const ID_TOKEN_TTL: i64 = 60 * 60;

/// The issuer: the public URL without a trailing slash.
pub fn issuer(state: &AppState) -> String {
    state.config.public_url.trim_end_matches('/').to_owned()
}

/// An authorization request as it arrives (query string or the consent form).
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct AuthorizeParams {
    /// The app.
    #[serde(default)]
    pub client_id: String,
    /// Where the answer goes.
    #[serde(default)]
    pub redirect_uri: String,
    /// Must be `code`.
    #[serde(default)]
    pub response_type: String,
    /// Space-separated scopes.
    #[serde(default)]
    pub scope: String,
    /// Echoed back.
    pub state: Option<String>,
    /// Put in the ID token.
    pub nonce: Option<String>,
    /// PKCE.
    pub code_challenge: Option<String>,
    /// PKCE method.
    pub code_challenge_method: Option<String>,
    /// `none`, `login`, `consent`.
    pub prompt: Option<String>,
    /// Longest age of the sign-in, in seconds.
    pub max_age: Option<String>,
}

/// A request that names a known, enabled app and one of its redirect URIs.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The app.
    pub client: ClientRow,
    /// Known scopes asked for.
    pub scope: Vec<&'static str>,
    /// The parsed prompt.
    pub prompt: Prompt,
    /// Parsed `max_age`.
    pub max_age: Option<i64>,
}

/// Why an authorization request stops.
#[derive(Debug)]
pub enum Refusal {
    /// Unknown app or redirect URI: only onramp's own page may say so.
    Page(String),
    /// An OAuth error sent back to the app's redirect URI.
    Redirect {
        /// The OAuth error code.
        error: &'static str,
        /// A sentence for the app's developer.
        description: String,
    },
}

fn redirect_error(error: &'static str, description: impl Into<String>) -> Refusal {
    Refusal::Redirect {
        error,
        description: description.into(),
    }
}

/// Checks the app and redirect URI first (refusals shown on onramp's page), then the rest
/// (refusals sent back to the app).
pub async fn check(
    state: &AppState,
    p: &AuthorizeParams,
) -> Result<Result<Checked, Refusal>, AppError> {
    let client_id = p.client_id.clone();
    let client = state
        .db
        .read(move |c| Ok(repo::client_by_client_id(c, &client_id)?))
        .await?;
    let Some(client) = client else {
        return Ok(Err(Refusal::Page("No app is registered with this client_id. Ask your administrator to register it under Apps.".into())));
    };
    if !client.redirect_uris.contains(&p.redirect_uri) {
        return Ok(Err(Refusal::Page(format!(
            "{} asked to send you to an address it has not registered. Nothing was sent to it; tell your administrator.",
            client.name
        ))));
    }
    if !client.is_enabled {
        return Ok(Err(Refusal::Page(format!(
            "{} is turned off in onramp. Ask your administrator.",
            client.name
        ))));
    }
    if p.response_type != "code" {
        return Ok(Err(redirect_error(
            "unsupported_response_type",
            "only response_type=code is supported",
        )));
    }
    let Some(scope) = parse_scope(&p.scope) else {
        return Ok(Err(redirect_error(
            "invalid_scope",
            "scope must include openid",
        )));
    };
    if let Err(why) = check_challenge(
        p.code_challenge.as_deref(),
        p.code_challenge_method.as_deref(),
    ) {
        return Ok(Err(redirect_error("invalid_request", why)));
    }
    if client.kind == ClientKind::Public && p.code_challenge.is_none() {
        return Ok(Err(redirect_error(
            "invalid_request",
            "public clients must use PKCE with S256",
        )));
    }
    let prompt = match Prompt::parse(p.prompt.as_deref()) {
        Ok(pr) => pr,
        Err(why) => return Ok(Err(redirect_error("invalid_request", why))),
    };
    let max_age = match p.max_age.as_deref().map(str::parse::<i64>) {
        None => None,
        Some(Ok(n)) if n >= 0 => Some(n),
        Some(_) => {
            return Ok(Err(redirect_error(
                "invalid_request",
                "max_age must be a number of seconds",
            )))
        }
    };
    Ok(Ok(Checked {
        client,
        scope,
        prompt,
        max_age,
    }))
}

/// What to do with a checked request and the browser's session.
#[derive(Debug)]
pub enum Next {
    /// Sign in first (again, when `fresh`).
    Login {
        /// The current session must end first (prompt=login, max_age).
        fresh: bool,
    },
    /// Ask the user.
    Consent,
    /// A page that says why this user cannot use the app.
    Refused(String),
    /// An error back to the app.
    Error(Refusal),
    /// Send the code back to the app.
    Code(String),
}

/// Decides the next step for a signed-in (or not) browser; issues the code when nothing needs
/// asking.
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    p: &AuthorizeParams,
    ck: &Checked,
    session: Option<&UserSession>,
    consent_given: bool,
) -> Result<Next, AppError> {
    let now = state.now().unix_timestamp();
    let Some(s) = session else {
        return Ok(if ck.prompt.none {
            Next::Error(redirect_error(
                "login_required",
                "the user is not signed in",
            ))
        } else {
            Next::Login { fresh: false }
        });
    };
    let too_old = ck.max_age.is_some_and(|m| now - s.auth_time > m);
    if (ck.prompt.login && !consent_given) || too_old {
        return Ok(if ck.prompt.none {
            Next::Error(redirect_error(
                "login_required",
                "the sign-in is older than max_age",
            ))
        } else {
            Next::Login { fresh: true }
        });
    }
    let (client, user_id) = (ck.client.id, s.user_id);
    let (admitted, factors, consent) = state
        .db
        .read(move |c| {
            Ok((
                repo::user_admitted(c, client, user_id)?,
                super::mfa::factors_of(c, user_id)?,
                repo::consent(c, user_id, client)?,
            ))
        })
        .await?;
    if !admitted {
        refuse(state, actor, &ck.client, "outside the app's groups").await?;
        return Ok(Next::Refused(format!("Your account is not in a group that may use {}. Ask your administrator if you need it.", ck.client.name)));
    }
    if ck.client.require_mfa && !s.mfa {
        if factors.any() {
            return Ok(Next::Login { fresh: true });
        }
        refuse(state, actor, &ck.client, "no second factor").await?;
        return Ok(Next::Refused(format!("{} requires two-factor sign-in. Set up an authenticator app or email codes under My account → Two-factor sign-in, then try again.", ck.client.name)));
    }
    let wanted = ck.scope.join(" ");
    let covered =
        consent.is_some_and(|had| ck.scope.iter().all(|s| had.split(' ').any(|h| h == *s)));
    if !consent_given && (!covered || ck.prompt.consent) {
        return Ok(if ck.prompt.none {
            Next::Error(redirect_error(
                "consent_required",
                "the user has not agreed to share this yet",
            ))
        } else {
            Next::Consent
        });
    }
    let code = random_alphanumeric(43);
    let row = oidc_tokens::CodeRow {
        grant: oidc_tokens::GrantRow {
            id: 0,
            client,
            user_id,
            scope: wanted.clone(),
            auth_time: s.auth_time,
            mfa: s.mfa,
            revoked_at: None,
        },
        redirect_uri: p.redirect_uri.clone(),
        nonce: p.nonce.clone().filter(|n| !n.is_empty()),
        code_challenge: p.code_challenge.clone(),
        expires_at: now + CODE_TTL,
        used_at: None,
    };
    let (hash, actor, name) = (sha256_hex(&code), actor.clone(), ck.client.name.clone());
    state
        .db
        .write(move |tx| {
            ensure_subject(tx, user_id)?;
            if consent_given {
                repo::upsert_consent(tx, user_id, client, &wanted, now)?;
                audit::insert(tx, &actor.event(now, "oidc.consent", Some(&name)))?;
            }
            let grant = oidc_tokens::insert_grant(tx, &row.grant, now)?;
            oidc_tokens::insert_code(tx, &hash, grant, &row)?;
            audit::insert(tx, &actor.event(now, "oidc.sign_in", Some(&name)))?;
            Ok(())
        })
        .await?;
    Ok(Next::Code(code))
}

/// The user's `sub`, made on first use.
pub fn ensure_subject(c: &Connection, user_id: i64) -> Result<String, AppError> {
    if let Some(sub) = repo::subject(c, user_id)? {
        return Ok(sub);
    }
    let sub = uuid::Uuid::new_v4().to_string();
    repo::insert_subject(c, user_id, &sub)?;
    Ok(repo::subject(c, user_id)?.unwrap_or(sub))
}

/// Audits a refused sign-in.
pub async fn refuse(
    state: &AppState,
    actor: &Actor,
    client: &ClientRow,
    why: &'static str,
) -> Result<(), AppError> {
    let (now, actor, name) = (
        state.now().unix_timestamp(),
        actor.clone(),
        client.name.clone(),
    );
    state
        .db
        .write(move |tx| {
            let mut e = actor.event(now, "oidc.refused", Some(&name));
            e.detail = Some(why);
            Ok(audit::insert(tx, &e)?)
        })
        .await
}

/// Audits a denied consent.
pub async fn deny(state: &AppState, actor: &Actor, client: &ClientRow) -> Result<(), AppError> {
    refuse(state, actor, client, "the user declined").await
}

/// An app the user gave access to, for "Connected apps".
#[derive(Debug, Clone)]
pub struct ConnectedApp {
    /// The app's row id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// When access was given, unix seconds.
    pub granted_at: i64,
}

/// The apps a user gave access to.
pub async fn connected_apps(state: &AppState, user_id: i64) -> Result<Vec<ConnectedApp>, AppError> {
    let rows = state
        .db
        .read(move |c| Ok(repo::consents_of(c, user_id)?))
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, granted_at)| ConnectedApp {
            id,
            name,
            granted_at,
        })
        .collect())
}

/// Withdraws the user's consent to an app and ends its refresh tokens; returns the app's name.
pub async fn disconnect(
    state: &AppState,
    actor: &Actor,
    user_id: i64,
    client: i64,
) -> Result<String, AppError> {
    let (now, actor) = (state.now().unix_timestamp(), actor.clone());
    state
        .db
        .write(move |tx| {
            let app = repo::client(tx, client)?.ok_or(AppError::NotFound)?;
            if !repo::delete_consent(tx, user_id, client)? {
                return Err(AppError::NotFound);
            }
            oidc_tokens::revoke_grants_of(tx, user_id, Some(client), now)?;
            audit::insert(tx, &actor.event(now, "oidc.disconnected", Some(&app.name)))?;
            Ok(app.name)
        })
        .await
}

/// Claims by name.
pub type Claims = serde_json::Map<String, serde_json::Value>;

/// The profile claims of a user for the granted scopes: (sub, claims).
pub fn claims(
    c: &Connection,
    user_id: i64,
    scope: &str,
) -> Result<Option<(String, Claims)>, AppError> {
    use serde_json::Value;
    let Some(user) = users::get(c, user_id)?.filter(|u| u.is_active) else {
        return Ok(None);
    };
    let sub = ensure_subject(c, user_id)?;
    let has = |s: &str| scope.split(' ').any(|x| x == s);
    let mut m = serde_json::Map::new();
    if has("email") {
        m.insert("email".into(), Value::from(user.email.clone()));
        // Addresses come from the admin, and enrollment links were delivered to them.
        m.insert("email_verified".into(), Value::from(true));
    }
    if has("profile") {
        m.insert(
            "name".into(),
            Value::from(format!("{} {}", user.first_name, user.last_name)),
        );
        m.insert("given_name".into(), Value::from(user.first_name.clone()));
        m.insert("family_name".into(), Value::from(user.last_name.clone()));
        m.insert(
            "preferred_username".into(),
            Value::from(user.username.clone()),
        );
    }
    if has("groups") || has("profile") {
        let groups: Vec<String> = crate::db::groups::of_user(c, user_id)?
            .into_iter()
            .map(|g| g.name)
            .collect();
        m.insert("groups".into(), Value::from(groups));
    }
    Ok(Some((sub, m)))
}
