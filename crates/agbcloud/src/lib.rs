//! Rust SDK for the AGB cloud sandbox service.
//!
//! Its one job: be the front door. It re-exports the layered crates, builds a client from
//! explicit values, the environment and `.env`, and runs sessions on the local machine when no
//! cloud endpoint is configured.
