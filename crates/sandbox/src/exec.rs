//! Commands: `sh -c` in a sandbox with cwd, env, stdin, timeout, streamed and capped output.

use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::pipe;
use tokio::sync::{mpsc, oneshot};

use crate::error::{Result, SandboxError};
use crate::proto::Request;
use crate::supervisor::Shared;
use crate::sys;

/// `PATH` inside sandboxes.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Default cap of each of stdout and stderr kept in a [`CommandOutput`].
pub const DEFAULT_OUTPUT_LIMIT: usize = 1 << 20;

/// The environment every sandbox process starts from (nothing comes from the host).
pub fn base_env() -> Vec<(String, String)> {
    [
        ("PATH", DEFAULT_PATH),
        ("HOME", "/home/user"),
        ("USER", "user"),
        ("LOGNAME", "user"),
        ("SHELL", "/bin/sh"),
        ("LANG", "C.UTF-8"),
        ("LC_ALL", "C.UTF-8"),
        ("TMPDIR", "/tmp"),
        ("TERM", "xterm-256color"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A shell command to run in a sandbox.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandSpec {
    /// The command line, run as `/bin/sh -c <command>`.
    pub command: String,
    /// Working directory inside the sandbox.
    pub cwd: String,
    /// Variables added to (or replacing those of) [`base_env`].
    pub env: Vec<(String, String)>,
    /// Bytes fed to stdin, which is then closed. `None`: stdin is empty.
    pub stdin: Option<Vec<u8>>,
    /// Kill the whole process group after this long.
    pub timeout: Option<Duration>,
    /// Bytes kept of each of stdout and stderr; the rest is counted and dropped.
    pub output_limit: usize,
}

impl CommandSpec {
    /// `command` in `/home/user`, no extra env, no stdin, no timeout, 1 MiB output cap.
    pub fn new(command: impl Into<String>) -> CommandSpec {
        CommandSpec {
            command: command.into(),
            cwd: "/home/user".into(),
            env: Vec::new(),
            stdin: None,
            timeout: None,
            output_limit: DEFAULT_OUTPUT_LIMIT,
        }
    }

    /// Sets the working directory.
    pub fn cwd(mut self, cwd: impl Into<String>) -> Self {
        self.cwd = cwd.into();
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Sets stdin.
    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(data.into());
        self
    }

    /// Sets the timeout.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }

    /// Sets the output cap per stream.
    pub fn output_limit(mut self, bytes: usize) -> Self {
        self.output_limit = bytes;
        self
    }
}

/// Which output stream a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// A piece of output, forwarded as soon as it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputChunk {
    /// The stream.
    pub stream: Stream,
    /// The bytes.
    pub data: Vec<u8>,
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// It exited with this code.
    Code(i32),
    /// It was killed by this signal.
    Signal(i32),
}

/// The result of a command. A non-zero exit is data, not an error.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandOutput {
    /// Captured stdout (capped; see `stdout_truncated`).
    pub stdout: Vec<u8>,
    /// Captured stderr (capped; see `stderr_truncated`).
    pub stderr: Vec<u8>,
    /// How the shell ended.
    pub status: ExitStatus,
    /// The timeout fired and the process group was killed.
    pub timed_out: bool,
    /// The memory limit was hit and the kernel killed a process.
    pub oom_killed: bool,
    /// A fork failed because the process limit was reached.
    pub pids_limited: bool,
    /// Stdout went over the cap; a marker line ends `stdout`.
    pub stdout_truncated: bool,
    /// Stderr went over the cap; a marker line ends `stderr`.
    pub stderr_truncated: bool,
    /// Wall time from start to exit.
    pub duration: Duration,
}

impl CommandOutput {
    /// Exit code 0, no timeout.
    pub fn success(&self) -> bool {
        self.status == ExitStatus::Code(0) && !self.timed_out
    }

    /// The exit code, or `128 + signal` as a shell reports it.
    pub fn exit_code(&self) -> i32 {
        match self.status {
            ExitStatus::Code(c) => c,
            ExitStatus::Signal(s) => 128 + s,
        }
    }

    /// A sentence naming the limit that ended or hampered the command, if any.
    pub fn limit_error(&self) -> Option<String> {
        if self.timed_out {
            Some(format!(
                "command timed out after {:.1}s and was killed",
                self.duration.as_secs_f64()
            ))
        } else if self.oom_killed {
            Some("out of memory: a process was killed by the sandbox memory limit".into())
        } else if self.pids_limited {
            Some("process limit reached: the sandbox refused to create more processes".into())
        } else {
            None
        }
    }

    /// Stdout as (lossy) UTF-8.
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Stderr as (lossy) UTF-8.
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

struct Capture {
    data: Vec<u8>,
    total: u64,
    limit: usize,
    stream: Stream,
}

impl Capture {
    fn push(&mut self, chunk: &[u8], tx: &Option<mpsc::UnboundedSender<OutputChunk>>) {
        self.total += chunk.len() as u64;
        let room = self.limit.saturating_sub(self.data.len());
        let keep = &chunk[..chunk.len().min(room)];
        if !keep.is_empty() {
            self.data.extend_from_slice(keep);
            if let Some(tx) = tx {
                tx.send(OutputChunk {
                    stream: self.stream,
                    data: keep.to_vec(),
                })
                .ok();
            }
        }
    }

    fn finish(mut self) -> (Vec<u8>, bool) {
        let truncated = self.total > self.data.len() as u64;
        if truncated {
            self.data.extend_from_slice(
                format!(
                    "\n[output truncated: {} of {} bytes shown]\n",
                    self.limit, self.total
                )
                .as_bytes(),
            );
        }
        (self.data, truncated)
    }
}

/// Reads whatever is already in the pipe without waiting (after the process exited).
/// Bounded, so a background process that keeps writing cannot hold the call.
fn drain(fd: &pipe::Receiver, cap: &mut Capture, tx: &Option<mpsc::UnboundedSender<OutputChunk>>) {
    let mut buf = [0u8; 16 * 1024];
    for _ in 0..256 {
        match sys::proc::read(fd.as_raw_fd(), &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => cap.push(&buf[..n], tx),
        }
    }
}

/// Kills the command's process group if the caller stops waiting (the future is dropped).
struct KillOnDrop<'a> {
    shared: &'a Shared,
    id: u64,
    armed: bool,
}

impl Drop for KillOnDrop<'_> {
    fn drop(&mut self) {
        if self.armed {
            let sig = Request::Signal {
                id: self.id,
                sig: libc::SIGKILL,
                group: true,
            };
            self.shared.send(&sig, &[]).ok();
            self.shared.unregister(self.id);
        }
    }
}

pub(crate) async fn run(
    shared: &Shared,
    spec: CommandSpec,
    tx: Option<mpsc::UnboundedSender<OutputChunk>>,
) -> Result<CommandOutput> {
    let io = |c: &str, e| SandboxError::io(c.to_owned(), e);
    let (in_r, in_w) = sys::proc::pipe().map_err(|e| io("pipe", e))?;
    let (out_r, out_w) = sys::proc::pipe().map_err(|e| io("pipe", e))?;
    let (err_r, err_w) = sys::proc::pipe().map_err(|e| io("pipe", e))?;
    let mut env = base_env();
    for (k, v) in &spec.env {
        env.retain(|(ek, _)| ek != k);
        env.push((k.clone(), v.clone()));
    }
    env.push(("PWD".into(), spec.cwd.clone()));
    let id = shared.next_id();
    let (done_tx, mut done_rx) = oneshot::channel();
    shared
        .register(id, None, Some(done_tx))
        .map_err(|_| SandboxError::Gone(shared.sid.clone()))?;
    let (oom0, pids0) = shared
        .cgroup
        .as_ref()
        .map_or((0, 0), |c| (c.oom_kills(), c.pids_max_hits()));
    let started = Instant::now();
    let req = Request::Spawn {
        id,
        argv: vec!["/bin/sh".into(), "-c".into(), spec.command.clone()],
        env,
        cwd: spec.cwd.clone(),
    };
    if let Err(e) = shared.send(
        &req,
        &[in_r.as_raw_fd(), out_w.as_raw_fd(), err_w.as_raw_fd()],
    ) {
        shared.unregister(id);
        return Err(
            if e.kind() == std::io::ErrorKind::NotConnected || e.raw_os_error() == Some(libc::EPIPE)
            {
                SandboxError::Gone(shared.sid.clone())
            } else {
                io("send spawn request", e)
            },
        );
    }
    drop((in_r, out_w, err_w));
    let mut guard = KillOnDrop {
        shared,
        id,
        armed: true,
    };

    let writer = {
        let mut w = pipe::Sender::from_owned_fd(in_w).map_err(|e| io("stdin pipe", e))?;
        let data = spec.stdin.clone();
        tokio::spawn(async move {
            if let Some(d) = data {
                w.write_all(&d).await.ok();
            }
        })
    };
    let mut out = pipe::Receiver::from_owned_fd(out_r).map_err(|e| io("stdout pipe", e))?;
    let mut err = pipe::Receiver::from_owned_fd(err_r).map_err(|e| io("stderr pipe", e))?;
    let mut cap_out = Capture {
        data: Vec::new(),
        total: 0,
        limit: spec.output_limit,
        stream: Stream::Stdout,
    };
    let mut cap_err = Capture {
        data: Vec::new(),
        total: 0,
        limit: spec.output_limit,
        stream: Stream::Stderr,
    };
    let (mut out_eof, mut err_eof) = (false, false);
    let mut buf_o = vec![0u8; 16 * 1024];
    let mut buf_e = vec![0u8; 16 * 1024];
    let deadline = spec.timeout.map(|t| tokio::time::Instant::now() + t);
    let mut timed_out = false;
    let exit = loop {
        tokio::select! {
            r = out.read(&mut buf_o), if !out_eof => match r {
                Ok(0) | Err(_) => out_eof = true,
                Ok(n) => cap_out.push(&buf_o[..n], &tx),
            },
            r = err.read(&mut buf_e), if !err_eof => match r {
                Ok(0) | Err(_) => err_eof = true,
                Ok(n) => cap_err.push(&buf_e[..n], &tx),
            },
            r = &mut done_rx => break r,
            _ = async { match deadline { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending().await } }, if !timed_out => {
                timed_out = true;
                shared.send(&Request::Signal { id, sig: libc::SIGKILL, group: true }, &[]).ok();
            }
        }
    };
    let duration = started.elapsed();
    guard.armed = false;
    writer.abort();
    // The process has exited: take what it wrote, but do not wait for pipes that a
    // background process may keep open.
    if !out_eof {
        drain(&out, &mut cap_out, &tx);
    }
    if !err_eof {
        drain(&err, &mut cap_err, &tx);
    }
    let exit = match exit {
        Ok(Ok(e)) => e,
        Ok(Err(msg)) if msg.contains("no longer running") => {
            return Err(SandboxError::Gone(shared.sid.clone()));
        }
        Ok(Err(msg)) => return Err(SandboxError::Spawn(msg)),
        Err(_) => return Err(SandboxError::Gone(shared.sid.clone())),
    };
    let (oom1, pids1) = shared
        .cgroup
        .as_ref()
        .map_or((0, 0), |c| (c.oom_kills(), c.pids_max_hits()));
    let status = match (exit.code, exit.signal) {
        (_, Some(s)) => ExitStatus::Signal(s),
        (Some(c), None) => ExitStatus::Code(c),
        (None, None) => ExitStatus::Code(-1),
    };
    let (stdout, stdout_truncated) = cap_out.finish();
    let (stderr, stderr_truncated) = cap_err.finish();
    Ok(CommandOutput {
        stdout,
        stderr,
        status,
        timed_out,
        oom_killed: oom1 > oom0,
        pids_limited: pids1 > pids0,
        stdout_truncated,
        stderr_truncated,
        duration,
    })
}
