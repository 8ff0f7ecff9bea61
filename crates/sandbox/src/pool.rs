//! A warm pool: N ready sandboxes of one image and limits, so creating one is a pop.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::error::Result;
use crate::image::Image;
use crate::limits::Limits;
use crate::runtime::Engine;
use crate::sandbox::Sandbox;

/// Keeps `size` ready sandboxes and refills in the background. Dropping the pool destroys
/// the idle ones.
#[derive(Debug)]
pub struct Pool {
    shared: Arc<PoolShared>,
    refill: tokio::task::JoinHandle<()>,
}

#[derive(Debug)]
struct PoolShared {
    engine: Engine,
    image: Image,
    limits: Limits,
    size: usize,
    idle: Mutex<VecDeque<Sandbox>>,
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

impl Pool {
    /// Starts a pool (needs a tokio runtime). The lifetime in `limits` starts at acquire.
    pub fn new(engine: Engine, image: Image, limits: Limits, size: usize) -> Pool {
        let shared = Arc::new(PoolShared {
            engine,
            image,
            limits,
            size,
            idle: Mutex::new(VecDeque::new()),
            wake: Notify::new(),
            filled: Notify::new(),
        });
        let s = shared.clone();
        let refill = tokio::spawn(async move { s.refill_loop().await });
        Pool { shared, refill }
    }

    /// A ready sandbox: from the pool when one is idle, else created now.
    pub async fn acquire(&self) -> Result<Sandbox> {
        let s = &self.shared;
        let popped = loop {
            let next = s.idle.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
            match next {
                Some(sb) if sb.is_alive() => break Some(sb),
                Some(_) => continue,
                None => break None,
            }
        };
        s.wake.notify_one();
        let sb = match popped {
            Some(sb) => sb,
            None => {
                let mut limits = s.limits.clone();
                limits.lifetime = None;
                s.engine.create(&s.image, &limits).await?
            }
        };
        if let Some(l) = s.limits.lifetime {
            sb.set_lifetime(l);
        }
        Ok(sb)
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
            idle: self
                .shared
                .idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .len(),
            size: self.shared.size,
        }
    }
}

impl PoolShared {
    async fn refill_loop(&self) {
        let mut limits = self.limits.clone();
        limits.lifetime = None;
        loop {
            let wake = self.wake.notified();
            while self.idle.lock().unwrap_or_else(|p| p.into_inner()).len() < self.size {
                match self.engine.create(&self.image, &limits).await {
                    Ok(sb) => self
                        .idle
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push_back(sb),
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

impl Drop for Pool {
    fn drop(&mut self) {
        self.refill.abort();
        self.shared
            .idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}
