//! Errors of starting and running the server (request-level failures are envelopes, see
//! [`crate::envelope`]).

use std::io;

/// Why the server could not start or keep running.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The configuration is invalid (named).
    #[error("invalid server configuration: {0}")]
    Config(String),
    /// The configuration file could not be read.
    #[error("cannot read config file {path}: {source}")]
    ConfigFile {
        /// The file.
        path: String,
        /// The OS error.
        source: io::Error,
    },
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The requested address.
        addr: String,
        /// The OS error.
        source: io::Error,
    },
    /// The sandbox engine could not start.
    #[error("sandbox engine: {0}")]
    Engine(#[from] agbcloud_sandbox::SandboxError),
    /// No tokio runtime is available where one is needed.
    #[error("the server needs a tokio runtime: {0}")]
    NoRuntime(String),
}
