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
//!
//! # Making a call
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use agbcloud_transport::{CallOptions, RetryConfig, TimeoutConfig, Transport};
//!
//! let transport = Transport::builder()
//!     .endpoint("sdk-api.agb.cloud") // becomes https://sdk-api.agb.cloud
//!     .api_key("akm-...")
//!     .timeouts(TimeoutConfig::default().attempt(Some(Duration::from_secs(60))))
//!     .retry(RetryConfig::default().max_attempts(4))
//!     .build()?;
//!
//! // Idempotent: retried after timeouts, resets and 502/504 as well.
//! let request = http::Request::post("/mcp/getSession")
//!     .header("content-type", "application/json")
//!     .body(bytes::Bytes::from_static(br#"{"SessionId":"s-1"}"#))?;
//! let response = transport.send(request, &CallOptions::idempotent("GetSession")).await?;
//!
//! // Not idempotent, and bounded by its own timeout rather than the client's.
//! let request = http::Request::post("/mcp")
//!     .body(bytes::Bytes::from_static(b"{}"))?;
//! let options = CallOptions::non_idempotent("CallMcpTool").timeout(Duration::from_secs(605));
//! match transport.send(request, &options).await {
//!     Ok(response) => println!("{}", response.status()),
//!     Err(error) if error.is_timeout() => println!("may have run: {}", error.may_have_been_sent()),
//!     Err(error) => return Err(error.into()),
//! }
//! # drop(response);
//! # Ok(()) }
//! ```
//!
//! # Plugging in another sender
//!
//! ```
//! use agbcloud_transport::{HttpSend, SendFuture, Transport, TransportError};
//! use bytes::Bytes;
//!
//! /// Answers in-process, like the embedded engine's router.
//! #[derive(Debug)]
//! struct InProcess;
//!
//! impl HttpSend for InProcess {
//!     fn send(&self, request: http::Request<Bytes>) -> SendFuture<'_> {
//!         Box::pin(async move {
//!             if request.uri().path() == "/down" {
//!                 return Err(TransportError::connect("engine stopped"));
//!             }
//!             Ok(http::Response::new(Bytes::from_static(br#"{"success":true}"#)))
//!         })
//!     }
//! }
//!
//! let transport = Transport::builder()
//!     .endpoint("http://embedded")
//!     .http_send(InProcess)
//!     .build()
//!     .expect("valid configuration");
//! # drop(transport);
//! ```
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
pub use request_id::{ProvideRequestId, REQUEST_ID_HEADER, RequestId};
pub use retry::RetryConfig;
pub use secret::Secret;
pub use send::{HttpSend, SendFuture, SharedHttpSend};
pub use timeout::TimeoutConfig;
pub use transport::{BuildError, DEFAULT_USER_AGENT, Transport, TransportBuilder};
