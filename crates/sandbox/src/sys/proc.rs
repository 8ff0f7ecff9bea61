//! Processes: clone into namespaces and re-exec, fork and exec, signals, credentials, prctl.

use std::ffi::{CStr, CString, c_char};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::{cvt, cvt_long, retry};

/// An argv/envp pair prepared before a fork, so the child allocates nothing.
pub(crate) struct ExecArgs {
    path: CString,
    _argv: Vec<CString>,
    _envp: Vec<CString>,
    argv_ptrs: Vec<*const c_char>,
    envp_ptrs: Vec<*const c_char>,
}

impl ExecArgs {
    /// Builds the NUL-terminated arrays; fails on an interior NUL byte.
    pub(crate) fn new(path: &str, argv: &[String], envp: &[String]) -> io::Result<Self> {
        let c = |s: &str| CString::new(s).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput));
        let path = c(path)?;
        let argv: Vec<CString> = argv.iter().map(|s| c(s)).collect::<io::Result<_>>()?;
        let envp: Vec<CString> = envp.iter().map(|s| c(s)).collect::<io::Result<_>>()?;
        let mut argv_ptrs: Vec<*const c_char> = argv.iter().map(|s| s.as_ptr()).collect();
        argv_ptrs.push(std::ptr::null());
        let mut envp_ptrs: Vec<*const c_char> = envp.iter().map(|s| s.as_ptr()).collect();
        envp_ptrs.push(std::ptr::null());
        Ok(Self {
            path,
            _argv: argv,
            _envp: envp,
            argv_ptrs,
            envp_ptrs,
        })
    }

    /// Replaces the current process image; returns only on failure.
    pub(crate) fn exec(&self) -> io::Error {
        // SAFETY: the pointer arrays are NULL-terminated and point into CStrings owned by
        // `self`, which outlives the call.
        unsafe {
            libc::execve(
                self.path.as_ptr(),
                self.argv_ptrs.as_ptr(),
                self.envp_ptrs.as_ptr(),
            )
        };
        io::Error::last_os_error()
    }
}

/// Clones a child into new namespaces (`flags` are `CLONE_NEW*` bits) that immediately
/// re-executes `args` with `ctrl` as fd 3, `/dev/null` (`null`) as fds 0-2 and every other
/// fd closed. Only async-signal-safe system calls run in the child, so this is sound in a
/// multi-threaded process. Returns the child's pid.
pub(crate) fn clone_exec(
    flags: libc::c_int,
    args: &ExecArgs,
    ctrl: RawFd,
    null: RawFd,
) -> io::Result<libc::pid_t> {
    let clone_flags = (flags | libc::SIGCHLD) as libc::c_ulong;
    // SAFETY: a raw clone without CLONE_VM and with a NULL stack has fork semantics: the
    // child gets a copy of the address space. It then only calls async-signal-safe syscalls
    // (fcntl, dup2, close_range, execve, _exit) on memory prepared before the clone.
    let ret =
        unsafe { libc::syscall(libc::SYS_clone, clone_flags, 0usize, 0usize, 0usize, 0usize) };
    if ret == 0 {
        // SAFETY: see above; all arguments are valid fds or prepared pointers.
        unsafe {
            let c = libc::fcntl(ctrl, libc::F_DUPFD, 10);
            let n = libc::fcntl(null, libc::F_DUPFD, 10);
            if c < 0 || n < 0 {
                libc::_exit(125);
            }
            libc::dup2(c, 3);
            libc::dup2(n, 0);
            libc::dup2(n, 1);
            libc::dup2(n, 2);
            libc::syscall(libc::SYS_close_range, 4u32, u32::MAX, 0u32);
            libc::execve(
                args.path.as_ptr(),
                args.argv_ptrs.as_ptr(),
                args.envp_ptrs.as_ptr(),
            );
            libc::_exit(125);
        }
    }
    let pid = cvt_long(ret)?;
    Ok(pid as libc::pid_t)
}

/// Clones the calling process into new namespaces (`flags` are `CLONE_NEW*` bits) with fork
/// semantics. Only call it from a single-threaded process (the zygote).
pub(crate) fn clone_fork(flags: libc::c_int) -> io::Result<Forked> {
    let clone_flags = (flags | libc::SIGCHLD) as libc::c_ulong;
    // SAFETY: without CLONE_VM and with a NULL stack, clone behaves like fork; the zygote is
    // single-threaded, so the child's copy of the address space holds no foreign locks.
    let ret =
        unsafe { libc::syscall(libc::SYS_clone, clone_flags, 0usize, 0usize, 0usize, 0usize) };
    let pid = cvt_long(ret)?;
    Ok(if pid == 0 {
        Forked::Child
    } else {
        Forked::Parent(pid as libc::pid_t)
    })
}

/// Closes every fd from `first` up.
pub(crate) fn close_from(first: u32) {
    // SAFETY: close_range only closes descriptors; callers no longer use them.
    unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, 0u32) };
}

/// Waits for `pid` to exit and reaps it.
pub(crate) fn wait(pid: libc::pid_t) {
    let mut status = 0;
    // SAFETY: `status` is a valid out pointer.
    retry(|| cvt(unsafe { libc::waitpid(pid, &mut status, 0) })).ok();
}

/// The result of [`fork`].
pub(crate) enum Forked {
    /// We are the child.
    Child,
    /// We are the parent; the child's pid.
    Parent(libc::pid_t),
}

/// Forks the calling process. Only call it from a single-threaded process (the init).
pub(crate) fn fork() -> io::Result<Forked> {
    // SAFETY: the sandbox init is single-threaded, so the child inherits a consistent
    // address space (no lock held by another thread).
    let pid = cvt(unsafe { libc::fork() })?;
    Ok(if pid == 0 {
        Forked::Child
    } else {
        Forked::Parent(pid)
    })
}

/// Exits immediately without running destructors or atexit handlers.
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` is always safe and never returns.
    unsafe { libc::_exit(code) }
}

/// Resets every signal to its default action and unblocks all signals.
pub(crate) fn reset_signals() {
    for sig in 1..libc::SIGRTMAX() {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: SIG_DFL is a valid disposition for every catchable signal.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
    }
    set_sigmask(&[]);
}

/// Sets the signal mask of the calling thread to exactly `sigs`.
pub(crate) fn set_sigmask(sigs: &[libc::c_int]) {
    // SAFETY: `set` is a local sigset initialised by sigemptyset before use.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &s in sigs {
            libc::sigaddset(&mut set, s);
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    }
}

/// A signalfd that reports SIGCHLD (SIGCHLD must be blocked by the caller).
pub(crate) fn sigchld_fd() -> io::Result<OwnedFd> {
    // SAFETY: `set` is initialised by sigemptyset; signalfd returns a new fd we own.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGCHLD);
        let fd = cvt(libc::signalfd(
            -1,
            &set,
            libc::SFD_CLOEXEC | libc::SFD_NONBLOCK,
        ))?;
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

/// Drains a signalfd (we only care that something arrived).
pub(crate) fn drain_signalfd(fd: &OwnedFd) {
    let mut buf = [0u8; 128 * 8];
    // SAFETY: reads into a local buffer of the given length.
    while unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
}

/// How a reaped child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reaped {
    /// Exited with this code.
    Code(i32),
    /// Killed by this signal.
    Signal(i32),
}

/// Reaps one exited child without blocking: `Ok(None)` when none is ready.
pub(crate) fn reap_any() -> io::Result<Option<(libc::pid_t, Reaped)>> {
    let mut status = 0;
    // SAFETY: `status` is a valid out pointer.
    let pid = retry(|| cvt(unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) }))?;
    if pid == 0 {
        return Ok(None);
    }
    Ok(Some((pid, decode_status(status))))
}

fn decode_status(status: libc::c_int) -> Reaped {
    if libc::WIFSIGNALED(status) {
        Reaped::Signal(libc::WTERMSIG(status))
    } else {
        Reaped::Code(libc::WEXITSTATUS(status))
    }
}

/// Sends `sig` to a pid (or, when negative, a process group).
pub(crate) fn kill(pid: libc::pid_t, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: kill has no memory-safety preconditions.
    cvt(unsafe { libc::kill(pid, sig) }).map(drop)
}

/// Opens a pidfd for `pid`.
pub(crate) fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open returns a new fd that we take ownership of.
    let fd = cvt_long(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0u32) })?;
    // SAFETY: `fd` is a fresh, valid descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Sends `sig` through a pidfd (immune to pid reuse).
pub(crate) fn pidfd_kill(pidfd: &OwnedFd, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: a NULL siginfo is allowed; the fd is a valid pidfd.
    cvt_long(unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            std::ptr::null::<u8>(),
            0u32,
        )
    })
    .map(drop)
}

/// Creates a new session with the caller as leader (and its own process group).
pub(crate) fn setsid() -> io::Result<()> {
    // SAFETY: no preconditions.
    cvt(unsafe { libc::setsid() }).map(drop)
}

/// `dup2(from, to)`, leaving `to` without close-on-exec.
pub(crate) fn dup2(from: RawFd, to: RawFd) -> io::Result<()> {
    if from == to {
        // SAFETY: F_SETFD on a valid fd.
        return cvt(unsafe { libc::fcntl(from, libc::F_SETFD, 0) }).map(drop);
    }
    // SAFETY: dup2 on fds the caller owns.
    cvt(unsafe { libc::dup2(from, to) }).map(drop)
}

/// Moves `fd` to a number ≥ `min` (close-on-exec), so low numbers can be reassigned.
pub(crate) fn dup_above(fd: RawFd, min: RawFd) -> io::Result<RawFd> {
    // SAFETY: F_DUPFD_CLOEXEC on a valid fd returns a new fd.
    cvt(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, min) })
}

/// Changes the working directory.
pub(crate) fn chdir(path: &CStr) -> io::Result<()> {
    // SAFETY: `path` is NUL-terminated.
    cvt(unsafe { libc::chdir(path.as_ptr()) }).map(drop)
}

/// Drops every capability from the bounding set (so no exec can regain them).
pub(crate) fn drop_bounding_caps() {
    for cap in 0..64 {
        // SAFETY: prctl with integer arguments only; failure (unknown cap) is ignored.
        if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) } != 0 && cap > 40 {
            break;
        }
    }
}

/// Sets supplementary groups to none, then real/effective/saved gid and uid.
pub(crate) fn become_user(uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: setgroups with a zero-length list; the set*id calls take plain integers.
    unsafe {
        cvt(libc::setgroups(0, std::ptr::null()))?;
        cvt(libc::setresgid(gid, gid, gid))?;
        cvt(libc::setresuid(uid, uid, uid))?;
    }
    Ok(())
}

/// Sets real/effective/saved gid and uid, leaving supplementary groups alone.
pub(crate) fn become_user_ids(uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: plain integer arguments.
    unsafe {
        cvt(libc::setresgid(gid, gid, gid))?;
        cvt(libc::setresuid(uid, uid, uid))?;
    }
    Ok(())
}

/// `unshare(2)`.
pub(crate) fn unshare(flags: libc::c_int) -> io::Result<()> {
    // SAFETY: the init is single-threaded, as CLONE_NEWUSER requires.
    cvt(unsafe { libc::unshare(flags) }).map(drop)
}

/// Asks for `sig` when the parent thread dies.
pub(crate) fn set_pdeathsig(sig: libc::c_int) -> io::Result<()> {
    // SAFETY: prctl with integer arguments.
    cvt(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong, 0, 0, 0) }).map(drop)
}

/// Sets `no_new_privs` (required before Landlock and seccomp without privileges).
pub(crate) fn set_no_new_privs() -> io::Result<()> {
    // SAFETY: prctl with integer arguments.
    cvt(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1 as libc::c_ulong, 0, 0, 0) }).map(drop)
}

/// Marks the process (non-)dumpable.
pub(crate) fn set_dumpable(on: bool) -> io::Result<()> {
    // SAFETY: prctl with integer arguments.
    cvt(unsafe { libc::prctl(libc::PR_SET_DUMPABLE, on as libc::c_ulong, 0, 0, 0) }).map(drop)
}

/// Sets soft and hard limit of `resource` to `value`.
pub(crate) fn set_rlimit(resource: libc::__rlimit_resource_t, value: u64) -> io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: value,
        rlim_max: value,
    };
    // SAFETY: `lim` is a valid rlimit.
    cvt(unsafe { libc::setrlimit(resource, &lim) }).map(drop)
}

/// Raises the soft open-file limit to the hard one (each sandbox holds a few fds).
pub(crate) fn raise_nofile_limit() {
    // SAFETY: `lim` is a valid rlimit for both calls.
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// The effective uid of the calling thread.
pub(crate) fn geteuid() -> u32 {
    // SAFETY: no preconditions.
    unsafe { libc::geteuid() }
}

/// The effective gid of the calling thread.
pub(crate) fn getegid() -> u32 {
    // SAFETY: no preconditions.
    unsafe { libc::getegid() }
}

/// The pid of the calling process.
pub(crate) fn getpid() -> libc::pid_t {
    // SAFETY: no preconditions.
    unsafe { libc::getpid() }
}

/// Waits until one of `fds` is readable (or hung up); returns their `revents`.
pub(crate) fn poll(fds: &[RawFd], timeout_ms: i32) -> io::Result<Vec<i16>> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // SAFETY: `pfds` is a valid array of `pfds.len()` pollfds.
    cvt(unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, timeout_ms) })?;
    Ok(pfds.iter().map(|p| p.revents).collect())
}

/// A pipe with both ends close-on-exec: `(read, write)`.
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for two descriptors.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: pipe2 returned two fresh descriptors we own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// `read(2)` into `buf`.
pub(crate) fn read(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// `write(2)` from `buf`.
pub(crate) fn write(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for reads of `buf.len()` bytes.
    let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}
