//! Flood control: a token bucket per client (RFC 1459 §8.10 in spirit).
//! Lines over the budget are delayed, not dropped: the reader simply stops
//! reading for a while, and TCP pushes back on the flooder alone.

use std::time::{Duration, Instant};

/// Lines a client may send at once before being slowed down.
pub(super) const BURST: f64 = 10.0;
/// Lines per second a client may keep sending.
pub(super) const PER_SECOND: f64 = 2.0;

#[derive(Debug, Clone)]
pub(super) struct TokenBucket {
    tokens: f64,
    refilled_at: Instant,
}

impl TokenBucket {
    pub fn new(now: Instant) -> Self {
        TokenBucket {
            tokens: BURST,
            refilled_at: now,
        }
    }

    /// Spends one line; returns how long to wait before handling it.
    pub fn delay(&mut self, now: Instant) -> Duration {
        let elapsed = now
            .saturating_duration_since(self.refilled_at)
            .as_secs_f64();
        self.tokens = (self.tokens + elapsed * PER_SECOND).min(BURST) - 1.0;
        self.refilled_at = now;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / PER_SECOND)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_steady_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(start);
        for _ in 0..10 {
            assert_eq!(bucket.delay(start), Duration::ZERO);
        }
        assert_eq!(bucket.delay(start), Duration::from_millis(500));
        // Having waited its turn, the next line costs another half second.
        let later = start + Duration::from_millis(500);
        assert_eq!(bucket.delay(later), Duration::from_millis(500));
    }

    #[test]
    fn silence_refills_up_to_the_burst() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(start);
        for _ in 0..10 {
            bucket.delay(start);
        }
        let much_later = start + Duration::from_secs(3600);
        for _ in 0..10 {
            assert_eq!(bucket.delay(much_later), Duration::ZERO);
        }
        assert!(bucket.delay(much_later) > Duration::ZERO);
    }
}
