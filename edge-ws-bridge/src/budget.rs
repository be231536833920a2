//! A token bucket: frames per second of one socket, bytes per second one
//! room publishes, file-chunk bytes per second of a socket and of a room.

use tokio::time::{Duration, Instant};

/// Refills at `rate` per second up to `burst`; each use takes its cost.
pub(crate) struct TokenBucket {
    tokens: f64,
    rate: f64,
    burst: f64,
    at: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub(crate) fn new(rate: f64, burst: f64) -> Self {
        Self {
            tokens: burst,
            rate,
            burst,
            at: Instant::now(),
        }
    }

    /// The bucket's size.
    pub(crate) fn burst(&self) -> f64 {
        self.burst
    }

    /// Takes `cost` tokens, going into debt if there are not enough;
    /// `Err(debt)` when the bucket is in debt afterwards.
    pub(crate) fn take(&mut self, cost: f64) -> Result<(), f64> {
        self.refill();
        self.tokens -= cost;
        if self.tokens >= 0.0 {
            Ok(())
        } else {
            Err(-self.tokens)
        }
    }

    /// Takes `cost` tokens only if there are enough; false (nothing taken)
    /// otherwise.
    pub(crate) fn try_take(&mut self, cost: f64) -> bool {
        self.refill();
        if self.tokens >= cost {
            self.tokens -= cost;
            true
        } else {
            false
        }
    }

    /// Takes `cost` tokens, going into debt if there are not enough, and
    /// returns how long the bucket needs to be out of debt again (zero if
    /// it is not in debt): the caller waits that long before its next use.
    pub(crate) fn wait_after(&mut self, cost: f64) -> Duration {
        match self.take(cost) {
            Ok(()) => Duration::ZERO,
            Err(debt) => Duration::from_secs_f64(debt / self.rate),
        }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate).min(self.burst);
        self.at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_until_empty_then_owes() {
        // No refill: the counts alone decide.
        let mut bucket = TokenBucket::new(0.0, 5.0);
        for _ in 0..5 {
            assert!(bucket.try_take(1.0));
        }
        assert!(!bucket.try_take(1.0), "empty");
        assert_eq!(bucket.take(1.0), Err(1.0), "in debt");
        assert_eq!(bucket.take(2.0), Err(3.0), "deeper in debt");
    }

    #[test]
    fn debt_becomes_a_wait() {
        let mut bucket = TokenBucket::new(1000.0, 500.0);
        assert_eq!(bucket.wait_after(500.0), Duration::ZERO);
        let wait = bucket.wait_after(250.0);
        // 250 tokens owed at 1000 per second (less what refilled meanwhile).
        assert!(wait <= Duration::from_millis(250) && wait > Duration::ZERO);
    }

    #[test]
    fn refills_up_to_its_burst() {
        let mut bucket = TokenBucket::new(1e12, 5.0);
        assert!(bucket.try_take(5.0));
        std::thread::sleep(std::time::Duration::from_millis(1));
        assert!(bucket.try_take(5.0), "refilled");
        std::thread::sleep(std::time::Duration::from_millis(1));
        assert!(!bucket.try_take(5.5), "never above the burst");
    }
}
