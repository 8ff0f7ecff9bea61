//! A synchronous client for scripts (feature `blocking`).
//!
//! [`Agb`] owns a tokio runtime with one worker thread; each call blocks the calling thread
//! until the answer arrives. Do not use it from async code (inside a tokio runtime), where
//! blocking would stall the executor and dropping the runtime panics: use the async
//! [`crate::Agb`] there.
//!
//! ```no_run
//! use agbcloud::blocking::Agb;
//! use agbcloud::{CreateParams, Language};
//!
//! # fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let agb = Agb::new()?;
//! let session = agb.create(CreateParams::default())?;
//! println!("{}", session.run_code("1 + 1", Language::Python)?.text());
//! session.delete()?;
//! # Ok(()) }
//! ```

use std::future::IntoFuture as _;
use std::sync::Arc;

use agbcloud_session::{
    CodeRun, CommandOutput, CreateParams, IntoLanguage, ListFilter, Result, SessionSummary,
};
use tokio::runtime::Runtime;

use crate::config::{AgbBuilder, BuildError};

/// The synchronous client: the async [`crate::Agb`] plus a runtime thread.
#[derive(Debug, Clone)]
pub struct Agb {
    inner: crate::Agb,
    runtime: Arc<Runtime>,
}

/// A session of the synchronous client.
#[derive(Debug, Clone)]
pub struct Session {
    inner: crate::Session,
    runtime: Arc<Runtime>,
}

impl Agb {
    /// A client configured as `agbcloud::builder()` would be (environment, `.env`, embedded
    /// default).
    pub fn new() -> Result<Self, BuildError> {
        Self::from_builder(AgbBuilder::default())
    }

    /// A client from a configured builder.
    pub fn from_builder(builder: AgbBuilder) -> Result<Self, BuildError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("agb-blocking")
            .enable_all()
            .build()
            .map_err(|error| BuildError::InvalidSetting {
                setting: "runtime",
                message: error.to_string(),
            })?;
        let inner = {
            let _entered = runtime.enter();
            builder.build()?
        };
        Ok(Self {
            inner,
            runtime: Arc::new(runtime),
        })
    }

    /// The async client inside.
    pub fn as_async(&self) -> &crate::Agb {
        &self.inner
    }

    /// Creates a session.
    pub fn create(&self, params: CreateParams) -> Result<Session> {
        let inner = self.runtime.block_on(self.inner.create(params))?;
        Ok(self.wrap(inner))
    }

    /// Fetches an existing session.
    pub fn get(&self, session_id: &str) -> Result<Session> {
        let inner = self.runtime.block_on(self.inner.get(session_id))?;
        Ok(self.wrap(inner))
    }

    /// Lists every matching session.
    pub fn list(&self, filter: ListFilter) -> Result<Vec<SessionSummary>> {
        self.runtime.block_on(self.inner.list_all(filter))
    }

    /// Deletes a session and waits until it is gone.
    pub fn delete(&self, session_id: &str) -> Result<()> {
        self.runtime.block_on(self.inner.delete(session_id))
    }

    fn wrap(&self, inner: crate::Session) -> Session {
        Session {
            inner,
            runtime: self.runtime.clone(),
        }
    }
}

impl Session {
    /// The session id.
    pub fn id(&self) -> &str {
        self.inner.id()
    }

    /// The async session inside.
    pub fn as_async(&self) -> &crate::Session {
        &self.inner
    }

    /// Runs code (see [`crate::Code::run`]).
    pub fn run_code(&self, code: &str, language: impl IntoLanguage) -> Result<CodeRun> {
        self.runtime
            .block_on(self.inner.code().run(code, language).into_future())
    }

    /// Runs a shell command (see [`crate::Command::exec`]).
    pub fn exec(&self, command: &str) -> Result<CommandOutput> {
        self.runtime
            .block_on(self.inner.command().exec(command).into_future())
    }

    /// Reads a text file.
    pub fn read_text(&self, path: &str) -> Result<String> {
        self.runtime.block_on(self.inner.fs().read_text(path))
    }

    /// Writes a text file.
    pub fn write_text(&self, path: &str, content: &str) -> Result<()> {
        self.runtime
            .block_on(self.inner.fs().write_text(path, content))
    }

    /// Deletes the session and waits until it is gone.
    pub fn delete(&self) -> Result<()> {
        self.runtime.block_on(self.inner.delete())
    }
}
