//! A live sandbox: run commands and processes in it, reach its files, destroy it.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::error::{Result, SandboxError};
use crate::exec::{CommandOutput, CommandSpec, OutputChunk};
use crate::files::Files;
use crate::launch::{Launch, Launched, ProcessControl, ProcessSpec};
use crate::limits::Limits;
use crate::proto::Request;
use crate::runtime::Engine;
use crate::supervisor::{Phase, Shared};
use crate::sys;

/// A sandbox: its own namespaces, root filesystem, uid, cgroup and seccomp filter.
///
/// Clones share the sandbox. When the last clone is dropped the sandbox is killed and cleaned
/// up in the background; [`Sandbox::destroy`] does it now and waits.
#[derive(Debug, Clone)]
pub struct Sandbox {
    inner: Arc<Handle>,
}

#[derive(Debug)]
struct Handle {
    engine: Engine,
    limits: Limits,
    shared: Arc<Shared>,
    root: OnceLock<Arc<OwnedFd>>,
    expiry: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shared.kill();
        if let Some(t) = self.expiry.lock().unwrap_or_else(|p| p.into_inner()).take() {
            t.abort();
        }
    }
}

impl Sandbox {
    pub(crate) fn new(engine: Engine, shared: Arc<Shared>, limits: Limits) -> Sandbox {
        Sandbox {
            inner: Arc::new(Handle {
                engine,
                limits,
                shared,
                root: OnceLock::new(),
                expiry: Mutex::new(None),
            }),
        }
    }

    /// Opens the sandbox's root (through its init's `/proc/<pid>/root`) for the files API.
    pub(crate) fn attach_root(&self) -> Result<()> {
        let path = format!("/proc/{}/root", self.inner.shared.pid());
        let fd = sys::fs::open(
            std::path::Path::new(&path),
            libc::O_PATH | libc::O_DIRECTORY,
        )
        .map_err(|e| SandboxError::io(format!("open {path}"), e))?;
        self.inner.root.set(Arc::new(fd)).ok();
        Ok(())
    }

    /// Destroys the sandbox after `lifetime` (replacing an earlier deadline). Needs a tokio
    /// runtime; without one the lifetime is not enforced.
    pub fn set_lifetime(&self, lifetime: Duration) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(sid = %self.id(), "no tokio runtime: sandbox lifetime not enforced");
            return;
        };
        let shared = self.inner.shared.clone();
        let task = rt.spawn(async move {
            tokio::time::sleep(lifetime).await;
            tracing::info!(sid = %shared.sid, "sandbox lifetime elapsed");
            shared.kill();
        });
        if let Some(old) = self
            .inner
            .expiry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(task)
        {
            old.abort();
        }
    }

    /// The session id (unique per engine run).
    pub fn id(&self) -> &str {
        &self.inner.shared.sid
    }

    /// The uid that processes in the sandbox run as (a host uid in root mode).
    pub fn uid(&self) -> u32 {
        self.inner.shared.uid
    }

    /// The host pid of the sandbox's init (pid 1 inside).
    pub fn init_pid(&self) -> i32 {
        self.inner.shared.pid()
    }

    /// The limits the sandbox was created with (e.g. to size a JVM heap below `memory`).
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// The engine that owns this sandbox.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Whether the sandbox still accepts requests.
    pub fn is_alive(&self) -> bool {
        *self.inner.shared.phase().borrow() == Phase::Ready
    }

    /// Kills every process of the sandbox and waits until its processes, mounts and cgroups
    /// are gone.
    pub async fn destroy(&self) -> Result<()> {
        self.inner.shared.kill();
        let mut phase = self.inner.shared.phase();
        let wait = phase.wait_for(|p| *p == Phase::Cleaned);
        match tokio::time::timeout(Duration::from_secs(10), wait).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) => Ok(()),
            Err(_) => Err(SandboxError::io(
                "destroy sandbox",
                io::Error::from(io::ErrorKind::TimedOut),
            )),
        }
    }

    /// The sandbox's files, as its processes see them.
    pub fn files(&self) -> Result<Files> {
        let root = self
            .inner
            .root
            .get()
            .ok_or_else(|| SandboxError::Gone(self.id().to_owned()))?;
        Ok(Files::new(
            root.clone(),
            self.inner.shared.uid,
            self.inner.shared.gid,
        ))
    }

    /// Runs `spec` through `sh -c` and waits for it to exit.
    pub async fn exec(&self, spec: CommandSpec) -> Result<CommandOutput> {
        crate::exec::run(&self.inner.shared, spec, None).await
    }

    /// Like [`Sandbox::exec`], also sending each chunk of output to `chunks` as it arrives.
    pub async fn exec_streaming(
        &self,
        spec: CommandSpec,
        chunks: tokio::sync::mpsc::UnboundedSender<OutputChunk>,
    ) -> Result<CommandOutput> {
        crate::exec::run(&self.inner.shared, spec, Some(chunks)).await
    }

    /// Resident memory of the sandbox's processes: `(rss, pss)` in bytes, from
    /// `/proc/<pid>/smaps_rollup` of every process in its cgroup (or its init).
    pub fn memory_usage(&self) -> (u64, u64) {
        let pids = self.pids();
        let mut rss = 0;
        let mut pss = 0;
        for pid in pids {
            let s =
                std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
            for l in s.lines() {
                let kb = |p: &str| {
                    l.strip_prefix(p)
                        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                };
                if let Some(v) = kb("Rss:") {
                    rss += v * 1024;
                }
                if let Some(v) = kb("Pss:") {
                    pss += v * 1024;
                }
            }
        }
        (rss, pss)
    }

    /// Host pids of every process in the sandbox (its init first).
    pub fn pids(&self) -> Vec<i32> {
        let init = self.init_pid();
        let mut out = vec![init];
        // Every process of the sandbox is a descendant of its init.
        let mut frontier = vec![init];
        while let Some(p) = frontier.pop() {
            let kids =
                std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")).unwrap_or_default();
            for k in kids
                .split_whitespace()
                .filter_map(|k| k.parse::<i32>().ok())
            {
                out.push(k);
                frontier.push(k);
            }
        }
        out
    }
}

/// Control of one process started through [`Launch`].
#[derive(Debug)]
struct Control {
    shared: Arc<Shared>,
    id: u64,
}

impl ProcessControl for Control {
    fn interrupt(&self) -> io::Result<()> {
        self.shared.send(
            &Request::Signal {
                id: self.id,
                sig: libc::SIGINT,
                group: false,
            },
            &[],
        )
    }

    fn kill(&self) -> io::Result<()> {
        self.shared.send(
            &Request::Signal {
                id: self.id,
                sig: libc::SIGKILL,
                group: true,
            },
            &[],
        )
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        self.shared.unregister(self.id);
    }
}

impl Launch for Sandbox {
    fn launch(&self, spec: &ProcessSpec) -> io::Result<Launched> {
        let shared = &self.inner.shared;
        let (in_r, in_w) = sys::proc::pipe()?;
        let (out_r, out_w) = sys::proc::pipe()?;
        let (err_r, err_w) = sys::proc::pipe()?;
        let id = shared.next_id();
        let (tx, rx) = std::sync::mpsc::channel();
        shared
            .register(id, Some(tx), None)
            .map_err(io::Error::other)?;
        let req = Request::Spawn {
            id,
            argv: spec.argv.clone(),
            env: spec.env.clone(),
            cwd: spec.cwd.to_string_lossy().into_owned(),
        };
        if let Err(e) = shared.send(
            &req,
            &[in_r.as_raw_fd(), out_w.as_raw_fd(), err_w.as_raw_fd()],
        ) {
            shared.unregister(id);
            return Err(e);
        }
        drop((in_r, out_w, err_w));
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Ok(_pid)) => Ok(Launched {
                stdin: in_w,
                stdout: out_r,
                stderr: err_r,
                control: Box::new(Control {
                    shared: shared.clone(),
                    id,
                }),
            }),
            Ok(Err(msg)) => Err(io::Error::other(msg)),
            Err(_) => {
                shared.unregister(id);
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "sandbox init did not answer the spawn request",
                ))
            }
        }
    }
}
