//! SQLite storage: the pool with its pragmas, migrations, and one repository module per table.
//! Repositories are plain sync functions over a `&Connection`; services own transactions.

pub mod api_tokens;
pub mod audit;
pub mod devices;
pub mod gateways;
pub mod groups;
pub mod imports;
pub mod locations;
pub mod mfa;
pub mod migrate;
pub mod oidc;
pub mod oidc_tokens;
pub mod outbox;
pub mod password_resets;
pub mod search_probe;
pub mod sessions;
pub mod settings;
pub mod token_cards;
pub mod tokens;
pub mod user_search;
pub mod users;
mod writer;

use crate::error::AppError;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::path::Path;
use std::time::Duration;

/// A pooled connection.
pub type Conn = r2d2::PooledConnection<SqliteConnectionManager>;

/// Handle to the database; cheap to clone.
///
/// Reads use a pool of connections. Writes queue for the one writer thread, which commits
/// the writes waiting together (see `writer.rs`): SQLite admits one writer anyway, a commit
/// costs a wait for the disk however much it holds, and a held write lock (another process,
/// a backup) parks that thread alone, so reads and `/health` keep answering.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<SqliteConnectionManager>,
    writer: std::sync::mpsc::Sender<writer::Job>,
    /// Counts committed writes; gateways long-polling for their config wait on it.
    changes: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

/// Applies the pragmas every connection needs (docs/security.md: WAL, synchronous=FULL,
/// foreign keys, a busy timeout so a held write lock delays instead of failing).
pub fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(())
}

impl Db {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        restrict_files(path)?;
        let open = |size: u32| {
            r2d2::Pool::builder()
                .max_size(size)
                .min_idle(Some(1))
                // A local file does not go stale; skip the check query on every checkout.
                .test_on_check_out(false)
                .connection_timeout(Duration::from_secs(15))
                .build(SqliteConnectionManager::file(path).with_init(|c| configure(c)))
                .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", path.display()))
        };
        let write_conn = Connection::open(path)
            .and_then(|c| configure(&c).map(|()| c))
            .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", path.display()))?;
        let db = Self {
            pool: open(8)?,
            writer: writer::spawn(write_conn)
                .map_err(|e| anyhow::anyhow!("cannot start the database writer: {e}"))?,
            changes: std::sync::Arc::new(tokio::sync::watch::channel(0).0),
        };
        let mut conn = db.pool.get()?;
        migrate::run(&mut conn)?;
        Ok(db)
    }

    /// A connection from the pool, for blocking code (CLI, tests).
    pub fn conn(&self) -> Result<Conn, AppError> {
        Ok(self.pool.get()?)
    }

    /// Runs `f` on a pooled connection off the async workers.
    pub async fn read<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, AppError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.get()?;
            f(&conn)
        })
        .await
        .map_err(AppError::internal)?
    }

    /// Runs `f` on the writer thread, in a savepoint of a `BEGIN IMMEDIATE` transaction it
    /// may share with other writes; what `f` wrote is kept when it returns `Ok` and undone
    /// otherwise. Returns once the transaction is committed (or has failed).
    pub async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, AppError> + Send + 'static,
    {
        let stopped = || AppError::internal(anyhow::anyhow!("the database writer has stopped"));
        let (done, outcome) = tokio::sync::oneshot::channel();
        self.writer
            .send(writer::job(f, done))
            .map_err(|_| stopped())?;
        let result = outcome.await.map_err(|_| stopped())?;
        if result.is_ok() {
            self.changes.send_modify(|n| *n = n.wrapping_add(1));
        }
        result
    }

    /// Wakes when a write commits. Whoever serves derived state (a gateway's config) compares
    /// what it last sent with what it would send now, so a wake-up for an unrelated write
    /// costs one recomputation and nothing else; no caller has to remember to notify.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }
}

/// Creates the database file readable by its owner only, before SQLite creates it with the
/// process umask, and narrows the modes of an existing database and its `-wal`/`-shm` files
/// (SQLite gives those the database file's mode). The file holds secrets: the gateway
/// private keys, the SMTP password and password hashes.
pub fn restrict_files(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    create_private(path, false)
        .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", path.display()))?;
    for suffix in ["", "-wal", "-shm"] {
        let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
        if file.is_file() {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| anyhow::anyhow!("cannot make {} private: {e}", file.display()))?;
        }
    }
    Ok(())
}

/// Creates `path` readable and writable by its owner only, if it is not there; with
/// `exclusive`, fails when anything (a symlink included) is there already.
pub fn create_private(path: &Path, exclusive: bool) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.append(true).mode(0o600);
    if exclusive {
        options.create_new(true);
    } else {
        options.create(true);
    }
    options.open(path).map(drop)
}

/// Runs `f` in a `BEGIN IMMEDIATE` transaction on `conn`; commits on `Ok`.
pub fn write_tx<T>(
    conn: &mut Connection,
    f: impl FnOnce(&Transaction<'_>) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let value = f(&tx)?;
    tx.commit()?;
    Ok(value)
}

/// Runs `f` inside a savepoint of the open transaction: when `f` fails, what it wrote is
/// undone and the transaction goes on, so a refusal can still be recorded.
pub fn savepoint<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, AppError>,
) -> Result<T, AppError> {
    conn.execute_batch("SAVEPOINT step")?;
    match f(conn) {
        Ok(value) => {
            conn.execute_batch("RELEASE step")?;
            Ok(value)
        }
        Err(e) => {
            conn.execute_batch("ROLLBACK TO step; RELEASE step")?;
            Err(e)
        }
    }
}

/// Reads a column that stores an enum by name; an unknown name is a corrupt row, not a panic.
pub fn enum_column<T>(
    r: &rusqlite::Row<'_>,
    idx: usize,
    parse: fn(&str) -> Option<T>,
) -> rusqlite::Result<T> {
    let text: String = r.get(idx)?;
    parse(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            rusqlite::types::Type::Text,
            format!("unknown value {text:?}").into(),
        )
    })
}

/// Whether `e` is a UNIQUE constraint violation.
pub fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

/// An in-memory database with every migration applied; for unit tests.
#[cfg(test)]
pub fn test_connection() -> Connection {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.pragma_update(None, "foreign_keys", "ON").unwrap();
    migrate::run(&mut conn).unwrap();
    conn
}
