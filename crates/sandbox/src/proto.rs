//! Messages between the engine and a sandbox's init, one JSON document per packet on the
//! control socket (fd 3 in the init).

use serde::{Deserialize, Serialize};

/// Everything the init needs to build the sandbox; the first message it receives.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct InitConfig {
    /// Session id, used as the host name.
    pub hostname: String,
    /// Host uid and gid the sandbox user runs as (root mode), or the uid inside the user
    /// namespace (rootless mode).
    pub uid: u32,
    /// See `uid`.
    pub gid: u32,
    /// Whether the init runs in a user namespace (the engine is not root).
    pub rootless: bool,
    /// Empty host directory the init mounts its scratch tmpfs on (private mount namespace).
    pub stage: String,
    /// Host directories overlaid read-only (with a private upper layer) at the same path.
    pub lowers: Vec<String>,
    /// Symlinks `(link, target)` created in the root, e.g. `bin -> usr/bin`.
    pub symlinks: Vec<(String, String)>,
    /// Size cap of the writable layer (upper dirs, /tmp, /home/user, /dev/shm), bytes.
    pub disk_bytes: u64,
    /// rlimits to apply when the engine has no cgroups: `(resource, value)`.
    pub rlimits: Vec<(libc::__rlimit_resource_t, u64)>,
    /// Compiled seccomp programs, installed in order: `(code, jt, jf, k)`.
    pub seccomp: Vec<Vec<(u16, u8, u8, u32)>>,
    /// Apply Landlock (best effort on the running kernel).
    pub landlock: bool,
}

/// Engine → init.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "t")]
pub(crate) enum Request {
    /// Start a process; stdin, stdout and stderr are attached as SCM_RIGHTS fds.
    Spawn {
        /// Caller-chosen id, echoed in replies.
        id: u64,
        /// Program and arguments.
        argv: Vec<String>,
        /// Whole environment.
        env: Vec<(String, String)>,
        /// Working directory.
        cwd: String,
    },
    /// Send a signal to a spawned process, or to its whole process group.
    Signal {
        /// Id of the spawn.
        id: u64,
        /// Signal number.
        sig: i32,
        /// Signal the process group instead of the process.
        group: bool,
    },
}

/// Init → engine.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "t")]
pub(crate) enum Reply {
    /// The sandbox is set up and accepts requests.
    Ready,
    /// Setup failed; the init exits.
    SetupFailed {
        /// Which step failed and why.
        error: String,
    },
    /// A process started.
    Spawned {
        /// Id of the spawn.
        id: u64,
        /// Pid inside the sandbox.
        pid: i32,
    },
    /// A process could not be started.
    SpawnFailed {
        /// Id of the spawn.
        id: u64,
        /// Why.
        error: String,
    },
    /// A spawned process ended.
    Exited {
        /// Id of the spawn.
        id: u64,
        /// Exit code, when it exited.
        code: Option<i32>,
        /// Signal, when it was killed.
        signal: Option<i32>,
    },
}

/// Supervisor → zygote.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CloneRequest {
    /// `CLONE_NEW*` flags for the new init; its control socket is attached.
    pub flags: i32,
}

/// Zygote → supervisor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CloneReply {
    /// Host pid of the new init, or the error.
    pub pid: Result<i32, String>,
}
