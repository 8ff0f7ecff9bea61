//! Rust SDK for the AGB cloud sandbox service.
//!
//! Its one job: be the front door. It re-exports the layered crates, builds a client from
//! explicit values, the environment and `.env`, and runs sessions on the local machine when no
//! cloud endpoint is configured.
//!
//! ```no_run
//! use agbcloud::prelude::*;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! // No AGB_ENDPOINT and no AGB_API_KEY: sessions run in-process on this machine.
//! let agb = Agb::builder().build()?;
//! let session = agb.create_guarded(CreateParams::default()).await?;
//! let run = session.code().run("sum(range(10))", Language::Python).await?;
//! assert_eq!(run.text(), "45");
//! let out = session.command().exec("echo hi").await?;
//! assert_eq!(out.stdout, "hi\n");
//! session.fs().write_text("/tmp/a.txt", "alpha").await?;
//! assert_eq!(session.fs().read_text("/tmp/a.txt").await?, "alpha");
//! session.close().await?;
//! # Ok(()) }
//! ```
//!
//! Configuration precedence (as in the official SDKs): explicit builder values, then the
//! process environment (`AGB_API_KEY`, `AGB_ENDPOINT`, `AGB_TIMEOUT_MS`), then a `.env` file
//! in the working directory, then defaults. An endpoint without a scheme gets `https://`.
//! With neither an endpoint nor an API key, the client uses the embedded engine (feature
//! `embedded`, on by default).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "blocking")]
pub mod blocking;
mod config;

pub use agbcloud_session::*;
pub use config::{AgbBuilder, AgbExt, Backend, BuildError, DEFAULT_ENDPOINT};

/// The wire protocol (`agbcloud-wire`): endpoint descriptors, types, result parsers.
pub use agbcloud_wire as wire;

/// The HTTP transport (`agbcloud-transport`): the `HttpSend` seam, retries, timeouts.
pub use agbcloud_transport as transport;

/// File transfer (`agbcloud-files`).
pub use agbcloud_files as files;

/// The local engine (`agbcloud-server`), present with the `embedded` feature.
#[cfg(feature = "embedded")]
pub use agbcloud_server as server;

/// Starts building a client (same as `Agb::builder()` with [`AgbExt`] in scope).
pub fn builder() -> AgbBuilder {
    AgbBuilder::default()
}

/// The names most programs need: `use agbcloud::prelude::*;`.
pub mod prelude {
    pub use crate::AgbExt as _;
    pub use crate::{
        Agb, CodePolicy, CodeRun, CommandOutput, CreateParams, Error, Language, ListFilter,
        PoolConfig, ResultCache, Session, SessionGuard, SessionPool,
    };
}
