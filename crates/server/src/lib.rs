//! The AGB HTTP API served over the local sandbox runtime.
//!
//! Its one job: speak the AGB protocol exactly, so that our SDK and the official SDKs work
//! against a local engine, over a socket ([`Server`], `agb serve`) or in-process
//! ([`Embedded`]). Every session runs in its own `agbcloud_sandbox::Sandbox`; code runs in
//! the session's language kernels inside it, and the file tools see its own filesystem.
//!
//! What is served (agb-protocol.md §2–§4, §7, §8):
//! - sessions: `createSession` (any image id; unknown ids use the default image), `getSession`,
//!   `getSessionInfo`, `releaseSession`, `releaseSessionAsync`, `ListSession` (label filter,
//!   top-level `nextToken`/`maxResults`/`count`), `SetLabel`/`GetLabel`,
//!   `refreshSessionIdleTime`, `listTools`, `getMcpResource`;
//! - tools through `POST /mcp`: `run_code`, `shell`, every file-system tool, `get_metrics`
//!   ([`tools`]); the same dispatcher behind `POST /link/callTool` ([`link`]) and the
//!   WebSocket at `/ws` ([`ws`]);
//! - API keys and tenancy ([`auth`], [`registry`]): another key's session is "not found";
//! - the idle reaper ([`reaper`]): tool calls and keep-alive restart the timer, status
//!   polls do not.
//!
//! Context and file-transfer endpoints (§5–§6) and port forwarding answer
//! `501 NotImplemented` envelopes.
//!
//! Embedded use, as the SDK facade does it:
//!
//! ```no_run
//! # async fn demo() -> Result<(), agbcloud_server::ServerError> {
//! use agbcloud_server::{Embedded, ServerConfig};
//!
//! let engine = Embedded::start(ServerConfig::embedded())?; // sync, no runtime needed
//! let send = engine.http_send(); // an agbcloud_transport::SharedHttpSend, no socket
//! let base = engine.base_url(); // "http://embedded.agb.local"
//! # let _ = (send, base);
//! engine.shutdown().await; // destroys every session (dropping the last clone does too)
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod app;
pub mod auth;
pub mod config;
pub mod embedded;
pub mod envelope;
pub mod error;
pub mod link;
pub mod reaper;
pub mod registry;
pub mod router;
pub mod serve;
pub mod tools;
pub mod ws;

pub use config::{AuthMode, ServerConfig};
pub use embedded::Embedded;
pub use error::ServerError;
pub use router::Router;
pub use serve::{RunningServer, Server};

/// The local sandbox runtime the server runs on (used directly by `agb sandbox` and
/// `agb doctor`, which may depend on this crate but not on the runtime itself).
pub use agbcloud_sandbox as sandbox;
