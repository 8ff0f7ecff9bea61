//! The engine's one long-lived thread: it starts the zygote (so PR_SET_PDEATHSIG is tied to
//! a thread that lives as long as the engine), has it clone every sandbox init, and watches
//! all control sockets and pidfds with epoll, dispatching replies and removing the cgroups
//! of inits that exited.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};

use crate::cgroup::SessionCgroup;
use crate::proto::{CloneReply, CloneRequest};
use crate::proto::{Reply, Request};
use crate::sys::hook::ZYGOTE_MARKER;
use crate::sys::proc::{self, ExecArgs};
use crate::sys::{fs as sysfs, sock};

/// Lifecycle of one sandbox as seen by the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Phase {
    /// Init cloned, not ready yet.
    Starting,
    /// Accepting requests.
    Ready,
    /// Init exited (or its socket closed); not yet reaped.
    Dead,
    /// Reaped and its cgroups removed.
    Cleaned,
}

/// How a spawned process ended, as reported by the init.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Exit {
    pub code: Option<i32>,
    pub signal: Option<i32>,
}

#[derive(Debug, Default)]
struct Waiter {
    spawned: Option<mpsc::Sender<Result<i32, String>>>,
    done: Option<oneshot::Sender<Result<Exit, String>>>,
}

#[derive(Debug, Default)]
struct State {
    ready: Option<oneshot::Sender<Result<(), String>>>,
    waiters: HashMap<u64, Waiter>,
    dead: bool,
}

/// Returns uids to the engine's pool.
pub(crate) type UidRelease = Box<dyn Fn(u32) + Send + Sync>;

/// What the engine and the supervisor share about one sandbox.
pub(crate) struct Shared {
    pub sid: String,
    pub uid: u32,
    pub gid: u32,
    pub cgroup: Option<SessionCgroup>,
    ctrl: Mutex<Option<Arc<OwnedFd>>>,
    pidfd: Mutex<Option<Arc<OwnedFd>>>,
    pid: AtomicU32,
    state: Mutex<State>,
    phase: watch::Sender<Phase>,
    next_id: std::sync::atomic::AtomicU64,
    release: Mutex<Option<UidRelease>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("sid", &self.sid)
            .field("pid", &self.pid())
            .finish_non_exhaustive()
    }
}

impl Shared {
    pub(crate) fn new(
        sid: String,
        uid: u32,
        gid: u32,
        cgroup: Option<SessionCgroup>,
        ready: oneshot::Sender<Result<(), String>>,
        release: UidRelease,
    ) -> Self {
        Shared {
            sid,
            uid,
            gid,
            cgroup,
            ctrl: Mutex::new(None),
            pidfd: Mutex::new(None),
            pid: AtomicU32::new(0),
            state: Mutex::new(State {
                ready: Some(ready),
                ..State::default()
            }),
            phase: watch::channel(Phase::Starting).0,
            next_id: std::sync::atomic::AtomicU64::new(1),
            release: Mutex::new(Some(release)),
        }
    }

    /// The init's pid on the host (0 before it started).
    pub(crate) fn pid(&self) -> i32 {
        self.pid.load(Ordering::Acquire) as i32
    }

    pub(crate) fn phase(&self) -> watch::Receiver<Phase> {
        self.phase.subscribe()
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers interest in a spawn's replies; fails once the sandbox is dead.
    pub(crate) fn register(
        &self,
        id: u64,
        spawned: Option<mpsc::Sender<Result<i32, String>>>,
        done: Option<oneshot::Sender<Result<Exit, String>>>,
    ) -> Result<(), String> {
        let mut st = self.lock();
        if st.dead {
            return Err(format!("sandbox {} is no longer running", self.sid));
        }
        st.waiters.insert(id, Waiter { spawned, done });
        Ok(())
    }

    pub(crate) fn unregister(&self, id: u64) {
        self.lock().waiters.remove(&id);
    }

    /// Sends a request to the init, with fds attached.
    pub(crate) fn send(&self, req: &Request, fds: &[std::os::fd::RawFd]) -> io::Result<()> {
        let ctrl = self.ctrl.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let Some(ctrl) = ctrl else {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "sandbox not started",
            ));
        };
        let bytes = serde_json::to_vec(req).map_err(io::Error::other)?;
        sock::send(ctrl.as_raw_fd(), &bytes, fds)
    }

    /// Kills every process of the sandbox (cgroup first, then the init's pid namespace).
    pub(crate) fn kill(&self) {
        if let Some(cg) = &self.cgroup {
            cg.kill();
        }
        let pidfd = self.pidfd.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(pidfd) = pidfd {
            proc::pidfd_kill(&pidfd, libc::SIGKILL).ok();
        }
    }

    fn dispatch(&self, reply: Reply) {
        let mut st = self.lock();
        match reply {
            Reply::Ready => {
                self.phase.send_replace(Phase::Ready);
                if let Some(tx) = st.ready.take() {
                    tx.send(Ok(())).ok();
                }
            }
            Reply::SetupFailed { error } => {
                if let Some(tx) = st.ready.take() {
                    tx.send(Err(error)).ok();
                }
            }
            Reply::Spawned { id, pid } => {
                if let Some(w) = st.waiters.get_mut(&id) {
                    if let Some(tx) = w.spawned.take() {
                        tx.send(Ok(pid)).ok();
                    }
                    if w.done.is_none() {
                        st.waiters.remove(&id);
                    }
                }
            }
            Reply::SpawnFailed { id, error } => {
                if let Some(mut w) = st.waiters.remove(&id) {
                    if let Some(tx) = w.spawned.take() {
                        tx.send(Err(error.clone())).ok();
                    }
                    if let Some(tx) = w.done.take() {
                        tx.send(Err(error)).ok();
                    }
                }
            }
            Reply::Exited { id, code, signal } => {
                if let Some(mut w) = st.waiters.remove(&id)
                    && let Some(tx) = w.done.take()
                {
                    tx.send(Ok(Exit { code, signal })).ok();
                }
            }
        }
    }

    fn mark_dead(&self) {
        let mut st = self.lock();
        st.dead = true;
        if let Some(tx) = st.ready.take() {
            tx.send(Err("sandbox init exited during setup".into())).ok();
        }
        for (_, mut w) in st.waiters.drain() {
            let msg = format!("sandbox {} is no longer running", self.sid);
            if let Some(tx) = w.spawned.take() {
                tx.send(Err(msg.clone())).ok();
            }
            if let Some(tx) = w.done.take() {
                tx.send(Err(msg)).ok();
            }
        }
        drop(st);
        self.phase.send_if_modified(|p| {
            if *p < Phase::Dead {
                *p = Phase::Dead;
                true
            } else {
                false
            }
        });
        *self.ctrl.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    fn mark_cleaned(&self) {
        *self.pidfd.lock().unwrap_or_else(|p| p.into_inner()) = None;
        if let Some(release) = self
            .release
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            release(self.uid);
        }
        self.phase.send_replace(Phase::Cleaned);
    }
}

/// A request to start one sandbox init.
pub(crate) struct SpawnReq {
    pub shared: Arc<Shared>,
    pub config: Vec<u8>,
    pub ns_flags: libc::c_int,
    /// In rootless mode: the host uid/gid that root in the sandbox's user namespace maps to.
    pub rootless: Option<(u32, u32)>,
    pub reply: oneshot::Sender<io::Result<()>>,
}

enum Cmd {
    Spawn(Box<SpawnReq>),
    Stop,
}

/// Handle to the supervisor thread.
#[derive(Debug)]
pub(crate) struct Supervisor {
    tx: Mutex<mpsc::Sender<Cmd>>,
    wake: OwnedFd,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Supervisor {
    /// Starts the thread, which starts the zygote; fails if the zygote cannot start.
    pub(crate) fn start() -> io::Result<Supervisor> {
        let (tx, rx) = mpsc::channel();
        let wake = sock::eventfd()?;
        let wake_fd = wake.try_clone()?;
        let epoll = sock::Epoll::new()?;
        epoll.add(wake.as_raw_fd(), WAKE)?;
        let (started_tx, started_rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("agb-sandbox-supervisor".into())
            .spawn(move || {
                // The zygote must be this thread's child: its parent-death signal follows
                // the thread, which lives exactly as long as the engine.
                let zygote = match Zygote::start() {
                    Ok(z) => {
                        started_tx.send(Ok(())).ok();
                        z
                    }
                    Err(e) => {
                        started_tx.send(Err(e)).ok();
                        return;
                    }
                };
                Reactor {
                    epoll,
                    wake: wake_fd,
                    rx,
                    zygote,
                    live: HashMap::new(),
                    pending: Vec::new(),
                    next: 1,
                    buf: vec![0u8; 64 * 1024],
                }
                .run()
            })?;
        started_rx
            .recv()
            .map_err(|_| io::Error::other("supervisor thread died at start"))??;
        Ok(Supervisor {
            tx: Mutex::new(tx),
            wake,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Asks the thread to clone an init.
    pub(crate) fn spawn(&self, req: SpawnReq) -> io::Result<()> {
        self.tx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(Cmd::Spawn(Box::new(req)))
            .map_err(|_| io::Error::other("sandbox supervisor thread is gone"))?;
        sock::eventfd_signal(self.wake.as_raw_fd());
        Ok(())
    }

    /// Kills every remaining sandbox, waits for them, and stops the thread.
    pub(crate) fn stop(&self) {
        let tx = self.tx.lock().unwrap_or_else(|p| p.into_inner());
        if tx.send(Cmd::Stop).is_ok() {
            sock::eventfd_signal(self.wake.as_raw_fd());
        }
        drop(tx);
        if let Some(t) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            t.join().ok();
        }
    }
}

const WAKE: u64 = 0;

/// The zygote process and our end of its socket.
struct Zygote {
    ctrl: OwnedFd,
    pid: libc::pid_t,
}

impl Zygote {
    /// Re-executes this binary in zygote mode, with fds 0-2 on /dev/null and its socket at 3.
    fn start() -> io::Result<Zygote> {
        let args = ExecArgs::new(
            "/proc/self/exe",
            &["agb-sandbox-zygote".into()],
            &[ZYGOTE_MARKER.into()],
        )?;
        let null = sysfs::open(std::path::Path::new("/dev/null"), libc::O_RDWR)?;
        let (ours, theirs) = sock::seqpacket_pair()?;
        let pid = proc::clone_exec(0, &args, theirs.as_raw_fd(), null.as_raw_fd())?;
        Ok(Zygote { ctrl: ours, pid })
    }

    /// Clones a new init into `flags` namespaces with `init_ctrl` as its control socket.
    fn clone_init(&self, flags: libc::c_int, init_ctrl: &OwnedFd) -> io::Result<libc::pid_t> {
        let req = serde_json::to_vec(&CloneRequest { flags }).map_err(io::Error::other)?;
        sock::send(self.ctrl.as_raw_fd(), &req, &[init_ctrl.as_raw_fd()])?;
        let mut buf = [0u8; 4096];
        let (n, _) = sock::recv(self.ctrl.as_raw_fd(), &mut buf, false)?
            .ok_or_else(|| io::Error::other("sandbox zygote exited"))?;
        let reply: CloneReply = serde_json::from_slice(&buf[..n]).map_err(io::Error::other)?;
        reply.pid.map_err(io::Error::other)
    }
}

impl Drop for Zygote {
    fn drop(&mut self) {
        proc::kill(self.pid, libc::SIGKILL).ok();
        proc::wait(self.pid);
    }
}

struct Reactor {
    epoll: sock::Epoll,
    wake: OwnedFd,
    rx: mpsc::Receiver<Cmd>,
    zygote: Zygote,
    /// slot → sandbox; tokens are `slot * 2` (control socket) and `slot * 2 + 1` (pidfd).
    live: HashMap<u64, Arc<Shared>>,
    /// Reaped sandboxes whose cgroups were still busy: retry until this instant.
    pending: Vec<(Arc<Shared>, Instant)>,
    next: u64,
    /// Receive buffer for control messages.
    buf: Vec<u8>,
}

impl Reactor {
    fn run(mut self) {
        let mut stopping = false;
        loop {
            let timeout = if self.pending.is_empty() && !stopping {
                -1
            } else {
                5
            };
            let tokens = self.epoll.wait(timeout).unwrap_or_default();
            for t in tokens {
                if t == WAKE {
                    sock::eventfd_drain(self.wake.as_raw_fd());
                    while let Ok(cmd) = self.rx.try_recv() {
                        match cmd {
                            Cmd::Spawn(req) => {
                                let SpawnReq {
                                    shared,
                                    config,
                                    ns_flags,
                                    rootless,
                                    reply,
                                } = *req;
                                let r = self.spawn(&shared, &config, ns_flags, rootless);
                                reply.send(r).ok();
                            }
                            Cmd::Stop => {
                                stopping = true;
                                for s in self.live.values() {
                                    s.kill();
                                }
                            }
                        }
                    }
                } else if t % 2 == 0 {
                    self.on_control(t / 2);
                } else {
                    self.on_pidfd(t / 2);
                }
            }
            self.retry_pending();
            if stopping {
                if self.live.is_empty() && self.pending.is_empty() {
                    return;
                }
                for s in self.live.values() {
                    s.kill();
                }
            }
        }
    }

    fn spawn(
        &mut self,
        shared: &Arc<Shared>,
        config: &[u8],
        ns_flags: libc::c_int,
        rootless: Option<(u32, u32)>,
    ) -> io::Result<()> {
        let (ours, theirs) = sock::seqpacket_pair()?;
        let pid = self.zygote.clone_init(ns_flags, &theirs)?;
        drop(theirs);
        let pidfd = Arc::new(proc::pidfd_open(pid)?);
        shared.pid.store(pid as u32, Ordering::Release);
        *shared.pidfd.lock().unwrap_or_else(|p| p.into_inner()) = Some(pidfd.clone());
        let slot = self.next;
        self.next += 1;
        self.live.insert(slot, shared.clone());
        let setup = (|| {
            if let Some((uid, gid)) = rootless {
                std::fs::write(format!("/proc/{pid}/setgroups"), "deny")?;
                std::fs::write(format!("/proc/{pid}/uid_map"), format!("0 {uid} 1"))?;
                std::fs::write(format!("/proc/{pid}/gid_map"), format!("0 {gid} 1"))?;
            }
            if let Some(cg) = &shared.cgroup {
                cg.join(pid)?;
            }
            sock::send(ours.as_raw_fd(), config, &[])
        })();
        let ours = Arc::new(ours);
        *shared.ctrl.lock().unwrap_or_else(|p| p.into_inner()) = Some(ours.clone());
        self.epoll.add(ours.as_raw_fd(), slot * 2)?;
        if let Err(e) = setup {
            shared.kill();
            return Err(e);
        }
        Ok(())
    }

    fn on_control(&mut self, slot: u64) {
        let Some(shared) = self.live.get(&slot).cloned() else {
            return;
        };
        let ctrl = shared
            .ctrl
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let Some(ctrl) = ctrl else { return };
        loop {
            match sock::recv(ctrl.as_raw_fd(), &mut self.buf, true) {
                Ok(Some((n, _))) => {
                    if let Ok(reply) = serde_json::from_slice::<Reply>(&self.buf[..n]) {
                        shared.dispatch(reply);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Ok(None) | Err(_) => {
                    self.epoll.remove(ctrl.as_raw_fd());
                    shared.mark_dead();
                    let pidfd = shared
                        .pidfd
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .clone();
                    match pidfd {
                        Some(p) if self.epoll.add(p.as_raw_fd(), slot * 2 + 1).is_ok() => {}
                        _ => self.on_pidfd(slot),
                    }
                    return;
                }
            }
        }
    }

    fn on_pidfd(&mut self, slot: u64) {
        let Some(shared) = self.live.get(&slot).cloned() else {
            return;
        };
        // The pidfd is readable once the init exited, after the kernel tore its pid
        // namespace down; the zygote (its parent) reaps it.
        if let Some(p) = shared
            .pidfd
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            self.epoll.remove(p.as_raw_fd());
        }
        self.live.remove(&slot);
        shared.mark_dead();
        self.pending
            .push((shared, Instant::now() + Duration::from_secs(10)));
    }

    fn retry_pending(&mut self) {
        let now = Instant::now();
        self.pending.retain(|(shared, until)| {
            let done = match &shared.cgroup {
                None => true,
                Some(cg) => {
                    cg.kill();
                    cg.remove().is_ok() || now > *until
                }
            };
            if done {
                shared.mark_cleaned();
            }
            !done
        });
    }
}
