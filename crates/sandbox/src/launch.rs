//! The seam between process launchers and what runs on them (language kernels, commands).
//!
//! A [`Launch`] starts a process from a [`ProcessSpec`] with its standard streams piped and
//! hands back the pipe ends and a [`ProcessControl`]. The sandbox implements it for processes
//! inside a session; [`HostLauncher`](crate::host::HostLauncher) runs them on the host, for tests.

use std::fmt::Debug;
use std::io;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

/// What to run. Nothing is inherited: the environment is exactly `env`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSpec {
    /// Program and arguments; `argv[0]` is resolved against `PATH` in `env` if it has no `/`.
    pub argv: Vec<String>,
    /// The whole environment of the process.
    pub env: Vec<(String, String)>,
    /// Working directory, as seen by the process.
    pub cwd: PathBuf,
}

/// A started process: our ends of its standard streams, and a way to signal it.
#[derive(Debug)]
pub struct Launched {
    /// Write end of the process's stdin.
    pub stdin: OwnedFd,
    /// Read end of the process's stdout.
    pub stdout: OwnedFd,
    /// Read end of the process's stderr.
    pub stderr: OwnedFd,
    /// Signals for the running process.
    pub control: Box<dyn ProcessControl>,
}

/// Signals for a launched process. End of file on its stdout tells that it is gone.
pub trait ProcessControl: Send + Sync + Debug {
    /// Send SIGINT to the process (a kernel turns it into an interrupt of the running cell).
    fn interrupt(&self) -> io::Result<()>;
    /// Send SIGKILL to the process and every process it started.
    fn kill(&self) -> io::Result<()>;
}

/// Starts processes with piped standard streams.
pub trait Launch: Send + Sync + Debug {
    /// Start `spec`; the process runs until it exits or is killed through its control.
    fn launch(&self, spec: &ProcessSpec) -> io::Result<Launched>;
}
