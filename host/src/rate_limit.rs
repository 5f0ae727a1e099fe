//! Requests per principal over HTTP: a token bucket each. A bucket holds up to `burst`
//! requests and refills at `per_second`; a request finding it empty is refused with how
//! long until the next one would pass (HTTP 429 with `Retry-After`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Buckets kept at most; beyond this, full ones (principals idle long enough to have
/// refilled) are dropped first, so a flood of distinct principals cannot grow memory.
const MAX_BUCKETS: usize = 10_000;

#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    pub fn new(per_second: u32, burst: u32) -> Self {
        RateLimiter {
            per_second: f64::from(per_second.max(1)),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `principal`'s bucket at `now`; when it is empty, how long
    /// until it holds one again.
    pub fn check(&self, principal: &str, now: Instant) -> Result<(), Duration> {
        let mut buckets = match self.buckets.lock() {
            Ok(buckets) => buckets,
            Err(poisoned) => poisoned.into_inner(),
        };
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(principal) {
            self.forget_full(&mut buckets, now);
        }
        let bucket = buckets.entry(principal.to_string()).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        self.refill(bucket, now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let missing = 1.0 - bucket.tokens;
            Err(Duration::from_secs_f64(missing / self.per_second))
        }
    }

    fn refill(&self, bucket: &mut Bucket, now: Instant) {
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.burst);
        bucket.updated = now;
    }

    /// Drops buckets that would be full by now: forgetting them changes nothing.
    fn forget_full(&self, buckets: &mut HashMap<String, Bucket>, now: Instant) {
        buckets.retain(|_, bucket| {
            let mut refilled = *bucket;
            self.refill(&mut refilled, now);
            refilled.tokens < self.burst
        });
        if buckets.len() >= MAX_BUCKETS {
            // Everybody is busy: start over rather than grow. The cost is one extra
            // burst for each principal, never a refusal that should not happen.
            buckets.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_requests_wait_for_the_refill() {
        let limiter = RateLimiter::new(2, 3);
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check("alice", start).is_ok());
        }
        let wait = limiter.check("alice", start).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        // Another principal has its own bucket.
        assert!(limiter.check("bob", start).is_ok());
        // Half a second later one request's worth has come back, and only one.
        let later = start + Duration::from_millis(500);
        assert!(limiter.check("alice", later).is_ok());
        assert!(limiter.check("alice", later).is_err());
        // Long idle: the bucket is full again, never fuller than the burst.
        let idle = later + Duration::from_secs(60);
        for _ in 0..3 {
            assert!(limiter.check("alice", idle).is_ok());
        }
        assert!(limiter.check("alice", idle).is_err());
    }

    #[test]
    fn many_principals_do_not_grow_the_table_without_bound() {
        let limiter = RateLimiter::new(1, 1);
        let now = Instant::now();
        for i in 0..(MAX_BUCKETS + 10) {
            let _ = limiter.check(&format!("p{i}"), now);
        }
        assert!(limiter.buckets.lock().unwrap().len() <= MAX_BUCKETS);
    }
}
