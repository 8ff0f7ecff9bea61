//! The AGB wire protocol, with no IO.
//!
//! Endpoint descriptors, typed requests and responses, the response envelope and its success
//! rules, tool arguments and result parsers, and `SandboxPath` validated remote paths.
//! Nothing here opens a socket or needs an async runtime.
#![deny(missing_docs)]
