//! HTTP transport for the AGB SDK.
//!
//! Its one job: send an AGB request and bring back the response, with retries, backoff,
//! timeouts and request ids.
//!
//! - [`HttpSend`] is the seam: one attempt at one request. The SDK's session and file
//!   crates depend on it alone, so a user can swap the transport and the embedded engine can
//!   answer in-process with no socket.
//! - [`Transport`] wraps any [`HttpSend`] with the base URL, the `authorization` and
//!   `user-agent` headers, connect/attempt/operation timeouts, retries classified in one
//!   place ([`retry::classify`]), exponential backoff with full jitter, a per-client retry
//!   budget, request ids and a tracing span per call.
//! - `HyperClient` (feature `client`, on by default) is the default [`HttpSend`]: hyper 1,
//!   hyper-util's keep-alive pool and rustls.
//! - The `test_util` module (feature `test-util`) has capturing, replaying and never-answering
//!   clients.
#![forbid(unsafe_code)]

mod backoff;
mod base_url;
mod budget;
#[cfg(feature = "client")]
mod client;
mod clock;
mod error;
mod options;
mod random;
mod request_id;
pub mod retry;
mod secret;
mod send;
#[cfg(any(test, feature = "test-util"))]
pub mod test_util;
mod timeout;
#[cfg(feature = "client")]
mod tls;
mod transport;

pub use backoff::Backoff;
pub use base_url::{BaseUrl, InvalidEndpoint};
pub use budget::{BudgetConfig, RetryBudget};
#[cfg(feature = "client")]
pub use client::{HyperClient, HyperClientBuilder};
pub use clock::{Clock, SharedClock, Sleep, TokioClock};
pub use error::{BoxError, ErrorKind, TransportError};
pub use options::CallOptions;
pub use random::{FixedRandom, RandomSource, SharedRandom, ThreadRandom};
pub use request_id::{REQUEST_ID_HEADER, RequestId};
pub use retry::RetryConfig;
pub use secret::Secret;
pub use send::{HttpSend, SendFuture, SharedHttpSend};
pub use timeout::TimeoutConfig;
pub use transport::{BuildError, DEFAULT_USER_AGENT, Transport, TransportBuilder};
