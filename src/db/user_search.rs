//! The users list: search, status filter, totals and keyset paging over `user`.
//!
//! Rows are ordered by username, which is unique, so "after this username" names the next
//! page exactly however deep it is, and a page costs the same on 100,000 users as on 100.
//!
//! A search first asks the trigram index (`user_search`) for words of three characters or
//! more, at most [`SEARCH_CAP`] + 1 matches. When that settles the matches (or the status
//! is one only a few users have), they are read, filtered and sorted whole, which gives an
//! exact total. Otherwise the matches are common: the list walks the usernames in order and
//! keeps the rows that match until the page is full, and the total says "more than".

use super::users::{list_row, pending_until, UserListRow, COLUMNS, LIST_EXTRAS};
use crate::domain::user::{SearchWords, StatusFilter};
use rusqlite::types::Value;
use rusqlite::Connection;

/// Most matches counted; beyond this the list says "more than".
pub const SEARCH_CAP: i64 = 1000;

/// How many users a listing found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    /// Exactly this many.
    Exact(i64),
    /// More than this many.
    MoreThan(i64),
}

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seek {
    /// The first page.
    First,
    /// The page after the row with this username.
    After(String),
    /// The page before the row with this username.
    Before(String),
}

/// One page of the list.
#[derive(Debug, Clone)]
pub struct Listing {
    /// The rows, in username order.
    pub rows: Vec<UserListRow>,
    /// How many users match in all.
    pub total: Total,
    /// Whether matching rows lie before this page.
    pub has_prev: bool,
    /// Whether matching rows lie after this page.
    pub has_next: bool,
}

/// The users with an unused enrollment token.
const UNUSED_ENROLLMENT_TOKEN_USERS: &str = "SELECT user_id FROM token
    WHERE purpose = 'enrollment' AND consumed_at IS NULL AND revoked_at IS NULL";

/// The SQL condition of a status filter on `user`, with its arguments.
fn status_condition(status: Option<StatusFilter>, now: i64) -> (String, Vec<Value>) {
    let not_enrolled = "user.is_active = 1 AND user.password_hash IS NULL";
    match status {
        None => ("1".into(), vec![]),
        Some(StatusFilter::Active) => (
            "user.is_active = 1 AND user.password_hash IS NOT NULL".into(),
            vec![],
        ),
        Some(StatusFilter::Disabled) => ("user.is_active = 0".into(), vec![]),
        // No unused enrollment token: the same as `pending_until` being NULL, but the
        // tokens are looked up once per query instead of once per row.
        Some(StatusFilter::NotEnrolled) => (
            format!("{not_enrolled} AND user.id NOT IN ({UNUSED_ENROLLMENT_TOKEN_USERS})"),
            vec![],
        ),
        Some(StatusFilter::Invited) => (
            format!("{not_enrolled} AND {} > ?", pending_until!()),
            vec![now.into()],
        ),
        Some(StatusFilter::InvitationExpired) => (
            format!("{not_enrolled} AND {} <= ?", pending_until!()),
            vec![now.into()],
        ),
    }
}

/// The FTS5 query for the words long enough for the trigram index: each word a quoted
/// string (quotes doubled), all of them required.
fn fts_query(search: &SearchWords) -> Option<String> {
    let phrases: Vec<String> = search
        .words()
        .iter()
        .filter(|w| w.chars().count() >= 3)
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    (!phrases.is_empty()).then(|| phrases.join(" AND "))
}

/// A candidate: id, username and the searched fields.
type Candidate = (i64, String, [String; 3]);

fn candidate(r: &rusqlite::Row<'_>) -> rusqlite::Result<Candidate> {
    Ok((r.get(0)?, r.get(1)?, [r.get(2)?, r.get(3)?, r.get(4)?]))
}

fn is_match(search: &SearchWords, c: &Candidate) -> bool {
    search.matches(&[&c.1, &c.2[0], &c.2[1], &c.2[2]])
}

/// One page of users matching `search` and `status`, `limit` rows from `seek`.
pub fn list(
    conn: &Connection,
    search: &SearchWords,
    status: Option<StatusFilter>,
    seek: &Seek,
    limit: usize,
    now: i64,
) -> rusqlite::Result<Listing> {
    let (cond, cond_args) = status_condition(status, now);
    // The index's matches, read once; more than the cap means they are common.
    let mut indexed: Option<Vec<i64>> = None;
    if let Some(q) = fts_query(search) {
        let ids: Vec<i64> = conn
            .prepare_cached(&format!(
                "SELECT rowid FROM user_search WHERE user_search MATCH ?1 LIMIT {}",
                SEARCH_CAP + 1
            ))?
            .query_map([q], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        indexed = Some(ids);
    }
    let common = indexed
        .as_ref()
        .is_some_and(|ids| ids.len() > usize::try_from(SEARCH_CAP).unwrap_or(usize::MAX));
    let source = match (&indexed, status) {
        (Some(ids), _) if !common => Some((
            "SELECT value FROM json_each(?)",
            Some(Value::from(serde_json::to_string(ids).unwrap_or_default())),
        )),
        (_, Some(StatusFilter::Invited | StatusFilter::InvitationExpired)) => {
            Some((UNUSED_ENROLLMENT_TOKEN_USERS, None))
        }
        _ => None,
    };
    let (ids, total, has_prev, has_next) = match source {
        Some((source, source_arg)) => {
            let mut args: Vec<Value> = source_arg.into_iter().collect();
            args.extend(cond_args);
            let mut found: Vec<Candidate> = conn
                .prepare_cached(&format!(
                    "SELECT id, username, first_name, last_name, email FROM user
                     WHERE id IN ({source}) AND {cond}"
                ))?
                .query_map(rusqlite::params_from_iter(args), candidate)?
                .filter(|c| !matches!(c, Ok(c) if !is_match(search, c)))
                .collect::<Result<_, _>>()?;
            found.sort_by_cached_key(|c| key(&c.1));
            let total = Total::Exact(i64::try_from(found.len()).unwrap_or(i64::MAX));
            let (range, has_prev, has_next) = window(&found, seek, limit);
            let ids = found[range].iter().map(|c| c.0).collect();
            (ids, total, has_prev, has_next)
        }
        None => walk(conn, search, &cond, &cond_args, common, seek, limit)?,
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS}, {LIST_EXTRAS} FROM user WHERE id = ?1"
    ))?;
    let rows = ids
        .iter()
        .map(|id| stmt.query_row([id], list_row))
        .collect::<Result<_, _>>()?;
    Ok(Listing {
        rows,
        total,
        has_prev,
        has_next,
    })
}

/// Usernames compare as SQLite's NOCASE does: ASCII letters folded.
fn key(username: &str) -> String {
    username.to_ascii_lowercase()
}

/// The slice of sorted candidates `seek` asks for, and whether rows lie before and after it.
fn window(found: &[Candidate], seek: &Seek, limit: usize) -> (std::ops::Range<usize>, bool, bool) {
    let position = |name: &str| found.partition_point(|c| key(&c.1) <= key(name));
    let (start, end) = match seek {
        Seek::First => (0, limit.min(found.len())),
        Seek::After(name) => {
            let start = position(name);
            (start, start.saturating_add(limit).min(found.len()))
        }
        Seek::Before(name) => {
            let end = found.partition_point(|c| key(&c.1) < key(name));
            if end < limit {
                // Fewer than a page lies before: show the first page in full.
                (0, limit.min(found.len()))
            } else {
                (end - limit, end)
            }
        }
    };
    (start..end, start > 0, end < found.len())
}

/// Most matches a walk counts: a search too common for the index (or too short for it) is
/// counted only this far, so counting stays as cheap as filling a few pages.
pub const WALK_COUNT_CAP: usize = 100;

/// What one pass over rows in username order found.
struct Scan {
    /// The first matching ids, up to the number asked for.
    ids: Vec<i64>,
    /// Matching rows seen.
    matched: usize,
    /// Whether the pass reached the last row.
    exhausted: bool,
}

/// Reads `sql`'s rows (id first, then the searched fields), keeping the first `take`
/// matching ids and stopping once `stop_at` rows matched.
fn scan(
    conn: &Connection,
    sql: &str,
    args: Vec<Value>,
    search: &SearchWords,
    take: usize,
    stop_at: usize,
) -> rusqlite::Result<Scan> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
    let mut found = Scan {
        ids: Vec::with_capacity(take),
        matched: 0,
        exhausted: false,
    };
    loop {
        let Some(r) = rows.next()? else {
            found.exhausted = true;
            return Ok(found);
        };
        // Every searched column is NOT NULL text.
        let field = |i| r.get_ref(i).map(|v| v.as_str().unwrap_or(""));
        if search.is_empty() || search.matches(&[field(1)?, field(2)?, field(3)?, field(4)?]) {
            if found.ids.len() < take {
                found.ids.push(r.get(0)?);
            }
            found.matched += 1;
            if found.matched >= stop_at {
                return Ok(found);
            }
        }
    }
}

/// The case forms a folded character can have in stored text: itself, its uppercase, and the
/// few other capitals whose lowercase it is (Kelvin sign, Ångström sign, …).
fn case_forms(c: char) -> Vec<char> {
    let mut forms = vec![c];
    let mut upper = c.to_uppercase();
    if let (Some(u), None) = (upper.next(), upper.next()) {
        if u != c {
            forms.push(u);
        }
    }
    let extra = match c {
        'k' => Some('\u{212A}'),
        'å' => Some('\u{212B}'),
        'ω' => Some('\u{2126}'),
        'i' => Some('\u{130}'),
        'ß' => Some('\u{1E9E}'),
        'θ' => Some('\u{3F4}'),
        'ǆ' => Some('\u{1C5}'),
        'ǉ' => Some('\u{1C8}'),
        'ǌ' => Some('\u{1CB}'),
        'ǳ' => Some('\u{1F2}'),
        _ => None,
    };
    forms.extend(extra);
    forms
}

/// An SQL test that lets SQLite skip most rows without a short word (one or two
/// characters, which the trigram index cannot look up): the word in any case form occurs in
/// the row's text. It may let through rows that do not match; the rows it keeps are tested
/// in full after.
fn short_word_test(search: &SearchWords) -> (String, Vec<Value>) {
    let text =
        "user.username || ' ' || user.first_name || ' ' || user.last_name || ' ' || user.email";
    let mut sql = String::new();
    let mut args = Vec::new();
    for word in search.words().iter().filter(|w| w.chars().count() < 3) {
        let mut variants = vec![String::new()];
        for c in word.chars() {
            let forms = case_forms(c);
            variants = variants
                .iter()
                .flat_map(|v| forms.iter().map(move |f| format!("{v}{f}")))
                .collect();
        }
        let any = vec![format!("instr({text}, ?)"); variants.len()].join(" OR ");
        sql.push_str(&format!(" AND ({any})"));
        args.extend(variants.into_iter().map(Value::from));
    }
    (sql, args)
}

/// Walks the usernames in order from `seek`, keeping rows that match, until the page is full.
fn walk(
    conn: &Connection,
    search: &SearchWords,
    cond: &str,
    cond_args: &[Value],
    common: bool,
    seek: &Seek,
    limit: usize,
) -> rusqlite::Result<(Vec<i64>, Total, bool, bool)> {
    let everyone = cond == "1";
    let (short, short_args) = short_word_test(search);
    let cond = &format!("{cond}{short}");
    let cond_args = &[cond_args, &short_args].concat();
    let sql = |bound: &str, order: &str| {
        format!(
            "SELECT id, username, first_name, last_name, email FROM user
             WHERE {cond}{bound} ORDER BY username {order}"
        )
    };
    // A search counts matches by walking, unless the index already said "more than".
    let walk_count = !(search.is_empty() || common && everyone);
    let page_from = |bound: &str, order: &str, name: Option<&str>| {
        let mut args = cond_args.to_vec();
        args.extend(name.map(|n| Value::from(n.to_owned())));
        // The first page's walk goes on counting; the others stop one row past the page.
        let stop = if walk_count && name.is_none() {
            WALK_COUNT_CAP.max(limit) + 1
        } else {
            limit + 1
        };
        scan(conn, &sql(bound, order), args, search, limit + 1, stop)
    };
    let mut found = match seek {
        Seek::First => page_from("", "", None)?,
        Seek::After(name) => page_from(" AND username > ?", "", Some(name))?,
        Seek::Before(name) => page_from(" AND username < ?", "DESC", Some(name))?,
    };
    let mut from_start = matches!(seek, Seek::First);
    let backwards = matches!(seek, Seek::Before(_));
    if backwards && found.ids.len() <= limit {
        // Nothing lies before this page: it is the first one, shown in full.
        found = page_from("", "", None)?;
        from_start = true;
    }
    let beyond = found.ids.len() > limit;
    found.ids.truncate(limit);
    let (has_prev, has_next) = if from_start {
        (false, beyond)
    } else if backwards {
        // Walked backwards past one more row: rows lie before, and the start row after.
        found.ids.reverse();
        (true, true)
    } else {
        (true, beyond)
    };
    let total = if common && everyone {
        Total::MoreThan(SEARCH_CAP)
    } else if search.is_empty() && everyone {
        Total::Exact(super::users::count(conn)?)
    } else if search.is_empty() {
        let n: i64 = conn
            .prepare_cached(&format!(
                "SELECT count(*) FROM (SELECT 1 FROM user WHERE {cond} LIMIT {})",
                SEARCH_CAP + 1
            ))?
            .query_row(rusqlite::params_from_iter(cond_args), |r| r.get(0))?;
        if n > SEARCH_CAP {
            Total::MoreThan(SEARCH_CAP)
        } else {
            Total::Exact(n)
        }
    } else if from_start {
        capped(found.matched, found.exhausted)
    } else {
        let all = scan(
            conn,
            &sql("", ""),
            cond_args.to_vec(),
            search,
            0,
            WALK_COUNT_CAP + 1,
        )?;
        capped(all.matched, all.exhausted)
    };
    Ok((found.ids, total, has_prev, has_next))
}

/// A walk's count: exact when it reached the last row, "more than the cap" otherwise.
fn capped(matched: usize, exhausted: bool) -> Total {
    let n = i64::try_from(matched).unwrap_or(i64::MAX);
    if exhausted || matched <= WALK_COUNT_CAP {
        Total::Exact(n)
    } else {
        Total::MoreThan(i64::try_from(WALK_COUNT_CAP).unwrap_or(i64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::test_connection;
    use crate::db::users::add_for_test as add;

    fn names(conn: &Connection, q: &str) -> Vec<String> {
        list(conn, &SearchWords::parse(q), None, &Seek::First, 50, 0)
            .unwrap()
            .rows
            .into_iter()
            .map(|r| r.user.username)
            .collect()
    }

    #[test]
    fn search_matches_anywhere_in_every_field_across_unicode_case() {
        let conn = test_connection();
        add(&conn, "jnowak", "Jan", "Nowak");
        add(&conn, "lzielinski", "Łukasz", "Zieliński");
        add(&conn, "pzak", "Paweł", "Żak");
        assert_eq!(names(&conn, "łuk"), ["lzielinski"]);
        assert_eq!(names(&conn, "ŁUKASZ"), ["lzielinski"]);
        assert_eq!(names(&conn, "ukasz"), ["lzielinski"]);
        assert_eq!(names(&conn, "ŻAK"), ["pzak"]);
        assert_eq!(names(&conn, "Ż"), ["pzak"]);
        assert_eq!(names(&conn, "owak"), ["jnowak"]);
        assert_eq!(names(&conn, "example.com").len(), 3);
        assert_eq!(names(&conn, "jan now"), ["jnowak"]);
        assert_eq!(names(&conn, "\"x"), Vec::<String>::new());
        assert_eq!(names(&conn, "a\"b\" OR c"), Vec::<String>::new());
        assert_eq!(names(&conn, "%"), Vec::<String>::new());
        assert_eq!(names(&conn, "_"), Vec::<String>::new());
        // Capitals whose lowercase is a plain letter still match short words.
        add(&conn, "kelvin", "\u{212A}arl", "Stra\u{1E9E}e");
        assert_eq!(names(&conn, "\u{212A}ar"), ["kelvin"]);
        let conn = test_connection();
        add(&conn, "kelvin", "\u{212A}arl", "Stra\u{1E9E}e");
        assert_eq!(names(&conn, "ka"), ["kelvin"]);
        assert_eq!(names(&conn, "ß"), ["kelvin"]);
        assert_eq!(names(&conn, "aß"), ["kelvin"]);
    }

    #[test]
    fn the_index_follows_edits_and_deletes() {
        let conn = test_connection();
        let id = add(&conn, "jan1", "Jan", "Nowak");
        assert_eq!(names(&conn, "owak"), ["jan1"]);
        crate::db::users::update_profile(&conn, id, "Jan", "Żak", "j@example.org", None).unwrap();
        assert_eq!(names(&conn, "owak"), Vec::<String>::new());
        assert_eq!(names(&conn, "żak"), ["jan1"]);
        assert_eq!(names(&conn, "example.org"), ["jan1"]);
        crate::db::users::delete(&conn, id).unwrap();
        assert_eq!(names(&conn, "żak"), Vec::<String>::new());
    }

    #[test]
    fn common_matches_walk_in_order_and_say_more_than() {
        let conn = test_connection();
        for i in 0..1100 {
            add(&conn, &format!("u{i:04}"), "Same", "Name");
        }
        let search = SearchWords::parse("same");
        let mut seen = Vec::new();
        let mut seek = Seek::First;
        loop {
            let page = list(&conn, &search, None, &seek, 100, 0).unwrap();
            assert_eq!(page.total, Total::MoreThan(SEARCH_CAP));
            seen.extend(page.rows.iter().map(|r| r.user.username.clone()));
            if !page.has_next {
                break;
            }
            seek = Seek::After(seen.last().unwrap().clone());
        }
        let expected: Vec<String> = (0..1100).map(|i| format!("u{i:04}")).collect();
        assert_eq!(seen, expected);
        let back = list(&conn, &search, None, &Seek::Before("u0150".into()), 100, 0).unwrap();
        assert_eq!(back.rows[0].user.username, "u0050");
        assert_eq!(back.rows[99].user.username, "u0149");
        assert!(back.has_prev && back.has_next);
        let start = list(&conn, &search, None, &Seek::Before("u0050".into()), 100, 0).unwrap();
        assert_eq!(start.rows[0].user.username, "u0000");
        assert!(!start.has_prev);
    }
}
