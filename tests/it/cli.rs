//! The binary's subcommands and configuration errors.

use std::process::Command;

fn onramp() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_onramp"));
    for (key, _) in std::env::vars() {
        if key.starts_with("ONRAMP_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

#[test]
fn invalid_settings_name_the_variable() {
    let out = onramp()
        .env("ONRAMP_LISTEN", "everywhere")
        .arg("migrate")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ONRAMP_LISTEN"), "{err}");
    let out = onramp()
        .env("ONRAMP_ENROLLMENT_SESSION_TTL", "10 minutes")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ONRAMP_ENROLLMENT_SESSION_TTL"));
}

#[test]
fn migrate_backup_and_reset_admin_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("onramp.db");
    let out = onramp()
        .env("ONRAMP_DATABASE", &db)
        .arg("migrate")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("applied 0001_create_users.sql"));
    let out = onramp()
        .env("ONRAMP_DATABASE", &db)
        .arg("migrate")
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));

    let out = onramp()
        .env("ONRAMP_DATABASE", &db)
        .args(["reset-admin-password", "--username", "nobody"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("There is no admin named \"nobody\""));

    // On an empty database the first admin is created first, as `serve` would.
    let out = onramp()
        .env("ONRAMP_DATABASE", &db)
        .arg("reset-admin-password")
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let password = stdout
        .lines()
        .find_map(|l| l.strip_prefix("New password for admin: "))
        .expect("password printed");
    assert_eq!(password.len(), 20);
    let conn = rusqlite::Connection::open(&db).expect("open");
    let hash: String = conn
        .query_row(
            "SELECT password_hash FROM user WHERE username = 'admin'",
            [],
            |r| r.get(0),
        )
        .expect("admin");
    use argon2::PasswordVerifier;
    let parsed = argon2::PasswordHash::new(&hash).expect("phc");
    assert!(argon2::Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok());

    let copy = dir.path().join("copy.db");
    let out = onramp()
        .env("ONRAMP_DATABASE", &db)
        .arg("backup")
        .arg(&copy)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let backup = rusqlite::Connection::open(&copy).expect("open copy");
    let users: i64 = backup
        .query_row("SELECT count(*) FROM user", [], |r| r.get(0))
        .expect("count");
    assert_eq!(users, 1);
    let out = onramp()
        .env("ONRAMP_DATABASE", &db)
        .arg("backup")
        .arg(&copy)
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
}

#[test]
fn a_weak_admin_password_stops_the_start_and_names_the_variable() {
    let dir = tempfile::tempdir().expect("tempdir");
    for weak in ["password1234", "aaaaaaaaaaaa"] {
        let out = onramp()
            .env("ONRAMP_DATABASE", dir.path().join("onramp.db"))
            .env("ONRAMP_ADMIN_PASSWORD", weak)
            .arg("migrate")
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{weak} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("ONRAMP_ADMIN_PASSWORD"), "{err}");
    }
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("file").permissions().mode() & 0o777
}

#[test]
fn the_database_and_backups_are_private_and_backups_refuse_symlinks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("onramp.db");
    let run = |args: &[&std::ffi::OsStr]| {
        onramp()
            .env("ONRAMP_DATABASE", &db)
            .args(args)
            .output()
            .expect("run")
    };
    assert!(run(&["migrate".as_ref()]).status.success());
    assert_eq!(mode(&db), 0o600, "database");
    let copy = dir.path().join("copy.db");
    let out = run(&["backup".as_ref(), copy.as_os_str()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&copy), 0o600, "backup");

    // A symlink, dangling or not, is never written through.
    let elsewhere = dir.path().join("elsewhere.db");
    let link = dir.path().join("link.db");
    std::os::unix::fs::symlink(&elsewhere, &link).expect("symlink");
    let out = run(&["backup".as_ref(), link.as_os_str()]);
    assert!(!out.status.success());
    assert!(!elsewhere.exists(), "the backup went through the symlink");
    std::fs::write(&elsewhere, b"keep").expect("write");
    let out = run(&["backup".as_ref(), link.as_os_str()]);
    assert!(!out.status.success());
    assert_eq!(std::fs::read(&elsewhere).expect("read"), b"keep");
}

#[test]
fn import_users_checks_then_adds_everyone_or_no_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("onramp.db");
    let out = onramp()
        .env("ONRAMP_DATABASE", &db)
        .arg("reset-admin-password")
        .output()
        .expect("run");
    assert!(out.status.success());
    let good = dir.path().join("team.csv");
    std::fs::write(
        &good,
        "username;first_name;last_name;email\nanna;Anna;Nowak;anna@example.com\nadmin;Ad;Min;x@example.com\n",
    )
    .expect("write");
    let run = |args: &[&str]| {
        onramp()
            .env("ONRAMP_DATABASE", &db)
            .arg("import-users")
            .args(args)
            .output()
            .expect("run")
    };
    let count = || -> i64 {
        rusqlite::Connection::open(&db)
            .expect("open")
            .query_row("SELECT count(*) FROM user", [], |r| r.get(0))
            .expect("count")
    };
    let out = run(&[good.to_str().expect("path"), "--dry-run"]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("line 2: anna: add"), "{stdout}");
    assert!(
        stdout.contains("line 3: admin: skip: admin already exists."),
        "{stdout}"
    );
    assert_eq!(count(), 1);

    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "username,first_name,last_name,email\nbob,Bob,B,bob@example.com\ncarl,@SUM(1),J,c@example.com\n",
    )
    .expect("write");
    let out = run(&[bad.to_str().expect("path")]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing was imported"));
    assert_eq!(count(), 1);

    let out = run(&[good.to_str().expect("path"), "--invite"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("imported 1 users; 1 invitation emails queued"));
    assert_eq!(count(), 2);
}
