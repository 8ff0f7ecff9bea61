//! Code execution: `session.code().run(code, language)`.
//!
//! A plain `.await` uses the HTTP `run_code` call. With callbacks ([`RunCode::on_stdout`]...)
//! or [`RunCode::stream`], a session that can stream does so over its WebSocket
//! (agb-protocol.md §7): each stdout or stderr chunk arrives as it is flushed. A session can
//! stream when it has a token and either a `ws://` `wsUrl` or, for the embedded engine, an
//! in-process connection ([`ClientOptions::ws_connector`](crate::ClientOptions)). Otherwise
//! (`wss://` needs a TLS stack this crate does not carry) the same events are delivered when
//! the run has finished. Cached runs never stream.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use agbcloud_wire::tools::code::{
    CodeExecution, ExecutionError, ExecutionLogs, ExecutionResult, Language, RunCodeArgs,
    parse_run_code_result,
};
use futures_util::Stream;

use crate::cache::{CacheKey, ResultCache};
use crate::error::{Error, Result};
use crate::session::Session;

/// Anything that names a language: a [`Language`], or a name such as `"py"` or `"node"`
/// (trimmed, case-insensitive, with the official aliases). An unsupported name is refused
/// before any request.
pub trait IntoLanguage {
    /// The language, or the official SDK's "Unsupported language" message.
    fn into_language(self) -> Result<Language>;
}

impl IntoLanguage for Language {
    fn into_language(self) -> Result<Language> {
        Ok(self)
    }
}

impl IntoLanguage for &str {
    fn into_language(self) -> Result<Language> {
        Language::parse(self).map_err(|error| Error::invalid(error.to_string()))
    }
}

impl IntoLanguage for String {
    fn into_language(self) -> Result<Language> {
        self.as_str().into_language()
    }
}

impl IntoLanguage for &String {
    fn into_language(self) -> Result<Language> {
        self.as_str().into_language()
    }
}

/// The outcome of a run. A code exception is data here (`success == false`, `error`), not an
/// [`Error`].
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct CodeRun {
    /// No exception, no timeout, no tool failure.
    pub success: bool,
    /// The kernel's execution counter, when reported.
    pub execution_count: Option<i64>,
    /// Execution time measured by the kernel.
    pub execution_time: Duration,
    /// Standard output and error chunks.
    pub logs: ExecutionLogs,
    /// Results: the last expression's value (`is_main_result`) and display outputs.
    pub results: Vec<ExecutionResult>,
    /// The exception: name, value, traceback.
    pub error: Option<ExecutionError>,
    /// Empty on success.
    pub error_message: String,
    /// The server's request id (`None` for a cached result that had none).
    pub request_id: Option<String>,
    /// Served by a [`ResultCache`] without a request.
    pub from_cache: bool,
}

impl CodeRun {
    pub(crate) fn from_execution(execution: CodeExecution, request_id: Option<String>) -> Self {
        Self {
            success: execution.success,
            execution_count: execution.execution_count,
            execution_time: Duration::try_from_secs_f64(execution.execution_time)
                .unwrap_or_default(),
            logs: execution.logs,
            results: execution.results,
            error: execution.error,
            error_message: execution.error_message,
            request_id,
            from_cache: false,
        }
    }

    /// The main result's text, else the first result's text, else all of stdout (the
    /// official SDK's `result` property).
    pub fn text(&self) -> String {
        self.main_result()
            .and_then(|result| result.text.clone())
            .or_else(|| self.results.iter().find_map(|result| result.text.clone()))
            .unwrap_or_else(|| self.stdout())
    }

    /// The last expression's value, if any.
    pub fn main_result(&self) -> Option<&ExecutionResult> {
        self.results.iter().find(|result| result.is_main_result)
    }

    /// All of standard output.
    pub fn stdout(&self) -> String {
        self.logs.stdout.concat()
    }

    /// All of standard error.
    pub fn stderr(&self) -> String {
        self.logs.stderr.concat()
    }

    /// An approximate size in bytes, for the cache's byte budget.
    pub(crate) fn approx_bytes(&self) -> usize {
        let logs: usize = self
            .logs
            .stdout
            .iter()
            .chain(&self.logs.stderr)
            .map(String::len)
            .sum();
        let results: usize = self
            .results
            .iter()
            .map(|result| serde_json::to_string(result).map_or(0, |text| text.len()))
            .sum();
        logs + results + self.error_message.len() + 128
    }

    /// The events of this run, in order: stdout, stderr, results, the error, the end.
    pub fn events(&self) -> Vec<CodeEvent> {
        let mut events: Vec<CodeEvent> = Vec::new();
        events.extend(self.logs.stdout.iter().cloned().map(CodeEvent::Stdout));
        events.extend(self.logs.stderr.iter().cloned().map(CodeEvent::Stderr));
        events.extend(self.results.iter().cloned().map(CodeEvent::Result));
        if let Some(error) = &self.error {
            events.push(CodeEvent::Error(error.clone()));
        }
        events.push(CodeEvent::End(Box::new(self.clone())));
        events
    }
}

impl agbcloud_transport::ProvideRequestId for CodeRun {
    fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}

/// One event of a run (see the module docs on timing).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CodeEvent {
    /// A chunk of standard output.
    Stdout(String),
    /// A chunk of standard error.
    Stderr(String),
    /// A result (display output or the main result).
    Result(ExecutionResult),
    /// The exception.
    Error(ExecutionError),
    /// The run is over; the complete result.
    End(Box<CodeRun>),
}

/// Code execution in one session.
#[derive(Debug, Clone, Copy)]
pub struct Code<'s> {
    session: &'s Session,
}

type TextCallback<'s> = Box<dyn FnMut(&str) + Send + 's>;
type ResultCallback<'s> = Box<dyn FnMut(&ExecutionResult) + Send + 's>;

impl<'s> Code<'s> {
    pub(crate) fn new(session: &'s Session) -> Self {
        Self { session }
    }

    /// Runs `code` in `language` in the session's stateful kernel (variables persist between
    /// runs). Await the returned builder, or set options on it first.
    pub fn run(&self, code: impl Into<String>, language: impl IntoLanguage) -> RunCode<'s> {
        RunCode {
            session: self.session,
            code: code.into(),
            language: language.into_language(),
            timeout: Duration::from_secs(agbcloud_wire::tools::code::DEFAULT_TIMEOUT_S),
            on_stdout: None,
            on_stderr: None,
            on_result: None,
            cache: None,
            kernel_state: false,
        }
    }
}

/// A pending `run_code` call: set options, then `.await` it (or call [`RunCode::stream`]).
#[must_use = "a RunCode does nothing until awaited"]
pub struct RunCode<'s> {
    session: &'s Session,
    code: String,
    language: Result<Language>,
    timeout: Duration,
    on_stdout: Option<TextCallback<'s>>,
    on_stderr: Option<TextCallback<'s>>,
    on_result: Option<ResultCallback<'s>>,
    cache: Option<&'s ResultCache>,
    kernel_state: bool,
}

impl<'s> RunCode<'s> {
    /// The execution timeout inside the sandbox (default 60 s, whole seconds on the wire).
    /// The HTTP call is bounded by this plus the client's margin.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Called with each stdout chunk (live when the session can stream, see the module docs).
    pub fn on_stdout(mut self, callback: impl FnMut(&str) + Send + 's) -> Self {
        self.on_stdout = Some(Box::new(callback));
        self
    }

    /// Called with each stderr chunk (live when the session can stream).
    pub fn on_stderr(mut self, callback: impl FnMut(&str) + Send + 's) -> Self {
        self.on_stderr = Some(Box::new(callback));
        self
    }

    /// Called with each result (live when the session can stream).
    pub fn on_result(mut self, callback: impl FnMut(&ExecutionResult) + Send + 's) -> Self {
        self.on_result = Some(Box::new(callback));
        self
    }

    /// Marks this call deterministic and serves it from `cache` when possible: a successful
    /// run is stored under (image, language, code, kernel-state flag).
    pub fn cache(mut self, cache: &'s ResultCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Declares that the code reads kernel state left by earlier runs, so its cached result
    /// is kept apart from a fresh-kernel run of the same code (default `false`).
    pub fn kernel_state(mut self, depends_on_state: bool) -> Self {
        self.kernel_state = depends_on_state;
        self
    }

    /// The run's events as a stream: live over the session's WebSocket when it has one,
    /// else delivered when the run has finished (see the module docs).
    pub fn stream(mut self) -> impl Stream<Item = Result<CodeEvent>> + Send + 's {
        use futures_util::StreamExt;
        use futures_util::future::Either;
        match self.prepare() {
            Err(error) => Either::Left(futures_util::stream::once(async { Err(error) })),
            Ok(language) if self.cache.is_none() && crate::stream::can_stream(self.session) => {
                let request = self.stream_request(language);
                Either::Right(Either::Left(crate::stream::run_stream(
                    self.session.clone(),
                    request,
                )))
            }
            Ok(_) => Either::Right(Either::Right(
                futures_util::stream::once(self.execute()).flat_map(|outcome| {
                    let events: Vec<Result<CodeEvent>> = match outcome {
                        Ok(run) => run.events().into_iter().map(Ok).collect(),
                        Err(error) => vec![Err(error)],
                    };
                    futures_util::stream::iter(events)
                }),
            )),
        }
    }

    /// Checks the language and the client's policy; nothing is sent.
    fn prepare(&mut self) -> Result<Language> {
        let language = std::mem::replace(&mut self.language, Ok(Language::Python))?;
        if let Some(policy) = &self.session.agb().options().code_policy {
            policy.check(&self.code, language)?;
        }
        self.language = Ok(language);
        Ok(language)
    }

    fn stream_request(&mut self, language: Language) -> crate::stream::StreamRequest {
        crate::stream::StreamRequest {
            code: std::mem::take(&mut self.code),
            language,
            timeout_s: self.timeout.as_secs().max(1),
        }
    }

    fn has_callbacks(&self) -> bool {
        self.on_stdout.is_some() || self.on_stderr.is_some() || self.on_result.is_some()
    }

    /// Streams the run over the WebSocket, calling the callbacks as events arrive; bounded by
    /// the run's timeout plus the client's margin.
    async fn execute_streaming(mut self, language: Language) -> Result<CodeRun> {
        let limit =
            self.timeout.max(Duration::from_secs(1)) + self.session.agb().options().timeout_margin;
        match tokio::time::timeout(limit, self.stream_with_callbacks(language)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Error::Timeout {
                message: format!("no end of the streamed run within {limit:?}"),
                sent: crate::error::RequestSent::Maybe,
            }),
        }
    }

    async fn stream_with_callbacks(&mut self, language: Language) -> Result<CodeRun> {
        use futures_util::StreamExt;
        let request = self.stream_request(language);
        let mut events = std::pin::pin!(crate::stream::run_stream(self.session.clone(), request));
        while let Some(event) = events.next().await {
            match event? {
                CodeEvent::Stdout(chunk) => {
                    if let Some(callback) = &mut self.on_stdout {
                        callback(&chunk);
                    }
                }
                CodeEvent::Stderr(chunk) => {
                    if let Some(callback) = &mut self.on_stderr {
                        callback(&chunk);
                    }
                }
                CodeEvent::Result(result) => {
                    if let Some(callback) = &mut self.on_result {
                        callback(&result);
                    }
                }
                CodeEvent::Error(_) => {}
                CodeEvent::End(run) => return Ok(*run),
            }
        }
        Err(Error::invalid("the stream ended without a result"))
    }

    async fn execute(mut self) -> Result<CodeRun> {
        let language = self.prepare()?;
        if self.cache.is_none() && self.has_callbacks() && crate::stream::can_stream(self.session) {
            return self.execute_streaming(language).await;
        }
        let agb = self.session.agb();
        let key = self.cache.map(|_| {
            CacheKey::new(
                self.session.image_id().unwrap_or_default(),
                language,
                &self.code,
                self.kernel_state,
            )
        });
        if let (Some(cache), Some(key)) = (self.cache, &key)
            && let Some(mut hit) = cache.get(key)
        {
            hit.from_cache = true;
            self.deliver(&hit);
            return Ok(hit);
        }
        let timeout_s = self.timeout.as_secs().max(1);
        let args = RunCodeArgs {
            code: std::mem::take(&mut self.code),
            language,
            timeout_s,
        };
        let limit = Duration::from_secs(timeout_s) + agb.options().timeout_margin;
        let reply = agb.call_tool(self.session.id(), &args, Some(limit)).await?;
        let run = if reply.is_error {
            CodeRun {
                error_message: if reply.text.is_empty() {
                    "Tool execution failed".to_owned()
                } else {
                    reply.text
                },
                request_id: reply.request_id,
                ..CodeRun::default()
            }
        } else {
            CodeRun::from_execution(parse_run_code_result(&reply.text), reply.request_id)
        };
        if let (Some(cache), Some(key)) = (self.cache, key)
            && run.success
        {
            cache.insert(key, &run);
        }
        self.deliver(&run);
        Ok(run)
    }

    fn deliver(&mut self, run: &CodeRun) {
        if let Some(callback) = &mut self.on_stdout {
            run.logs.stdout.iter().for_each(|chunk| callback(chunk));
        }
        if let Some(callback) = &mut self.on_stderr {
            run.logs.stderr.iter().for_each(|chunk| callback(chunk));
        }
        if let Some(callback) = &mut self.on_result {
            run.results.iter().for_each(callback);
        }
    }
}

impl<'s> IntoFuture for RunCode<'s> {
    type Output = Result<CodeRun>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<CodeRun>> + Send + 's>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.execute())
    }
}
