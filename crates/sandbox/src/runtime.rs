//! The [`Engine`]: owns every sandbox, the state directory, the cgroup parent and the
//! supervisor thread; reconciles leftovers of crashed runs at start-up.

use std::collections::BTreeSet;
use std::fs;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::cgroup::{self, Layout, SessionCgroup};
use crate::error::{Result, SandboxError};
use crate::image::Image;
use crate::limits::Limits;
use crate::proto::InitConfig;
use crate::sandbox::Sandbox;
use crate::supervisor::{Shared, SpawnReq, Supervisor};
use crate::sys;

/// How an [`Engine`] is set up.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// State directory (per-engine lock files, the mount staging point).
    pub state_dir: PathBuf,
    /// Name of the cgroup directory created under the server's own cgroup.
    pub cgroup_parent: String,
    /// First host uid handed to sandboxes (root mode); each live sandbox gets its own.
    pub uid_base: u32,
    /// How many uids, starting at `uid_base`, may be used.
    pub uid_count: u32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        let root = sys::proc::geteuid() == 0;
        let state_dir = if root {
            PathBuf::from("/run/agbcloud")
        } else {
            std::env::var_os("XDG_RUNTIME_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(std::env::temp_dir)
                .join("agbcloud")
        };
        EngineConfig {
            state_dir,
            cgroup_parent: "agbcloud".into(),
            uid_base: 100_000,
            uid_count: 60_000,
        }
    }
}

/// The local sandbox engine. Cheap to clone; the last clone to go stops the supervisor and
/// kills whatever is left.
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) inner: Arc<EngineInner>,
}

#[derive(Debug)]
pub(crate) struct EngineInner {
    pub(crate) id: String,
    cfg: EngineConfig,
    layout: Option<Layout>,
    engine_dirs: Vec<PathBuf>,
    engine_state: PathBuf,
    stage: PathBuf,
    _lock: OwnedFd,
    seccomp: Vec<Vec<(u16, u8, u8, u32)>>,
    landlock: bool,
    rootless: bool,
    supervisor: Supervisor,
    uids: Arc<Mutex<UidPool>>,
    counter: AtomicU64,
}

#[derive(Debug)]
struct UidPool {
    free: BTreeSet<u32>,
    next: u32,
    end: u32,
}

impl UidPool {
    fn alloc(&mut self) -> Option<u32> {
        if let Some(u) = self.free.pop_first() {
            return Some(u);
        }
        if self.next < self.end {
            self.next += 1;
            return Some(self.next - 1);
        }
        None
    }
}

static ENGINE_SEQ: AtomicU64 = AtomicU64::new(0);

/// How long a new sandbox may take to set itself up.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

impl Engine {
    /// Starts an engine with the default configuration.
    pub fn new() -> Result<Engine> {
        Engine::with_config(EngineConfig::default())
    }

    /// Starts an engine: checks the host, reconciles leftovers of dead engines under the same
    /// state directory and cgroup parent, creates its own cgroup directory and starts the
    /// supervisor thread.
    pub fn with_config(cfg: EngineConfig) -> Result<Engine> {
        sys::hook::ensure_linked();
        sys::proc::raise_nofile_limit();
        let eng = |context: &str, source| SandboxError::Engine {
            context: context.into(),
            source,
        };
        let rootless = sys::proc::geteuid() != 0;
        fs::create_dir_all(&cfg.state_dir).map_err(|e| eng("create state dir", e))?;
        let stage = cfg.state_dir.join("stage");
        fs::create_dir_all(&stage).map_err(|e| eng("create staging dir", e))?;

        // Reconciling and registering happen under one lock, so a starting engine never
        // mistakes another one that is registering for a dead one.
        let registry = sys::fs::open(
            &cfg.state_dir.join("registry.lock"),
            libc::O_RDWR | libc::O_CREAT,
        )
        .map_err(|e| eng("open registry lock", e))?;
        sys::fs::lock(registry.as_fd()).map_err(|e| eng("lock registry", e))?;
        let layout = Layout::detect().ok();
        reconcile(&cfg, layout.as_ref());

        let seq = ENGINE_SEQ.fetch_add(1, Ordering::Relaxed);
        let id = format!("e{}x{seq}", sys::proc::getpid());
        let engine_state = cfg.state_dir.join(&id);
        fs::create_dir_all(&engine_state).map_err(|e| eng("create engine dir", e))?;
        let lock = sys::fs::open(&engine_state.join("lock"), libc::O_RDWR | libc::O_CREAT)
            .map_err(|e| eng("open engine lock", e))?;
        if !sys::fs::try_lock(lock.as_fd()).map_err(|e| eng("lock engine dir", e))? {
            return Err(eng(
                "lock engine dir",
                std::io::Error::other("held by another engine"),
            ));
        }

        // Cgroups need root (or a delegated subtree); without them, rlimits stand in.
        let (layout, engine_dirs) = match layout {
            Some(l) if !rootless => match l.engine_dirs(&cfg.cgroup_parent, &id) {
                Ok(d) => (Some(l), d),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot create cgroups: limits fall back to rlimits");
                    (None, Vec::new())
                }
            },
            _ => {
                tracing::warn!("no cgroups (not root): limits fall back to rlimits");
                (None, Vec::new())
            }
        };
        drop(registry);
        let seccomp = crate::seccomp::programs().map_err(SandboxError::Unsupported)?;
        let landlock = crate::landlock::abi_version() > 0;
        if !landlock {
            tracing::warn!("Landlock is not available on this kernel: sandboxes run without it");
        }
        let supervisor = Supervisor::start().map_err(|e| eng("start supervisor thread", e))?;
        let uids = UidPool {
            free: BTreeSet::new(),
            next: cfg.uid_base,
            end: cfg.uid_base.saturating_add(cfg.uid_count),
        };
        Ok(Engine {
            inner: Arc::new(EngineInner {
                id,
                cfg,
                layout,
                engine_dirs,
                engine_state,
                stage,
                _lock: lock,
                seccomp: crate::seccomp::encode(&seccomp),
                landlock,
                rootless,
                supervisor,
                uids: Arc::new(Mutex::new(uids)),
                counter: AtomicU64::new(0),
            }),
        })
    }

    /// This engine's id (names its cgroup and state directories).
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The configuration the engine runs with.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.cfg
    }

    /// Whether cgroup limits are enforced (false: rlimits only).
    pub fn has_cgroups(&self) -> bool {
        self.inner.layout.is_some()
    }

    /// Creates a sandbox from `image` with `limits`, ready to run processes.
    pub async fn create(&self, image: &Image, limits: &Limits) -> Result<Sandbox> {
        image.validate().map_err(SandboxError::InvalidArgument)?;
        let inner = &self.inner;
        let n = inner.counter.fetch_add(1, Ordering::Relaxed);
        let sid = format!("{}s{n}", inner.id);
        let (uid, gid) = if inner.rootless {
            (1000, 1000)
        } else {
            let uid = inner
                .uids
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .alloc()
                .ok_or_else(|| SandboxError::Setup("no free sandbox uid".into()))?;
            (uid, uid)
        };
        let uids = inner.uids.clone();
        let rootless = inner.rootless;
        let release: crate::supervisor::UidRelease = Box::new(move |uid| {
            if !rootless {
                uids.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .free
                    .insert(uid);
            }
        });
        let cgroup = match &inner.layout {
            Some(layout) => match SessionCgroup::create(layout, &inner.engine_dirs, &sid, limits) {
                Ok(cg) => Some(cg),
                Err(e) => {
                    release(uid);
                    return Err(SandboxError::io("create session cgroup", e));
                }
            },
            None => None,
        };
        let mut rlimits = Vec::new();
        if cgroup.is_none() {
            if let Some(m) = limits.memory {
                // DATA, not AS: runtimes (JVM, V8) reserve large PROT_NONE areas that AS would count.
                rlimits.push((libc::RLIMIT_DATA, m));
            }
            if let Some(p) = limits.pids {
                rlimits.push((libc::RLIMIT_NPROC, p));
            }
            rlimits.push((libc::RLIMIT_FSIZE, limits.disk));
        }
        let config = InitConfig {
            hostname: "sandbox".into(),
            uid,
            gid,
            rootless,
            stage: inner.stage.to_string_lossy().into_owned(),
            lowers: image.lowers.clone(),
            symlinks: image.symlinks.clone(),
            disk_bytes: limits.disk,
            rlimits,
            seccomp: inner.seccomp.clone(),
            landlock: inner.landlock,
        };
        let config = serde_json::to_vec(&config).map_err(|e| SandboxError::Setup(e.to_string()))?;
        let (ready_tx, ready_rx) = oneshot::channel();
        let shared = Arc::new(Shared::new(sid, uid, gid, cgroup, ready_tx, release));
        let mut ns_flags = libc::CLONE_NEWNS
            | libc::CLONE_NEWPID
            | libc::CLONE_NEWNET
            | libc::CLONE_NEWIPC
            | libc::CLONE_NEWUTS;
        if rootless {
            ns_flags |= libc::CLONE_NEWUSER;
        }
        let (tx, rx) = oneshot::channel();
        let host_ids = rootless.then(|| (sys::proc::geteuid(), sys::proc::getegid()));
        // From here on, dropping `sandbox` kills and cleans up whatever was started.
        let sandbox = Sandbox::new(self.clone(), shared.clone(), limits.clone());
        inner
            .supervisor
            .spawn(SpawnReq {
                shared: shared.clone(),
                config,
                ns_flags,
                rootless: host_ids,
                reply: tx,
            })
            .map_err(|e| SandboxError::io("spawn sandbox init", e))?;
        rx.await
            .map_err(|_| SandboxError::Setup("supervisor dropped the request".into()))?
            .map_err(|e| SandboxError::io("clone sandbox init", e))?;
        // Dropping `sandbox` on any error below kills the init.
        tokio::time::timeout(READY_TIMEOUT, ready_rx)
            .await
            .map_err(|_| SandboxError::Setup(format!("sandbox not ready after {READY_TIMEOUT:?}")))?
            .map_err(|_| SandboxError::Setup("sandbox init vanished".into()))?
            .map_err(SandboxError::Setup)?;
        sandbox.attach_root()?;
        if let Some(lifetime) = limits.lifetime {
            sandbox.set_lifetime(lifetime);
        }
        Ok(sandbox)
    }

    /// Kills every sandbox of this engine and waits until they are cleaned up. The engine
    /// cannot create sandboxes afterwards.
    pub fn shutdown(&self) {
        self.inner.supervisor.stop();
    }
}

impl Drop for EngineInner {
    fn drop(&mut self) {
        self.supervisor.stop();
        for d in &self.engine_dirs {
            cgroup::purge_engine_dir(d);
        }
        fs::remove_dir_all(&self.engine_state).ok();
    }
}

/// Removes what dead engines left behind: their cgroups (killing any survivor) and their
/// state directories. An engine is dead when nobody holds its lock file.
fn reconcile(cfg: &EngineConfig, layout: Option<&Layout>) {
    let mut live = BTreeSet::new();
    if let Ok(entries) = fs::read_dir(&cfg.state_dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.starts_with('e') || !e.path().is_dir() {
                continue;
            }
            if is_engine_alive(&e.path()) {
                live.insert(name);
            } else {
                tracing::info!(engine = %name, "removing leftovers of a dead sandbox engine");
                fs::remove_dir_all(e.path()).ok();
            }
        }
    }
    let Some(layout) = layout else { return };
    for parent in layout.parent_dirs(&cfg.cgroup_parent) {
        let Ok(entries) = fs::read_dir(&parent) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_dir()
                && name.starts_with('e')
                && !live.contains(&name)
                && !is_engine_alive(&cfg.state_dir.join(&name))
            {
                cgroup::purge_engine_dir(&e.path());
            }
        }
    }
}

fn is_engine_alive(dir: &Path) -> bool {
    match sys::fs::open(&dir.join("lock"), libc::O_RDWR) {
        // Taking the lock proves the owner is gone; our fd closes (and unlocks) right away.
        Ok(fd) => !sys::fs::try_lock(fd.as_fd()).unwrap_or(false),
        Err(_) => false,
    }
}
