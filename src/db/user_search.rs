//! The users list: search, status filter, totals and keyset paging over `user`.
//!
//! Rows are ordered by username, which is unique, so "after this username" names the next
//! page exactly however deep it is, and a page costs the same on 100,000 users as on 100.
//!
//! A search first asks the trigram indexes for at most [`PROBE_CAP`] + 1 matches:
//! `user_search` for words of three characters or more (a long word without its common
//! ends, see [`search_probe`]), `user_search_short` for shorter ones. When an index settles
//! the matches (or the status is one only a few users have), they are read, filtered and
//! sorted whole, which gives an exact total. Otherwise the words are common: the list walks
//! the usernames in order and keeps the rows that match until the page is full, and the
//! total says "more than" (with a status filter, the index's matches are counted against
//! it). A walk that reads [`WALK_BUDGET`] rows without filling its page stops, and the
//! indexes are asked for up to [`SEARCH_CAP`] + 1 matches, which settles words that are
//! common overall but sparse here.

use super::search_probe;
use super::users::{list_rows, pending_until, UserListRow};
use crate::domain::user::{SearchWords, StatusFilter};
use rusqlite::types::Value;
use rusqlite::Connection;

/// Matches the indexes are first asked for. More means the words are common: a page of them
/// is usually found by walking the next few usernames, and the list says "more than 100".
pub const PROBE_CAP: i64 = 100;

/// Rows a walk for common words reads before it stops and asks the indexes for up to
/// [`SEARCH_CAP`] matches instead: beyond it the matches are sparse here, and reading and
/// sorting them all is cheaper than walking on.
const WALK_BUDGET: usize = 500;

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
        // No unused enrollment token: the same as `pending_until` being NULL, read from the
        // count the token triggers keep (migration 0017), which has an index in username
        // order.
        Some(StatusFilter::NotEnrolled) => (
            format!("{not_enrolled} AND user.open_invitations = 0"),
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

/// The mark `user_search_short` spells before and after every character (see migration 0015).
const MARK: char = '\u{1}';

/// Whether SQLite's trigram tokenizer folds the case of `c` as [`crate::domain::user::fold`]
/// does: characters without case, and Latin, Greek and Cyrillic letters (IPA, modifier
/// letters and combining marks aside). Its case tables predate some of Unicode, so words
/// with other cased letters are found by walking the rows.
fn folds_alike(c: char) -> bool {
    let n = u32::from(c);
    c != MARK
        && (n < 0x250
            || (0x370..0x530).contains(&n)
            || c.to_uppercase().eq([c]) && c.to_lowercase().eq([c]))
}

/// Most letters "i" in a word the indexes are asked for: each doubles the query.
const MAX_I: usize = 3;

/// The one [`odd_capital`] SQLite's tokenizer does not fold: "İ" stays apart from "i".
const UNFOLDED_BY_SQLITE: char = '\u{130}';

/// The spellings of a folded `word` the indexes must be asked for, or `None` when they
/// cannot answer for it: a word with an "i" asks for it spelled "İ" too.
fn index_spellings(word: &str) -> Option<Vec<String>> {
    if !word.chars().all(folds_alike) || word.matches('i').count() > MAX_I {
        return None;
    }
    let mut spellings = vec![String::new()];
    for c in word.chars() {
        let forms: Vec<char> = std::iter::once(c)
            .chain(odd_capital(c).filter(|&capital| capital == UNFOLDED_BY_SQLITE))
            .collect();
        spellings = spellings
            .iter()
            .flat_map(|s| forms.iter().map(move |f| format!("{s}{f}")))
            .collect();
    }
    Some(spellings)
}

/// An FTS5 string: quoted, quotes doubled.
pub(super) fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// The query of one index for the words it can answer for: for `user_search`, words of three
/// characters or more; for `user_search_short` (`short`), shorter ones, each a trigram of
/// the marked text ("␁x␁" for one character, "x␁y" for two). Every word is required.
fn index_query(search: &SearchWords, short: bool) -> Option<String> {
    let words: Vec<String> = search
        .words()
        .iter()
        .filter(|w| (w.chars().count() < 3) == short)
        .filter_map(|w| index_spellings(w))
        .map(|spellings| {
            let alternatives: Vec<String> = spellings
                .iter()
                .map(|s| {
                    let chars: Vec<char> = s.chars().collect();
                    match chars[..] {
                        [a] if short => quoted(&format!("{MARK}{a}{MARK}")),
                        [a, b] if short => quoted(&format!("{a}{MARK}{b}")),
                        _ => quoted(s),
                    }
                })
                .collect();
            format!("({})", alternatives.join(" OR "))
        })
        .collect();
    (!words.is_empty()).then(|| words.join(" AND "))
}

/// The query of `user_search` with each long word narrowed to its less common part
/// ([`search_probe::narrowed`]), if any word was.
fn narrowed_query(conn: &Connection, search: &SearchWords) -> rusqlite::Result<Option<String>> {
    let mut narrowed_any = false;
    let mut words = Vec::new();
    for word in search.words().iter().filter(|w| w.chars().count() >= 3) {
        let Some(spellings) = index_spellings(word) else {
            continue;
        };
        let narrow = match &spellings[..] {
            [one] => search_probe::narrowed(conn, one)?,
            _ => None,
        };
        narrowed_any |= narrow.is_some();
        let alternatives: Vec<String> = match narrow {
            Some(part) => vec![quoted(&part)],
            None => spellings.iter().map(|s| quoted(s)).collect(),
        };
        words.push(format!("({})", alternatives.join(" OR ")));
    }
    Ok(narrowed_any.then(|| words.join(" AND ")))
}

/// A candidate: id, username and the searched fields.
type Candidate = (i64, String, [String; 3]);

fn candidate(r: &rusqlite::Row<'_>) -> rusqlite::Result<Candidate> {
    Ok((r.get(0)?, r.get(1)?, [r.get(2)?, r.get(3)?, r.get(4)?]))
}

fn is_match(search: &SearchWords, c: &Candidate) -> bool {
    search.matches(&[&c.1, &c.2[0], &c.2[1], &c.2[2]])
}

/// What the indexes said about a search's words.
struct Probe {
    /// The fewest matches one index settled (at most the cap), if any did.
    settled: Option<Vec<i64>>,
    /// Whether an index found more than the cap.
    common: bool,
}

/// Asks each index for at most `cap` + 1 matches of its words.
fn probe(
    conn: &Connection,
    queries: &[(&str, Option<String>)],
    cap: i64,
) -> rusqlite::Result<Probe> {
    let mut found = Probe {
        settled: None,
        common: false,
    };
    for (table, query) in queries {
        let Some(query) = query else { continue };
        let ids: Vec<i64> = conn
            .prepare_cached(&format!(
                "SELECT rowid FROM {table} WHERE {table} MATCH ?1 LIMIT ?2"
            ))?
            .query_map(rusqlite::params![query, cap + 1], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        if ids.len() > usize::try_from(cap).unwrap_or(usize::MAX) {
            found.common = true;
        } else if found
            .settled
            .as_ref()
            .is_none_or(|best| ids.len() < best.len())
        {
            found.settled = Some(ids);
        }
    }
    Ok(found)
}

/// Pages of index one [`tidy`] step writes at most: a few tens of milliseconds of the writer.
const TIDY_PAGES: i64 = 400;

/// Merges part of each search index's segments together, and says whether there was any
/// work to do. Every batch of writes adds a segment to an FTS5 index, and a lookup reads
/// every segment: the bench's seeded index answered up to two and a half times slower than
/// the same index merged into one segment. Each call writes at most
/// [`TIDY_PAGES`] pages per index; call it until it says there was nothing left.
pub fn tidy(conn: &Connection) -> rusqlite::Result<bool> {
    let mut worked = false;
    for table in ["user_search", "user_search_short"] {
        let before = conn.total_changes();
        // A negative page count merges segments from every level, down to one segment.
        conn.prepare_cached(&format!(
            "INSERT INTO {table} ({table}, rank) VALUES ('merge', ?1)"
        ))?
        .execute([-TIDY_PAGES])?;
        // The command itself counts as one change; a merge adds more.
        worked |= conn.total_changes() - before >= 2;
    }
    Ok(worked)
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
    let queries = [
        ("user_search", index_query(search, false)),
        ("user_search_short", index_query(search, true)),
    ];
    let indexed_words = search
        .words()
        .iter()
        .filter(|w| index_spellings(w).is_some())
        .count();
    // One index that looked up every word counts the matches: "more than" is then true.
    let one_lookup_for_all =
        queries[0].1.is_some() != queries[1].1.is_some() && indexed_words == search.words().len();
    let from_tokens = matches!(
        status,
        Some(StatusFilter::Invited | StatusFilter::InvitationExpired)
    );
    // The one index that answers for every word, when there is one.
    let answering = queries
        .iter()
        .find_map(|(table, query)| Some((*table, query.as_deref()?)))
        .filter(|_| one_lookup_for_all);
    let answer = |more_than| {
        answering.map(|(table, query)| Answer {
            table,
            query,
            more_than,
        })
    };
    // A narrowed query of the long words is cheaper, but can only settle the matches: when
    // it finds too many, the words' own queries (both indexes, asked once) say how common.
    let narrowed = match narrowed_query(conn, search)? {
        Some(query) => probe(conn, &[("user_search", Some(query))], PROBE_CAP)?.settled,
        None => None,
    };
    let mut found = match narrowed {
        Some(ids) => Probe {
            settled: Some(ids),
            common: false,
        },
        None => probe(conn, &queries, PROBE_CAP)?,
    };
    let mut cap = PROBE_CAP;
    if found.settled.is_none() && found.common && !from_tokens {
        // Common words: a page of them usually lies in the next few rows.
        let walked = walk(
            conn,
            search,
            &cond,
            &cond_args,
            answer(cap),
            seek,
            limit,
            Some(WALK_BUDGET),
        )?;
        if let Some(page) = walked {
            return listing(conn, page, now);
        }
        // Sparse here: ask the index for more, which may settle them after all.
        found = probe(conn, &queries, SEARCH_CAP)?;
        cap = SEARCH_CAP;
    }
    let source = match (&found.settled, status) {
        (Some(ids), _) => Some((
            "SELECT value FROM json_each(?)",
            Some(Value::from(serde_json::to_string(ids).unwrap_or_default())),
        )),
        (_, Some(StatusFilter::Invited | StatusFilter::InvitationExpired)) => {
            Some((UNUSED_ENROLLMENT_TOKEN_USERS, None))
        }
        _ => None,
    };
    let common_answer = answer(cap).filter(|_| found.common);
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
        // Without a budget the walk always ends with a page.
        None => walk(
            conn,
            search,
            &cond,
            &cond_args,
            common_answer,
            seek,
            limit,
            None,
        )?
        .unwrap_or((Vec::new(), Total::Exact(0), false, false)),
    };
    listing(conn, (ids, total, has_prev, has_next), now)
}

/// The listing of a page found one way or another: its rows read in full.
fn listing(conn: &Connection, page: Page, now: i64) -> rusqlite::Result<Listing> {
    let (ids, total, has_prev, has_next) = page;
    Ok(Listing {
        rows: list_rows(conn, &ids, now)?,
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
    /// Whether the pass stopped at its row budget, before it found the rows asked for.
    cut: bool,
}

/// Reads `sql`'s rows (id first, then the searched fields), keeping the first `take`
/// matching ids and stopping once `stop_at` rows matched, or after `budget` rows when fewer
/// than `take` matched.
fn scan(
    conn: &Connection,
    sql: &str,
    args: Vec<Value>,
    search: &SearchWords,
    take: usize,
    stop_at: usize,
    budget: Option<usize>,
) -> rusqlite::Result<Scan> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
    let mut found = Scan {
        ids: Vec::with_capacity(take),
        matched: 0,
        exhausted: false,
        cut: false,
    };
    let mut read = 0;
    loop {
        // The budget is for finding the rows asked for; counting on past them is not cut.
        if budget.is_some_and(|b| read >= b) && found.ids.len() < take {
            found.cut = true;
            return Ok(found);
        }
        let Some(r) = rows.next()? else {
            found.exhausted = true;
            return Ok(found);
        };
        read += 1;
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

/// The few capitals whose lowercase is `c` without being its uppercase: the Kelvin sign,
/// the Ångström sign, the capital I with a dot, …
fn odd_capital(c: char) -> Option<char> {
    match c {
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
    }
}

/// A page's ids, the total, and whether rows lie before and after it.
type Page = (Vec<i64>, Total, bool, bool);

/// The one index that looked up every word of a search, which finds exactly the users the
/// words match, and found more than `more_than` of them.
#[derive(Debug, Clone, Copy)]
struct Answer<'a> {
    table: &'a str,
    query: &'a str,
    more_than: i64,
}

/// Index matches [`count_by_index`] reads at most before it leaves the count to a walk.
const INDEX_COUNT_BUDGET: usize = 1000;

/// Counts, up to [`WALK_COUNT_CAP`], the index's matches that pass the status condition,
/// reading them in id order. That beats walking the usernames when the condition passes most
/// users; when it reads [`INDEX_COUNT_BUDGET`] matches without settling the count, most fail
/// it, and it returns `None`: the status's own index then walks fewer rows.
fn count_by_index(
    conn: &Connection,
    answer: Answer<'_>,
    cond: &str,
    cond_args: &[Value],
) -> rusqlite::Result<Option<Total>> {
    let table = answer.table;
    // The index drives the join: SQLite would otherwise walk the status's rows and ask the
    // index about each.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {cond} FROM {table} CROSS JOIN user ON user.id = {table}.rowid
         WHERE {table} MATCH ?1"
    ))?;
    let mut args = vec![Value::from(answer.query.to_owned())];
    args.extend_from_slice(cond_args);
    let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
    let (mut read, mut passed) = (0, 0);
    while let Some(r) = rows.next()? {
        read += 1;
        if r.get::<_, bool>(0)? {
            passed += 1;
            if passed > WALK_COUNT_CAP {
                return Ok(Some(capped(passed, false)));
            }
        }
        if read >= INDEX_COUNT_BUDGET {
            return Ok(None);
        }
    }
    Ok(Some(capped(passed, true)))
}

/// Walks the usernames in order from `seek`, keeping rows that match, until the page is full.
/// `answer` is the index that looked up every word, if one did; the total comes from it when
/// it can, or else from walking. With a `budget`, the walk gives up (`None`) when it reads
/// that many rows before its page is full.
#[allow(clippy::too_many_arguments)]
fn walk(
    conn: &Connection,
    search: &SearchWords,
    cond: &str,
    cond_args: &[Value],
    answer: Option<Answer<'_>>,
    seek: &Seek,
    limit: usize,
    budget: Option<usize>,
) -> rusqlite::Result<Option<Page>> {
    let everyone = cond == "1";
    let sql = |bound: &str, order: &str| {
        format!(
            "SELECT id, username, first_name, last_name, email FROM user
             WHERE {cond}{bound} ORDER BY username {order}"
        )
    };
    // The index's count stands for everyone. With a status filter, a first page that walks
    // to the end of the status's rows has counted them; otherwise the index's matches are
    // counted against the filter, or failing that, the rows are walked and counted.
    let counted = answer.filter(|_| everyone).map(|a| a.more_than);
    let walk_count = !(search.is_empty() || counted.is_some() || answer.is_some());
    let page_from = |bound: &str, order: &str, name: Option<&str>| {
        let mut args = cond_args.to_vec();
        args.extend(name.map(|n| Value::from(n.to_owned())));
        // The first page's walk goes on counting; the others stop one row past the page.
        let stop = if walk_count && name.is_none() {
            WALK_COUNT_CAP.max(limit) + 1
        } else {
            limit + 1
        };
        scan(
            conn,
            &sql(bound, order),
            args,
            search,
            limit + 1,
            stop,
            budget,
        )
    };
    let mut found = match seek {
        Seek::First => page_from("", "", None)?,
        Seek::After(name) => page_from(" AND username > ?", "", Some(name))?,
        Seek::Before(name) => page_from(" AND username < ?", "DESC", Some(name))?,
    };
    if found.cut {
        return Ok(None);
    }
    let mut from_start = matches!(seek, Seek::First);
    let backwards = matches!(seek, Seek::Before(_));
    if backwards && found.ids.len() <= limit {
        // Nothing lies before this page: it is the first one, shown in full.
        found = page_from("", "", None)?;
        if found.cut {
            return Ok(None);
        }
        from_start = true;
    }
    let beyond = found.ids.len() > limit;
    found.ids.truncate(limit);
    let (has_prev, has_next) = if from_start {
        (false, beyond)
    } else if backwards {
        // Page backwards past one more row: rows lie before, and the start row after.
        found.ids.reverse();
        (true, true)
    } else {
        (true, beyond)
    };
    let total = if let Some(n) = counted {
        Total::MoreThan(n)
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
    } else if from_start && (walk_count || found.exhausted) {
        capped(found.matched, found.exhausted)
    } else if let Some(total) = match answer {
        Some(answer) => count_by_index(conn, answer, cond, cond_args)?,
        None => None,
    } {
        total
    } else {
        let all = scan(
            conn,
            &sql("", ""),
            cond_args.to_vec(),
            search,
            0,
            WALK_COUNT_CAP + 1,
            None,
        )?;
        capped(all.matched, all.exhausted)
    };
    Ok(Some((found.ids, total, has_prev, has_next)))
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
    fn tidying_merges_the_indexes_until_nothing_is_left_and_changes_no_answer() {
        let conn = test_connection();
        // Each insert on its own commits, and so writes, its own segment.
        for i in 0..40 {
            add(&conn, &format!("user{i:02}"), "Jan", &format!("Nowak{i}"));
        }
        let before = (
            names(&conn, "nowak1"),
            names(&conn, "r0"),
            names(&conn, "n"),
        );
        assert!(tidy(&conn).unwrap(), "forty segments are worth merging");
        let mut steps = 1;
        while tidy(&conn).unwrap() {
            steps += 1;
            assert!(steps < 10, "tidying never finished");
        }
        assert!(
            !tidy(&conn).unwrap(),
            "a merged index has nothing left to do"
        );
        let after = (
            names(&conn, "nowak1"),
            names(&conn, "r0"),
            names(&conn, "n"),
        );
        assert_eq!(before, after);
        assert_eq!(after.0.len(), 11);
        // An edit after tidying is found, and leaves work to do again.
        add(&conn, "zed", "Zofia", "Nowak1");
        assert!(tidy(&conn).unwrap());
        assert_eq!(names(&conn, "nowak1").len(), 12);
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
            assert_eq!(page.total, Total::MoreThan(PROBE_CAP));
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

    #[test]
    fn common_words_sparse_where_the_walk_starts_are_counted_exactly() {
        let conn = test_connection();
        for i in 0..1100 {
            add(&conn, &format!("a{i:04}"), "Same", "Name");
        }
        for i in 0..300 {
            add(&conn, &format!("z{i:04}"), "Rare", "Name");
        }
        let search = SearchWords::parse("rare");
        // More than the first look: walking the first rows finds none of them, so the index
        // is asked for more, and settles them.
        let page = list(&conn, &search, None, &Seek::First, 25, 0).unwrap();
        assert_eq!(page.total, Total::Exact(300));
        assert_eq!(page.rows[0].user.username, "z0000");
        assert!(!page.has_prev && page.has_next);
        let next = list(&conn, &search, None, &Seek::After("z0024".into()), 25, 0).unwrap();
        assert_eq!(next.rows[0].user.username, "z0025");
        // Common where the walk starts: the page comes from the walk.
        let same = list(
            &conn,
            &SearchWords::parse("same"),
            None,
            &Seek::First,
            25,
            0,
        )
        .unwrap();
        assert_eq!(same.total, Total::MoreThan(PROBE_CAP));
        assert_eq!(same.rows[24].user.username, "a0024");
    }

    #[test]
    fn a_status_filter_counts_common_words_against_the_index() {
        let conn = test_connection();
        for i in 0..150 {
            let id = add(&conn, &format!("s{i:04}"), "Same", "Name");
            if i < 70 {
                crate::db::users::set_active(&conn, id, false).unwrap();
            }
        }
        for i in 0..1000 {
            add(&conn, &format!("t{i:04}"), "Other", "Name");
        }
        let search = SearchWords::parse("same");
        let page = |status, seek: &Seek| list(&conn, &search, Some(status), seek, 25, 0).unwrap();
        // The page is walked; the count comes from the index's 150 matches.
        let enrolled_not = page(StatusFilter::NotEnrolled, &Seek::First);
        assert_eq!(enrolled_not.total, Total::Exact(80));
        assert_eq!(enrolled_not.rows[0].user.username, "s0070");
        let next = page(StatusFilter::NotEnrolled, &Seek::After("s0094".into()));
        assert_eq!(next.total, Total::Exact(80));
        assert_eq!(next.rows[0].user.username, "s0095");
        assert_eq!(
            page(StatusFilter::Disabled, &Seek::First).total,
            Total::Exact(70)
        );
        // Most matches fail the filter: the index gives up and the walk counts.
        let name = SearchWords::parse("name");
        let disabled = list(
            &conn,
            &name,
            Some(StatusFilter::Disabled),
            &Seek::First,
            25,
            0,
        );
        assert_eq!(disabled.unwrap().total, Total::Exact(70));
        let after = Seek::After("s0024".into());
        let disabled = list(&conn, &name, Some(StatusFilter::Disabled), &after, 25, 0);
        assert_eq!(disabled.unwrap().total, Total::Exact(70));
        // More than the cap pass.
        let not_enrolled = list(&conn, &name, Some(StatusFilter::NotEnrolled), &after, 25, 0);
        assert_eq!(
            not_enrolled.unwrap().total,
            Total::MoreThan(i64::try_from(WALK_COUNT_CAP).unwrap())
        );
    }

    #[test]
    fn the_short_word_index_spells_every_character_and_pair() {
        let conn = test_connection();
        let id = add(&conn, "ewa", "Ewa", "Żak");
        let hits = |trigram: &str| -> Vec<i64> {
            conn.prepare("SELECT rowid FROM user_search_short WHERE user_search_short MATCH ?1")
                .unwrap()
                .query_map([format!("\"{trigram}\"")], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_eq!(hits("\u{1}e\u{1}"), [id], "the first character");
        assert_eq!(hits("ż\u{1}a"), [id], "a pair, case-folded");
        assert_eq!(hits("m\u{1}\u{1}"), Vec::<i64>::new());
        // A pair never spans two fields: they are joined by a space, which no word holds.
        assert_eq!(hits("a\u{1}ż"), Vec::<i64>::new());
        crate::db::users::update_profile(&conn, id, "Ewa", "Nowak", "e@example.org", None).unwrap();
        assert_eq!(hits("ż\u{1}a"), Vec::<i64>::new());
        assert_eq!(hits("o\u{1}w"), [id]);
        crate::db::users::delete(&conn, id).unwrap();
        assert_eq!(hits("o\u{1}w"), Vec::<i64>::new());
    }

    #[test]
    fn a_common_short_word_is_counted_by_the_index() {
        let conn = test_connection();
        for i in 0..1100 {
            add(&conn, &format!("u{i:04}"), "Ja", "Wix");
        }
        add(&conn, "zz", "Żaneta", "Wix");
        let list_of =
            |q: &str| list(&conn, &SearchWords::parse(q), None, &Seek::First, 50, 0).unwrap();
        assert_eq!(list_of("ja").total, Total::MoreThan(PROBE_CAP));
        assert_eq!(list_of("ż").total, Total::Exact(1));
        assert_eq!(list_of("ż wi").total, Total::Exact(1));
        assert_eq!(list_of("q").total, Total::Exact(0));
        assert_eq!(list_of("ja wi").total, Total::MoreThan(PROBE_CAP));
        // Common in each index: only the walk can count both words together.
        assert_eq!(
            list_of("ja wix").total,
            Total::MoreThan(i64::try_from(WALK_COUNT_CAP).unwrap())
        );
    }

    /// What `index_spellings` assumes of SQLite: its trigram tokenizer folds each capital whose
    /// lowercase is not its uppercase's, except the capital I with a dot.
    #[test]
    fn sqlite_folds_the_odd_capitals_except_the_dotted_i() {
        let conn = test_connection();
        for c in ['k', 'å', 'ω', 'i', 'ß', 'θ', 'ǆ', 'ǉ', 'ǌ', 'ǳ'] {
            let capital = odd_capital(c).unwrap();
            let id = add(
                &conn,
                &format!("u{}", u32::from(c)),
                &format!("a{capital}b"),
                "x",
            );
            let found: Vec<i64> = conn
                .prepare("SELECT rowid FROM user_search WHERE user_search MATCH ?1")
                .unwrap()
                .query_map([quoted(&format!("a{c}b"))], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(
                found.contains(&id),
                capital != UNFOLDED_BY_SQLITE,
                "{capital} folds to {c}"
            );
        }
        assert_eq!(names(&conn, "aib"), ["u105"], "found by asking for both");
    }

    mod agrees_with_checking_everyone {
        use super::*;
        use proptest::prelude::*;

        /// Letters with the case pairs that trip folding up: Polish, the Kelvin sign, the
        /// capital sharp s, dotted and dotless i, Greek, Cyrillic, Georgian.
        const ALPHABET: &[char] = &[
            'a', 'A', 'k', 'K', '\u{212A}', 'ł', 'Ł', 'ż', 'Ż', 'ß', '\u{1E9E}', 'i', 'I', 'İ',
            'ı', 'σ', 'Σ', 'ς', 'ж', 'Ж', 'ა', 'Ა', 'ɐ', 'Ɐ', '\u{307}', '.', '-',
        ];

        fn text(len: std::ops::Range<usize>) -> impl Strategy<Value = String> {
            proptest::collection::vec(proptest::sample::select(ALPHABET), len)
                .prop_map(|cs| cs.into_iter().collect())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            /// Whatever the indexes answer, the list holds exactly the users whose fields
            /// contain every word, in username order.
            #[test]
            fn search_results(
                people in proptest::collection::vec((text(1..6), text(1..6)), 1..12),
                query in proptest::collection::vec(text(1..4), 1..3),
            ) {
                let conn = test_connection();
                let mut everyone = Vec::new();
                for (i, (first, last)) in people.iter().enumerate() {
                    let username = format!("u{i:02}");
                    add(&conn, &username, first, last);
                    everyone.push((username, first.clone(), last.clone()));
                }
                let q = query.join(" ");
                let search = SearchWords::parse(&q);
                let expected: Vec<String> = everyone
                    .iter()
                    .filter(|(u, f, l)| search.matches(&[u, f, l, &format!("{u}@example.com")]))
                    .map(|(u, _, _)| u.clone())
                    .collect();
                prop_assert_eq!(names(&conn, &q), expected, "query {:?}", q);
            }
        }
    }
}
