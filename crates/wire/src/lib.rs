//! The AGB wire protocol, with no IO.
//!
//! Endpoint descriptors, typed requests and responses, the response envelope and its success
//! rules, tool arguments and result parsers, and `SandboxPath` validated remote paths.
//! Nothing here opens a socket or needs an async runtime.
//!
//! | Module | What it holds |
//! |---|---|
//! | [`endpoint`], [`endpoints`] | `Endpoint` descriptors (generated from `api/agb-api.toml`), idempotency, success rules, routing |
//! | [`request`] | `ApiCall`, `ApiRequest` building, query encoding, server-side request decoding |
//! | [`envelope`], [`error_code`] | the response envelope, §1.6 success rules, request ids, error codes |
//! | [`session`], [`context`] | params and data of the session, label, link, context and file-URL endpoints |
//! | [`tools`] | tool calls: args, result parsers and renderers for `shell`, `run_code`, file tools, metrics, the link route |
//! | [`stream`] | WebSocket frames and the `run_code` stream fold |
//! | [`path`] | `SandboxPath` |
//! | [`headers`] | header names, `Bearer` values |
//! | [`error`] | `WireError` |
//!
//! Each text format of the protocol is defined once, in both directions: servers render with
//! it and clients parse with it, so they cannot drift apart.
//!
//! Client side: build an [`ApiRequest`] from typed params, send it with any HTTP stack, and
//! decode the body with [`Envelope::from_slice`]:
//!
//! ```
//! use agbcloud_wire::{ApiCall, Envelope, endpoints, session::GetSessionInfoParams};
//!
//! let request = GetSessionInfoParams::new("s-1").to_request()?;
//! assert_eq!(request.endpoint, &endpoints::GET_SESSION_INFO);
//! assert_eq!(request.body.as_deref(), Some(&br#"{"sessionId":"s-1"}"#[..]));
//!
//! let body = br#"{"success": true, "requestId": "r-1", "data": {"status": "RUNNING"}}"#;
//! let envelope: Envelope<<GetSessionInfoParams as ApiCall>::Data> = Envelope::from_slice(body)?;
//! assert!(envelope.is_success(200, endpoints::GET_SESSION_INFO.success));
//! assert_eq!(envelope.data.unwrap().status, "RUNNING");
//! # Ok::<(), agbcloud_wire::WireError>(())
//! ```
//!
//! Server side: find the endpoint with [`endpoint::find`], decode the params with
//! [`decode_request`], and answer with an [`Envelope`]; tool results are rendered with the
//! `render*` functions and `to_tool_data` methods of [`tools`]:
//!
//! ```
//! use agbcloud_wire::tools::{CallToolParams, shell::{ShellArgs, ShellReport}};
//! use agbcloud_wire::{Envelope, Method, decode_request, endpoint, endpoints};
//!
//! // What the Python SDK sends (form-encoded query, JSON body with `args` as a string).
//! let found = endpoint::find(Method::Post, "//mcp").expect("routed");
//! assert_eq!(found, &endpoints::CALL_MCP_TOOL);
//! let call: CallToolParams = decode_request(
//!     "autoGenSession=false",
//!     br#"{"args": "{\"command\": \"ls /nope\"}", "sessionId": "s-1", "name": "shell"}"#,
//! )?;
//! let args: ShellArgs = call.decode_args()?;
//! assert_eq!(args.command, "ls /nope");
//!
//! // The reply: a non-zero exit is `isError: true` with the JSON text and an empty message.
//! let report = ShellReport::finished("", "ls: cannot access '/nope'\n", 2);
//! let body = Envelope::ok("req-1", report.to_tool_data()).to_vec()?;
//! assert!(std::str::from_utf8(&body).unwrap().contains(r#""isError":true"#));
//! # Ok::<(), agbcloud_wire::WireError>(())
//! ```
#![deny(missing_docs)]

pub mod context;
pub mod endpoint;
pub mod endpoints;
pub mod envelope;
pub mod error;
pub mod error_code;
pub mod headers;
pub mod path;
pub mod request;
mod serde_util;
pub mod session;
pub mod stream;
pub mod tools;

pub use endpoint::{Endpoint, Method, SuccessRule};
pub use envelope::{Envelope, Ignored, request_id};
pub use error::WireError;
pub use error_code::ErrorCode;
pub use path::{PathError, SandboxPath};
pub use request::{
    ApiCall, ApiRequest, decode_params, decode_query, decode_request, decode_response, encode_query,
};
