//! Stateful language kernels: one long-lived interpreter per language per session.
//!
//! A [`Kernel`] runs cells of code and keeps variables between them. The Python, JavaScript
//! and Java kernels are small drivers speaking length-prefixed JSON frames ([`frame`]) over
//! the standard streams of a process started through a [`Launch`](crate::launch::Launch);
//! R runs the same way when `Rscript` exists. [`KernelSet`] holds a session's kernels by
//! language, starts them lazily and restarts one that died or timed out.
//!
//! In a session, build the set on the session's [`Sandbox`](crate::Sandbox) (it implements
//! `Launch`, so the drivers run inside it); [`HostLauncher`](crate::host::HostLauncher) runs
//! them on the host, unsandboxed, for tests and development:
//!
//! ```no_run
//! # async fn demo() -> Result<(), agbcloud_sandbox::kernel::KernelError> {
//! use std::{sync::Arc, time::Duration};
//! use agbcloud_sandbox::{host::HostLauncher, kernel::{KernelConfig, KernelSet}};
//!
//! let kernels = KernelSet::new(Arc::new(HostLauncher::new()), KernelConfig::default());
//! kernels.execute("python", "x = 41", Duration::from_secs(60), None).await?;
//! let run = kernels.execute("py", "x + 1", Duration::from_secs(60), None).await?;
//! assert_eq!(run.main_text(), Some("42"));
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fmt::{self, Debug};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use serde::{Deserialize, Serialize};

mod driver;
pub mod frame;
pub mod java;
pub mod node;
pub mod python;
pub mod r;
mod set;

pub use java::JavaKernel;
pub use node::NodeKernel;
pub use python::PythonKernel;
pub use r::RKernel;
pub use set::{KernelHandle, KernelSet};

/// A rich output: MIME type (`text/plain`, `text/html`, `image/png` as base64...) to value.
pub type MimeBundle = BTreeMap<String, serde_json::Value>;

/// Where a running cell's output goes as it happens.
pub type EventSink = tokio::sync::mpsc::UnboundedSender<KernelEvent>;

/// A boxed future, as returned by the object-safe [`Kernel`] methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A language with a kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Python 3 (`python`, `py`, `python3`).
    Python,
    /// JavaScript on Node.js (`javascript`, `js`, `node`, `nodejs`).
    JavaScript,
    /// Java snippets through JShell (`java`).
    Java,
    /// R (`r`).
    R,
}

impl Language {
    /// Every language, in the order of the official error message.
    pub const ALL: [Language; 4] = [
        Language::Java,
        Language::JavaScript,
        Language::Python,
        Language::R,
    ];

    /// Parse a language name or official alias (trimmed, case-insensitive), as the SDK does.
    pub fn parse(raw: &str) -> Option<Language> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "python" | "py" | "python3" => Some(Language::Python),
            "javascript" | "js" | "node" | "nodejs" => Some(Language::JavaScript),
            "java" => Some(Language::Java),
            "r" => Some(Language::R),
            _ => None,
        }
    }

    /// The canonical name: `python`, `javascript`, `java` or `r`.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::JavaScript => "javascript",
            Language::Java => "java",
            Language::R => "r",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rich output of a cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecResult {
    /// The output by MIME type.
    pub data: MimeBundle,
    /// True for the value of the cell's last expression, false for `display()` outputs.
    pub is_main_result: bool,
}

impl ExecResult {
    /// The `text/plain` representation, if any.
    pub fn text(&self) -> Option<&str> {
        self.data.get("text/plain").and_then(|v| v.as_str())
    }
}

/// An error raised by the code of a cell (not a kernel failure).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecError {
    /// Exception name, e.g. `ZeroDivisionError`, `TypeError`, `TimeoutError`.
    pub name: String,
    /// Exception message.
    pub value: String,
    /// Formatted traceback (may be empty).
    pub traceback: String,
}

/// What a timeout did to the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeoutOutcome {
    /// The cell was interrupted; the kernel and its variables were kept.
    Interrupted,
    /// The kernel did not stop within the grace period: it was killed and its state was lost.
    /// The next execution starts a new kernel.
    Restarted,
}

/// Something a running cell produced, delivered as it happens.
#[derive(Debug, Clone, PartialEq)]
pub enum KernelEvent {
    /// A chunk of standard output.
    Stdout(String),
    /// A chunk of standard error.
    Stderr(String),
    /// A rich output or the main result.
    Result(ExecResult),
    /// The cell failed (sent once, just before the execution completes).
    Error(ExecError),
}

/// The outcome of one cell.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Execution {
    /// Rich outputs and the main result, in the order they were produced.
    pub results: Vec<ExecResult>,
    /// Standard output chunks, as flushed.
    pub stdout: Vec<String>,
    /// Standard error chunks, as flushed.
    pub stderr: Vec<String>,
    /// The error raised by the cell, if any (timeouts included).
    pub error: Option<ExecError>,
    /// Per-kernel execution counter (starts at 1; a new kernel starts again at 1).
    pub execution_count: u64,
    /// Wall time of the execution.
    pub execution_time: Duration,
    /// Set when the cell hit its timeout.
    pub timeout: Option<TimeoutOutcome>,
}

impl Execution {
    /// The main result (value of the last expression), if any.
    pub fn main_result(&self) -> Option<&ExecResult> {
        self.results.iter().find(|r| r.is_main_result)
    }

    /// The `text/plain` of the main result, if any.
    pub fn main_text(&self) -> Option<&str> {
        self.main_result().and_then(ExecResult::text)
    }

    /// All stdout chunks joined.
    pub fn stdout_text(&self) -> String {
        self.stdout.concat()
    }

    /// All stderr chunks joined.
    pub fn stderr_text(&self) -> String {
        self.stderr.concat()
    }

    /// True when the cell ran without error.
    pub fn is_ok(&self) -> bool {
        self.error.is_none()
    }
}

/// Why a kernel could not run a cell. Errors raised by the cell itself are in
/// [`Execution::error`], not here.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    /// The language is not one of `java`, `javascript`, `python`, `r` (or an alias).
    #[error("Unsupported language: {0}. Supported languages are java, javascript, python, r")]
    UnsupportedLanguage(String),
    /// The language cannot run where the kernel would start.
    #[error("{language} is unavailable: {reason}")]
    Unavailable {
        /// Canonical language name.
        language: &'static str,
        /// Why, e.g. `Rscript is not installed on this host`.
        reason: String,
    },
    /// The launcher failed to start the driver process.
    #[error("failed to launch the {language} kernel: {source}")]
    Launch {
        /// Canonical language name.
        language: &'static str,
        /// The launcher's error.
        #[source]
        source: std::io::Error,
    },
    /// The driver exited or timed out before it was ready.
    #[error("the {language} kernel failed to start: {message}")]
    Start {
        /// Canonical language name.
        language: &'static str,
        /// What went wrong, with the driver's error output when there was some.
        message: String,
    },
    /// The driver broke the frame protocol or its pipes failed.
    #[error("{language} kernel protocol error: {message}")]
    Protocol {
        /// Canonical language name.
        language: &'static str,
        /// What went wrong.
        message: String,
    },
}

/// How kernels are started and limited. The defaults suit a sandbox whose root has the
/// interpreters in `/usr/bin` and a home at `/home/user`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelConfig {
    /// Base environment of every kernel (nothing else is inherited).
    pub env: Vec<(String, String)>,
    /// Working directory of the kernels.
    pub cwd: PathBuf,
    /// Path of the Python interpreter (the real binary, not a shim).
    pub python: String,
    /// Path of `node`.
    pub node: String,
    /// Path of `java` (17 or later).
    pub java: String,
    /// Name or path of `Rscript`.
    pub rscript: String,
    /// Maximum JVM heap, passed as `-Xmx<java_heap>`.
    pub java_heap: String,
    /// Directory, inside the sandbox, where drivers that need a file (Java) are written.
    pub driver_dir: String,
    /// How long a driver may take to become ready.
    pub startup_timeout: Duration,
    /// How long after SIGINT a timed-out cell may take to stop before the kernel is killed.
    pub interrupt_grace: Duration,
    /// Maximum bytes kept (and streamed) per output stream per cell; the rest is dropped and
    /// a marker is appended.
    pub output_limit: usize,
}

impl Default for KernelConfig {
    fn default() -> Self {
        KernelConfig {
            env: vec![
                ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
                ("HOME".into(), "/home/user".into()),
                ("LANG".into(), "C.UTF-8".into()),
                ("LC_ALL".into(), "C.UTF-8".into()),
            ],
            cwd: PathBuf::from("/home/user"),
            python: "/usr/bin/python3".into(),
            node: "/usr/bin/node".into(),
            java: "/usr/bin/java".into(),
            rscript: "Rscript".into(),
            java_heap: "256m".into(),
            driver_dir: "/tmp/.agb".into(),
            startup_timeout: Duration::from_secs(30),
            interrupt_grace: Duration::from_secs(2),
            output_limit: 8 << 20,
        }
    }
}

impl KernelConfig {
    /// The base environment with `HOME` and the working directory set to `dir`
    /// (handy with [`HostLauncher`](crate::host::HostLauncher) in tests).
    pub fn with_home(mut self, dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        let home = dir.to_string_lossy().into_owned();
        self.env.retain(|(k, _)| k != "HOME");
        self.env.push(("HOME".into(), home));
        self.cwd = dir;
        self
    }
}

/// A stateful interpreter for one language. Object-safe; methods return boxed futures.
pub trait Kernel: Send + Debug {
    /// The kernel's language.
    fn language(&self) -> Language;

    /// Start the driver now if it is not running (otherwise the first execution does).
    fn start(&mut self) -> BoxFuture<'_, Result<(), KernelError>>;

    /// Run `code`, keeping variables for later cells. Output is sent to `events` as it
    /// happens and also collected in the returned [`Execution`]. After `timeout` the cell is
    /// interrupted, and the kernel is killed (and restarted at the next call) if it does not
    /// stop within the grace period.
    fn execute<'a>(
        &'a mut self,
        code: &'a str,
        timeout: Duration,
        events: Option<&'a EventSink>,
    ) -> BoxFuture<'a, Result<Execution, KernelError>>;

    /// True while a driver process is running.
    fn is_running(&self) -> bool;

    /// Process id of the driver as the driver sees it (inside its pid namespace), if running.
    fn pid(&self) -> Option<u32>;

    /// Kill the driver; the next execution starts a new one with fresh state.
    fn shutdown(&mut self);
}

/// Create the kernel for `language`, not yet started.
pub fn new_kernel(
    language: Language,
    launcher: std::sync::Arc<dyn crate::launch::Launch>,
    config: &KernelConfig,
) -> Box<dyn Kernel> {
    match language {
        Language::Python => Box::new(PythonKernel::new(launcher, config)),
        Language::JavaScript => Box::new(NodeKernel::new(launcher, config)),
        Language::Java => Box::new(JavaKernel::new(launcher, config)),
        Language::R => Box::new(RKernel::new(launcher, config)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        for (raw, lang) in [
            ("python", Language::Python),
            (" PY ", Language::Python),
            ("python3", Language::Python),
            ("js", Language::JavaScript),
            ("Node", Language::JavaScript),
            ("nodejs", Language::JavaScript),
            ("javascript", Language::JavaScript),
            ("java", Language::Java),
            ("R", Language::R),
        ] {
            assert_eq!(Language::parse(raw), Some(lang), "{raw}");
        }
        assert_eq!(Language::parse("ruby"), None);
        assert_eq!(
            KernelError::UnsupportedLanguage("ruby".into()).to_string(),
            "Unsupported language: ruby. Supported languages are java, javascript, python, r"
        );
    }
}
