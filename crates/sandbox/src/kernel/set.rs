//! A session's kernels, one per language, started lazily through the session's launcher.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::{EventSink, Execution, Kernel, KernelConfig, KernelError, Language, new_kernel};
use crate::launch::Launch;

/// A shared handle to one kernel; executions on it run one at a time.
pub type KernelHandle = Arc<tokio::sync::Mutex<Box<dyn Kernel>>>;

/// The kernels of one session, by language. Cells of different languages may run at the same
/// time; cells of one language queue. A kernel that died or was killed after a timeout is
/// started again (with fresh state) in the background right away; the next cell waits for it.
#[derive(Debug)]
pub struct KernelSet {
    launcher: Arc<dyn Launch>,
    config: KernelConfig,
    kernels: Mutex<HashMap<Language, KernelHandle>>,
}

impl KernelSet {
    /// An empty set whose kernels will start through `launcher`.
    pub fn new(launcher: Arc<dyn Launch>, config: KernelConfig) -> Self {
        KernelSet {
            launcher,
            config,
            kernels: Mutex::new(HashMap::new()),
        }
    }

    /// The configuration the kernels start with.
    pub fn config(&self) -> &KernelConfig {
        &self.config
    }

    /// The kernel for `language`, created (not started) on first request.
    pub fn kernel(&self, language: Language) -> KernelHandle {
        let mut kernels = self.kernels.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(kernels.entry(language).or_insert_with(|| {
            Arc::new(tokio::sync::Mutex::new(new_kernel(
                language,
                Arc::clone(&self.launcher),
                &self.config,
            )))
        }))
    }

    /// Start the kernel for `language` now (e.g. to warm a pooled session).
    pub async fn start(&self, language: Language) -> Result<(), KernelError> {
        self.kernel(language).lock().await.start().await
    }

    /// Run `code` in the kernel of `language` (a name or alias such as `py`, `js`), starting
    /// it if needed. See [`Kernel::execute`].
    pub async fn execute(
        &self,
        language: &str,
        code: &str,
        timeout: Duration,
        events: Option<&EventSink>,
    ) -> Result<Execution, KernelError> {
        let language = Language::parse(language)
            .ok_or_else(|| KernelError::UnsupportedLanguage(language.to_owned()))?;
        let handle = self.kernel(language);
        let mut kernel = handle.clone().lock_owned().await;
        let result = kernel.execute(code, timeout, events).await;
        if result
            .as_ref()
            .is_ok_and(|run| !kernel.is_running() && run.error.is_some())
        {
            // Killed after a timeout or died: start the replacement now, in the background, so
            // the next cell finds it warm (it waits for the lock meanwhile).
            let restart = async move {
                if let Err(err) = kernel.start().await {
                    tracing::warn!(%err, "restarting a kernel failed");
                }
            };
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(restart);
            }
        }
        result
    }

    /// Languages whose kernel is running now.
    pub fn running(&self) -> Vec<Language> {
        let kernels = self.kernels.lock().unwrap_or_else(PoisonError::into_inner);
        let mut running: Vec<Language> = kernels
            .iter()
            .filter(|(_, k)| k.try_lock().map(|k| k.is_running()).unwrap_or(true))
            .map(|(l, _)| *l)
            .collect();
        running.sort();
        running
    }

    /// Kill every kernel (a busy one as soon as its current cell returns).
    pub fn shutdown(&self) {
        let kernels =
            std::mem::take(&mut *self.kernels.lock().unwrap_or_else(PoisonError::into_inner));
        for (_, kernel) in kernels {
            if let Ok(mut kernel) = kernel.try_lock() {
                kernel.shutdown();
            }
        }
    }
}

impl Drop for KernelSet {
    fn drop(&mut self) {
        self.shutdown();
    }
}
