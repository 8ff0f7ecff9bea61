//! The injectable random source used for backoff jitter.

use std::fmt;
use std::sync::Arc;

/// A source of uniformly distributed numbers in `[0, 1)` for backoff jitter.
pub trait RandomSource: Send + Sync + fmt::Debug {
    /// A number in `[0, 1)`.
    fn next_unit(&self) -> f64;
}

/// The thread-local generator of the `rand` crate.
#[derive(Clone, Copy, Debug, Default)]
pub struct ThreadRandom;

impl RandomSource for ThreadRandom {
    fn next_unit(&self) -> f64 {
        rand::random::<f64>()
    }
}

/// Always returns the same number (clamped to `[0, 1]`): deterministic jitter for tests.
#[derive(Clone, Copy, Debug)]
pub struct FixedRandom(f64);

impl FixedRandom {
    /// A source that always returns `value`, clamped to `[0, 1]`.
    pub fn new(value: f64) -> Self {
        Self(if value.is_nan() {
            0.0
        } else {
            value.clamp(0.0, 1.0)
        })
    }
}

impl RandomSource for FixedRandom {
    fn next_unit(&self) -> f64 {
        self.0
    }
}

/// A cheap-to-clone, shared [`RandomSource`].
#[derive(Clone, Debug)]
pub struct SharedRandom(Arc<dyn RandomSource>);

impl SharedRandom {
    /// Wraps a random source.
    pub fn new(source: impl RandomSource + 'static) -> Self {
        Self(Arc::new(source))
    }
}

impl Default for SharedRandom {
    fn default() -> Self {
        Self::new(ThreadRandom)
    }
}

impl RandomSource for SharedRandom {
    fn next_unit(&self) -> f64 {
        self.0.next_unit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_random_is_in_unit_interval() {
        for _ in 0..1000 {
            let x = ThreadRandom.next_unit();
            assert!((0.0..1.0).contains(&x));
        }
    }

    #[test]
    fn fixed_random_clamps() {
        assert_eq!(FixedRandom::new(2.0).next_unit(), 1.0);
        assert_eq!(FixedRandom::new(-1.0).next_unit(), 0.0);
        assert_eq!(FixedRandom::new(f64::NAN).next_unit(), 0.0);
    }
}
