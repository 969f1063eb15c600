//! Limits on the desktop client's `poll` endpoint.
//!
//! Many clients poll from one address (a company NAT) every few seconds, some of them stale:
//! their device was deleted, so they get 403 forever. Those must not lock out the valid
//! clients beside them, while guessing tokens from one address stays throttled. So:
//!
//! - Each address has a budget of [`ADDRESS_LIMIT`] *distinct never-issued* tokens per
//!   [`WINDOW`]. A slot is reserved before the database lookup, atomically, so concurrent
//!   requests cannot overrun it; a token that turns out valid, or one that worked once
//!   (a retired token of a stale client, or a disabled owner's), gives its slot back.
//!   The same unknown token presented again takes no second slot.
//! - Each presented token may fail [`TOKEN_LIMIT`] times per window; after that it gets 429
//!   without a lookup, which quiets a stale client without touching anyone else.
//! - A token that polled successfully within [`KNOWN_FOR`] skips the address budget, so
//!   someone guessing behind the same NAT cannot lock out clients that already work.
//!
//! A 32-character token from a 62-letter alphabet has about 190 bits: the budget is about
//! load and noise, not about making a guess likely.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use time::{Duration, OffsetDateTime};

/// Distinct never-issued tokens one address may present per window.
pub const ADDRESS_LIMIT: usize = 10;
/// Failures one token may have per window.
pub const TOKEN_LIMIT: usize = 10;
/// The sliding window of both limits.
pub const WINDOW: Duration = Duration::minutes(1);
/// How long a token that worked skips the address budget.
pub const KNOWN_FOR: Duration = Duration::hours(1);
/// Keys kept at most per map; past this, expired entries are dropped first.
const MAX_KEYS: usize = 100_000;

/// Whether a poll may go to the database, and what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// The token worked recently.
    Known,
    /// This unknown token already holds a slot of the address.
    AlreadyCounted,
    /// A slot of the address was reserved for this token.
    Reserved,
}

/// How a lookup ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A current token of an enabled user.
    Valid,
    /// Issued once, refused now (retired token, disabled owner): a stale client.
    Stale,
    /// Never issued: a guess or garbage.
    Unknown,
}

#[derive(Debug, Default)]
struct Inner {
    /// Per address: the unknown token hashes holding a slot, with when they last failed.
    addresses: HashMap<String, HashMap<String, OffsetDateTime>>,
    /// Per token hash: recent failures.
    failures: HashMap<String, VecDeque<OffsetDateTime>>,
    /// Token hashes that worked, with when.
    known: HashMap<String, OffsetDateTime>,
}

/// The poll limits; one per server.
#[derive(Debug, Default)]
pub struct PollLimits {
    inner: Mutex<Inner>,
}

fn wait_until(end: OffsetDateTime, now: OffsetDateTime) -> u64 {
    u64::try_from((end - now).whole_seconds().max(1)).unwrap_or(1)
}

impl PollLimits {
    /// Decides whether a poll from `address` with the token hashed as `token` may be looked
    /// up; `Err(seconds)` for `Retry-After` when not.
    pub fn admit(&self, address: &str, token: &str, now: OffsetDateTime) -> Result<Admission, u64> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(q) = inner.failures.get_mut(token) {
            while q.front().is_some_and(|t| *t + WINDOW <= now) {
                q.pop_front();
            }
            if q.len() >= TOKEN_LIMIT {
                let oldest = q.front().copied().unwrap_or(now);
                return Err(wait_until(oldest + WINDOW, now));
            }
        }
        if inner.known.get(token).is_some_and(|t| *t + KNOWN_FOR > now) {
            return Ok(Admission::Known);
        }
        if inner.addresses.len() >= MAX_KEYS && !inner.addresses.contains_key(address) {
            inner
                .addresses
                .retain(|_, slots| slots.values().any(|t| *t + WINDOW > now));
        }
        let slots = inner.addresses.entry(address.to_owned()).or_default();
        slots.retain(|_, t| *t + WINDOW > now);
        if slots.contains_key(token) {
            return Ok(Admission::AlreadyCounted);
        }
        if slots.len() >= ADDRESS_LIMIT {
            let oldest = slots.values().min().copied().unwrap_or(now);
            return Err(wait_until(oldest + WINDOW, now));
        }
        slots.insert(token.to_owned(), now);
        Ok(Admission::Reserved)
    }

    /// Gives back what [`Self::admit`] reserved when the lookup could not be made.
    pub fn release(&self, address: &str, token: &str, admission: Admission) {
        if admission != Admission::Reserved {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slots) = inner.addresses.get_mut(address) {
            slots.remove(token);
        }
    }

    /// Records how the lookup of an admitted poll ended.
    pub fn settle(&self, address: &str, token: &str, outcome: Outcome, now: OffsetDateTime) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if outcome != Outcome::Unknown {
            // Not a guess: give the slot back.
            if let Some(slots) = inner.addresses.get_mut(address) {
                slots.remove(token);
                if slots.is_empty() {
                    inner.addresses.remove(address);
                }
            }
        } else if let Some(slots) = inner.addresses.get_mut(address) {
            slots.insert(token.to_owned(), now);
        }
        if outcome == Outcome::Valid {
            inner.failures.remove(token);
            if inner.known.len() >= MAX_KEYS && !inner.known.contains_key(token) {
                inner.known.retain(|_, t| *t + KNOWN_FOR > now);
            }
            inner.known.insert(token.to_owned(), now);
            return;
        }
        inner.known.remove(token);
        if inner.failures.len() >= MAX_KEYS && !inner.failures.contains_key(token) {
            inner
                .failures
                .retain(|_, q| q.back().is_some_and(|t| *t + WINDOW > now));
        }
        let q = inner.failures.entry(token.to_owned()).or_default();
        q.push_back(now);
        if q.len() > TOKEN_LIMIT {
            q.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-12-01 9:00 UTC);

    fn poll(l: &PollLimits, addr: &str, token: &str, outcome: Outcome) -> Result<(), u64> {
        l.admit(addr, token, T0)?;
        l.settle(addr, token, outcome, T0);
        Ok(())
    }

    #[test]
    fn stale_clients_never_lock_out_valid_ones() {
        let l = PollLimits::default();
        for round in 0..30 {
            for stale in 0..50 {
                // Stale tokens fail forever; each is quieted on its own.
                let _ = poll(&l, "nat", &format!("stale{stale}"), Outcome::Stale);
            }
            assert_eq!(
                poll(&l, "nat", &format!("new{round}"), Outcome::Valid),
                Ok(())
            );
        }
    }

    #[test]
    fn a_stale_token_is_quieted_after_its_own_limit() {
        let l = PollLimits::default();
        for _ in 0..TOKEN_LIMIT {
            assert_eq!(poll(&l, "nat", "stale", Outcome::Stale), Ok(()));
        }
        assert_eq!(poll(&l, "nat", "stale", Outcome::Stale), Err(60));
        assert!(l.admit("nat", "stale", T0 + WINDOW).is_ok());
    }

    #[test]
    fn guesses_are_limited_per_address_but_known_tokens_pass() {
        let l = PollLimits::default();
        assert_eq!(poll(&l, "nat", "good", Outcome::Valid), Ok(()));
        for n in 0..ADDRESS_LIMIT {
            assert_eq!(
                poll(&l, "nat", &format!("guess{n}"), Outcome::Unknown),
                Ok(())
            );
        }
        // The same guess again takes no new slot; a new one is refused.
        assert_eq!(l.admit("nat", "guess0", T0), Ok(Admission::AlreadyCounted));
        assert_eq!(l.admit("nat", "guess-new", T0), Err(60));
        assert_eq!(l.admit("nat", "other-new-client", T0), Err(60));
        assert_eq!(l.admit("nat", "good", T0), Ok(Admission::Known));
        assert_eq!(
            l.admit("elsewhere", "guess-new", T0),
            Ok(Admission::Reserved)
        );
        assert_eq!(
            l.admit("nat", "guess-new", T0 + WINDOW),
            Ok(Admission::Reserved)
        );
    }

    #[test]
    fn reservations_hold_under_concurrency() {
        let l = std::sync::Arc::new(PollLimits::default());
        let admitted: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..200)
                .map(|n| {
                    let l = l.clone();
                    s.spawn(move || l.admit("nat", &format!("g{n}"), T0).is_ok())
                })
                .collect();
            handles
                .into_iter()
                .map(|h| usize::from(h.join().unwrap_or(false)))
                .sum()
        });
        assert_eq!(admitted, ADDRESS_LIMIT);
    }
}
