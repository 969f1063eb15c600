//! The `audit_event` table. Never holds a secret.

use crate::domain::visible_text;
use rusqlite::{params, Connection};

/// One audit event to record.
#[derive(Debug, Clone, Default)]
pub struct NewEvent<'a> {
    /// Unix seconds.
    pub at: i64,
    /// Who did it: a username, `anonymous` or `system`.
    pub actor: &'a str,
    /// What happened, e.g. `user.created`.
    pub action: &'a str,
    /// What it happened to, e.g. a username.
    pub target: Option<&'a str>,
    /// Client IP.
    pub ip: Option<&'a str>,
    /// Client user agent, cut to 256 characters.
    pub user_agent: Option<&'a str>,
    /// Extra context (never a secret).
    pub detail: Option<&'a str>,
}

impl<'a> NewEvent<'a> {
    /// The same event with `detail`.
    pub fn with_detail(self, detail: &'a str) -> Self {
        Self {
            detail: Some(detail),
            ..self
        }
    }
}

/// A stored audit event.
#[derive(Debug, Clone)]
pub struct Event {
    /// Row id.
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// To what.
    pub target: Option<String>,
    /// From where.
    pub ip: Option<String>,
    /// With which client.
    pub user_agent: Option<String>,
    /// Context.
    pub detail: Option<String>,
}

/// Longest actor or target kept; longer text is cut (a username is at most 32 characters).
const MAX_NAME: usize = 128;
/// Longest detail, IP or user agent kept.
const MAX_TEXT: usize = 256;

/// Records an event. Every text is stored as [`visible_text`]: control characters, terminal
/// escapes and bidirectional overrides become visible `\u{…}` escapes and long text is cut,
/// so whatever a client sent cannot rewrite how the log reads.
pub fn insert(conn: &Connection, e: &NewEvent<'_>) -> rusqlite::Result<()> {
    let name = |s: &str| visible_text(s, MAX_NAME);
    let text = |s: &str| visible_text(s, MAX_TEXT);
    conn.prepare_cached(
        "INSERT INTO audit_event (at, actor, action, target, ip, user_agent, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        e.at,
        name(e.actor),
        name(e.action),
        e.target.map(name),
        e.ip.map(text),
        e.user_agent.map(text),
        e.detail.map(text)
    ])?;
    Ok(())
}

/// Records a repeated event as one row: when an event with the same action and IP whose
/// detail starts with `kind` was recorded at or after `since`, its time and detail are
/// updated to `e`'s; otherwise `e` is inserted.
pub fn insert_or_update_recent(
    conn: &Connection,
    e: &NewEvent<'_>,
    since: i64,
    kind: &str,
) -> rusqlite::Result<()> {
    let updated = conn
        .prepare_cached(
            "UPDATE audit_event SET at = ?1, detail = ?2 WHERE id = (
                 SELECT max(id) FROM audit_event
                 WHERE action = ?3 AND ip IS ?4 AND at >= ?5 AND substr(detail, 1, length(?6)) = ?6)",
        )?
        .execute(params![
            e.at,
            e.detail.map(|d| visible_text(d, MAX_TEXT)),
            e.action,
            e.ip.map(|i| visible_text(i, MAX_TEXT)),
            since,
            kind
        ])?;
    if updated == 0 {
        insert(conn, e)?;
    }
    Ok(())
}

/// An event from a row of `SELECT id, at, actor, action, target, ip, user_agent, detail`.
fn event_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Event> {
    Ok(Event {
        id: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        target: r.get(4)?,
        ip: r.get(5)?,
        user_agent: r.get(6)?,
        detail: r.get(7)?,
    })
}

/// The newest events first, optionally only those of one action.
pub fn recent(conn: &Connection, action: Option<&str>, limit: i64) -> rusqlite::Result<Vec<Event>> {
    // Limits are written into the SQL; a bound LIMIT makes SQLite re-plan on every run.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, at, actor, action, target, ip, user_agent, detail FROM audit_event
         WHERE ?1 IS NULL OR action = ?1 ORDER BY id DESC LIMIT {limit}"
    ))?;
    let rows = stmt.query_map(params![action], event_row)?;
    rows.collect()
}

/// Which events [`search`] lists; every part left empty lets all events through.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Events by or about one of these usernames (as actor or target)…
    pub names: Vec<String>,
    /// …or whose actor or target contains this lowercase text. With neither, any user.
    pub text: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// At or after this unix second.
    pub from: Option<i64>,
    /// Before this unix second.
    pub until: Option<i64>,
}

impl Filter {
    /// Events by or about exactly `username`.
    pub fn user(username: &str) -> Self {
        Self {
            names: vec![username.to_owned()],
            ..Self::default()
        }
    }
}

/// Events newest first that pass `filter`, older than `before_id` when paging.
pub fn search(
    conn: &Connection,
    filter: &Filter,
    before_id: Option<i64>,
    limit: i64,
) -> rusqlite::Result<Vec<Event>> {
    let any_user = filter.names.is_empty() && filter.text.is_none();
    let names = serde_json::to_string(&filter.names).unwrap_or_else(|_| "[]".to_owned());
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, at, actor, action, target, ip, user_agent, detail FROM audit_event
         WHERE (?1 OR actor IN (SELECT value FROM json_each(?2)) OR target IN (SELECT value FROM json_each(?2))
                OR instr(lower(actor), ?3) > 0 OR instr(lower(target), ?3) > 0)
           AND (?4 IS NULL OR action = ?4) AND (?5 IS NULL OR at >= ?5) AND (?6 IS NULL OR at < ?6)
           AND (?7 IS NULL OR id < ?7)
         ORDER BY id DESC LIMIT {limit}"
    ))?;
    let rows = stmt.query_map(
        params![
            any_user,
            names,
            filter.text,
            filter.action,
            filter.from,
            filter.until,
            before_id
        ],
        event_row,
    )?;
    rows.collect()
}

/// The distinct actions recorded so far.
pub fn actions(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT DISTINCT action FROM audit_event ORDER BY action")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    rows.collect()
}
