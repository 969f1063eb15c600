//! Secrets: random values, SHA-256 digests, argon2id password hashing.

use crate::error::AppError;
use argon2::password_hash::PasswordHash;
use argon2::Argon2;
use rand::distr::{Alphanumeric, SampleString};
use rand::TryRngCore;
use sha2::{Digest, Sha256};
use std::sync::{Arc, OnceLock};
use tokio::sync::Semaphore;

/// A random string of `len` characters `[A-Za-z0-9]` from the OS CSPRNG (5.95 bits each).
pub fn random_alphanumeric(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rngs::OsRng.unwrap_err(), len)
}

/// Hex SHA-256 of `value`; how cookies and tokens are stored.
pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// Compares two strings in constant time (for equal lengths).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Hashes and verifies passwords with argon2id (m=19456 KiB, t=2, p=1) on the blocking
/// pool, at most one per core at a time so a burst cannot exhaust memory.
#[derive(Clone, Debug)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            permits: Arc::new(Semaphore::new(cores)),
        }
    }
}

/// Blocks reserved for argon2's working memory: one more than 32 MiB of 1 KiB blocks.
const ALWAYS_MAPPED_BLOCKS: usize = 32 * 1024 + 1;

/// Runs `f` with `blocks` KiB of argon2 working memory that goes back to the operating
/// system as soon as `f` returns, so an idle server does not keep 19 MiB per core.
///
/// glibc's malloc maps large allocations on their own, but each freed mapping raises its
/// threshold (up to 32 MiB), after which the same size comes from a heap arena that never
/// shrinks: one stranded copy per blocking thread. A reservation above 32 MiB is always a
/// mapping of its own, unmapped by `free`; only the pages argon2 writes become resident.
fn with_memory<T>(blocks: usize, f: impl FnOnce(&mut [argon2::Block]) -> T) -> T {
    let mut memory = Vec::with_capacity(blocks.max(ALWAYS_MAPPED_BLOCKS));
    memory.resize(blocks, argon2::Block::default());
    f(&mut memory)
}

fn argon2() -> Argon2<'static> {
    // The crate's defaults are argon2id, m=19456 KiB, t=2, p=1: OWASP's recommendation.
    Argon2::default()
}

/// A hash of a random password; verifying against it makes unknown users cost the same as known.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking(&random_alphanumeric(32)).unwrap_or_default())
}

/// Hashes a password on the calling thread.
pub fn hash_blocking(password: &str) -> Result<String, AppError> {
    hash_with(password)
}

fn hash_with(password: &str) -> Result<String, AppError> {
    use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
    use base64::Engine;
    let salt: [u8; 16] = rand::random();
    let mut out = [0u8; 32];
    let a = argon2();
    let params = a.params().clone();
    with_memory(params.block_count(), |memory| {
        a.hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, memory)
    })
    .map_err(|e| AppError::internal(anyhow::anyhow!("argon2 hash: {e}")))?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        B64.encode(salt),
        B64.encode(out)
    ))
}

fn verify_with(password: &str, hash: Option<&str>) -> bool {
    let stored = hash.unwrap_or_else(|| dummy_hash());
    let check = || -> Option<bool> {
        let parsed = PasswordHash::new(stored).ok()?;
        let algorithm = argon2::Algorithm::try_from(parsed.algorithm).ok()?;
        let version = argon2::Version::try_from(parsed.version?).ok()?;
        let params = argon2::Params::try_from(&parsed).ok()?;
        let mut salt = [0u8; 64];
        let salt = parsed.salt?.decode_b64(&mut salt).ok()?;
        let expected = parsed.hash?;
        let mut out = vec![0u8; expected.len()];
        let a = Argon2::new(algorithm, version, params.clone());
        with_memory(params.block_count(), |memory| {
            a.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, memory)
        })
        .ok()?;
        Some(constant_time_eq_bytes(&out, expected.as_bytes()))
    };
    check().unwrap_or(false) && hash.is_some()
}

fn constant_time_eq_bytes(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

impl PasswordHasher {
    /// Hashes a password off the async workers.
    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        let _permit = self.permits.acquire().await.map_err(AppError::internal)?;
        tokio::task::spawn_blocking(move || hash_with(&password))
            .await
            .map_err(AppError::internal)?
    }

    /// Checks a password against a stored hash; with `None` it spends the same time and fails.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, AppError> {
        let _permit = self.permits.acquire().await.map_err(AppError::internal)?;
        tokio::task::spawn_blocking(move || verify_with(&password, hash.as_deref()))
            .await
            .map_err(AppError::internal)
    }

    /// Computes the dummy hash now, so the first unknown-user login is not faster or slower.
    pub fn warm_up(&self) {
        let _ = dummy_hash();
    }
}

/// Encrypts secrets that must wait in the database (a token inside a queued email) with a
/// key kept in a file beside the database, so the database alone never reveals them.
#[derive(Clone)]
pub struct SecretBox {
    key: chacha20poly1305::Key,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(***)")
    }
}

impl SecretBox {
    /// Loads the key from `path`, creating it (mode 0600) on first start.
    pub fn load_or_create(path: &std::path::Path) -> anyhow::Result<Self> {
        use std::io::Write;
        if let Ok(bytes) = std::fs::read(path) {
            let key: [u8; 32] = bytes
                .try_into()
                .map_err(|_| anyhow::anyhow!("{} is not a 32-byte key file", path.display()))?;
            return Ok(Self { key: key.into() });
        }
        let key: [u8; 32] = rand::random();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(path)
            .map_err(|e| anyhow::anyhow!("cannot create the key file {}: {e}", path.display()))?;
        file.write_all(&key)?;
        file.sync_all()?;
        Ok(Self { key: key.into() })
    }

    /// A box with a random key that lives only in memory; for tests.
    pub fn ephemeral() -> Self {
        let key: [u8; 32] = rand::random();
        Self { key: key.into() }
    }

    /// nonce ‖ ciphertext of `plain`.
    pub fn seal(&self, plain: &str) -> Result<Vec<u8>, AppError> {
        use chacha20poly1305::aead::{Aead, KeyInit};
        let cipher = chacha20poly1305::XChaCha20Poly1305::new(&self.key);
        let nonce: [u8; 24] = rand::random();
        let mut out = nonce.to_vec();
        let sealed = cipher
            .encrypt(&nonce.into(), plain.as_bytes())
            .map_err(|_| AppError::internal(anyhow::anyhow!("cannot encrypt")))?;
        out.extend(sealed);
        Ok(out)
    }

    /// Opens what [`SecretBox::seal`] made.
    pub fn open(&self, sealed: &[u8]) -> Result<String, AppError> {
        use chacha20poly1305::aead::{Aead, KeyInit};
        if sealed.len() < 24 {
            return Err(AppError::internal(anyhow::anyhow!(
                "sealed secret too short"
            )));
        }
        let cipher = chacha20poly1305::XChaCha20Poly1305::new(&self.key);
        let (nonce, body) = sealed.split_at(24);
        let plain = cipher
            .decrypt(chacha20poly1305::XNonce::from_slice(nonce), body)
            .map_err(|_| {
                AppError::internal(anyhow::anyhow!("the key file does not open this secret"))
            })?;
        String::from_utf8(plain).map_err(AppError::internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn random_strings_are_alphanumeric_and_distinct() {
        let draws: HashSet<String> = (0..10_000).map(|_| random_alphanumeric(32)).collect();
        assert_eq!(draws.len(), 10_000);
        assert!(draws
            .iter()
            .all(|t| t.len() == 32 && t.chars().all(|c| c.is_ascii_alphanumeric())));
    }

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters() {
        let h = hash_blocking("correct horse battery staple").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_with("correct horse battery staple", Some(&h)));
        assert!(!verify_with("wrong", Some(&h)));
        assert!(!verify_with("anything", None));
        // The PHC strings are the standard ones, both ways.
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _, SaltString};
        let parsed = PasswordHash::new(&h).unwrap();
        assert!(argon2()
            .verify_password(b"correct horse battery staple", &parsed)
            .is_ok());
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let theirs = argon2()
            .hash_password(b"plum orbit", &salt)
            .unwrap()
            .to_string();
        assert!(verify_with("plum orbit", Some(&theirs)));
    }

    #[test]
    fn sha256_and_compare() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }

    #[test]
    fn sealed_secrets_open_only_with_their_key() {
        let a = SecretBox::ephemeral();
        let sealed = a.seal("token123").unwrap();
        assert!(!String::from_utf8_lossy(&sealed).contains("token123"));
        assert_eq!(a.open(&sealed).unwrap(), "token123");
        assert!(SecretBox::ephemeral().open(&sealed).is_err());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let b = SecretBox::load_or_create(&path).unwrap();
        let again = SecretBox::load_or_create(&path).unwrap();
        assert_eq!(again.open(&b.seal("x").unwrap()).unwrap(), "x");
    }
}
