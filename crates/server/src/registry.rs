//! Live sessions: ownership (tenancy), tokens, labels, idle timers and list pagination.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use agbcloud_sandbox::Sandbox;
use agbcloud_sandbox::files::Snapshot;
use agbcloud_sandbox::kernel::KernelSet;
use agbcloud_wire::session::Labels;

use crate::auth::Tenant;
use crate::envelope::ApiError;
use crate::tools::metrics::Sample;

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A random lower-case hex string of `bytes` random bytes.
pub(crate) fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// One session: a sandbox, its kernels and the AGB-level state around it.
#[derive(Debug)]
pub struct Session {
    /// The AGB session id.
    pub id: String,
    /// The key that created it.
    pub owner: Tenant,
    /// Credential of the WebSocket and link routes.
    pub token: String,
    /// The image id the client asked for.
    pub image_id: String,
    /// The sandbox.
    pub sandbox: Sandbox,
    /// Language kernels, started lazily inside the sandbox.
    pub kernels: KernelSet,
    seq: u64,
    labels: Mutex<Labels>,
    idle_timeout: Duration,
    last_activity: Mutex<Instant>,
    busy: AtomicUsize,
    watchers: Mutex<HashMap<String, Snapshot>>,
    metrics_sample: Mutex<Option<Sample>>,
}

impl Session {
    /// A new session around a started sandbox.
    pub fn new(
        owner: Tenant,
        image_id: String,
        sandbox: Sandbox,
        kernels: KernelSet,
        labels: Labels,
        idle_timeout: Duration,
    ) -> Self {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        Self {
            id: format!("session-{}", random_hex(12)),
            owner,
            token: format!("tkn-{}", random_hex(16)),
            image_id,
            sandbox,
            kernels,
            seq: SEQ.fetch_add(1, Ordering::Relaxed),
            labels: Mutex::new(labels),
            idle_timeout,
            last_activity: Mutex::new(Instant::now()),
            busy: AtomicUsize::new(0),
            watchers: Mutex::new(HashMap::new()),
            metrics_sample: Mutex::new(None),
        }
    }

    /// The resource id derived from the session id.
    pub fn resource_id(&self) -> String {
        self.id.replacen("session-", "res-", 1)
    }

    /// The app instance id derived from the session id.
    pub fn app_instance_id(&self) -> String {
        self.id.replacen("session-", "ai-", 1)
    }

    /// The labels.
    pub fn labels(&self) -> Labels {
        lock(&self.labels).clone()
    }

    /// Replaces the labels.
    pub fn set_labels(&self, labels: Labels) {
        *lock(&self.labels) = labels;
    }

    /// Restarts the idle timer (tool calls and keep-alive; never status polls).
    pub fn touch(&self) {
        *lock(&self.last_activity) = Instant::now();
    }

    /// Marks the session busy until the guard drops; the timer restarts at both ends.
    pub fn activity(self: &Arc<Self>) -> Activity {
        self.touch();
        self.busy.fetch_add(1, Ordering::SeqCst);
        Activity(Arc::clone(self))
    }

    /// Whether the idle timeout has elapsed at `now` with no call in flight.
    pub fn is_idle_expired(&self, now: Instant) -> bool {
        self.busy.load(Ordering::SeqCst) == 0
            && now.saturating_duration_since(*lock(&self.last_activity)) >= self.idle_timeout
    }

    /// The previous snapshot of a watched directory, replaced by `next`.
    pub fn swap_watch(&self, dir: &str, next: Snapshot) -> Option<Snapshot> {
        lock(&self.watchers).insert(dir.to_owned(), next)
    }

    /// The previous metrics sample, replaced by `next`.
    pub fn swap_metrics_sample(&self, next: Sample) -> Option<Sample> {
        lock(&self.metrics_sample).replace(next)
    }

    /// Kills the kernels and destroys the sandbox, waiting for the clean-up.
    pub async fn destroy(&self) {
        self.kernels.shutdown();
        if let Err(err) = self.sandbox.destroy().await {
            tracing::warn!(session = %self.id, error = %err, "sandbox clean-up failed");
        }
    }
}

/// A call in flight on a session (see [`Session::activity`]).
#[derive(Debug)]
pub struct Activity(Arc<Session>);

impl Drop for Activity {
    fn drop(&mut self) {
        self.0.touch();
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A page of [`Registry::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Session ids of the page.
    pub ids: Vec<String>,
    /// Token of the next page, if any.
    pub next_token: Option<String>,
    /// Total number of matches.
    pub count: u64,
}

#[derive(Debug, Default)]
struct Inner {
    by_id: HashMap<String, Arc<Session>>,
    by_token: HashMap<String, String>,
}

/// Every live session of the server.
#[derive(Debug, Default)]
pub struct Registry {
    inner: Mutex<Inner>,
}

impl Registry {
    /// Adds a session.
    pub fn insert(&self, session: Arc<Session>) {
        let mut inner = lock(&self.inner);
        inner
            .by_token
            .insert(session.token.clone(), session.id.clone());
        inner.by_id.insert(session.id.clone(), session);
    }

    /// The session `id` of `owner`; another owner's session is "not found".
    pub fn get(&self, owner: &Tenant, id: &str) -> Result<Arc<Session>, ApiError> {
        lock(&self.inner)
            .by_id
            .get(id)
            .filter(|session| &session.owner == owner)
            .cloned()
            .ok_or_else(ApiError::session_not_found)
    }

    /// The session holding `token`.
    pub fn by_token(&self, token: &str) -> Option<Arc<Session>> {
        let inner = lock(&self.inner);
        let id = inner.by_token.get(token)?;
        inner.by_id.get(id).cloned()
    }

    /// Removes the session `id` of `owner`.
    pub fn remove(&self, owner: &Tenant, id: &str) -> Result<Arc<Session>, ApiError> {
        let mut inner = lock(&self.inner);
        match inner.by_id.get(id) {
            Some(session) if &session.owner == owner => {}
            _ => return Err(ApiError::session_not_found()),
        }
        let session = inner
            .by_id
            .remove(id)
            .ok_or_else(ApiError::session_not_found)?;
        inner.by_token.remove(&session.token);
        Ok(session)
    }

    /// Removes and returns the sessions whose idle timeout elapsed at `now`.
    pub fn take_expired(&self, now: Instant) -> Vec<Arc<Session>> {
        let mut inner = lock(&self.inner);
        let expired: Vec<String> = inner
            .by_id
            .values()
            .filter(|session| session.is_idle_expired(now) || !session.sandbox.is_alive())
            .map(|session| session.id.clone())
            .collect();
        let mut out = Vec::with_capacity(expired.len());
        for id in expired {
            if let Some(session) = inner.by_id.remove(&id) {
                inner.by_token.remove(&session.token);
                out.push(session);
            }
        }
        out
    }

    /// Removes and returns every session.
    pub fn drain(&self) -> Vec<Arc<Session>> {
        let mut inner = lock(&self.inner);
        inner.by_token.clear();
        inner.by_id.drain().map(|(_, session)| session).collect()
    }

    /// Number of live sessions.
    pub fn len(&self) -> usize {
        lock(&self.inner).by_id.len()
    }

    /// True when there is no session.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A page of `owner`'s sessions carrying every label of `filter`, oldest first.
    /// `next_token` is the offset of the page (as returned in [`Page::next_token`]).
    pub fn list(
        &self,
        owner: &Tenant,
        filter: &Labels,
        max_results: usize,
        next_token: Option<&str>,
    ) -> Result<Page, ApiError> {
        let offset = match next_token.filter(|token| !token.is_empty()) {
            None => 0,
            Some(token) => token
                .parse::<usize>()
                .map_err(|_| ApiError::invalid(format!("invalid nextToken {token:?}")))?,
        };
        let max_results = max_results.max(1);
        let mut matches: Vec<(u64, String)> = lock(&self.inner)
            .by_id
            .values()
            .filter(|session| &session.owner == owner)
            .filter(|session| {
                let labels = lock(&session.labels);
                filter.iter().all(|(k, v)| labels.get(k) == Some(v))
            })
            .map(|session| (session.seq, session.id.clone()))
            .collect();
        matches.sort();
        let count = matches.len() as u64;
        let ids: Vec<String> = matches
            .into_iter()
            .skip(offset)
            .take(max_results)
            .map(|(_, id)| id)
            .collect();
        let end = offset.saturating_add(ids.len());
        let next_token = ((end as u64) < count).then(|| end.to_string());
        Ok(Page {
            ids,
            next_token,
            count,
        })
    }
}
