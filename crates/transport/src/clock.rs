//! The injectable clock: monotonic time, wall time and sleeping.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

/// The future returned by [`Clock::sleep`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Time as the transport sees it: for timeouts, backoff delays and `Retry-After` dates.
///
/// The default, [`TokioClock`], follows tokio's clock, so tests under
/// `#[tokio::test(start_paused = true)]` run retries with exact delays and no wall time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current monotonic instant.
    fn now(&self) -> Instant;
    /// The current wall-clock time (used to read `Retry-After` HTTP dates).
    fn system_now(&self) -> SystemTime;
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// The clock of the tokio runtime (pausable in tests) and the system wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn system_now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A cheap-to-clone, shared [`Clock`].
#[derive(Clone, Debug)]
pub struct SharedClock(Arc<dyn Clock>);

impl SharedClock {
    /// Wraps a clock.
    pub fn new(clock: impl Clock + 'static) -> Self {
        Self(Arc::new(clock))
    }
}

impl Default for SharedClock {
    fn default() -> Self {
        Self::new(TokioClock)
    }
}

impl Clock for SharedClock {
    fn now(&self) -> Instant {
        self.0.now()
    }

    fn system_now(&self) -> SystemTime {
        self.0.system_now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        self.0.sleep(duration)
    }
}

/// The time limit of a future ran out.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("deadline elapsed")]
pub(crate) struct Elapsed;

/// Runs `future` under `limit` (no limit when `None`), timed by `clock`.
pub(crate) async fn timeout<F: Future>(
    clock: &SharedClock,
    limit: Option<Duration>,
    future: F,
) -> Result<F::Output, Elapsed> {
    match limit {
        None => Ok(future.await),
        Some(limit) => {
            let sleep = clock.sleep(limit);
            tokio::select! {
                biased;
                output = future => Ok(output),
                () = sleep => Err(Elapsed),
            }
        }
    }
}
