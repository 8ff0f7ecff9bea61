//! The server's shared state: configuration, sandbox engine, session registry, and the
//! session lifecycle (create, release, expire, shut down).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use agbcloud_sandbox::kernel::{KernelConfig, KernelSet, Language};
use agbcloud_sandbox::{Engine, EngineConfig, Image, Pool, Sandbox, SandboxError};
use agbcloud_wire::session::Labels;
use tokio::task::JoinHandle;

use crate::auth::Tenant;
use crate::config::ServerConfig;
use crate::envelope::ApiError;
use crate::error::ServerError;
use crate::registry::{Registry, Session};

/// Where clients reach this server over a socket (absent when embedded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrls {
    /// `http://host:port`.
    pub http: String,
    /// `ws://host:port`.
    pub ws: String,
}

/// State shared by every request.
#[derive(Debug)]
pub struct App {
    /// The configuration.
    pub config: ServerConfig,
    /// Live sessions.
    pub registry: Registry,
    engine: Engine,
    /// Warm pools, one per distinct image (its directories and links), made on first use.
    pools: Mutex<HashMap<ImageKey, Arc<Pool<KernelSet>>>>,
    public: OnceLock<PublicUrls>,
    closing: AtomicBool,
    background: Mutex<Vec<JoinHandle<()>>>,
}

impl App {
    /// Starts the sandbox engine (which removes leftovers of a crashed run) and builds the state.
    pub fn start(config: ServerConfig) -> Result<Arc<Self>, ServerError> {
        config.validate()?;
        let engine = Engine::with_config(EngineConfig::default())?;
        Ok(Arc::new(Self {
            config,
            registry: Registry::default(),
            engine,
            pools: Mutex::new(HashMap::new()),
            public: OnceLock::new(),
            closing: AtomicBool::new(false),
            background: Mutex::new(Vec::new()),
        }))
    }

    /// Records the socket address clients use (enables `wsUrl` and `linkUrl`).
    pub fn set_public(&self, urls: PublicUrls) {
        self.public.set(urls).ok();
    }

    /// The public URLs, when serving a socket.
    pub fn public(&self) -> Option<&PublicUrls> {
        self.public.get()
    }

    /// True once shutdown began.
    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    /// Creates a session for `owner`.
    pub async fn create_session(
        &self,
        owner: Tenant,
        image_id: &str,
        labels: Labels,
        timeout_secs: Option<u64>,
    ) -> Result<Arc<Session>, ApiError> {
        if self.is_closing() {
            return Err(ApiError::unavailable("the server is shutting down"));
        }
        let image = self.config.image_for(image_id);
        let (sandbox, kernels) = self
            .ready_sandbox(&image)
            .await
            .map_err(|err| ApiError::internal(format!("cannot create sandbox: {err}")))?;
        let idle_timeout = match timeout_secs {
            Some(secs) if secs > 0 => Duration::from_secs(secs).min(self.config.max_idle_timeout),
            _ => self.config.default_idle_timeout,
        };
        let session = Arc::new(Session::new(
            owner,
            image_id.to_owned(),
            sandbox,
            kernels,
            labels,
            idle_timeout,
        ));
        self.registry.insert(Arc::clone(&session));
        if self.is_closing() {
            // Shutdown raced with this create: do not leave the sandbox behind.
            if let Ok(session) = self.registry.remove(&session.owner, &session.id) {
                session.destroy().await;
            }
            return Err(ApiError::unavailable("the server is shutting down"));
        }
        tracing::info!(session = %session.id, image = image_id, "session created");
        Ok(session)
    }

    /// A sandbox and its kernels: from the image's warm pool when it has one ready (its
    /// Python kernel already started), else built now.
    async fn ready_sandbox(&self, image: &Image) -> Result<(Sandbox, KernelSet), SandboxError> {
        match self.pool_for(image) {
            Some(pool) => pool.acquire_warm().await,
            None => {
                let sandbox = self.engine.create(image, &self.config.limits).await?;
                let kernels = kernels_for(&sandbox);
                Ok((sandbox, kernels))
            }
        }
    }

    /// The warm pool of `image`, started on first use; none when the pool is off or the
    /// server is shutting down.
    fn pool_for(&self, image: &Image) -> Option<Arc<Pool<KernelSet>>> {
        if self.config.warm_pool == 0 || self.is_closing() {
            return None;
        }
        let key = (image.lowers.clone(), image.symlinks.clone());
        let mut pools = self.pools.lock().unwrap_or_else(PoisonError::into_inner);
        let pool = pools.entry(key).or_insert_with(|| {
            let warm_up = |sandbox: Sandbox| async move {
                let kernels = kernels_for(&sandbox);
                if let Err(err) = kernels.start(Language::Python).await {
                    // Still a usable sandbox: Python starts on first use, or says why not.
                    tracing::debug!(error = %err, "warm pool: Python not started");
                }
                Ok(kernels)
            };
            Arc::new(Pool::with_warmup(
                self.engine.clone(),
                image.clone(),
                self.config.limits.clone(),
                self.config.warm_pool,
                warm_up,
            ))
        });
        Some(Arc::clone(pool))
    }

    /// Drops every warm pool, and with them their idle sandboxes.
    fn drop_pools(&self) {
        let pools = std::mem::take(&mut *self.pools.lock().unwrap_or_else(PoisonError::into_inner));
        drop(pools);
    }

    /// Removes a session now (so it is gone for every later call) and destroys its sandbox
    /// in the background.
    pub fn release_in_background(&self, session: Arc<Session>) {
        tracing::info!(session = %session.id, "session released");
        let task = tokio::spawn(async move { session.destroy().await });
        let mut background = self
            .background
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        background.retain(|task| !task.is_finished());
        background.push(task);
    }

    /// Releases every session whose idle timeout elapsed.
    pub fn reap(&self) -> usize {
        let expired = self.registry.take_expired(std::time::Instant::now());
        let count = expired.len();
        for session in expired {
            tracing::info!(session = %session.id, "idle timeout elapsed");
            self.release_in_background(session);
        }
        count
    }

    /// Destroys every session and waits for the clean-up. New creates are refused.
    pub async fn shutdown(&self) {
        self.closing.store(true, Ordering::SeqCst);
        self.drop_pools();
        let sessions = self.registry.drain();
        let count = sessions.len();
        let destroys = sessions.into_iter().map(|session| async move {
            session.destroy().await;
        });
        futures_util::future::join_all(destroys).await;
        let background: Vec<JoinHandle<()>> = std::mem::take(
            &mut *self
                .background
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for task in background {
            task.await.ok();
        }
        if count > 0 {
            tracing::info!(sessions = count, "destroyed every session");
        }
    }

    /// Synchronous last-resort clean-up (drop paths): kills every session's kernels and
    /// sandbox without waiting.
    pub fn kill_all(&self) {
        self.closing.store(true, Ordering::SeqCst);
        self.drop_pools();
        for session in self.registry.drain() {
            session.kernels.shutdown();
        }
        self.engine.shutdown();
    }
}

/// Pools are shared by images with the same directories and links, whatever their ids.
type ImageKey = (Vec<String>, Vec<(String, String)>);

/// The kernels of a session, run inside its sandbox.
fn kernels_for(sandbox: &Sandbox) -> KernelSet {
    KernelSet::new(Arc::new(sandbox.clone()), KernelConfig::default())
}
