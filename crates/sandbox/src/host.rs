//! [`HostLauncher`]: runs processes directly on the host, **without any isolation**.
//!
//! For tests and development only (kernels, benchmarks). Each process gets its own process
//! group and exactly the environment of its [`ProcessSpec`]; killing it kills the group.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, PoisonError};

use rustix::process::{Pid, Signal, kill_process, kill_process_group};

use crate::launch::{Launch, Launched, ProcessControl, ProcessSpec};

/// Starts processes on the host, unsandboxed. Not for untrusted code.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostLauncher;

impl HostLauncher {
    /// A host launcher.
    pub fn new() -> Self {
        HostLauncher
    }
}

impl Launch for HostLauncher {
    fn launch(&self, spec: &ProcessSpec) -> io::Result<Launched> {
        let (program, args) = spec
            .argv
            .split_first()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty argv"))?;
        let mut child = Command::new(program)
            .args(args)
            .env_clear()
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&spec.cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()?;
        let pipes = (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let pid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX))
            .ok_or_else(|| io::Error::other("child has no pid"))?;
        let control = HostControl {
            pid,
            child: Mutex::new(Some(child)),
        };
        let (Some(stdin), Some(stdout), Some(stderr)) = pipes else {
            control.kill()?;
            return Err(io::Error::other("child pipes missing"));
        };
        Ok(Launched {
            stdin: stdin.into(),
            stdout: stdout.into(),
            stderr: stderr.into(),
            control: Box::new(control),
        })
    }
}

/// Signals for a host process; it leads its own process group.
#[derive(Debug)]
struct HostControl {
    pid: Pid,
    child: Mutex<Option<Child>>,
}

impl ProcessControl for HostControl {
    fn interrupt(&self) -> io::Result<()> {
        let child = self.child.lock().unwrap_or_else(PoisonError::into_inner);
        if child.is_none() {
            return Ok(());
        }
        kill_process(self.pid, Signal::INT).map_err(io::Error::from)
    }

    fn kill(&self) -> io::Result<()> {
        let mut child = self.child.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(mut c) = child.take() else {
            return Ok(());
        };
        // The group outlives its leader if children remain: kill it even if the leader exited.
        let res = kill_process_group(self.pid, Signal::KILL).map_err(io::Error::from);
        let _ = c.kill();
        c.wait()?;
        match res {
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(()),
            other => other,
        }
    }
}

impl Drop for HostControl {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn clean_env_cwd_and_pipes() {
        let spec = ProcessSpec {
            argv: vec![
                "sh".into(),
                "-c".into(),
                "read l; echo \"$l $FOO $(pwd)\"; echo err >&2".into(),
            ],
            env: vec![
                ("PATH".into(), "/usr/bin:/bin".into()),
                ("FOO".into(), "bar".into()),
            ],
            cwd: "/tmp".into(),
        };
        let launched = HostLauncher.launch(&spec).unwrap();
        std::fs::File::from(launched.stdin)
            .write_all(b"hi\n")
            .unwrap();
        let mut out = String::new();
        std::fs::File::from(launched.stdout)
            .read_to_string(&mut out)
            .unwrap();
        let mut err = String::new();
        std::fs::File::from(launched.stderr)
            .read_to_string(&mut err)
            .unwrap();
        assert_eq!(out, "hi bar /tmp\n");
        assert_eq!(err, "err\n");
        launched.control.kill().unwrap();
    }
}
