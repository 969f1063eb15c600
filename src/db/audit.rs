//! The `audit_event` table. Never holds a secret.

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

/// Records an event.
pub fn insert(conn: &Connection, e: &NewEvent<'_>) -> rusqlite::Result<()> {
    let ua: Option<String> = e.user_agent.map(|u| u.chars().take(256).collect());
    conn.prepare_cached(
        "INSERT INTO audit_event (at, actor, action, target, ip, user_agent, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        e.at, e.actor, e.action, e.target, e.ip, ua, e.detail
    ])?;
    Ok(())
}

/// The newest events first, optionally only those of one action.
pub fn recent(conn: &Connection, action: Option<&str>, limit: i64) -> rusqlite::Result<Vec<Event>> {
    // Limits are written into the SQL; a bound LIMIT makes SQLite re-plan on every run.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, at, actor, action, target, ip, user_agent, detail FROM audit_event
         WHERE ?1 IS NULL OR action = ?1 ORDER BY id DESC LIMIT {limit}"
    ))?;
    let rows = stmt.query_map(params![action], |r| {
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
    })?;
    rows.collect()
}

/// Events newest first, filtered by a user (as actor or target) and an action, older than
/// `before_id` when paging.
pub fn search(
    conn: &Connection,
    user: Option<&str>,
    action: Option<&str>,
    before_id: Option<i64>,
    limit: i64,
) -> rusqlite::Result<Vec<Event>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, at, actor, action, target, ip, user_agent, detail FROM audit_event
         WHERE (?1 IS NULL OR actor = ?1 OR target = ?1) AND (?2 IS NULL OR action = ?2) AND (?3 IS NULL OR id < ?3)
         ORDER BY id DESC LIMIT {limit}"
    ))?;
    let rows = stmt.query_map(params![user, action, before_id], |r| {
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
    })?;
    rows.collect()
}

/// The distinct actions recorded so far.
pub fn actions(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT DISTINCT action FROM audit_event ORDER BY action")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    rows.collect()
}
