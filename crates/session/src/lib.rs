//! AGB sessions.
//!
//! Its one job: the session lifecycle and the tools that act inside a session (code, commands,
//! file system), with guards, pools, a result cache and a code policy.
//!
//! - [`Agb`], the client: create, get, list (a paginated stream), delete (release, then wait
//!   until gone), built over an [`agbcloud_transport::Transport`].
//! - [`Session`]: [`code()`](Session::code) (with live streaming over the session's
//!   WebSocket), [`command()`](Session::command), [`fs()`](Session::fs), labels, keep-alive,
//!   info, metrics.
//! - Clean-up that cannot be forgotten: [`SessionGuard`] and [`Agb::with_session`].
//! - [`SessionPool`], [`ResultCache`] and [`CodePolicy`].
//!
//! Every call returns [`Result<T, Error>`](Error); a non-zero exit code or a code exception
//! is data in the result, not an error. Most users want the `agbcloud` facade, which builds
//! the client from the environment and runs a local engine when no endpoint is configured.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cache;
mod client;
mod code;
mod command;
mod error;
mod fs;
mod guard;
mod list;
mod params;
pub mod policy;
mod pool;
mod session;
mod stream;

pub use agbcloud_wire::SandboxPath;
pub use agbcloud_wire::session::{Labels, McpResourceData, SessionData, SessionSummary};
pub use agbcloud_wire::tools::code::{ExecutionError, ExecutionLogs, ExecutionResult, Language};
pub use agbcloud_wire::tools::fs::{DirEntry, FileChangeEvent, FileInfo};
pub use agbcloud_wire::tools::metrics::Metrics;
pub use cache::{CacheConfig, CacheKey, CacheMetrics, ResultCache};
pub use client::{Agb, ClientOptions};
pub use code::{Code, CodeEvent, CodeRun, IntoLanguage, RunCode};
pub use command::{Command, CommandOutput, DEFAULT_COMMAND_TIMEOUT, Exec, shell_quote};
pub use error::{Error, RequestSent, Result};
pub use fs::{FileSystem, IntoSandboxPath};
pub use guard::SessionGuard;
pub use list::ListFilter;
pub use params::{ContextMount, CreateParams, DEFAULT_IMAGE};
pub use policy::{CodePolicy, PolicyViolation};
pub use pool::{PoolConfig, PoolMetrics, PooledSession, SessionPool};
pub use session::Session;
pub use stream::{StreamIo, WsConnector};
