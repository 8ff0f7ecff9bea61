//! HTTP transport for the AGB SDK.
//!
//! Its one job: send an AGB request and bring back the response, with retries, backoff,
//! timeouts and request ids. The `HttpSend` seam lets users swap the transport.
