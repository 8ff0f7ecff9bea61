//! Mock [`HttpSend`] implementations for tests (feature `test-util`).
//!
//! - [`CaptureClient`]: answers every request with the same response and keeps the requests.
//! - [`ReplayClient`]: plays a script of expected requests and their outcomes, and checks at
//!   the end that the script was consumed and every request matched.
//! - [`NeverClient`]: never answers, for timeout tests.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};

use crate::error::TransportError;
use crate::send::{HttpSend, SendFuture};

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A response that can be produced any number of times.
#[derive(Clone, Debug)]
struct CannedResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl CannedResponse {
    fn from_response(response: Response<Bytes>) -> Self {
        let (parts, body) = response.into_parts();
        Self {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    fn to_response(&self) -> Response<Bytes> {
        let mut response = Response::new(self.body.clone());
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers.clone();
        response
    }
}

/// Answers every request with one canned response and records the requests.
#[derive(Clone, Debug)]
pub struct CaptureClient {
    response: CannedResponse,
    requests: Arc<Mutex<Vec<Request<Bytes>>>>,
}

impl CaptureClient {
    /// Answers `200 OK` with an empty JSON object.
    pub fn new() -> Self {
        Self::with_response(Response::new(Bytes::from_static(b"{}")))
    }

    /// Answers with `response`.
    pub fn with_response(response: Response<Bytes>) -> Self {
        Self {
            response: CannedResponse::from_response(response),
            requests: Arc::default(),
        }
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<Request<Bytes>> {
        lock(&self.requests).iter().map(copy_request).collect()
    }

    /// The only request received; panics unless exactly one arrived.
    #[track_caller]
    pub fn expect_request(&self) -> Request<Bytes> {
        let requests = lock(&self.requests);
        assert_eq!(requests.len(), 1, "expected exactly one captured request");
        copy_request(&requests[0])
    }
}

impl Default for CaptureClient {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpSend for CaptureClient {
    fn send(&self, request: Request<Bytes>) -> SendFuture<'_> {
        lock(&self.requests).push(request);
        let response = self.response.to_response();
        Box::pin(async move { Ok(response) })
    }
}

fn copy_request(request: &Request<Bytes>) -> Request<Bytes> {
    let mut copy = Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.headers_mut() = request.headers().clone();
    copy
}

/// What a scripted step answers.
enum Outcome {
    Response(Response<Bytes>),
    Error(TransportError),
    Never,
}

/// One step of a [`ReplayClient`] script: the request expected and what to answer.
pub struct ReplayEvent {
    method: Option<Method>,
    path_and_query: Option<String>,
    body: Option<Bytes>,
    headers: HeaderMap,
    delay: Duration,
    outcome: Outcome,
}

impl ReplayEvent {
    /// Answers the next request with `response`, whatever it is.
    pub fn respond(response: Response<Bytes>) -> Self {
        Self::with_outcome(Outcome::Response(response))
    }

    /// Answers the next request with `status` and a JSON body.
    pub fn status(status: u16, body: &'static str) -> Self {
        let mut response = Response::new(Bytes::from_static(body.as_bytes()));
        *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
        Self::respond(response)
    }

    /// Fails the next request with `error`.
    pub fn error(error: TransportError) -> Self {
        Self::with_outcome(Outcome::Error(error))
    }

    /// Never answers the next request.
    pub fn never() -> Self {
        Self::with_outcome(Outcome::Never)
    }

    fn with_outcome(outcome: Outcome) -> Self {
        Self {
            method: None,
            path_and_query: None,
            body: None,
            headers: HeaderMap::new(),
            delay: Duration::ZERO,
            outcome,
        }
    }

    /// Expects the request to match `expected`: method, path and query, body, and every
    /// header that `expected` has.
    #[must_use]
    pub fn expect(mut self, expected: Request<Bytes>) -> Self {
        let (parts, body) = expected.into_parts();
        self.method = Some(parts.method);
        self.path_and_query = parts.uri.path_and_query().map(ToString::to_string);
        self.body = Some(body);
        self.headers = parts.headers;
        self
    }

    /// Expects this method and path (with query, if any).
    #[must_use]
    pub fn expect_path(mut self, method: Method, path_and_query: &str) -> Self {
        self.method = Some(method);
        self.path_and_query = Some(path_and_query.to_owned());
        self
    }

    /// Answers only after `delay` (tokio time, so paused-clock tests stay instant).
    #[must_use]
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    fn mismatches(&self, actual: &Request<Bytes>) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(method) = &self.method
            && method != actual.method()
        {
            problems.push(format!(
                "method: expected {method}, got {}",
                actual.method()
            ));
        }
        if let Some(expected) = &self.path_and_query {
            let got = actual.uri().path_and_query().map(|pq| pq.as_str());
            if Some(expected.as_str()) != got {
                problems.push(format!("path: expected {expected:?}, got {got:?}"));
            }
        }
        if let Some(body) = &self.body
            && body != actual.body()
        {
            problems.push(format!(
                "body: expected {:?}, got {:?}",
                String::from_utf8_lossy(body),
                String::from_utf8_lossy(actual.body())
            ));
        }
        for (name, value) in &self.headers {
            let got = actual.headers().get_all(name).iter().any(|v| v == value);
            if !got {
                problems.push(format!("header {name}: expected {value:?}"));
            }
        }
        problems
    }
}

impl fmt::Debug for ReplayEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayEvent")
            .field("method", &self.method)
            .field("path_and_query", &self.path_and_query)
            .field("delay", &self.delay)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct ReplayState {
    remaining: VecDeque<ReplayEvent>,
    requests: Vec<Request<Bytes>>,
    problems: Vec<String>,
}

/// Plays a script: the n-th request gets the n-th [`ReplayEvent`]'s outcome.
///
/// Call [`assert_done`](Self::assert_done) at the end of the test: it panics if a step was
/// not used, a request did not match its step, or more requests came than scripted.
#[derive(Clone, Debug)]
pub struct ReplayClient {
    state: Arc<Mutex<ReplayState>>,
}

impl ReplayClient {
    /// A client that plays `events` in order.
    pub fn new(events: impl IntoIterator<Item = ReplayEvent>) -> Self {
        Self {
            state: Arc::new(Mutex::new(ReplayState {
                remaining: events.into_iter().collect(),
                ..ReplayState::default()
            })),
        }
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<Request<Bytes>> {
        lock(&self.state)
            .requests
            .iter()
            .map(copy_request)
            .collect()
    }

    /// How many scripted steps are left.
    pub fn remaining(&self) -> usize {
        lock(&self.state).remaining.len()
    }

    /// Panics unless every step was used and every request matched its step.
    #[track_caller]
    pub fn assert_done(&self) {
        let state = lock(&self.state);
        let mut problems = state.problems.clone();
        if !state.remaining.is_empty() {
            problems.push(format!(
                "{} scripted step(s) not used: {:?}",
                state.remaining.len(),
                state.remaining
            ));
        }
        assert!(
            problems.is_empty(),
            "replay script failed:\n{}",
            problems.join("\n")
        );
    }
}

impl HttpSend for ReplayClient {
    fn send(&self, request: Request<Bytes>) -> SendFuture<'_> {
        let mut state = lock(&self.state);
        let index = state.requests.len();
        let event = state.remaining.pop_front();
        let step = match event {
            None => {
                state.problems.push(format!(
                    "request #{index} ({} {}) came after the script ended",
                    request.method(),
                    request.uri()
                ));
                state.requests.push(request);
                return Box::pin(async { Err(TransportError::other("replay script exhausted")) });
            }
            Some(event) => event,
        };
        for problem in step.mismatches(&request) {
            state.problems.push(format!("request #{index}: {problem}"));
        }
        state.requests.push(request);
        drop(state);
        let delay = step.delay;
        Box::pin(async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            match step.outcome {
                Outcome::Response(response) => Ok(response),
                Outcome::Error(error) => Err(error),
                Outcome::Never => std::future::pending().await,
            }
        })
    }
}

/// Never answers; counts the calls. For testing timeouts.
#[derive(Clone, Debug, Default)]
pub struct NeverClient {
    calls: Arc<AtomicUsize>,
}

impl NeverClient {
    /// A new client.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many requests were sent to it.
    pub fn num_calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl HttpSend for NeverClient {
    fn send(&self, _request: Request<Bytes>) -> SendFuture<'_> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(std::future::pending())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> Request<Bytes> {
        Request::get(path).body(Bytes::new()).expect("request")
    }

    #[tokio::test]
    async fn capture_keeps_requests_and_answers_the_canned_response() {
        let capture = CaptureClient::with_response(
            Response::builder()
                .status(201)
                .body(Bytes::from_static(b"done"))
                .expect("response"),
        );
        for _ in 0..2 {
            let response = capture.send(get("/a")).await.expect("answers");
            assert_eq!(response.status(), StatusCode::CREATED);
            assert_eq!(response.body(), "done");
        }
        assert_eq!(capture.requests().len(), 2);
    }

    #[tokio::test]
    async fn replay_passes_when_the_script_is_followed() {
        let replay = ReplayClient::new([
            ReplayEvent::status(200, "{}").expect_path(Method::GET, "/a"),
            ReplayEvent::error(TransportError::connect("down")).expect(get("/b?x=1")),
        ]);
        assert!(replay.send(get("/a")).await.is_ok());
        assert!(
            replay
                .send(get("/b?x=1"))
                .await
                .expect_err("scripted")
                .is_connect()
        );
        replay.assert_done();
    }

    #[tokio::test]
    #[should_panic(expected = "path: expected \"/a\"")]
    async fn replay_reports_a_mismatched_request() {
        let replay =
            ReplayClient::new([ReplayEvent::status(200, "{}").expect_path(Method::GET, "/a")]);
        let _ = replay.send(get("/other")).await;
        replay.assert_done();
    }

    #[tokio::test]
    #[should_panic(expected = "1 scripted step(s) not used")]
    async fn replay_reports_unused_steps() {
        let replay = ReplayClient::new([
            ReplayEvent::status(200, "{}"),
            ReplayEvent::status(200, "{}"),
        ]);
        let _ = replay.send(get("/a")).await;
        replay.assert_done();
    }

    #[tokio::test]
    #[should_panic(expected = "came after the script ended")]
    async fn replay_reports_extra_requests() {
        let replay = ReplayClient::new([]);
        assert!(replay.send(get("/a")).await.is_err());
        replay.assert_done();
    }

    #[tokio::test(start_paused = true)]
    async fn never_client_never_answers() {
        let never = NeverClient::new();
        let outcome = tokio::time::timeout(Duration::from_secs(3600), never.send(get("/a"))).await;
        assert!(outcome.is_err());
        assert_eq!(never.num_calls(), 1);
    }
}
