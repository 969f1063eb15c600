//! The admin's side: registering apps, their secrets, turning them off, deleting them.

use super::Actor;
use crate::crypto::{random_alphanumeric, sha256_hex};
use crate::db::audit;
use crate::db::oidc::{self as repo, ClientRow};
use crate::domain::oidc::{parse_redirect_uris, ClientKind};
use crate::domain::{has_control_chars, FieldError};
use crate::error::AppError;
use crate::services::groups::{existing, parse_ids};
use crate::state::AppState;

/// The "Register app" form as typed.
#[derive(Debug, Clone, Default)]
pub struct NewApp {
    /// Display name.
    pub name: String,
    /// Redirect URIs, one a line.
    pub redirect_uris: String,
    /// Post-logout redirect URIs, one a line.
    pub post_logout_redirect_uris: String,
    /// `confidential` or `public`.
    pub kind: String,
    /// Group ids (checkbox values).
    pub groups: Vec<String>,
    /// Require two-factor sign-in.
    pub require_mfa: bool,
}

/// An app on the Apps page.
#[derive(Debug, Clone)]
pub struct AppSummary {
    /// The app.
    pub client: ClientRow,
    /// Names of the groups it is limited to.
    pub groups: Vec<String>,
}

/// A new secret, shown once.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The app's name.
    pub name: String,
    /// Its `client_id`.
    pub client_id: String,
    /// The secret; `None` for public apps.
    pub secret: Option<String>,
}

/// Every app with its groups.
pub async fn list(state: &AppState) -> Result<Vec<AppSummary>, AppError> {
    state
        .db
        .read(|c| {
            let mut out = Vec::new();
            for client in repo::clients(c)? {
                let groups = repo::client_groups(c, client.id)?
                    .into_iter()
                    .map(|g| g.1)
                    .collect();
                out.push(AppSummary { client, groups });
            }
            Ok(out)
        })
        .await
}

fn new_secret() -> (String, String) {
    let secret = random_alphanumeric(43); // 256 bits
    let hash = sha256_hex(&secret);
    (secret, hash)
}

/// Registers an app; the secret is returned once and only its hash is kept.
pub async fn register(state: &AppState, actor: &Actor, input: &NewApp) -> Result<Issued, AppError> {
    let mut errors = Vec::new();
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 64 || has_control_chars(&name) {
        errors.push(FieldError::new(
            "name",
            "Enter a name of 1 to 64 characters, for example Grafana.",
        ));
    }
    let redirect_uris = match parse_redirect_uris(&input.redirect_uris) {
        Ok(v) if v.is_empty() => {
            errors.push(FieldError::new(
                "redirect_uris",
                "Enter at least one redirect URI, as the app's documentation gives it.",
            ));
            v
        }
        Ok(v) => v,
        Err(why) => {
            errors.push(FieldError::new("redirect_uris", why));
            Vec::new()
        }
    };
    let post_logout = parse_redirect_uris(&input.post_logout_redirect_uris).unwrap_or_else(|why| {
        errors.push(FieldError::new("post_logout_redirect_uris", why));
        Vec::new()
    });
    let kind = ClientKind::parse(&input.kind).unwrap_or_else(|| {
        errors.push(FieldError::new(
            "kind",
            "Choose whether the app can keep a secret.",
        ));
        ClientKind::Confidential
    });
    let group_ids = parse_ids("groups", &input.groups).unwrap_or_else(|e| {
        errors.push(e);
        Vec::new()
    });
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let (secret, hash) = new_secret();
    let secret = (kind == ClientKind::Confidential).then_some(secret);
    let row = ClientRow {
        id: 0,
        client_id: random_alphanumeric(24),
        name: name.clone(),
        kind,
        secret_hash: secret.as_ref().map(|_| hash),
        redirect_uris,
        post_logout_redirect_uris: post_logout,
        require_mfa: input.require_mfa,
        is_enabled: true,
    };
    let (now, actor, client_id) = (
        state.now().unix_timestamp(),
        actor.clone(),
        row.client_id.clone(),
    );
    state
        .db
        .write(move |tx| {
            if repo::name_taken(tx, &row.name, 0)? {
                return Err(AppError::field(
                    "name",
                    "An app with this name is registered already.",
                ));
            }
            existing(tx, "groups", &group_ids)?;
            let id = repo::insert_client(tx, &row, now)?;
            repo::set_client_groups(tx, id, &group_ids)?;
            Ok(audit::insert(
                tx,
                &actor.event(now, "oidc.app_registered", Some(&row.name)),
            )?)
        })
        .await?;
    Ok(Issued {
        name,
        client_id,
        secret,
    })
}

/// Gives a confidential app a new secret (the old one stops working at once).
pub async fn rotate_secret(state: &AppState, actor: &Actor, id: i64) -> Result<Issued, AppError> {
    let (secret, hash) = new_secret();
    let (now, actor) = (state.now().unix_timestamp(), actor.clone());
    let client = state
        .db
        .write(move |tx| {
            let c = repo::client(tx, id)?.ok_or(AppError::NotFound)?;
            if c.kind == ClientKind::Public {
                return Err(AppError::BadRequest(format!(
                    "{} is a public app: it has no secret.",
                    c.name
                )));
            }
            repo::set_secret_hash(tx, id, &hash)?;
            audit::insert(
                tx,
                &actor.event(now, "oidc.app_secret_rotated", Some(&c.name)),
            )?;
            Ok(c)
        })
        .await?;
    Ok(Issued {
        name: client.name,
        client_id: client.client_id,
        secret: Some(secret),
    })
}

/// Turns an app off or on; turning it off ends its tokens. Returns its name.
pub async fn set_enabled(
    state: &AppState,
    actor: &Actor,
    id: i64,
    enabled: bool,
) -> Result<String, AppError> {
    let (now, actor) = (state.now().unix_timestamp(), actor.clone());
    state
        .db
        .write(move |tx| {
            let c = repo::client(tx, id)?.ok_or(AppError::NotFound)?;
            repo::set_enabled(tx, id, enabled)?;
            if !enabled {
                crate::db::oidc_tokens::revoke_grants_of_client(tx, id, now)?;
            }
            let action = if enabled {
                "oidc.app_enabled"
            } else {
                "oidc.app_disabled"
            };
            audit::insert(tx, &actor.event(now, action, Some(&c.name)))?;
            Ok(c.name)
        })
        .await
}

/// An app's name.
pub async fn name_of(state: &AppState, id: i64) -> Result<String, AppError> {
    let c = state.db.read(move |c| Ok(repo::client(c, id)?)).await?;
    Ok(c.ok_or(AppError::NotFound)?.name)
}

/// Deletes an app with its consents and tokens; returns its name.
pub async fn delete(state: &AppState, actor: &Actor, id: i64) -> Result<String, AppError> {
    let (now, actor) = (state.now().unix_timestamp(), actor.clone());
    state
        .db
        .write(move |tx| {
            let c = repo::client(tx, id)?.ok_or(AppError::NotFound)?;
            repo::delete_client(tx, id)?;
            audit::insert(tx, &actor.event(now, "oidc.app_deleted", Some(&c.name)))?;
            Ok(c.name)
        })
        .await
}
