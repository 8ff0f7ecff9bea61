//! Conformance suite for AGB servers.
//!
//! Its one job: check that a server behaves as the AGB protocol and the official SDKs expect.
