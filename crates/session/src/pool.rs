//! `SessionPool`: warm sessions handed out and taken back, never more than `max_size`.

use std::collections::VecDeque;
use std::fmt;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::client::Agb;
use crate::error::{Error, RequestSent, Result};
use crate::params::CreateParams;
use crate::session::Session;

/// Sizes and timings of a [`SessionPool`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolConfig {
    /// Idle sessions kept ready by background prewarming (default 0).
    pub min_idle: usize,
    /// Most sessions alive at once, idle or in use (default 4).
    pub max_size: usize,
    /// How long [`SessionPool::acquire`] waits for a session (default 30 s).
    pub acquire_timeout: Duration,
    /// An idle session older than this is deleted instead of handed out (default 5 min).
    pub idle_timeout: Duration,
    /// Check that an idle session is still running before handing it out (default true).
    pub health_check: bool,
    /// How often the background task prewarms and expires sessions (default 1 s).
    pub maintenance_interval: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            min_idle: 0,
            max_size: 4,
            acquire_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(300),
            health_check: true,
            maintenance_interval: Duration::from_secs(1),
        }
    }
}

impl PoolConfig {
    /// Sets [`PoolConfig::min_idle`].
    #[must_use]
    pub fn min_idle(mut self, min_idle: usize) -> Self {
        self.min_idle = min_idle;
        self
    }

    /// Sets [`PoolConfig::max_size`] (at least 1).
    #[must_use]
    pub fn max_size(mut self, max_size: usize) -> Self {
        self.max_size = max_size.max(1);
        self
    }

    /// Sets [`PoolConfig::acquire_timeout`].
    #[must_use]
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// Sets [`PoolConfig::idle_timeout`].
    #[must_use]
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets [`PoolConfig::health_check`].
    #[must_use]
    pub fn health_check(mut self, enabled: bool) -> Self {
        self.health_check = enabled;
        self
    }
}

/// Counters of a [`SessionPool`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PoolMetrics {
    /// Acquires served by an idle session.
    pub hits: u64,
    /// Acquires that had to create a session.
    pub misses: u64,
    /// Acquires that had to wait for a session to come back.
    pub waits: u64,
    /// Sessions created (by acquires and prewarming).
    pub created: u64,
    /// Sessions deleted (expired, unhealthy, discarded, drained).
    pub destroyed: u64,
    /// Sessions alive now (idle, in use or being created).
    pub size: usize,
    /// Idle sessions now.
    pub idle: usize,
    /// The most sessions ever alive at once.
    pub peak_size: usize,
}

/// A pool of sessions of one kind ([`CreateParams`]).
///
/// [`acquire`](Self::acquire) hands out an idle session (checked first when
/// [`PoolConfig::health_check`] is on; a dead one is replaced, never handed out) or creates one
/// while fewer than `max_size` exist, else waits up to `acquire_timeout`. The
/// [`PooledSession`] goes back to the pool when dropped. A background task keeps `min_idle`
/// sessions warm and deletes expired ones. [`drain`](Self::drain) deletes everything;
/// dropping the last clone of the pool drains it in the background.
///
/// ```no_run
/// # async fn demo(agb: agbcloud_session::Agb) -> agbcloud_session::Result<()> {
/// use agbcloud_session::{CreateParams, Language, PoolConfig, SessionPool};
///
/// let pool = SessionPool::new(agb, CreateParams::default(), PoolConfig::default().max_size(2));
/// let session = pool.acquire().await?;
/// session.code().run("print(1)", Language::Python).await?;
/// drop(session); // back to the pool
/// pool.drain().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SessionPool {
    handle: Arc<Handle>,
}

/// Dropped with the last `SessionPool` clone: drains the pool.
struct Handle {
    inner: Arc<Inner>,
}

struct Inner {
    agb: Agb,
    params: CreateParams,
    config: PoolConfig,
    state: Mutex<State>,
    changed: Notify,
    hits: AtomicU64,
    misses: AtomicU64,
    waits: AtomicU64,
    created: AtomicU64,
    destroyed: AtomicU64,
}

#[derive(Default)]
struct State {
    idle: VecDeque<Idle>,
    /// Sessions alive or being created.
    total: usize,
    /// Background deletions still running.
    deleting: usize,
    peak: usize,
    draining: bool,
}

struct Idle {
    session: Session,
    since: Instant,
}

impl fmt::Debug for SessionPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionPool")
            .field("config", &self.handle.inner.config)
            .field("metrics", &self.metrics())
            .finish_non_exhaustive()
    }
}

enum Step {
    Reuse(Session),
    Create,
    Wait,
    Closed,
}

impl SessionPool {
    /// A pool creating sessions with `params`. Prewarming starts at once when
    /// `config.min_idle > 0` (inside a tokio runtime).
    pub fn new(agb: Agb, params: CreateParams, config: PoolConfig) -> Self {
        let config = config.max_size(config.max_size);
        let inner = Arc::new(Inner {
            agb,
            params,
            config,
            state: Mutex::new(State::default()),
            changed: Notify::new(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            waits: AtomicU64::new(0),
            created: AtomicU64::new(0),
            destroyed: AtomicU64::new(0),
        });
        let handle = Arc::new(Handle { inner });
        if config.min_idle > 0
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(maintain(Arc::downgrade(&handle)));
        }
        Self { handle }
    }

    fn inner(&self) -> &Arc<Inner> {
        &self.handle.inner
    }

    /// A session from the pool, waiting up to [`PoolConfig::acquire_timeout`].
    pub async fn acquire(&self) -> Result<PooledSession> {
        let inner = self.inner();
        let deadline = Instant::now() + inner.config.acquire_timeout;
        let mut counted_wait = false;
        loop {
            let notified = inner.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let (step, expired) = {
                let mut state = inner.state();
                let expired = inner.take_expired(&mut state);
                let step = if state.draining {
                    Step::Closed
                } else if let Some(idle) = state.idle.pop_back() {
                    Step::Reuse(idle.session)
                } else if state.total < inner.config.max_size {
                    state.total += 1;
                    state.peak = state.peak.max(state.total);
                    Step::Create
                } else {
                    Step::Wait
                };
                (step, expired)
            };
            for session in expired {
                inner.destroy_counted(session);
            }
            match step {
                Step::Reuse(session) => {
                    if inner.config.health_check && !healthy(&session).await {
                        tracing::debug!(session_id = %session.id(), "pooled session is dead; replacing it");
                        inner.forget(session);
                        continue;
                    }
                    inner.hits.fetch_add(1, Ordering::Relaxed);
                    return Ok(PooledSession::new(inner.clone(), session));
                }
                Step::Create => {
                    return match inner.agb.create(inner.params.clone()).await {
                        Ok(session) => {
                            inner.misses.fetch_add(1, Ordering::Relaxed);
                            inner.created.fetch_add(1, Ordering::Relaxed);
                            Ok(PooledSession::new(inner.clone(), session))
                        }
                        Err(error) => {
                            inner.state().total -= 1;
                            inner.changed.notify_waiters();
                            Err(error)
                        }
                    };
                }
                Step::Wait => {
                    if !counted_wait {
                        counted_wait = true;
                        inner.waits.fetch_add(1, Ordering::Relaxed);
                    }
                    if tokio::time::timeout_at(deadline, notified).await.is_err() {
                        return Err(Error::Timeout {
                            message: format!(
                                "no pooled session within {:?} (max size {})",
                                inner.config.acquire_timeout, inner.config.max_size
                            ),
                            sent: RequestSent::No,
                        });
                    }
                }
                Step::Closed => return Err(Error::invalid("the session pool has been drained")),
            }
        }
    }

    /// Current counters.
    pub fn metrics(&self) -> PoolMetrics {
        let inner = self.inner();
        let state = inner.state();
        PoolMetrics {
            hits: inner.hits.load(Ordering::Relaxed),
            misses: inner.misses.load(Ordering::Relaxed),
            waits: inner.waits.load(Ordering::Relaxed),
            created: inner.created.load(Ordering::Relaxed),
            destroyed: inner.destroyed.load(Ordering::Relaxed),
            size: state.total,
            idle: state.idle.len(),
            peak_size: state.peak,
        }
    }

    /// Stops handing out sessions, deletes the idle ones, and waits until every session in
    /// use has come back and been deleted too.
    pub async fn drain(&self) {
        let inner = self.inner();
        let idle: Vec<Session> = {
            let mut state = inner.state();
            state.draining = true;
            state.idle.drain(..).map(|idle| idle.session).collect()
        };
        for session in idle {
            inner.destroy_counted(session);
        }
        inner.changed.notify_waiters();
        loop {
            let notified = inner.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let state = inner.state();
                if state.total == 0 && state.deleting == 0 {
                    return;
                }
            }
            notified.await;
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let idle: Vec<Session> = {
            let mut state = self.inner.state();
            state.draining = true;
            state.idle.drain(..).map(|idle| idle.session).collect()
        };
        for session in idle {
            self.inner.destroy_counted(session);
        }
    }
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Removes idle sessions past their idle timeout (they stay counted until destroyed).
    fn take_expired(&self, state: &mut State) -> Vec<Session> {
        let now = Instant::now();
        let timeout = self.config.idle_timeout;
        let (expired, fresh): (Vec<Idle>, Vec<Idle>) = state
            .idle
            .drain(..)
            .partition(|idle| now.duration_since(idle.since) >= timeout);
        state.idle = fresh.into();
        expired.into_iter().map(|idle| idle.session).collect()
    }

    /// Deletes a session that is counted in `total`, in the background.
    fn destroy_counted(self: &Arc<Self>, session: Session) {
        let runtime = tokio::runtime::Handle::try_current();
        {
            let mut state = self.state();
            state.total -= 1;
            if runtime.is_ok() {
                state.deleting += 1;
            }
        }
        match runtime {
            Ok(runtime) => {
                let inner = self.clone();
                runtime.spawn(async move {
                    if let Err(error) = session.delete().await
                        && !error.is_session_not_found()
                    {
                        tracing::warn!(session_id = %session.id(), %error, "pooled session deletion failed");
                    }
                    inner.destroyed.fetch_add(1, Ordering::Relaxed);
                    inner.state().deleting -= 1;
                    inner.changed.notify_waiters();
                });
            }
            Err(_) => {
                self.destroyed.fetch_add(1, Ordering::Relaxed);
                crate::guard::delete_in_background(session);
            }
        }
        self.changed.notify_waiters();
    }

    /// A dead session: delete it anyway (best effort) and free its slot.
    fn forget(self: &Arc<Self>, session: Session) {
        self.destroy_counted(session);
    }

    /// Takes a session back from a user.
    fn give_back(self: &Arc<Self>, session: Session, discard: bool) {
        let keep = {
            let mut state = self.state();
            let keep = !discard && !state.draining;
            if keep {
                state.idle.push_back(Idle {
                    session: session.clone(),
                    since: Instant::now(),
                });
            }
            keep
        };
        if !keep {
            self.destroy_counted(session);
        }
        self.changed.notify_waiters();
    }
}

async fn healthy(session: &Session) -> bool {
    matches!(session.status().await, Ok(status) if status != "FINISH" && status != "DELETED")
}

/// Background prewarming and expiry, until the pool is dropped or drained.
async fn maintain(handle: Weak<Handle>) {
    loop {
        let Some(strong) = handle.upgrade() else {
            return;
        };
        let inner = strong.inner.clone();
        drop(strong);
        let (expired, to_create) = {
            let mut state = inner.state();
            if state.draining {
                return;
            }
            let expired = inner.take_expired(&mut state);
            let room = inner
                .config
                .max_size
                .saturating_sub(state.total - expired.len());
            let want = inner.config.min_idle.saturating_sub(state.idle.len());
            let to_create = want.min(room);
            state.total += to_create;
            state.peak = state.peak.max(state.total);
            (expired, to_create)
        };
        for session in expired {
            inner.destroy_counted(session);
        }
        for _ in 0..to_create {
            match inner.agb.create(inner.params.clone()).await {
                Ok(session) => {
                    inner.created.fetch_add(1, Ordering::Relaxed);
                    inner.give_back(session, false);
                }
                Err(error) => {
                    tracing::warn!(%error, "pool prewarming failed");
                    inner.state().total -= 1;
                    inner.changed.notify_waiters();
                }
            }
        }
        tokio::time::sleep(inner.config.maintenance_interval).await;
    }
}

/// A session on loan from a [`SessionPool`]; it goes back when dropped.
pub struct PooledSession {
    inner: Arc<Inner>,
    session: Option<Session>,
    discard: bool,
}

impl fmt::Debug for PooledSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PooledSession").field(&self.session).finish()
    }
}

impl PooledSession {
    fn new(inner: Arc<Inner>, session: Session) -> Self {
        Self {
            inner,
            session: Some(session),
            discard: false,
        }
    }

    /// Deletes this session instead of returning it (for example after its kernel state was
    /// changed in a way the next user must not see).
    pub fn discard(mut self) {
        self.discard = true;
    }
}

impl Deref for PooledSession {
    type Target = Session;

    fn deref(&self) -> &Session {
        match &self.session {
            Some(session) => session,
            None => unreachable!("a PooledSession holds its session until dropped"),
        }
    }
}

impl Drop for PooledSession {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            self.inner.give_back(session, self.discard);
        }
    }
}
