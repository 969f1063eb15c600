//! Numbered SQL migrations, embedded in the binary and applied in order at startup.

use rusqlite::{Connection, TransactionBehavior};

#[derive(rust_embed::RustEmbed)]
#[folder = "migrations/"]
struct Migrations;

/// Every embedded migration as (version, name, sql), in order.
fn all() -> anyhow::Result<Vec<(i64, String, String)>> {
    let mut out = Vec::new();
    for name in Migrations::iter() {
        let version: i64 = name
            .split('_')
            .next()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("migration {name} does not start with a number"))?;
        let file =
            Migrations::get(&name).ok_or_else(|| anyhow::anyhow!("migration {name} vanished"))?;
        let sql = String::from_utf8(file.data.into_owned())?;
        out.push((version, name.into_owned(), sql));
    }
    out.sort_by_key(|m| m.0);
    Ok(out)
}

/// Applies every migration the database has not seen, each in its own transaction.
/// Returns the names of the migrations applied.
pub fn run(conn: &mut Connection) -> anyhow::Result<Vec<String>> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migration (
             version INTEGER PRIMARY KEY,
             name TEXT NOT NULL,
             applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
         ) STRICT;",
    )?;
    let mut applied = Vec::new();
    for (version, name, sql) in all()? {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let done: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM schema_migration WHERE version = ?1)",
            [version],
            |r| r.get(0),
        )?;
        if !done {
            tx.execute_batch(&sql)
                .map_err(|e| anyhow::anyhow!("migration {name} failed: {e}"))?;
            tx.execute(
                "INSERT INTO schema_migration (version, name) VALUES (?1, ?2)",
                rusqlite::params![version, name],
            )?;
            applied.push(name);
        }
        tx.commit()?;
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once() {
        let mut conn = Connection::open_in_memory().unwrap();
        let first = run(&mut conn).unwrap();
        assert!(!first.is_empty());
        assert!(run(&mut conn).unwrap().is_empty());
    }

    #[test]
    fn versions_are_unique_and_numbered() {
        let all = all().unwrap();
        let mut versions: Vec<_> = all.iter().map(|m| m.0).collect();
        versions.dedup();
        assert_eq!(versions.len(), all.len());
        assert_eq!(versions[0], 1);
    }

    /// Every foreign key's column leads an index (or the primary key): SQLite looks up the
    /// children of a deleted parent by it, and without one each delete reads the whole
    /// child table.
    #[test]
    fn every_foreign_key_is_indexed() {
        let mut conn = Connection::open_in_memory().unwrap();
        run(&mut conn).unwrap();
        let strings = |sql: &str, arg: &str| -> Vec<String> {
            conn.prepare(sql)
                .unwrap()
                .query_map([arg], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let tables = strings(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%'
             AND name NOT LIKE 'sqlite_%' AND name != ?1",
            "",
        );
        let mut missing = Vec::new();
        for table in &tables {
            let leading: Vec<String> = strings(
                "SELECT (SELECT name FROM pragma_index_info(il.name) WHERE seqno = 0)
                 FROM pragma_index_list(?1) AS il",
                table,
            );
            let rowid_alias = strings(
                "SELECT name FROM pragma_table_info(?1) WHERE pk = 1 AND upper(type) = 'INTEGER'",
                table,
            );
            for column in strings(
                "SELECT \"from\" FROM pragma_foreign_key_list(?1) WHERE seq = 0",
                table,
            ) {
                if !leading.contains(&column) && !rowid_alias.contains(&column) {
                    missing.push(format!("{table}.{column}"));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "foreign keys without an index: {missing:?}"
        );
    }
}
