//! The single writer: one thread owns the write connection and commits waiting writes
//! together.
//!
//! With `synchronous=FULL` a commit returns only once the disk has confirmed the WAL: a few
//! milliseconds on ordinary disks, so one commit per write caps a server at a few hundred
//! writes a second whatever its CPU. The writer takes every write waiting when it is free
//! (at most [`MAX_GROUP`]), runs each in a savepoint of one transaction and commits them
//! with one wait for the disk. A write that fails is rolled back to its savepoint and fails
//! alone; a failed commit fails every write in it. No write is reported done before the
//! commit that holds it.
//!
//! A held write lock (another process, a backup) parks this one thread: reads and `/health`
//! keep answering, and the writes queue until the lock is free or the busy timeout ends.

use crate::error::AppError;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::panic::AssertUnwindSafe;
use std::sync::mpsc;

/// Most writes committed together.
const MAX_GROUP: usize = 64;

/// Reports a write's outcome once its group's commit is known (`Some`: the commit failed).
type Finish = Box<dyn FnOnce(Option<&rusqlite::Error>) + Send>;

/// A queued write. It runs in the open transaction (or learns why none could be opened) and
/// returns how to report it, and whether the transaction is still sound.
pub type Job = Box<dyn FnOnce(Result<&Transaction<'_>, &rusqlite::Error>) -> Option<Ran> + Send>;

/// A write that ran.
pub struct Ran {
    finish: Finish,
    /// False when its savepoint could not be released or rolled back: the group is void.
    sound: bool,
}

/// Starts the writer thread on `conn`; it ends when every sender is gone.
pub fn spawn(conn: Connection) -> std::io::Result<mpsc::Sender<Job>> {
    let (sender, jobs) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("onramp-writer".into())
        .spawn(move || run(conn, &jobs))?;
    Ok(sender)
}

fn run(mut conn: Connection, jobs: &mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        commit_group(&mut conn, group);
    }
}

fn commit_group(conn: &mut Connection, group: Vec<Job>) {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            for job in group {
                job(Err(&e));
            }
            return;
        }
    };
    let mut ran = Vec::with_capacity(group.len());
    let mut sound = true;
    for job in group {
        if !sound {
            // Not run: it fails like the group.
            job(Err(&void()));
            continue;
        }
        if let Some(r) = job(Ok(&tx)) {
            sound &= r.sound;
            ran.push(r);
        }
    }
    let outcome = if sound {
        tx.commit().err()
    } else {
        drop(tx);
        Some(void())
    };
    for r in ran {
        (r.finish)(outcome.as_ref());
    }
}

/// The error of a group whose transaction had to be abandoned.
fn void() -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
        Some("the write was rolled back with the others committed with it".into()),
    )
}

/// A copy of `e` for each write it fails (rusqlite's error is not `Clone`); the SQLite code
/// survives, so a busy database still reads as busy.
fn copy(e: &rusqlite::Error) -> rusqlite::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => {
            rusqlite::Error::SqliteFailure(*code, message.clone())
        }
        other => rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
            Some(other.to_string()),
        ),
    }
}

/// Makes the job for `f`, which reports through `done`.
pub fn job<T, F>(f: F, done: tokio::sync::oneshot::Sender<Result<T, AppError>>) -> Job
where
    T: Send + 'static,
    F: FnOnce(&Transaction<'_>) -> Result<T, AppError> + Send + 'static,
{
    Box::new(move |open| {
        let tx = match open {
            Ok(tx) => tx,
            Err(e) => {
                let _ = done.send(Err(copy(e).into()));
                return None;
            }
        };
        let (outcome, sound) = in_savepoint(tx, f);
        Some(Ran {
            finish: Box::new(move |commit| {
                let result = match commit {
                    None => outcome,
                    Some(e) => outcome.and(Err(copy(e).into())),
                };
                let _ = done.send(result);
            }),
            sound,
        })
    })
}

/// Runs `f` in a savepoint: kept when it returns `Ok`, undone when it fails or panics.
/// The flag says whether the transaction is still sound.
fn in_savepoint<T>(
    tx: &Transaction<'_>,
    f: impl FnOnce(&Transaction<'_>) -> Result<T, AppError>,
) -> (Result<T, AppError>, bool) {
    if let Err(e) = tx.execute_batch("SAVEPOINT write") {
        return (Err(e.into()), true);
    }
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| f(tx))).unwrap_or_else(|_| {
        Err(AppError::internal(anyhow::anyhow!(
            "a database write panicked; it was rolled back"
        )))
    });
    let end = if outcome.is_ok() {
        "RELEASE write"
    } else {
        "ROLLBACK TO write; RELEASE write"
    };
    match tx.execute_batch(end) {
        Ok(()) => (outcome, true),
        Err(e) => (outcome.and(Err(e.into())), false),
    }
}

#[cfg(test)]
mod tests {
    use crate::db::Db;
    use crate::error::AppError;

    /// Writes queued together commit together, yet each fails (or panics) alone.
    #[tokio::test]
    async fn a_failed_write_is_undone_alone_in_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("w.db")).unwrap();
        db.write(|tx| Ok(tx.execute_batch("CREATE TABLE scratch (n INTEGER NOT NULL)")?))
            .await
            .unwrap();
        let writes = (0..60_i64).map(|n| {
            let db = db.clone();
            async move {
                db.write(move |tx| {
                    tx.execute("INSERT INTO scratch (n) VALUES (?1)", [n])?;
                    match n % 10 {
                        3 => Err(AppError::BadRequest(format!("refused {n}"))),
                        7 => panic!("write {n} panics"),
                        _ => Ok(n),
                    }
                })
                .await
            }
        });
        let results = futures_util::future::join_all(writes).await;
        for (n, r) in results.iter().enumerate() {
            match n % 10 {
                3 => assert!(matches!(r, Err(AppError::BadRequest(_))), "{n}: {r:?}"),
                7 => assert!(matches!(r, Err(AppError::Internal(_))), "{n}: {r:?}"),
                _ => assert_eq!(r.as_ref().ok(), Some(&i64::try_from(n).unwrap())),
            }
        }
        let kept: Vec<i64> = db
            .read(|c| {
                Ok(c.prepare("SELECT n FROM scratch ORDER BY n")?
                    .query_map([], |r| r.get(0))?
                    .collect::<Result<_, _>>()?)
            })
            .await
            .unwrap();
        let expected: Vec<i64> = (0..60).filter(|n| n % 10 != 3 && n % 10 != 7).collect();
        assert_eq!(kept, expected);
    }

    /// A write waits for a lock another connection holds, and lands once it is free.
    #[tokio::test]
    async fn a_held_lock_delays_writes_without_losing_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let db = Db::open(&path).unwrap();
        db.write(|tx| Ok(tx.execute_batch("CREATE TABLE scratch (n INTEGER NOT NULL)")?))
            .await
            .unwrap();
        let other = rusqlite::Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let pending = tokio::spawn({
            let db = db.clone();
            async move {
                db.write(|tx| Ok(tx.execute("INSERT INTO scratch (n) VALUES (1)", [])?))
                    .await
            }
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(!pending.is_finished(), "the write waits for the lock");
        other.execute_batch("COMMIT").unwrap();
        assert_eq!(pending.await.unwrap().unwrap(), 1);
    }
}
