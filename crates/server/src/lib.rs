//! The AGB HTTP API served over the local sandbox runtime.
//!
//! Its one job: speak the AGB protocol exactly, so that our SDK and the official SDKs work
//! against a local engine, over a socket or in-process.
