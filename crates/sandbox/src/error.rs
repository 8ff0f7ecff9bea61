//! Errors of the sandbox runtime.

use std::io;

/// Everything that can go wrong creating, using or destroying a sandbox.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// This host lacks something the engine needs (named).
    #[error("host does not support {0}")]
    Unsupported(String),
    /// Setting up the engine (state dir, cgroups, reconciliation) failed.
    #[error("engine setup failed: {context}: {source}")]
    Engine {
        /// What was being done.
        context: String,
        /// The OS error.
        source: io::Error,
    },
    /// Building the sandbox failed in the given step.
    #[error("sandbox setup failed: {0}")]
    Setup(String),
    /// The sandbox is gone (destroyed, expired, or its init died).
    #[error("sandbox {0} is no longer running")]
    Gone(String),
    /// A process could not be started in the sandbox.
    #[error("cannot start process: {0}")]
    Spawn(String),
    /// A path given to the files API is not acceptable (relative, `..`, NUL).
    #[error("invalid sandbox path {path:?}: {reason}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A file operation failed.
    #[error("{op} {path}: {source}")]
    File {
        /// The operation.
        op: &'static str,
        /// The sandbox path.
        path: String,
        /// The OS error.
        source: io::Error,
    },
    /// A text edit found nothing to replace.
    #[error("edit {path}: text to replace not found")]
    EditNotFound {
        /// The sandbox path.
        path: String,
    },
    /// An invalid argument (named).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// An OS error in the engine.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        source: io::Error,
    },
}

impl SandboxError {
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        SandboxError::Io {
            context: context.into(),
            source,
        }
    }

    /// The OS error kind for a file error, if any.
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match self {
            SandboxError::File { source, .. }
            | SandboxError::Io { source, .. }
            | SandboxError::Engine { source, .. } => Some(source.kind()),
            _ => None,
        }
    }
}

/// Result alias of the crate.
pub type Result<T, E = SandboxError> = std::result::Result<T, E>;
