//! The RS256 signing keys: made on first need (off the async workers), sealed in the database,
//! rotated with the new key published before it signs and the old one published until what it
//! signed has expired.

use super::ID_TOKEN_TTL;
use crate::db::oidc::{self as repo, KeyRow};
use crate::error::AppError;
use crate::state::AppState;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::{Arc, Mutex};

/// How long a new key is published before it signs: longer than the JWKS may be cached.
pub const PUBLISH_AHEAD: i64 = 10 * 60;
/// How long the JWKS may be cached.
pub const JWKS_MAX_AGE: i64 = 5 * 60;
/// How often the server rereads the keys (the CLI may rotate them from another process).
const RELOAD_EVERY: i64 = 60;

/// A key ready to use. The private key is parsed (and checked) once here, not per signature:
/// parsing costs more than signing.
struct Loaded {
    kid: String,
    active_from: i64,
    n: String,
    e: String,
    signing: Arc<RsaKeyPair>,
}

/// Parsed keys, reread every [`RELOAD_EVERY`] seconds.
#[derive(Default)]
pub struct KeyCache {
    keys: Mutex<Option<(i64, Arc<Vec<Loaded>>)>>,
    making: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCache").finish_non_exhaustive()
    }
}

/// Makes a 2048-bit key with its `kid`, its PKCS#1 DER sealed for storage; blocking (about a
/// second).
pub fn generate(
    state_secrets: &crate::crypto::SecretBox,
    active_from: i64,
) -> Result<KeyRow, AppError> {
    let key =
        rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).map_err(AppError::internal)?;
    let der = key.to_pkcs1_der().map_err(AppError::internal)?;
    let sealed = STANDARD.encode(der.as_bytes());
    Ok(KeyRow {
        kid: crate::crypto::random_alphanumeric(16),
        private_key: state_secrets.seal(&sealed)?,
        n: URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
        e: URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
        active_from,
    })
}

/// Whether a key is still published at `now`: it is, until a newer key has signed for longer
/// than an ID token lives.
fn published(rows: &[KeyRow], i: usize, now: i64) -> bool {
    !rows[i + 1..]
        .iter()
        .any(|later| later.active_from + ID_TOKEN_TTL < now)
}

/// Adds a key that signs from `PUBLISH_AHEAD` seconds on, and deletes keys nobody can need;
/// returns the new `kid`. Blocking: for the CLI and `spawn_blocking`.
pub fn rotate_blocking(
    db: &crate::db::Db,
    secrets: &crate::crypto::SecretBox,
    now: i64,
) -> Result<String, AppError> {
    let row = generate(secrets, now + PUBLISH_AHEAD)?;
    let conn = db.conn()?;
    let rows = repo::keys(&conn)?;
    repo::insert_key(&conn, &row, now)?;
    for (i, old) in rows.iter().enumerate() {
        if !published(&rows, i, now) {
            repo::delete_key(&conn, &old.kid)?;
        }
    }
    Ok(row.kid)
}

/// Rotates from the admin pages.
pub async fn rotate(state: &AppState) -> Result<String, AppError> {
    let (db, secrets, now) = (
        state.db.clone(),
        state.secrets.clone(),
        state.now().unix_timestamp(),
    );
    let kid = tokio::task::spawn_blocking(move || rotate_blocking(&db, &secrets, now))
        .await
        .map_err(AppError::internal)??;
    *state
        .oidc_keys
        .keys
        .lock()
        .map_err(|_| AppError::internal(anyhow::anyhow!("key cache poisoned")))? = None;
    Ok(kid)
}

/// The keys, making the first one when there is none.
async fn loaded(state: &AppState) -> Result<Arc<Vec<Loaded>>, AppError> {
    let now = state.now().unix_timestamp();
    let poisoned = || AppError::internal(anyhow::anyhow!("key cache poisoned"));
    if let Some((at, keys)) = state
        .oidc_keys
        .keys
        .lock()
        .map_err(|_| poisoned())?
        .as_ref()
    {
        if now - at < RELOAD_EVERY && now >= *at {
            return Ok(keys.clone());
        }
    }
    let _one_maker = state.oidc_keys.making.lock().await;
    let (db, secrets) = (state.db.clone(), state.secrets.clone());
    let keys = tokio::task::spawn_blocking(move || -> Result<Vec<Loaded>, AppError> {
        let conn = db.conn()?;
        let mut rows = repo::keys(&conn)?;
        if rows.is_empty() {
            let row = generate(&secrets, now)?;
            repo::insert_key(&conn, &row, now)?;
            rows = repo::keys(&conn)?;
        }
        let mut out = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            if !published(&rows, i, now) {
                continue;
            }
            let der = STANDARD
                .decode(secrets.open(&r.private_key)?)
                .map_err(AppError::internal)?;
            out.push(Loaded {
                kid: r.kid.clone(),
                active_from: r.active_from,
                n: r.n.clone(),
                e: r.e.clone(),
                signing: Arc::new(RsaKeyPair::from_der(&der).map_err(|e| {
                    AppError::internal(anyhow::anyhow!("signing key {}: {e}", r.kid))
                })?),
            });
        }
        Ok(out)
    })
    .await
    .map_err(AppError::internal)??;
    let keys = Arc::new(keys);
    *state.oidc_keys.keys.lock().map_err(|_| poisoned())? = Some((now, keys.clone()));
    Ok(keys)
}

/// Makes the first key unless there is one; for the server's start.
pub async fn ensure(state: &AppState) -> Result<(), AppError> {
    loaded(state).await.map(|_| ())
}

/// The JWKS document.
pub async fn jwks(state: &AppState) -> Result<serde_json::Value, AppError> {
    let keys = loaded(state).await?;
    let list: Vec<_> = keys
        .iter()
        .map(|k| serde_json::json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.kid, "n": k.n, "e": k.e}))
        .collect();
    Ok(serde_json::json!({ "keys": list }))
}

/// Signs claims with the key in use (the newest active one), off the async workers.
pub async fn sign<T: Serialize + Send + 'static>(
    state: &AppState,
    claims: T,
) -> Result<String, AppError> {
    let now = state.now().unix_timestamp();
    let keys = loaded(state).await?;
    let key = keys
        .iter()
        .rev()
        .find(|k| k.active_from <= now)
        .or_else(|| keys.first())
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no signing key")))?;
    let (kid, signing) = (key.kid.clone(), key.signing.clone());
    tokio::task::spawn_blocking(move || encode(&kid, &claims, &signing))
        .await
        .map_err(AppError::internal)?
}

/// A compact JWS (RFC 7515): `base64url(header).base64url(claims).base64url(signature)`,
/// RS256 (RSASSA-PKCS1-v1_5 with SHA-256), the header naming the key by `kid`.
fn encode<T: Serialize>(kid: &str, claims: &T, key: &RsaKeyPair) -> Result<String, AppError> {
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": kid});
    let mut jws = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).map_err(AppError::internal)?);
    jws.push('.');
    jws.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).map_err(AppError::internal)?));
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        jws.as_bytes(),
        &mut signature,
    )
    .map_err(|_| AppError::internal(anyhow::anyhow!("RS256 signing failed")))?;
    jws.push('.');
    jws.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(jws)
}

/// Checks a token onramp signed (any published key), ignoring its expiry; `None` when it is
/// not one of ours.
pub async fn verify_ignoring_expiry<T: DeserializeOwned>(
    state: &AppState,
    token: &str,
) -> Result<Option<T>, AppError> {
    let Ok(header) = jsonwebtoken::decode_header(token) else {
        return Ok(None);
    };
    let keys = loaded(state).await?;
    let Some(key) = keys.iter().find(|k| Some(&k.kid) == header.kid.as_ref()) else {
        return Ok(None);
    };
    let Ok(decoding) = DecodingKey::from_rsa_components(&key.n, &key.e) else {
        return Ok(None);
    };
    let mut v = Validation::new(Algorithm::RS256);
    v.validate_exp = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    v.set_issuer(&[super::issuer(state)]);
    Ok(jsonwebtoken::decode::<T>(token, &decoding, &v)
        .ok()
        .map(|d| d.claims))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_signed_here_verify_against_the_published_key() {
        let secrets = crate::crypto::SecretBox::ephemeral();
        let row = generate(&secrets, 0).unwrap();
        let der = STANDARD
            .decode(secrets.open(&row.private_key).unwrap())
            .unwrap();
        let key = RsaKeyPair::from_der(&der).unwrap();
        let claims = serde_json::json!({"sub": "42", "name": "Łukasz"});
        let jws = encode(&row.kid, &claims, &key).unwrap();
        let header = jsonwebtoken::decode_header(&jws).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        assert_eq!(header.kid.as_deref(), Some(row.kid.as_str()));
        let decoding = DecodingKey::from_rsa_components(&row.n, &row.e).unwrap();
        let mut v = Validation::new(Algorithm::RS256);
        v.validate_exp = false;
        v.required_spec_claims.clear();
        let got = jsonwebtoken::decode::<serde_json::Value>(&jws, &decoding, &v).unwrap();
        assert_eq!(got.claims, claims);
        // One changed byte of the claims breaks the signature.
        let mut parts: Vec<&str> = jws.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"sub":"43","name":"Lukasz"}"#);
        parts[1] = &forged;
        assert!(
            jsonwebtoken::decode::<serde_json::Value>(&parts.join("."), &decoding, &v).is_err()
        );
    }
}
