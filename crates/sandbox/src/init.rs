//! The sandbox init: pid 1 of each sandbox, cloned by the zygote into fresh namespaces.
//!
//! It reads its [`InitConfig`] from the control socket (fd 3), builds the filesystem, brings
//! `lo` up, drops to the sandbox user, sets `no_new_privs`, Landlock and seccomp, asks for
//! SIGKILL when the zygote dies (after the last credential change), says
//! `Ready`, and then serves spawn and signal requests, reaping every process and reporting
//! exit statuses. It exits when the control socket closes, which ends the pid namespace.

use std::collections::HashMap;
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;

use crate::proto::{InitConfig, Reply, Request};
use crate::sys::hook::take_control_fd;
use crate::sys::proc::{self, ExecArgs, Forked, Reaped};
use crate::sys::{net, sock};

/// Entry point in the freshly cloned child of the zygote; returns the exit code.
pub(crate) fn run() -> i32 {
    proc::reset_signals();
    let Ok(ctrl) = take_control_fd() else {
        return 2;
    };
    let mut buf = vec![0u8; sock::MAX_MSG];
    let cfg: InitConfig = match sock::recv(ctrl.as_raw_fd(), &mut buf, false) {
        Ok(Some((n, _))) => match serde_json::from_slice(&buf[..n]) {
            Ok(c) => c,
            Err(e) => {
                send(
                    &ctrl,
                    &Reply::SetupFailed {
                        error: format!("bad config: {e}"),
                    },
                );
                return 3;
            }
        },
        _ => return 4,
    };
    // SIGCHLD is consumed through a signalfd; block it before anything can exit.
    proc::set_sigmask(&[libc::SIGCHLD]);
    if let Err(error) = setup(&cfg, &ctrl) {
        send(&ctrl, &Reply::SetupFailed { error });
        return 5;
    }
    send(&ctrl, &Reply::Ready);
    serve(&ctrl, &mut buf)
}

fn send(ctrl: &OwnedFd, reply: &Reply) {
    if let Ok(bytes) = serde_json::to_vec(reply) {
        sock::send(ctrl.as_raw_fd(), &bytes, &[]).ok();
    }
}

fn setup(cfg: &InitConfig, ctrl: &OwnedFd) -> Result<(), String> {
    let owner = if cfg.rootless {
        (0, 0)
    } else {
        (cfg.uid, cfg.gid)
    };
    crate::mounts::build(cfg, owner)?;
    net::set_hostname(&cfg.hostname).map_err(|e| format!("sethostname: {e}"))?;
    net::loopback_up().map_err(|e| format!("bring lo up: {e}"))?;
    proc::set_rlimit(libc::RLIMIT_CORE, 0).map_err(|e| format!("rlimit core: {e}"))?;
    for &(res, value) in &cfg.rlimits {
        proc::set_rlimit(res, value).map_err(|e| format!("rlimit {res}: {e}"))?;
    }
    if cfg.rootless {
        // Root of the outer user namespace (the engine's uid) becomes `uid` in a nested one.
        proc::unshare(libc::CLONE_NEWUSER).map_err(|e| format!("unshare user ns: {e}"))?;
        std::fs::write("/proc/self/setgroups", "deny")
            .map_err(|e| format!("setgroups deny: {e}"))?;
        std::fs::write("/proc/self/uid_map", format!("{} 0 1", cfg.uid))
            .map_err(|e| format!("uid_map: {e}"))?;
        std::fs::write("/proc/self/gid_map", format!("{} 0 1", cfg.gid))
            .map_err(|e| format!("gid_map: {e}"))?;
        proc::drop_bounding_caps();
        proc::become_user(cfg.uid, cfg.gid)
            .or_else(|_| {
                // setgroups is denied in this namespace; set the ids only.
                proc::become_user_ids(cfg.uid, cfg.gid)
            })
            .map_err(|e| format!("drop to uid {}: {e}", cfg.uid))?;
        proc::set_dumpable(true).ok();
    } else {
        proc::drop_bounding_caps();
        proc::become_user(cfg.uid, cfg.gid).map_err(|e| format!("drop to uid {}: {e}", cfg.uid))?;
    }
    proc::set_no_new_privs().map_err(|e| format!("no_new_privs: {e}"))?;
    if cfg.landlock {
        crate::landlock::restrict()?;
    }
    crate::seccomp::install(&cfg.seccomp)?;
    // Credential changes clear the parent-death signal, so it is set last.
    proc::set_pdeathsig(libc::SIGKILL).map_err(|e| format!("pdeathsig: {e}"))?;
    // If the engine died before the line above, its end of the socket is already closed.
    if let Ok(r) = proc::poll(&[ctrl.as_raw_fd()], 0)
        && r[0] & libc::POLLHUP != 0
    {
        return Err("engine went away during setup".into());
    }
    Ok(())
}

fn serve(ctrl: &OwnedFd, buf: &mut [u8]) -> i32 {
    let Ok(sigfd) = proc::sigchld_fd() else {
        return 6;
    };
    let mut running: HashMap<libc::pid_t, u64> = HashMap::new();
    let mut ids: HashMap<u64, libc::pid_t> = HashMap::new();
    loop {
        let Ok(rev) = proc::poll(&[ctrl.as_raw_fd(), sigfd.as_raw_fd()], -1) else {
            continue;
        };
        if rev[1] != 0 {
            proc::drain_signalfd(&sigfd);
        }
        // Reap on every wake-up: cheap, and never misses a coalesced SIGCHLD.
        while let Ok(Some((pid, how))) = proc::reap_any() {
            if let Some(id) = running.remove(&pid) {
                ids.remove(&id);
                let (code, signal) = match how {
                    Reaped::Code(c) => (Some(c), None),
                    Reaped::Signal(s) => (None, Some(s)),
                };
                send(ctrl, &Reply::Exited { id, code, signal });
            }
        }
        if rev[0] == 0 {
            continue;
        }
        let (n, fds) = match sock::recv(ctrl.as_raw_fd(), buf, true) {
            Ok(Some(m)) => m,
            Ok(None) => return 0,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return 0,
        };
        let Ok(req) = serde_json::from_slice::<Request>(&buf[..n]) else {
            continue;
        };
        match req {
            Request::Spawn { id, argv, env, cwd } => match spawn(&argv, &env, &cwd, fds) {
                Ok(pid) => {
                    running.insert(pid, id);
                    ids.insert(id, pid);
                    send(ctrl, &Reply::Spawned { id, pid });
                }
                Err(error) => send(ctrl, &Reply::SpawnFailed { id, error }),
            },
            Request::Signal { id, sig, group } => {
                if let Some(&pid) = ids.get(&id) {
                    proc::kill(if group { -pid } else { pid }, sig).ok();
                }
            }
        }
    }
}

/// Finds `prog` on `PATH` (from the process's own environment) unless it has a `/`.
fn resolve(prog: &str, env: &[(String, String)]) -> String {
    if prog.contains('/') {
        return prog.to_owned();
    }
    let path = env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map_or(crate::exec::DEFAULT_PATH, |(_, v)| v.as_str());
    for dir in path.split(':').filter(|d| !d.is_empty()) {
        let candidate = Path::new(dir).join(prog);
        if candidate.is_file() {
            return candidate.to_string_lossy().into_owned();
        }
    }
    prog.to_owned()
}

fn spawn(
    argv: &[String],
    env: &[(String, String)],
    cwd: &str,
    fds: Vec<OwnedFd>,
) -> Result<i32, String> {
    if argv.is_empty() {
        return Err("empty argv".into());
    }
    if fds.len() != 3 {
        return Err(format!("expected 3 stdio fds, got {}", fds.len()));
    }
    let path = resolve(&argv[0], env);
    let envp: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let args = ExecArgs::new(&path, argv, &envp).map_err(|e| format!("bad argument: {e}"))?;
    let cwd_c = CString::new(cwd).map_err(|_| "cwd contains NUL".to_string())?;
    let (err_r, err_w) = proc::pipe().map_err(|e| format!("pipe: {e}"))?;
    match proc::fork().map_err(|e| format!("fork: {e}"))? {
        Forked::Child => {
            let fail = |what: &str, e: std::io::Error| -> ! {
                let msg = format!("{what}: {e}");
                proc::write(err_w.as_raw_fd(), msg.as_bytes()).ok();
                proc::exit_now(127)
            };
            proc::set_sigmask(&[]);
            if let Err(e) = proc::setsid() {
                fail("setsid", e);
            }
            // Move the stdio fds above 2 first so dup2 cannot clobber one with another.
            let mut hi = [0; 3];
            for (i, fd) in fds.iter().enumerate() {
                match proc::dup_above(fd.as_fd().as_raw_fd(), 10) {
                    Ok(h) => hi[i] = h,
                    Err(e) => fail("dup", e),
                }
            }
            for (i, h) in hi.iter().enumerate() {
                if let Err(e) = proc::dup2(*h, i as i32) {
                    fail("dup2", e);
                }
            }
            if let Err(e) = proc::chdir(&cwd_c) {
                fail(&format!("chdir {cwd}"), e);
            }
            let e = args.exec();
            fail(&format!("exec {path}"), e)
        }
        Forked::Parent(pid) => {
            drop(err_w);
            drop(fds);
            let mut msg = [0u8; 512];
            let n = crate::sys::retry(|| proc::read(err_r.as_raw_fd(), &mut msg)).unwrap_or(0);
            if n > 0 {
                return Err(String::from_utf8_lossy(&msg[..n]).into_owned());
            }
            Ok(pid)
        }
    }
}
