//! In-process sliding-window rate limits on logins and token endpoints. Limits live in the
//! application so they hold without a reverse proxy. An attempt that costs real work (a
//! password hash) is counted before the work starts ([`RateLimiter::reserve`]): checking first
//! and recording after the work lets a burst of parallel requests all pass the check.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use time::{Duration, OffsetDateTime};

/// Keys tracked at most; beyond this the oldest idle keys are dropped.
const MAX_KEYS: usize = 100_000;

/// Counts events per key within a window.
#[derive(Debug, Default)]
pub struct RateLimiter {
    hits: Mutex<HashMap<String, VecDeque<OffsetDateTime>>>,
}

impl RateLimiter {
    /// `Err(seconds)` until the next event for `key` is allowed, if `limit` events
    /// already happened within `window` before `now`.
    pub fn check(
        &self,
        key: &str,
        limit: usize,
        window: Duration,
        now: OffsetDateTime,
    ) -> Result<(), u64> {
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        let Some(q) = hits.get_mut(key) else {
            return Ok(());
        };
        while q.front().is_some_and(|t| *t + window <= now) {
            q.pop_front();
        }
        if q.len() < limit {
            return Ok(());
        }
        let oldest = q.front().copied().unwrap_or(now);
        let wait = (oldest + window - now).whole_seconds().max(1);
        Err(u64::try_from(wait).unwrap_or(1))
    }

    /// Records one event for `key`.
    pub fn record(&self, key: &str, window: Duration, now: OffsetDateTime) {
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        Self::push(&mut hits, key, window, now);
    }

    fn push(
        hits: &mut HashMap<String, VecDeque<OffsetDateTime>>,
        key: &str,
        window: Duration,
        now: OffsetDateTime,
    ) {
        if hits.len() >= MAX_KEYS && !hits.contains_key(key) {
            hits.retain(|_, q| q.back().is_some_and(|t| *t + window > now));
        }
        let q = hits.entry(key.to_owned()).or_default();
        q.push_back(now);
        // A key never needs more entries than the largest limit in use.
        if q.len() > 64 {
            q.pop_front();
        }
    }

    /// Checks and, if allowed, records in one step, under one lock: for limits on attempts
    /// rather than failures. Concurrent callers cannot all pass the check before any of them
    /// records, so at most `limit` of them get `Ok` however many arrive at once.
    pub fn hit(
        &self,
        key: &str,
        limit: usize,
        window: Duration,
        now: OffsetDateTime,
    ) -> Result<(), u64> {
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(q) = hits.get_mut(key) {
            while q.front().is_some_and(|t| *t + window <= now) {
                q.pop_front();
            }
            if q.len() >= limit {
                let oldest = q.front().copied().unwrap_or(now);
                let wait = (oldest + window - now).whole_seconds().max(1);
                return Err(u64::try_from(wait).unwrap_or(1));
            }
        }
        Self::push(&mut hits, key, window, now);
        Ok(())
    }

    /// Reserves one attempt on every `(key, limit, window)` at once, or on none: the slow
    /// work an attempt costs (a password hash) may start only after this returned `Ok`.
    /// Give the reservation back with [`RateLimiter::refund`] when the attempt succeeded
    /// and only failures should count.
    pub fn reserve(
        &self,
        limits: &[(&str, usize, Duration)],
        now: OffsetDateTime,
    ) -> Result<(), u64> {
        for (i, (key, limit, window)) in limits.iter().enumerate() {
            if let Err(wait) = self.hit(key, *limit, *window, now) {
                for (taken, _, _) in &limits[..i] {
                    self.refund(taken, now);
                }
                return Err(wait);
            }
        }
        Ok(())
    }

    /// Takes back one event recorded for `key` at `at` (by [`RateLimiter::hit`] or
    /// [`RateLimiter::reserve`]).
    pub fn refund(&self, key: &str, at: OffsetDateTime) {
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(q) = hits.get_mut(key) {
            if let Some(i) = q.iter().rposition(|t| *t == at) {
                q.remove(i);
            }
        }
    }

    /// How many events `key` had within `window` before `now`.
    pub fn count(&self, key: &str, window: Duration, now: OffsetDateTime) -> usize {
        let hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        hits.get(key)
            .map_or(0, |q| q.iter().filter(|t| **t + window > now).count())
    }

    /// Forgets a key.
    pub fn clear(&self, key: &str) {
        self.hits
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn window_slides() {
        let rl = RateLimiter::default();
        let t0 = datetime!(2026-01-01 0:00 UTC);
        let w = Duration::minutes(1);
        for i in 0..10 {
            assert!(rl.hit("ip", 10, w, t0 + Duration::seconds(i)).is_ok());
        }
        assert_eq!(rl.hit("ip", 10, w, t0 + Duration::seconds(10)), Err(50));
        assert!(rl.hit("other", 10, w, t0).is_ok());
        assert!(rl.hit("ip", 10, w, t0 + Duration::seconds(60)).is_ok());
    }

    #[test]
    fn parallel_hits_never_pass_the_limit() {
        let rl = std::sync::Arc::new(RateLimiter::default());
        let t0 = datetime!(2026-01-01 0:00 UTC);
        let passed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (rl, passed) = (rl.clone(), passed.clone());
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        if rl.hit("ip", 10, Duration::minutes(1), t0).is_ok() {
                            passed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(passed.load(std::sync::atomic::Ordering::SeqCst), 10);
    }

    #[test]
    fn a_reservation_takes_all_keys_or_none_and_can_be_refunded() {
        let rl = RateLimiter::default();
        let t0 = datetime!(2026-01-01 0:00 UTC);
        let w = Duration::minutes(1);
        for _ in 0..3 {
            assert!(rl.hit("b", 3, w, t0).is_ok());
        }
        assert!(rl.reserve(&[("a", 3, w), ("b", 3, w)], t0).is_err());
        assert_eq!(
            rl.count("a", w, t0),
            0,
            "a refused reservation leaves nothing"
        );
        assert!(rl.reserve(&[("a", 3, w), ("c", 3, w)], t0).is_ok());
        assert_eq!(rl.count("a", w, t0), 1);
        rl.refund("a", t0);
        assert_eq!(rl.count("a", w, t0), 0);
    }
}
