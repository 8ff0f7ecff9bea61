//! HTTP transport for the AGB SDK.
//!
//! Its one job: send an AGB request and bring back the response, with retries, backoff,
//! timeouts and request ids. The [`HttpSend`] seam lets users swap the transport: anything
//! that can answer one `http::Request<Bytes>` with one `http::Response<Bytes>` can carry the
//! SDK's traffic, including an in-process server router with no socket.
#![forbid(unsafe_code)]

mod error;
mod send;

pub use error::{BoxError, ErrorKind, TransportError};
pub use send::{HttpSend, SendFuture, SharedHttpSend};
