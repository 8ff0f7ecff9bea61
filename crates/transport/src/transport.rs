//! The retrying transport: base URL, auth, user agent, timeouts, retries and request ids over
//! any [`HttpSend`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, HeaderValue, USER_AGENT};
use http::{Request, Response, Uri};
use tracing::{Instrument, field};

use crate::backoff::Backoff;
use crate::base_url::{BaseUrl, InvalidEndpoint};
use crate::budget::RetryBudget;
use crate::clock::{self, Clock, SharedClock};
use crate::error::TransportError;
use crate::options::CallOptions;
use crate::random::{RandomSource, SharedRandom};
use crate::request_id::RequestId;
use crate::retry::{RetryConfig, RetryDecision, RetryKind, classify};
use crate::secret::Secret;
use crate::send::{HttpSend, SendFuture, SharedHttpSend};
use crate::timeout::TimeoutConfig;

/// The user agent sent when the request has none: `agbcloud-rs/<version>`.
pub const DEFAULT_USER_AGENT: &str = concat!("agbcloud-rs/", env!("CARGO_PKG_VERSION"));

/// A [`Transport`] or `HyperClient` could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The endpoint is not a usable base URL.
    #[error(transparent)]
    InvalidEndpoint(#[from] InvalidEndpoint),
    /// The API key cannot be sent in an HTTP header (the key itself is not shown).
    #[error("the API key contains characters that are not allowed in an HTTP header")]
    InvalidApiKey,
    /// The user agent cannot be sent in an HTTP header.
    #[error("invalid user agent {0:?}")]
    InvalidUserAgent(String),
    /// No [`HttpSend`] was given and the default client (feature `client`) is not compiled in.
    #[error("no HttpSend given and the `client` feature of agbcloud-transport is disabled")]
    MissingHttpSend,
    /// The TLS configuration could not be built.
    #[error("TLS configuration failed: {0}")]
    Tls(#[source] crate::error::BoxError),
}

/// Sends AGB requests: joins paths to the base URL, adds the `authorization` and
/// `user-agent` headers, applies the three timeouts, retries what is safe to retry with
/// backoff and a shared budget, extracts request ids and traces every call.
///
/// Cheap to clone; clones share the connection pool and the retry budget.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use agbcloud_transport::{CallOptions, Transport};
///
/// let transport = Transport::builder()
///     .endpoint("sdk-api.agb.cloud")
///     .api_key("akm-...")
///     .build()?;
/// let request = http::Request::post("/mcp/getSession")
///     .header("content-type", "application/json")
///     .body(bytes::Bytes::from_static(br#"{"SessionId":"s-1"}"#))?;
/// let response = transport
///     .send(request, &CallOptions::idempotent("GetSession"))
///     .await?;
/// println!("{}", response.status());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Transport {
    inner: Arc<Inner>,
}

struct Inner {
    http: SharedHttpSend,
    base_url: Option<BaseUrl>,
    authorization: Option<HeaderValue>,
    user_agent: HeaderValue,
    timeouts: TimeoutConfig,
    retry: RetryConfig,
    budget: Option<RetryBudget>,
    clock: SharedClock,
    random: SharedRandom,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Transport")
            .field("http", &inner.http)
            .field("base_url", &inner.base_url)
            .field(
                "authorization",
                &inner.authorization.as_ref().map(|_| "<redacted>"),
            )
            .field("user_agent", &inner.user_agent)
            .field("timeouts", &inner.timeouts)
            .field("retry", &inner.retry)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// Starts building a transport.
    pub fn builder() -> TransportBuilder {
        TransportBuilder::default()
    }

    /// The base URL relative request paths are joined to.
    pub fn base_url(&self) -> Option<&BaseUrl> {
        self.inner.base_url.as_ref()
    }

    /// The timeouts.
    pub fn timeouts(&self) -> TimeoutConfig {
        self.inner.timeouts
    }

    /// The retry policy.
    pub fn retry_config(&self) -> RetryConfig {
        self.inner.retry
    }

    /// The underlying single-attempt sender.
    pub fn http_send(&self) -> &SharedHttpSend {
        &self.inner.http
    }

    /// Tokens left in the retry budget (`None` when there is no budget).
    pub fn retry_budget_available(&self) -> Option<u32> {
        self.inner.budget.as_ref().map(RetryBudget::available)
    }

    /// Sends `request` with the given per-call options.
    ///
    /// A relative URI (`/mcp/getSession?x=1`) is joined to the base URL. Any response status
    /// is `Ok`, after retries where allowed; its [`RequestId`] is in the response extensions.
    pub async fn send(
        &self,
        request: Request<Bytes>,
        options: &CallOptions,
    ) -> Result<Response<Bytes>, TransportError> {
        let request = self.prepare(request, options)?;
        let span = tracing::info_span!(
            "agb_request",
            method = %request.method(),
            path = request.uri().path(),
            operation = options.name(),
            idempotent = options.is_idempotent(),
            status = field::Empty,
            attempt = field::Empty,
            latency_ms = field::Empty,
            request_id = field::Empty,
        );
        self.send_with_retries(request, options)
            .instrument(span)
            .await
    }

    fn prepare(
        &self,
        mut request: Request<Bytes>,
        options: &CallOptions,
    ) -> Result<Request<Bytes>, TransportError> {
        let inner = &*self.inner;
        let uri = request.uri();
        let same_origin = if uri.scheme().is_none() {
            let base = inner.base_url.as_ref().ok_or_else(|| {
                TransportError::invalid_request("relative request URI and no base URL configured")
            })?;
            let joined: Uri = base
                .join(uri.path_and_query().map_or("/", |pq| pq.as_str()))
                .map_err(TransportError::invalid_request)?;
            *request.uri_mut() = joined;
            true
        } else {
            inner
                .base_url
                .as_ref()
                .is_some_and(|base| base.same_origin(uri))
        };
        let headers = request.headers_mut();
        if let Some(authorization) = &inner.authorization {
            // The key goes to the configured origin only, never to presigned or link URLs.
            if options.authenticates() && same_origin && !headers.contains_key(AUTHORIZATION) {
                headers.insert(AUTHORIZATION, authorization.clone());
            }
        }
        if !headers.contains_key(USER_AGENT) {
            headers.insert(USER_AGENT, inner.user_agent.clone());
        }
        Ok(request)
    }

    async fn send_with_retries(
        &self,
        request: Request<Bytes>,
        options: &CallOptions,
    ) -> Result<Response<Bytes>, TransportError> {
        let inner = &*self.inner;
        let clock = &inner.clock;
        let span = tracing::Span::current();
        let start = clock.now();
        let operation_limit = options.effective_operation_timeout(inner.timeouts.get_operation());
        let attempt_limit = options.effective_attempt_timeout(inner.timeouts.get_attempt());
        let deadline = operation_limit.map(|limit| start + limit);
        let mut attempt: u32 = 1;
        let mut withdrawn: u32 = 0;
        loop {
            let attempt_start = clock.now();
            let remaining =
                deadline.map(|deadline| deadline.saturating_duration_since(attempt_start));
            let (limit, deadline_bound) = match (attempt_limit, remaining) {
                (Some(a), Some(r)) if r <= a => (Some(r), true),
                (Some(a), _) => (Some(a), false),
                (None, r) => (r, r.is_some()),
            };
            let outcome = match clock::timeout(
                clock,
                limit,
                inner.http.send(clone_request(&request)),
            )
            .await
            {
                Ok(outcome) => outcome,
                Err(clock::Elapsed) => Err(timeout_error(limit, deadline_bound, operation_limit)),
            };
            let now = clock.now();
            let latency = now.duration_since(attempt_start);
            match &outcome {
                Ok(response) => tracing::debug!(
                    attempt,
                    status = response.status().as_u16(),
                    latency_ms = millis(latency),
                    "attempt answered"
                ),
                Err(error) => tracing::debug!(
                    attempt,
                    error = %error,
                    latency_ms = millis(latency),
                    "attempt failed"
                ),
            }
            let decision = classify(
                outcome.as_ref(),
                options.is_idempotent(),
                clock.system_now(),
            );
            let retry = match decision {
                RetryDecision::Done => None,
                RetryDecision::Retry { kind, retry_after } => {
                    // An attempt cut by the operation deadline is final.
                    let cut_by_deadline = deadline.is_some_and(|deadline| now >= deadline);
                    if cut_by_deadline {
                        None
                    } else {
                        self.plan_retry(attempt, kind, retry_after, start, deadline)
                    }
                }
            };
            let Some((delay, cost)) = retry else {
                span.record("attempt", attempt);
                span.record("latency_ms", millis(now.duration_since(start)));
                return self.finish(outcome, attempt, withdrawn, &span);
            };
            withdrawn += cost;
            tracing::debug!(
                attempt,
                delay_ms = millis(delay),
                reason = ?retry_reason(&outcome),
                "retrying"
            );
            clock.sleep(delay).await;
            attempt += 1;
        }
    }

    /// Decides the delay and budget cost of the next retry, or `None` to stop.
    fn plan_retry(
        &self,
        attempt: u32,
        kind: RetryKind,
        retry_after: Option<Duration>,
        start: tokio::time::Instant,
        deadline: Option<tokio::time::Instant>,
    ) -> Option<(Duration, u32)> {
        let inner = &*self.inner;
        let config = inner.retry;
        if attempt >= config.get_max_attempts() {
            tracing::debug!(attempt, "no retry: maximum attempts reached");
            return None;
        }
        let delay = match retry_after {
            Some(wait) if wait > config.get_max_retry_after() => {
                tracing::debug!(
                    retry_after_ms = millis(wait),
                    "no retry: Retry-After beyond the cap"
                );
                return None;
            }
            Some(wait) => wait,
            None => backoff_delay(config.get_backoff(), attempt, &inner.random),
        };
        let resume = inner.clock.now() + delay;
        if resume.duration_since(start) > config.get_retry_timeout() {
            tracing::debug!(
                delay_ms = millis(delay),
                "no retry: total retry time exhausted"
            );
            return None;
        }
        if deadline.is_some_and(|deadline| resume >= deadline) {
            tracing::debug!(
                delay_ms = millis(delay),
                "no retry: operation deadline too close"
            );
            return None;
        }
        let cost = match (&inner.budget, kind) {
            (None, _) => 0,
            (Some(budget), RetryKind::Transient) => budget.config().transient_retry_cost,
            (Some(budget), _) => budget.config().retry_cost,
        };
        if let Some(budget) = &inner.budget
            && !budget.try_withdraw(cost)
        {
            tracing::debug!(
                available = budget.available(),
                "no retry: retry budget exhausted"
            );
            return None;
        }
        Some((delay, cost))
    }

    fn finish(
        &self,
        outcome: Result<Response<Bytes>, TransportError>,
        attempts: u32,
        withdrawn: u32,
        span: &tracing::Span,
    ) -> Result<Response<Bytes>, TransportError> {
        match outcome {
            Ok(mut response) => {
                span.record("status", response.status().as_u16());
                if let Some(budget) = &self.inner.budget
                    && response.status().is_success()
                {
                    let refund = if attempts == 1 {
                        budget.config().success_deposit
                    } else {
                        withdrawn
                    };
                    budget.deposit(refund);
                }
                let request_id = response
                    .extensions()
                    .get::<RequestId>()
                    .cloned()
                    .or_else(|| RequestId::from_response(response.headers(), response.body()));
                if let Some(id) = request_id {
                    span.record("request_id", id.as_str());
                    response.extensions_mut().insert(id);
                }
                Ok(response)
            }
            Err(error) => {
                if let Some(id) = error.request_id() {
                    span.record("request_id", id);
                }
                tracing::debug!(error = %error, attempts, "request failed");
                Err(error.with_attempts(attempts))
            }
        }
    }
}

impl HttpSend for Transport {
    /// Sends with the [`CallOptions`] found in the request's extensions (default: a
    /// non-idempotent call).
    fn send(&self, mut request: Request<Bytes>) -> SendFuture<'_> {
        let options = request
            .extensions_mut()
            .remove::<CallOptions>()
            .unwrap_or_default();
        Box::pin(async move { Transport::send(self, request, &options).await })
    }
}

fn backoff_delay(backoff: Backoff, attempt: u32, random: &SharedRandom) -> Duration {
    backoff.delay(attempt, random as &dyn RandomSource)
}

fn retry_reason(outcome: &Result<Response<Bytes>, TransportError>) -> String {
    match outcome {
        Ok(response) => format!("status {}", response.status().as_u16()),
        Err(error) => error.kind().to_string(),
    }
}

fn timeout_error(
    limit: Option<Duration>,
    deadline_bound: bool,
    operation_limit: Option<Duration>,
) -> TransportError {
    match (deadline_bound, operation_limit, limit) {
        (true, Some(operation), _) => TransportError::timeout(format!(
            "operation deadline of {} exceeded",
            human(operation)
        )),
        (_, _, Some(limit)) => {
            TransportError::timeout(format!("attempt exceeded {}", human(limit)))
        }
        _ => TransportError::timeout("deadline elapsed"),
    }
}

fn human(duration: Duration) -> String {
    format!("{duration:?}")
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Copies a request for one attempt (bodies are `Bytes`, so this is cheap).
fn clone_request(request: &Request<Bytes>) -> Request<Bytes> {
    let mut copy = Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    *copy.extensions_mut() = request.extensions().clone();
    copy
}

/// Builds a [`Transport`]. Setters never fail; [`build`](Self::build) reports the first
/// problem.
#[derive(Debug, Default)]
pub struct TransportBuilder {
    endpoint: Option<String>,
    api_key: Option<Secret>,
    user_agent: Option<String>,
    timeouts: Option<TimeoutConfig>,
    retry: Option<RetryConfig>,
    http: Option<SharedHttpSend>,
    clock: Option<SharedClock>,
    random: Option<SharedRandom>,
}

impl TransportBuilder {
    /// The AGB endpoint, e.g. `sdk-api.agb.cloud` or `http://127.0.0.1:8080` (see
    /// [`BaseUrl::parse`]). Without one, requests must carry absolute URIs.
    #[must_use]
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The API key sent as `authorization: Bearer <key>` to the endpoint's origin.
    #[must_use]
    pub fn api_key(mut self, key: impl Into<Secret>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Replaces the default [`DEFAULT_USER_AGENT`].
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// The timeouts (default: [`TimeoutConfig::default`]).
    #[must_use]
    pub fn timeouts(mut self, timeouts: TimeoutConfig) -> Self {
        self.timeouts = Some(timeouts);
        self
    }

    /// The retry policy (default: [`RetryConfig::default`]).
    #[must_use]
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = Some(retry);
        self
    }

    /// The single-attempt sender (default: a `HyperClient` built from the
    /// timeouts, with feature `client`).
    #[must_use]
    pub fn http_send(mut self, http: impl HttpSend + 'static) -> Self {
        self.http = Some(SharedHttpSend::new(http));
        self
    }

    /// The single-attempt sender, already shared.
    #[must_use]
    pub fn shared_http_send(mut self, http: SharedHttpSend) -> Self {
        self.http = Some(http);
        self
    }

    /// The clock for timeouts and backoff (default: tokio's, pausable in tests).
    #[must_use]
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Some(SharedClock::new(clock));
        self
    }

    /// The random source for backoff jitter (default: `rand`'s thread generator).
    #[must_use]
    pub fn random(mut self, random: impl RandomSource + 'static) -> Self {
        self.random = Some(SharedRandom::new(random));
        self
    }

    /// Builds the transport.
    pub fn build(self) -> Result<Transport, BuildError> {
        let base_url = self.endpoint.as_deref().map(BaseUrl::parse).transpose()?;
        let authorization = self
            .api_key
            .map(|key| {
                let mut value = HeaderValue::try_from(format!("Bearer {}", key.expose()))
                    .map_err(|_| BuildError::InvalidApiKey)?;
                value.set_sensitive(true);
                Ok::<_, BuildError>(value)
            })
            .transpose()?;
        let user_agent = match self.user_agent {
            None => HeaderValue::from_static(DEFAULT_USER_AGENT),
            Some(agent) => HeaderValue::try_from(agent.as_str())
                .map_err(|_| BuildError::InvalidUserAgent(agent.clone()))?,
        };
        let timeouts = self.timeouts.unwrap_or_default();
        let retry = self.retry.unwrap_or_default();
        let http = match self.http {
            Some(http) => http,
            None => default_http_send(&timeouts)?,
        };
        Ok(Transport {
            inner: Arc::new(Inner {
                http,
                base_url,
                authorization,
                user_agent,
                timeouts,
                retry,
                budget: retry.get_budget().map(RetryBudget::new),
                clock: self.clock.unwrap_or_default(),
                random: self.random.unwrap_or_default(),
            }),
        })
    }
}

#[cfg(feature = "client")]
fn default_http_send(timeouts: &TimeoutConfig) -> Result<SharedHttpSend, BuildError> {
    let client = crate::client::HyperClient::builder()
        .connect_timeout(timeouts.get_connect())
        .build()?;
    Ok(SharedHttpSend::new(client))
}

#[cfg(not(feature = "client"))]
fn default_http_send(_timeouts: &TimeoutConfig) -> Result<SharedHttpSend, BuildError> {
    Err(BuildError::MissingHttpSend)
}

#[cfg(test)]
#[path = "transport_tests.rs"]
mod tests;
