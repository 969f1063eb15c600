//! The `token_card` table: tokens just issued, sealed, waiting to be shown once.

use rusqlite::{params, Connection, OptionalExtension};

/// A card as stored.
#[derive(Debug, Clone)]
pub struct CardRow {
    /// The token shown on it.
    pub token_id: i64,
    /// The sealed secret.
    pub secret_enc: Vec<u8>,
    /// The email that carries the token, if one was queued.
    pub outbox_id: Option<i64>,
}

/// A card to store.
#[derive(Debug)]
pub struct NewCard<'a> {
    /// Random id, part of the card's URL.
    pub id: &'a str,
    /// The admin session that may see it.
    pub session_id: &'a str,
    /// Whose token.
    pub user_id: i64,
    /// The token.
    pub token_id: i64,
    /// The sealed secret.
    pub secret_enc: &'a [u8],
    /// The queued email, if any.
    pub outbox_id: Option<i64>,
    /// When it is dropped unseen.
    pub expires_at: i64,
}

/// Stores a card.
pub fn insert(conn: &Connection, c: &NewCard<'_>) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO token_card (id, session_id, user_id, token_id, secret_enc, outbox_id, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![c.id, c.session_id, c.user_id, c.token_id, c.secret_enc, c.outbox_id, c.expires_at],
    )?;
    Ok(())
}

/// Takes a live card of this session and user: returns it and deletes it.
pub fn take(
    conn: &Connection,
    id: &str,
    session_id: &str,
    user_id: i64,
    now: i64,
) -> rusqlite::Result<Option<CardRow>> {
    conn.query_row(
        "DELETE FROM token_card WHERE id = ?1 AND session_id = ?2 AND user_id = ?3 AND expires_at > ?4
         RETURNING token_id, secret_enc, outbox_id",
        params![id, session_id, user_id, now],
        |r| {
            Ok(CardRow {
                token_id: r.get(0)?,
                secret_enc: r.get(1)?,
                outbox_id: r.get(2)?,
            })
        },
    )
    .optional()
}

/// Drops the cards nobody looked at in time; returns how many.
pub fn delete_expired(conn: &Connection, now: i64) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM token_card WHERE expires_at <= ?1", [now])
}

/// Drops a user's cards (their tokens were revoked or replaced).
pub fn delete_for_user(conn: &Connection, user_id: i64) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM token_card WHERE user_id = ?1", [user_id])
}
