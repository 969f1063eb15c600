//! The back channel: the token endpoint (code and refresh token grants), userinfo, revocation
//! and the logout hint. Access tokens are opaque, stored hashed, one hour; refresh tokens
//! rotate on every use and a reused one ends its whole grant.

use super::{claims, issuer, keys, ID_TOKEN_TTL};
use crate::crypto::{constant_time_eq, random_alphanumeric, sha256_hex};
use crate::db::audit;
use crate::db::oidc::{self as repo, ClientRow};
use crate::db::oidc_tokens::{self as store, GrantRow, TokenKind};
use crate::domain::oidc::{amr, verify_pkce, ClientKind};
use crate::error::AppError;
use crate::services::Actor;
use crate::state::AppState;

/// How long an access token lives.
pub const ACCESS_TTL: i64 = 60 * 60;
/// How long a refresh token lives unused.
pub const REFRESH_TTL: i64 = 30 * 24 * 60 * 60;

/// A refusal at the token, revocation or userinfo endpoint (RFC 6749 5.2).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Unknown app, wrong secret, or a disabled app.
    #[error("{0}")]
    InvalidClient(&'static str),
    /// A bad, used, expired or foreign code or refresh token.
    #[error("{0}")]
    InvalidGrant(&'static str),
    /// A missing or malformed parameter.
    #[error("{0}")]
    InvalidRequest(&'static str),
    /// A grant type onramp does not offer.
    #[error("only authorization_code and refresh_token are supported")]
    UnsupportedGrantType,
    /// Something else broke.
    #[error(transparent)]
    App(#[from] AppError),
}

impl TokenError {
    /// The RFC 6749 error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidClient(_) => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::InvalidRequest(_) => "invalid_request",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::App(_) => "server_error",
        }
    }
}

/// How the app proved who it is.
#[derive(Debug, Clone, Default)]
pub struct ClientAuth {
    /// The `client_id`.
    pub client_id: String,
    /// The secret, for confidential apps.
    pub secret: Option<String>,
}

/// A token request's fields.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct TokenParams {
    /// `authorization_code` or `refresh_token`.
    #[serde(default)]
    pub grant_type: String,
    /// The code.
    pub code: Option<String>,
    /// Must equal the authorization request's.
    pub redirect_uri: Option<String>,
    /// PKCE.
    pub code_verifier: Option<String>,
    /// The refresh token.
    pub refresh_token: Option<String>,
    /// `client_secret_post`.
    pub client_id: Option<String>,
    /// `client_secret_post`.
    pub client_secret: Option<String>,
    /// Ignored (the granted scope stays).
    pub scope: Option<String>,
}

/// A successful token response.
#[derive(Debug, serde::Serialize)]
pub struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    refresh_token: String,
    id_token: String,
    scope: String,
}

/// Checks the app's credentials.
pub async fn authenticate_client(
    state: &AppState,
    auth: &ClientAuth,
) -> Result<ClientRow, TokenError> {
    let id = auth.client_id.clone();
    let client = state
        .db
        .read(move |c| Ok(repo::client_by_client_id(c, &id)?))
        .await?;
    let bad = TokenError::InvalidClient("unknown client or wrong secret");
    let client = client.filter(|c| c.is_enabled).ok_or(bad)?;
    match (client.kind, &auth.secret, &client.secret_hash) {
        (ClientKind::Public, None, _) => Ok(client),
        (ClientKind::Confidential, Some(secret), Some(hash))
            if constant_time_eq(&sha256_hex(secret), hash) =>
        {
            Ok(client)
        }
        _ => Err(TokenError::InvalidClient("unknown client or wrong secret")),
    }
}

fn client_actor(actor: &Actor, client: &ClientRow) -> Actor {
    Actor {
        username: format!("app:{}", client.client_id),
        ..actor.clone()
    }
}

/// Answers a token request.
pub async fn token(
    state: &AppState,
    actor: &Actor,
    auth: &ClientAuth,
    p: &TokenParams,
) -> Result<TokenResponse, TokenError> {
    let client = authenticate_client(state, auth).await?;
    let actor = client_actor(actor, &client);
    match p.grant_type.as_str() {
        "authorization_code" => exchange_code(state, &actor, &client, p).await,
        "refresh_token" => refresh(state, &actor, &client, p).await,
        "" => Err(TokenError::InvalidRequest("grant_type is missing")),
        _ => Err(TokenError::UnsupportedGrantType),
    }
}

/// Audits a refusal and returns it.
async fn refused<T>(
    state: &AppState,
    actor: &Actor,
    client: &ClientRow,
    revoke: Option<i64>,
    e: TokenError,
) -> Result<T, TokenError> {
    let (now, actor, name, why) = (
        state.now().unix_timestamp(),
        actor.clone(),
        client.name.clone(),
        e.to_string(),
    );
    state
        .db
        .write(move |tx| {
            if let Some(grant) = revoke {
                store::revoke_grant(tx, grant, now)?;
            }
            let mut ev = actor.event(now, "oidc.token_refused", Some(&name));
            ev.detail = Some(&why);
            Ok(audit::insert(tx, &ev)?)
        })
        .await?;
    Err(e)
}

/// What a code and a refresh token have in common: whose grant, whether spent, until when.
struct Spendable<'a> {
    grant: &'a GrantRow,
    used_at: Option<i64>,
    expires_at: i64,
}

/// The refusals for one kind of spendable secret.
struct Refusals {
    unknown: &'static str,
    replayed: &'static str,
    expired: &'static str,
}

/// Refuses (and audits) an unknown, replayed or expired code or refresh token; a replay
/// revokes its grant, since two parties hold what only one should.
async fn check_spendable(
    state: &AppState,
    actor: &Actor,
    client: &ClientRow,
    found: Option<Spendable<'_>>,
    why: Refusals,
) -> Result<(), TokenError> {
    let now = state.now().unix_timestamp();
    let Some(s) = found.filter(|s| s.grant.client == client.id) else {
        return refused(
            state,
            actor,
            client,
            None,
            TokenError::InvalidGrant(why.unknown),
        )
        .await;
    };
    if s.used_at.is_some() {
        let replay = TokenError::InvalidGrant(why.replayed);
        return refused(state, actor, client, Some(s.grant.id), replay).await;
    }
    if s.expires_at <= now || s.grant.revoked_at.is_some() {
        return refused(
            state,
            actor,
            client,
            None,
            TokenError::InvalidGrant(why.expired),
        )
        .await;
    }
    Ok(())
}

async fn exchange_code(
    state: &AppState,
    actor: &Actor,
    client: &ClientRow,
    p: &TokenParams,
) -> Result<TokenResponse, TokenError> {
    let code = p
        .code
        .as_deref()
        .ok_or(TokenError::InvalidRequest("code is missing"))?;
    let hash = sha256_hex(code);
    let lookup = hash.clone();
    let found = state
        .db
        .read(move |c| Ok(store::find_code(c, &lookup)?))
        .await?;
    let spendable = found.as_ref().map(|r| Spendable {
        grant: &r.grant,
        used_at: r.used_at,
        expires_at: r.expires_at,
    });
    let why = Refusals {
        unknown: "unknown code",
        replayed: "the code was already used",
        expired: "the code has expired",
    };
    check_spendable(state, actor, client, spendable, why).await?;
    let Some(row) = found else {
        return Err(TokenError::InvalidGrant("unknown code"));
    };
    if p.redirect_uri.as_deref() != Some(row.redirect_uri.as_str()) {
        let e = TokenError::InvalidGrant("redirect_uri differs from the authorization request");
        return refused(state, actor, client, None, e).await;
    }
    if let Some(challenge) = &row.code_challenge {
        if !p
            .code_verifier
            .as_deref()
            .is_some_and(|v| verify_pkce(challenge, v))
        {
            let e = TokenError::InvalidGrant("the PKCE code_verifier does not match");
            return refused(state, actor, client, None, e).await;
        }
    }
    issue(
        state,
        actor,
        client,
        &row.grant,
        row.nonce.as_deref(),
        Some(hash),
    )
    .await
}

async fn refresh(
    state: &AppState,
    actor: &Actor,
    client: &ClientRow,
    p: &TokenParams,
) -> Result<TokenResponse, TokenError> {
    let token = p
        .refresh_token
        .as_deref()
        .ok_or(TokenError::InvalidRequest("refresh_token is missing"))?;
    let hash = sha256_hex(token);
    let lookup = hash.clone();
    let found = state
        .db
        .read(move |c| Ok(store::find_token(c, &lookup)?))
        .await?
        .filter(|r| r.kind == TokenKind::Refresh);
    let spendable = found.as_ref().map(|r| Spendable {
        grant: &r.grant,
        used_at: r.used_at,
        expires_at: r.expires_at,
    });
    let why = Refusals {
        unknown: "unknown refresh token",
        replayed: "the refresh token was already used",
        expired: "the refresh token has expired or was revoked",
    };
    check_spendable(state, actor, client, spendable, why).await?;
    let Some(row) = found else {
        return Err(TokenError::InvalidGrant("unknown refresh token"));
    };
    let spend = Some(format!("refresh:{hash}"));
    issue(state, actor, client, &row.grant, None, spend).await
}

/// ID token claims.
#[derive(Debug, serde::Serialize)]
struct IdClaims {
    iss: String,
    sub: String,
    aud: String,
    azp: String,
    exp: i64,
    iat: i64,
    auth_time: i64,
    amr: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    #[serde(flatten)]
    profile: serde_json::Map<String, serde_json::Value>,
}

/// Spends the code or refresh token (`spend`: its hash; a refresh token's prefixed with
/// `refresh:`) and issues new tokens in one transaction, then signs the ID token.
async fn issue(
    state: &AppState,
    actor: &Actor,
    client: &ClientRow,
    grant: &GrantRow,
    nonce: Option<&str>,
    spend: Option<String>,
) -> Result<TokenResponse, TokenError> {
    let now = state.now().unix_timestamp();
    let (access, refresh) = (random_alphanumeric(43), random_alphanumeric(43));
    let (access_hash, refresh_hash) = (sha256_hex(&access), sha256_hex(&refresh));
    let (grant_id, user_id, scope) = (grant.id, grant.user_id, grant.scope.clone());
    let (actor2, name) = (actor.clone(), client.name.clone());
    let issued = state
        .db
        .write(move |tx| {
            let spent = match spend.as_deref() {
                Some(h) => match h.strip_prefix("refresh:") {
                    Some(r) => store::use_token(tx, r, now)?,
                    None => store::use_code(tx, h, now)?,
                },
                None => true,
            };
            if !spent {
                return Ok(None);
            }
            let Some((sub, profile)) = claims(tx, user_id, &scope)? else {
                return Ok(None);
            };
            store::insert_token(
                tx,
                &access_hash,
                grant_id,
                TokenKind::Access,
                now + ACCESS_TTL,
            )?;
            store::insert_token(
                tx,
                &refresh_hash,
                grant_id,
                TokenKind::Refresh,
                now + REFRESH_TTL,
            )?;
            audit::insert(tx, &actor2.event(now, "oidc.token", Some(&name)))?;
            Ok(Some((sub, profile)))
        })
        .await?;
    let Some((sub, profile)) = issued else {
        return Err(TokenError::InvalidGrant(
            "the grant is no longer valid (used, or the user was disabled)",
        ));
    };
    let id_claims = IdClaims {
        iss: issuer(state),
        sub,
        aud: client.client_id.clone(),
        azp: client.client_id.clone(),
        exp: now + ID_TOKEN_TTL,
        iat: now,
        auth_time: grant.auth_time,
        amr: amr(grant.mfa),
        nonce: nonce.map(str::to_owned),
        profile,
    };
    let id_token = keys::sign(state, id_claims).await?;
    Ok(TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in: ACCESS_TTL,
        refresh_token: refresh,
        id_token,
        scope: grant.scope.clone(),
    })
}

/// The userinfo claims for a bearer access token; `None` for an unknown, expired or revoked
/// token.
pub async fn userinfo(
    state: &AppState,
    bearer: &str,
) -> Result<Option<serde_json::Value>, AppError> {
    let now = state.now().unix_timestamp();
    let hash = sha256_hex(bearer);
    state
        .db
        .read(move |c| {
            let Some(t) = store::find_token(c, &hash)? else {
                return Ok(None);
            };
            if t.kind != TokenKind::Access || t.expires_at <= now || t.grant.revoked_at.is_some() {
                return Ok(None);
            }
            let Some((sub, mut m)) = claims(c, t.grant.user_id, &t.grant.scope)? else {
                return Ok(None);
            };
            m.insert("sub".into(), sub.into());
            Ok(Some(serde_json::Value::Object(m)))
        })
        .await
}

/// RFC 7009: ends a token of this app (a refresh token with its whole grant). Unknown tokens
/// are not an error.
pub async fn revoke(
    state: &AppState,
    actor: &Actor,
    auth: &ClientAuth,
    token: &str,
) -> Result<(), TokenError> {
    let client = authenticate_client(state, auth).await?;
    let actor = client_actor(actor, &client);
    let (now, hash, name, id) = (
        state.now().unix_timestamp(),
        sha256_hex(token),
        client.name.clone(),
        client.id,
    );
    state
        .db
        .write(move |tx| {
            let Some(t) = store::find_token(tx, &hash)?.filter(|t| t.grant.client == id) else {
                return Ok(());
            };
            match t.kind {
                TokenKind::Refresh => {
                    store::revoke_grant(tx, t.grant.id, now)?;
                }
                TokenKind::Access => {
                    store::delete_token(tx, &hash)?;
                }
            }
            Ok(audit::insert(
                tx,
                &actor.event(now, "oidc.revoked", Some(&name)),
            )?)
        })
        .await?;
    Ok(())
}

/// The claims onramp reads from an `id_token_hint`.
#[derive(Debug, serde::Deserialize)]
pub struct Hint {
    /// The app it was issued to.
    pub aud: String,
}

/// The app an `id_token_hint` names, when onramp signed it (expired hints are fine).
pub async fn hint_client(state: &AppState, hint: &str) -> Result<Option<ClientRow>, AppError> {
    let Some(h) = keys::verify_ignoring_expiry::<Hint>(state, hint).await? else {
        return Ok(None);
    };
    state
        .db
        .read(move |c| Ok(repo::client_by_client_id(c, &h.aud)?))
        .await
}
