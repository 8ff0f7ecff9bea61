//! The zygote: a small single-threaded process, re-executed from the engine's binary once
//! per engine, that clones every sandbox init on request.
//!
//! The engine is multi-threaded and must never fork to run Rust code; the zygote is not, so
//! it can `clone` straight into the new namespaces and run the init there without another
//! `exec` (faster sandbox creation, and the inits share the zygote's pages). It asks for
//! SIGKILL when the engine's supervisor thread dies, and each init asks for SIGKILL when the
//! zygote dies, so killing the engine takes every sandbox down.

use std::os::fd::{AsRawFd, OwnedFd};

use crate::proto::{CloneReply, CloneRequest};
use crate::sys::hook::take_control_fd;
use crate::sys::proc::{self, Forked};
use crate::sys::sock;

/// Entry point from the pre-`main` hook; returns the exit code.
pub(crate) fn run() -> i32 {
    proc::reset_signals();
    let Ok(ctrl) = take_control_fd() else {
        return 2;
    };
    if proc::set_pdeathsig(libc::SIGKILL).is_err() {
        return 3;
    }
    // The engine may have died before the line above.
    if let Ok(r) = proc::poll(&[ctrl.as_raw_fd()], 0)
        && r[0] & libc::POLLHUP != 0
    {
        return 0;
    }
    proc::set_sigmask(&[libc::SIGCHLD]);
    let Ok(sigfd) = proc::sigchld_fd() else {
        return 4;
    };
    let mut buf = vec![0u8; 4096];
    loop {
        let Ok(rev) = proc::poll(&[ctrl.as_raw_fd(), sigfd.as_raw_fd()], -1) else {
            continue;
        };
        if rev[1] != 0 {
            proc::drain_signalfd(&sigfd);
        }
        while let Ok(Some(_)) = proc::reap_any() {}
        if rev[0] == 0 {
            continue;
        }
        let (n, mut fds) = match sock::recv(ctrl.as_raw_fd(), &mut buf, true) {
            Ok(Some(m)) => m,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Ok(None) | Err(_) => return 0,
        };
        let pid = match (serde_json::from_slice::<CloneRequest>(&buf[..n]), fds.pop()) {
            (Ok(req), Some(init_ctrl)) if fds.is_empty() => clone_init(req.flags, init_ctrl),
            _ => Err("malformed clone request".to_owned()),
        };
        drop(fds);
        if let Ok(bytes) = serde_json::to_vec(&CloneReply { pid }) {
            sock::send(ctrl.as_raw_fd(), &bytes, &[]).ok();
        }
    }
}

fn clone_init(flags: i32, init_ctrl: OwnedFd) -> Result<i32, String> {
    match proc::clone_fork(flags).map_err(|e| format!("clone: {e}"))? {
        Forked::Child => {
            // Only the init's control socket stays, as fd 3 (replacing our own copy of the
            // zygote's socket); fds 0-2 are /dev/null already.
            if proc::dup2(init_ctrl.as_raw_fd(), 3).is_err() {
                proc::exit_now(125);
            }
            proc::close_from(4);
            let code = std::panic::catch_unwind(crate::init::run).unwrap_or(126);
            proc::exit_now(code)
        }
        Forked::Parent(pid) => Ok(pid),
    }
}
