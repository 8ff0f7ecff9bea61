//! `Agb`, the client: one transport (one connection pool), session lifecycle calls, and the
//! request/response plumbing every handle goes through.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use agbcloud_transport::{CallOptions, RequestId, Transport};
use agbcloud_wire::context::GetContextInfoParams;
use agbcloud_wire::session::{
    GetSessionParams, ListSessionParams, ReleaseSessionAsyncParams, SdkStats, SessionSummary,
};
use agbcloud_wire::tools::{CallToolParams, ToolArgs, ToolCallData};
use agbcloud_wire::{ApiCall, Envelope, ErrorCode};
use bytes::Bytes;
use futures_util::Stream;

use crate::error::{Error, RequestSent, Result};
use crate::guard::SessionGuard;
use crate::list::{ListFilter, list_stream};
use crate::params::CreateParams;
use crate::policy::CodePolicy;
use crate::session::Session;
use crate::stream::WsConnector;

/// Settings of an [`Agb`] client beyond its transport. Defaults are documented per field.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClientOptions {
    /// Added to a code or command call's own timeout to bound the HTTP call (default 5 s).
    pub timeout_margin: Duration,
    /// How long [`Agb::delete`] waits for the session to be gone (default 60 s).
    pub delete_timeout: Duration,
    /// First delay between status polls while deleting; doubles up to 1 s (default 20 ms).
    pub delete_poll: Duration,
    /// Checks every `code().run()` before it is sent (default: none).
    pub code_policy: Option<Arc<CodePolicy>>,
    /// Opens stream connections in-process instead of over `wsUrl` (set by the embedded
    /// engine; default: none).
    pub ws_connector: Option<Arc<dyn WsConnector>>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout_margin: Duration::from_secs(5),
            delete_timeout: Duration::from_secs(60),
            delete_poll: Duration::from_millis(20),
            code_policy: None,
            ws_connector: None,
        }
    }
}

impl ClientOptions {
    /// Sets [`ClientOptions::timeout_margin`].
    #[must_use]
    pub fn timeout_margin(mut self, margin: Duration) -> Self {
        self.timeout_margin = margin;
        self
    }

    /// Sets [`ClientOptions::delete_timeout`].
    #[must_use]
    pub fn delete_timeout(mut self, limit: Duration) -> Self {
        self.delete_timeout = limit;
        self
    }

    /// Sets [`ClientOptions::ws_connector`].
    #[must_use]
    pub fn ws_connector(mut self, connector: Arc<dyn WsConnector>) -> Self {
        self.ws_connector = Some(connector);
        self
    }

    /// Sets [`ClientOptions::code_policy`].
    #[must_use]
    pub fn code_policy(mut self, policy: CodePolicy) -> Self {
        self.code_policy = Some(Arc::new(policy));
        self
    }
}

/// The AGB client: cheap to clone (an `Arc` inside), `Send + Sync`, one connection pool.
///
/// Build it from a [`Transport`] here, or with `agbcloud::Agb::builder()`, which reads the
/// configuration and falls back to the embedded local engine.
///
/// ```no_run
/// # async fn demo(agb: agbcloud_session::Agb) -> agbcloud_session::Result<()> {
/// use agbcloud_session::{CreateParams, Language};
///
/// let session = agb.create(CreateParams::new("agb-code-space-1")).await?;
/// let run = session.code().run("1 + 1", Language::Python).await?;
/// assert_eq!(run.text(), "2");
/// session.delete().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Agb {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    options: ClientOptions,
    backend: String,
    _keep_alive: Option<Arc<dyn Any + Send + Sync>>,
}

impl fmt::Debug for Agb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Agb")
            .field("backend", &self.inner.backend)
            .field("transport", &self.inner.transport)
            .finish_non_exhaustive()
    }
}

/// A decoded, successful response.
pub(crate) struct Reply<T> {
    pub(crate) envelope: Envelope<T>,
    pub(crate) request_id: Option<String>,
}

/// A tool call's outcome: its text and whether the tool flagged it as an error.
pub(crate) struct ToolReply {
    pub(crate) text: String,
    pub(crate) is_error: bool,
    pub(crate) request_id: Option<String>,
}

impl Agb {
    /// A client over `transport` with default options.
    pub fn from_transport(transport: Transport) -> Self {
        Self::from_parts(transport, ClientOptions::default(), None)
    }

    /// A client over `transport` with `options`; `keep_alive` is held as long as any clone
    /// of the client (or a session of it) lives: the embedded engine goes there.
    pub fn from_parts(
        transport: Transport,
        options: ClientOptions,
        keep_alive: Option<Arc<dyn Any + Send + Sync>>,
    ) -> Self {
        let backend = transport
            .base_url()
            .map_or_else(|| "unconfigured".to_owned(), |url| url.origin().to_owned());
        Self {
            inner: Arc::new(Inner {
                transport,
                options,
                backend,
                _keep_alive: keep_alive,
            }),
        }
    }

    /// The transport (shared connection pool, retries, timeouts).
    pub fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// The options.
    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// Creates a session and waits until it is usable.
    pub async fn create(&self, params: CreateParams) -> Result<Session> {
        let image_id = params.image_id().to_owned();
        let mut wire = params.into_wire()?;
        wire.sdk_stats = Some(SdkStats::rust());
        let has_mounts = !wire.persistence_data_list.is_empty();
        let reply = self.call(&wire, None, None).await?;
        let data = reply.envelope.data.unwrap_or_default();
        let id = data
            .created_session_id(&reply.envelope.message)
            .map(str::to_owned)
            .map_err(|message| Error::Api {
                code: reply.envelope.code.clone(),
                status: reply.envelope.http_status_code.unwrap_or(200),
                message: message.to_owned(),
                request_id: reply.request_id.clone(),
            })?;
        tracing::debug!(session_id = %id, request_id = ?reply.request_id, "session created");
        if has_mounts {
            self.wait_for_mounts(&id).await?;
        }
        Ok(Session::with_request_id(
            self.clone(),
            id,
            Some(image_id),
            data,
            reply.request_id,
        ))
    }

    /// Waits until every context sync of a new session is `Success` or `Failed` (§6.6),
    /// bounded by [`ClientOptions::delete_timeout`]; failures and a timeout are logged, as
    /// the official SDK does, not returned.
    async fn wait_for_mounts(&self, session_id: &str) -> Result<()> {
        let deadline = tokio::time::Instant::now() + self.inner.options.delete_timeout;
        let mut delay = Duration::from_millis(50);
        loop {
            let params = GetContextInfoParams {
                session_id: session_id.to_owned(),
                context_id: None,
                path: None,
                task_type: None,
            };
            let items = self
                .call(&params, Some(session_id), None)
                .await?
                .envelope
                .data
                .map(|data| data.context_status)
                .unwrap_or_default();
            if items.iter().all(|item| item.is_terminal()) {
                for item in items.iter().filter(|item| item.status == "Failed") {
                    tracing::warn!(context_id = %item.context_id, path = %item.path, error = %item.error_message, "context sync failed");
                }
                return Ok(());
            }
            if tokio::time::Instant::now() + delay > deadline {
                tracing::warn!(
                    session_id,
                    "context syncs still running; not waiting longer"
                );
                return Ok(());
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(2));
        }
    }

    /// Creates a session that is deleted when the guard is dropped (see [`SessionGuard`]).
    pub async fn create_guarded(&self, params: CreateParams) -> Result<SessionGuard> {
        self.create(params).await.map(SessionGuard::new)
    }

    /// Runs `f` with a new session and deletes the session afterwards, whatever `f` returns,
    /// and even if it panics.
    ///
    /// ```no_run
    /// # async fn demo(agb: agbcloud_session::Agb) -> agbcloud_session::Result<()> {
    /// use agbcloud_session::{CreateParams, Language};
    ///
    /// let answer = agb
    ///     .with_session(CreateParams::default(), |s| async move {
    ///         s.code().run("6 * 7", Language::Python).await
    ///     })
    ///     .await?;
    /// assert_eq!(answer.text(), "42");
    /// # Ok(()) }
    /// ```
    pub async fn with_session<F, Fut, T>(&self, params: CreateParams, f: F) -> Result<T>
    where
        F: FnOnce(Session) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let guard = self.create_guarded(params).await?;
        let outcome = f(guard.session().clone()).await;
        let closed = guard.close().await;
        let value = outcome?;
        closed?;
        Ok(value)
    }

    /// A handle on an existing session, without a request (the server checks it on use).
    pub fn session(&self, session_id: impl Into<String>) -> Session {
        Session::new(self.clone(), session_id.into(), None, Default::default())
    }

    /// Fetches an existing session; [`Error::SessionNotFound`] if it is gone.
    pub async fn get(&self, session_id: &str) -> Result<Session> {
        if session_id.trim().is_empty() {
            return Err(Error::invalid("session_id is required"));
        }
        let reply = self
            .call(&GetSessionParams::new(session_id), Some(session_id), None)
            .await?;
        let data = reply.envelope.data.unwrap_or_default();
        Ok(Session::new(
            self.clone(),
            session_id.to_owned(),
            None,
            data,
        ))
    }

    /// Lists this key's active sessions matching `filter`, page by page (`nextToken`), as a
    /// stream of summaries.
    pub fn list(&self, filter: ListFilter) -> impl Stream<Item = Result<SessionSummary>> + Send {
        list_stream(self.clone(), filter)
    }

    /// Lists every matching session into a vector.
    pub async fn list_all(&self, filter: ListFilter) -> Result<Vec<SessionSummary>> {
        use futures_util::TryStreamExt;
        self.list(filter).try_collect().await
    }

    pub(crate) async fn list_page(
        &self,
        params: &ListSessionParams,
    ) -> Result<(Vec<SessionSummary>, Option<String>)> {
        let reply = self.call(params, None, None).await?;
        let next = reply.envelope.next_token.filter(|token| !token.is_empty());
        Ok((reply.envelope.data.unwrap_or_default(), next))
    }

    /// Releases a session and waits until the server reports it gone, bounded by
    /// [`ClientOptions::delete_timeout`]. Deleting a session that is already gone succeeds.
    pub async fn delete(&self, session_id: &str) -> Result<()> {
        match self
            .call(
                &ReleaseSessionAsyncParams::new(session_id),
                Some(session_id),
                None,
            )
            .await
        {
            Ok(_) => {}
            Err(Error::SessionNotFound { .. }) => return Ok(()),
            Err(error) => return Err(error),
        }
        let options = &self.inner.options;
        let deadline = tokio::time::Instant::now() + options.delete_timeout;
        let mut delay = options.delete_poll;
        loop {
            match self.session(session_id).status().await {
                Err(Error::SessionNotFound { .. }) => return Ok(()),
                Ok(status) if status == "FINISH" || status == "DELETED" => return Ok(()),
                Ok(_) => {}
                Err(error) => return Err(error),
            }
            if tokio::time::Instant::now() + delay > deadline {
                return Err(Error::Timeout {
                    message: format!(
                        "session {session_id} still present {:?} after its release",
                        options.delete_timeout
                    ),
                    sent: RequestSent::Yes,
                });
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(1));
        }
    }

    /// Sends one API call and judges the response by the endpoint's success rule (§1.6).
    ///
    /// `session_id` names the session for [`Error::SessionNotFound`]; `timeout` overrides the
    /// transport's attempt and operation limits for this call.
    pub(crate) async fn call<C: ApiCall>(
        &self,
        params: &C,
        session_id: Option<&str>,
        timeout: Option<Duration>,
    ) -> Result<Reply<C::Data>> {
        let api = params
            .to_request()
            .map_err(|error| Error::invalid(error.to_string()))?;
        let endpoint = api.endpoint;
        let mut options = CallOptions::new(endpoint.name, api.is_idempotent());
        if let Some(limit) = timeout {
            options = options.timeout(limit);
        }
        let request = http::Request::builder()
            .method(endpoint.method.as_str())
            .uri(api.path_and_query())
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(api.body.map(Bytes::from).unwrap_or_default())
            .map_err(|error| Error::invalid(error.to_string()))?;
        let response = self.inner.transport.send(request, &options).await?;
        let status = response.status().as_u16();
        let header_id = response
            .extensions()
            .get::<RequestId>()
            .map(|id| id.as_str().to_owned());
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let envelope = match Envelope::<C::Data>::from_slice(response.body()) {
            Ok(envelope) => envelope,
            Err(source) => {
                return Err(undecodable(
                    endpoint.name,
                    status,
                    response.body(),
                    source,
                    header_id,
                    retry_after,
                ));
            }
        };
        let request_id = envelope
            .request_id_or(header_id.as_deref())
            .map(str::to_owned);
        if envelope.is_success(status, endpoint.success) {
            return Ok(Reply {
                envelope,
                request_id,
            });
        }
        Err(failure(
            &envelope,
            status,
            session_id,
            request_id,
            retry_after,
        ))
    }

    /// Calls tool `A::NAME` in a session. Tool-level failures (`isError`) come back as data.
    pub(crate) async fn call_tool<A: ToolArgs>(
        &self,
        session_id: &str,
        args: &A,
        timeout: Option<Duration>,
    ) -> Result<ToolReply> {
        let params = CallToolParams::new(session_id, args)
            .map_err(|error| Error::invalid(error.to_string()))?;
        let reply: Reply<ToolCallData> = self.call(&params, Some(session_id), timeout).await?;
        let data = reply.envelope.data.unwrap_or_default();
        Ok(ToolReply {
            text: data.result_text().unwrap_or_default(),
            is_error: data.is_error,
            request_id: reply.request_id,
        })
    }

    /// Like [`Agb::call_tool`], but a tool-level failure becomes [`Error::Tool`].
    pub(crate) async fn call_tool_ok<A: ToolArgs>(
        &self,
        session_id: &str,
        args: &A,
    ) -> Result<(String, Option<String>)> {
        let reply = self.call_tool(session_id, args, None).await?;
        if reply.is_error {
            return Err(Error::Tool {
                tool: A::NAME.to_owned(),
                message: if reply.text.is_empty() {
                    "Tool execution failed".to_owned()
                } else {
                    reply.text
                },
                request_id: reply.request_id,
            });
        }
        Ok((reply.text, reply.request_id))
    }
}

/// Maps a failed envelope to an error by meaning.
fn failure<T>(
    envelope: &Envelope<T>,
    status: u16,
    session_id: Option<&str>,
    request_id: Option<String>,
    retry_after: Option<Duration>,
) -> Error {
    let message = envelope.message_or("request failed").to_owned();
    let code = &envelope.code;
    if let Some(session_id) = session_id
        && (*code == ErrorCode::SessionNotFound || envelope.is_session_gone())
    {
        return Error::SessionNotFound {
            session_id: session_id.to_owned(),
            request_id,
        };
    }
    if *code == ErrorCode::InvalidApiKey
        || *code == ErrorCode::Forbidden
        || status == 401
        || status == 403
    {
        return Error::Unauthenticated {
            message,
            request_id,
        };
    }
    if *code == ErrorCode::Throttling || status == 429 {
        return Error::RateLimited {
            message,
            retry_after,
            request_id,
        };
    }
    if *code == ErrorCode::InvalidParameter {
        return Error::InvalidArgument {
            message,
            request_id,
        };
    }
    Error::Api {
        code: code.clone(),
        status,
        message,
        request_id,
    }
}

/// A body that is not an envelope: judged by the HTTP status.
fn undecodable(
    what: &str,
    status: u16,
    body: &[u8],
    source: agbcloud_wire::WireError,
    request_id: Option<String>,
    retry_after: Option<Duration>,
) -> Error {
    let text: String = String::from_utf8_lossy(body).chars().take(200).collect();
    match status {
        401 | 403 => Error::Unauthenticated {
            message: format!("HTTP {status}: {text}"),
            request_id,
        },
        429 => Error::RateLimited {
            message: format!("HTTP 429: {text}"),
            retry_after,
            request_id,
        },
        400.. => Error::Api {
            code: ErrorCode::Other(format!("HTTP{status}")),
            status,
            message: text,
            request_id,
        },
        _ => Error::Decode {
            what: what.to_owned(),
            source,
            request_id,
        },
    }
}
