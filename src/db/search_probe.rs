//! Which part of a long search word the trigram index `user_search` is asked for.
//!
//! FTS5 finds a word by reading the list of users of each of its trigrams (runs of three
//! characters). A trigram that nearly everyone has, such as "use" of "user0421" when every
//! username starts with "user", costs as much to read as all the others together, and narrows
//! nothing. So the index is asked for the word without such common trigrams at its ends
//! ("r0421"), which finds every user the word would (and maybe a few more, which the exact
//! check drops), at under half the cost.
//!
//! How common each trigram is comes from the index itself, counted up to a cap and kept per
//! database in this process. The counts steer cost only: any part of a word finds a superset
//! of its users, and the caller asks for the whole word whenever the part finds too many.
//! They are counted again once the number of users has moved by a tenth.

use rusqlite::Connection;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

/// A trigram in more users than this is common: reading it narrows little.
const COMMON: i64 = 1000;

/// Fewest trigrams a narrowed word keeps, five characters: fewer would find far more users
/// than the word.
const MIN_TRIGRAMS: usize = 3;

/// Most trigram counts kept per database; beyond it they are forgotten and counted again.
const MAX_KEPT: usize = 10_000;

/// Trigram counts of one database, and its number of users when they were counted.
#[derive(Default)]
struct Counts {
    users: i64,
    of: HashMap<String, i64>,
}

/// Counts per database file. In-memory databases have no path and are never narrowed.
static COUNTS: LazyLock<Mutex<HashMap<String, Counts>>> = LazyLock::new(Mutex::default);

/// The part of the folded `word` to ask `user_search` for, when it is narrower than the word.
pub fn narrowed(conn: &Connection, word: &str) -> rusqlite::Result<Option<String>> {
    let chars: Vec<char> = word.chars().collect();
    if chars.len() < MIN_TRIGRAMS + 2 {
        return Ok(None);
    }
    let Some(path) = conn.path().filter(|p| !p.is_empty()).map(str::to_owned) else {
        return Ok(None);
    };
    let trigrams: Vec<String> = chars.windows(3).map(|w| w.iter().collect()).collect();
    let users = super::users::count(conn)?;
    let counts = {
        let mut all = COUNTS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let known = all.entry(path.clone()).or_default();
        if (users - known.users).abs() > known.users / 10 || known.of.len() > MAX_KEPT {
            *known = Counts {
                users,
                of: HashMap::new(),
            };
        }
        trigrams
            .iter()
            .map(|t| known.of.get(t).copied())
            .collect::<Vec<_>>()
    };
    let mut found = Vec::with_capacity(trigrams.len());
    for (t, known) in trigrams.iter().zip(counts) {
        let n = match known {
            Some(n) => n,
            None => {
                let n = count(conn, t)?;
                let mut all = COUNTS
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                all.entry(path.clone()).or_default().of.insert(t.clone(), n);
                n
            }
        };
        found.push(n);
    }
    let (start, end) = window(&found);
    Ok((end - start < found.len()).then(|| chars[start..end + 2].iter().collect()))
}

/// The trigrams `start..end` to keep of a word whose trigrams are in `counts` users: the
/// common ones at either end are dropped, the more common end first, while at least
/// [`MIN_TRIGRAMS`] are left.
fn window(counts: &[i64]) -> (usize, usize) {
    let (mut start, mut end) = (0, counts.len());
    while end - start > MIN_TRIGRAMS {
        let (first, last) = (counts[start], counts[end - 1]);
        if first.max(last) <= COMMON {
            break;
        }
        if first >= last {
            start += 1;
        } else {
            end -= 1;
        }
    }
    (start, end)
}

/// How many users have the trigram `t`, up to [`COMMON`] + 1.
fn count(conn: &Connection, t: &str) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "SELECT count(*) FROM (SELECT 1 FROM user_search WHERE user_search MATCH ?1 LIMIT ?2)",
    )?
    .query_row(
        rusqlite::params![super::user_search::quoted(t), COMMON + 1],
        |r| r.get(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_word_is_asked_for_without_its_common_end_and_still_found_exactly() {
        use crate::db::user_search::{list, Seek, Total};
        use crate::domain::user::SearchWords;
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::Db::open(&dir.path().join("probe.db")).unwrap();
        let mut conn = db.conn().unwrap();
        let tx = conn.transaction().unwrap();
        for i in 0..1200 {
            crate::db::users::add_for_test(&tx, &format!("user0{i:04}"), "Jan", "Nowak");
        }
        tx.commit().unwrap();
        // "use", "ser" and "er0" are in every user.
        assert_eq!(
            narrowed(&conn, "user00421").unwrap().as_deref(),
            Some("r00421")
        );
        assert_eq!(
            narrowed(&conn, "user0042").unwrap().as_deref(),
            Some("r0042")
        );
        assert_eq!(narrowed(&conn, "r00421").unwrap(), None);
        assert_eq!(narrowed(&conn, "nowak").unwrap(), None);
        // The part may find more users than the word; the list keeps exactly the word's.
        let search = SearchWords::parse("user0042");
        let page = list(&conn, &search, None, &Seek::First, 50, 0).unwrap();
        let names: Vec<String> = page.rows.into_iter().map(|r| r.user.username).collect();
        let expected: Vec<String> = (420..430).map(|i| format!("user0{i:04}")).collect();
        assert_eq!(names, expected);
        assert_eq!(page.total, Total::Exact(10));
        // A narrowed word that is common after all is counted by the whole word.
        let common = list(
            &conn,
            &SearchWords::parse("user00"),
            None,
            &Seek::First,
            50,
            0,
        );
        assert_eq!(common.unwrap().total, Total::MoreThan(100));
    }

    #[test]
    fn common_ends_are_dropped_while_three_trigrams_are_left() {
        let common = COMMON + 1;
        assert_eq!(window(&[common, common, common, 50, 20, 300]), (3, 6));
        assert_eq!(window(&[common, 5, common, 50, common]), (1, 4));
        assert_eq!(window(&[common, common, common, common]), (1, 4));
        assert_eq!(window(&[5, 6, 7, 8]), (0, 4));
        assert_eq!(window(&[common, common, common]), (0, 3));
    }
}
