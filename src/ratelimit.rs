//! In-process sliding-window rate limits (SECURITY.md 17, 24). Limits live in the
//! application so they hold without a reverse proxy.

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

    /// Checks and, if allowed, records in one step: for limits on attempts rather than failures.
    pub fn hit(
        &self,
        key: &str,
        limit: usize,
        window: Duration,
        now: OffsetDateTime,
    ) -> Result<(), u64> {
        self.check(key, limit, window, now)?;
        self.record(key, window, now);
        Ok(())
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
}
