//! The AGB HTTP API served over the local sandbox runtime.
//!
//! Its one job: speak the AGB protocol exactly, so that our SDK and the official SDKs work
//! against a local engine, over a socket or in-process ([`Embedded`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), agbcloud_server::ServerError> {
//! use agbcloud_server::{Embedded, ServerConfig};
//!
//! let engine = Embedded::start(ServerConfig::embedded())?;
//! let send = engine.http_send(); // an agbcloud_transport::HttpSend, no socket
//! # let _ = send;
//! engine.shutdown().await;
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
