//! What the process settles with the operating system once, at start: the mode of the files
//! it creates and how many descriptors it may hold.

use rustix::fs::Mode;
use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Every file onramp creates from now on is readable and writable by its own user only. The
/// database, its `-wal` and `-shm` files and backups hold the gateway private keys, the SMTP
/// password and password hashes; under the usual umask 022 SQLite would create them 0644.
/// The database file is also created 0600 explicitly (`db::Db::open`), and SQLite gives
/// `-wal`/`-shm` the database file's mode, so this is the second line of defence.
pub fn restrict_new_files() {
    rustix::process::umask(Mode::from_raw_mode(0o077));
}

/// Raises the soft limit on open descriptors to the hard limit, which systems set far above
/// the soft default of 1024; returns the soft limit now in force (`u64::MAX` for unlimited).
/// The server's connection cap is derived from it, so a flood of slow connections meets the
/// cap, not "too many open files".
pub fn raise_descriptor_limit() -> u64 {
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if let Err(e) = setrlimit(Resource::Nofile, raised) {
            tracing::warn!(error = %e, "could not raise the open-file limit");
        }
    }
    descriptor_limit()
}

/// The soft limit on open descriptors in force (`u64::MAX` for unlimited).
pub fn descriptor_limit() -> u64 {
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}
