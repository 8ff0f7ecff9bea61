//! Exponential backoff with full jitter.

use std::time::Duration;

use crate::random::RandomSource;

/// Exponential backoff with full jitter: the delay before retry `n` (1-based) is drawn
/// uniformly from `[0, min(max, initial × 2^(n-1))]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
}

impl Backoff {
    /// Backoff starting at `initial` and never above `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max: max.max(initial),
        }
    }

    /// The first ceiling.
    pub fn initial(&self) -> Duration {
        self.initial
    }

    /// The largest ceiling.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// The upper bound of the delay before retry `retry` (1-based).
    pub fn ceiling(&self, retry: u32) -> Duration {
        let shift = retry.saturating_sub(1).min(31);
        self.initial
            .checked_mul(1u32 << shift)
            .map_or(self.max, |ceiling| ceiling.min(self.max))
    }

    /// The jittered delay before retry `retry` (1-based).
    pub fn delay(&self, retry: u32, random: &dyn RandomSource) -> Duration {
        let unit = random.next_unit().clamp(0.0, 1.0);
        self.ceiling(retry).mul_f64(unit)
    }
}

impl Default for Backoff {
    /// 100 ms doubling up to 5 s.
    fn default() -> Self {
        Self::new(Duration::from_millis(100), Duration::from_secs(5))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::{FixedRandom, ThreadRandom};

    #[test]
    fn ceiling_doubles_then_caps() {
        let backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(700));
        let ceilings: Vec<_> = (1..=5).map(|n| backoff.ceiling(n).as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 700, 700]);
        assert_eq!(backoff.ceiling(u32::MAX), Duration::from_millis(700));
    }

    #[test]
    fn delay_is_full_jitter() {
        let backoff = Backoff::default();
        assert_eq!(
            backoff.delay(3, &FixedRandom::new(0.5)),
            Duration::from_millis(200)
        );
        assert_eq!(backoff.delay(3, &FixedRandom::new(0.0)), Duration::ZERO);
        for retry in 1..10 {
            assert!(backoff.delay(retry, &ThreadRandom) <= backoff.ceiling(retry));
        }
    }
}
