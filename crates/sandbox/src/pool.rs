//! A warm pool: N ready sandboxes of one image and limits, so creating one is a pop.
//!
//! A pool may also warm each sandbox up before it is pooled (for example start a Python
//! kernel in it) and hand the warm-up's result out with the sandbox.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::error::Result;
use crate::image::Image;
use crate::limits::Limits;
use crate::runtime::Engine;
use crate::sandbox::Sandbox;

type WarmFuture<T> = Pin<Box<dyn Future<Output = Result<T>> + Send>>;
type Warmup<T> = Arc<dyn Fn(Sandbox) -> WarmFuture<T> + Send + Sync>;

/// Keeps `size` ready sandboxes (each with the result `T` of its warm-up) and refills in
/// the background. Dropping the pool destroys the idle ones.
pub struct Pool<T: Send + 'static = ()> {
    shared: Arc<PoolShared<T>>,
    refill: tokio::task::JoinHandle<()>,
}

impl<T: Send + 'static> std::fmt::Debug for Pool<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

struct PoolShared<T> {
    engine: Engine,
    image: Image,
    limits: Limits,
    size: usize,
    warmup: Warmup<T>,
    idle: Mutex<VecDeque<(Sandbox, T)>>,
    wake: Notify,
    filled: Notify,
}

/// Counters of a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Ready sandboxes now.
    pub idle: usize,
    /// Target size.
    pub size: usize,
}

impl Pool<()> {
    /// Starts a pool of plain sandboxes (needs a tokio runtime). The lifetime in `limits`
    /// starts at acquire.
    pub fn new(engine: Engine, image: Image, limits: Limits, size: usize) -> Pool<()> {
        Pool::with_warmup(engine, image, limits, size, |_| async { Ok(()) })
    }

    /// A ready sandbox: from the pool when one is idle, else created now.
    pub async fn acquire(&self) -> Result<Sandbox> {
        Ok(self.acquire_warm().await?.0)
    }
}

impl<T: Send + 'static> Pool<T> {
    /// Starts a pool whose sandboxes are passed to `warmup` before they are pooled; its
    /// result comes out of [`Pool::acquire_warm`] with the sandbox. A failed warm-up drops
    /// the sandbox.
    pub fn with_warmup<F, Fut>(
        engine: Engine,
        image: Image,
        limits: Limits,
        size: usize,
        warmup: F,
    ) -> Pool<T>
    where
        F: Fn(Sandbox) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        let warmup: Warmup<T> = Arc::new(move |sb| Box::pin(warmup(sb)));
        let shared = Arc::new(PoolShared {
            engine,
            image,
            limits,
            size,
            warmup,
            idle: Mutex::new(VecDeque::new()),
            wake: Notify::new(),
            filled: Notify::new(),
        });
        let s = shared.clone();
        let refill = tokio::spawn(async move { s.refill_loop().await });
        Pool { shared, refill }
    }

    /// A ready, warmed-up sandbox: from the pool when one is idle, else created now.
    pub async fn acquire_warm(&self) -> Result<(Sandbox, T)> {
        let s = &self.shared;
        let popped = loop {
            let next = s.lock().pop_front();
            match next {
                Some((sb, t)) if sb.is_alive() => break Some((sb, t)),
                Some(_) => continue,
                None => break None,
            }
        };
        s.wake.notify_one();
        let (sb, t) = match popped {
            Some(x) => x,
            None => s.make().await?,
        };
        if let Some(l) = s.limits.lifetime {
            sb.set_lifetime(l);
        }
        Ok((sb, t))
    }

    /// Waits until the pool is full (for start-up and benchmarks).
    pub async fn wait_full(&self) {
        loop {
            let notified = self.shared.filled.notified();
            if self.stats().idle >= self.shared.size {
                return;
            }
            notified.await;
        }
    }

    /// How many sandboxes are ready.
    pub fn stats(&self) -> PoolStats {
        PoolStats {
            idle: self.shared.lock().len(),
            size: self.shared.size,
        }
    }
}

impl<T: Send + 'static> PoolShared<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(Sandbox, T)>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Creates (without a lifetime: it starts at acquire) and warms up one sandbox.
    async fn make(&self) -> Result<(Sandbox, T)> {
        let mut limits = self.limits.clone();
        limits.lifetime = None;
        let sb = self.engine.create(&self.image, &limits).await?;
        let t = (self.warmup)(sb.clone()).await?;
        Ok((sb, t))
    }

    async fn refill_loop(&self) {
        loop {
            let wake = self.wake.notified();
            while self.lock().len() < self.size {
                match self.make().await {
                    Ok(x) => self.lock().push_back(x),
                    Err(e) => {
                        tracing::warn!(error = %e, "warm pool refill failed");
                        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    }
                }
            }
            self.filled.notify_waiters();
            wake.await;
        }
    }
}

impl<T: Send + 'static> Drop for Pool<T> {
    fn drop(&mut self) {
        self.refill.abort();
        self.shared.lock().clear();
    }
}
