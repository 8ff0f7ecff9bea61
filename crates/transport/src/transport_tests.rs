//! Retry, backoff, timeout and header tests of [`Transport`], on paused tokio time.

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use tokio::time::Instant;

use super::*;
use crate::budget::BudgetConfig;
use crate::random::FixedRandom;
use crate::test_util::{CaptureClient, NeverClient, ReplayClient, ReplayEvent};

const OK_BODY: &str = r#"{"success": true, "requestId": "RID-1", "data": {}}"#;

fn builder(http: impl HttpSend + 'static) -> TransportBuilder {
    Transport::builder()
        .endpoint("http://agb.test")
        .api_key("akm-secret-key")
        .http_send(http)
        .random(FixedRandom::new(0.5))
}

fn post(path: &str) -> Request<Bytes> {
    Request::post(path)
        .body(Bytes::from_static(b"{}"))
        .expect("valid request")
}

fn status_with(status: u16, header: (&str, &str)) -> Response<Bytes> {
    Response::builder()
        .status(status)
        .header(header.0, header.1)
        .body(Bytes::from_static(b"{}"))
        .expect("valid response")
}

#[tokio::test(start_paused = true)]
async fn two_503_then_200_succeeds_after_two_jittered_retries() {
    let replay = ReplayClient::new([
        ReplayEvent::status(503, "{}").expect_path(Method::POST, "/mcp"),
        ReplayEvent::status(503, "{}").expect_path(Method::POST, "/mcp"),
        ReplayEvent::status(200, OK_BODY).expect_path(Method::POST, "/mcp"),
    ]);
    let transport = builder(replay.clone()).build().expect("builds");
    let start = Instant::now();
    let response = transport
        .send(post("/mcp"), &CallOptions::non_idempotent("CallMcpTool"))
        .await
        .expect("third attempt succeeds");
    assert_eq!(response.status(), StatusCode::OK);
    // Full jitter at 0.5: half of 100 ms, then half of 200 ms.
    assert_eq!(start.elapsed(), Duration::from_millis(50 + 100));
    assert_eq!(
        response
            .extensions()
            .get::<RequestId>()
            .map(RequestId::as_str),
        Some("RID-1")
    );
    replay.assert_done();
}

#[tokio::test(start_paused = true)]
async fn retry_after_seconds_is_honoured() {
    let replay = ReplayClient::new([
        ReplayEvent::respond(status_with(503, ("retry-after", "2"))),
        ReplayEvent::status(200, OK_BODY),
    ]);
    let transport = builder(replay.clone()).build().expect("builds");
    let start = Instant::now();
    let response = transport
        .send(post("/mcp"), &CallOptions::non_idempotent("CallMcpTool"))
        .await
        .expect("succeeds");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    replay.assert_done();
}

#[tokio::test(start_paused = true)]
async fn retry_after_beyond_the_cap_returns_the_response() {
    let replay = ReplayClient::new([ReplayEvent::respond(status_with(
        429,
        ("retry-after", "3600"),
    ))]);
    let transport = builder(replay.clone()).build().expect("builds");
    let response = transport
        .send(post("/mcp"), &CallOptions::idempotent("GetSession"))
        .await
        .expect("a response, not an error");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    replay.assert_done();
}

#[tokio::test(start_paused = true)]
async fn max_attempts_bounds_throttling_retries() {
    let replay = ReplayClient::new((0..4).map(|_| ReplayEvent::status(503, "{}")));
    let transport = builder(replay.clone()).build().expect("builds");
    let start = Instant::now();
    let response = transport
        .send(post("/mcp"), &CallOptions::idempotent("GetSession"))
        .await
        .expect("last response");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(start.elapsed(), Duration::from_millis(50 + 100 + 200));
    replay.assert_done();
}

#[tokio::test(start_paused = true)]
async fn non_idempotent_call_is_not_retried_after_a_timeout() {
    let replay = ReplayClient::new([ReplayEvent::never()]);
    let transport = builder(replay.clone())
        .timeouts(TimeoutConfig::default().attempt(Some(Duration::from_secs(1))))
        .build()
        .expect("builds");
    let start = Instant::now();
    let error = transport
        .send(post("/mcp"), &CallOptions::non_idempotent("CallMcpTool"))
        .await
        .expect_err("times out");
    assert!(error.is_timeout(), "{error}");
    assert!(error.may_have_been_sent());
    assert_eq!(error.attempts(), 1);
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    replay.assert_done();
}

#[tokio::test(start_paused = true)]
async fn idempotent_call_is_retried_after_a_timeout() {
    let replay = ReplayClient::new([ReplayEvent::never(), ReplayEvent::status(200, OK_BODY)]);
    let transport = builder(replay.clone())
        .timeouts(TimeoutConfig::default().attempt(Some(Duration::from_secs(1))))
        .build()
        .expect("builds");
    let start = Instant::now();
    transport
        .send(post("/mcp"), &CallOptions::idempotent("GetSession"))
        .await
        .expect("second attempt succeeds");
    assert_eq!(start.elapsed(), Duration::from_millis(1_050));
    replay.assert_done();
}

#[tokio::test(start_paused = true)]
async fn gateway_errors_are_retried_only_when_idempotent() {
    let replay = ReplayClient::new([ReplayEvent::status(502, "{}")]);
    let transport = builder(replay.clone()).build().expect("builds");
    let response = transport
        .send(post("/mcp"), &CallOptions::non_idempotent("CreateSession"))
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    replay.assert_done();

    let replay = ReplayClient::new([
        ReplayEvent::status(504, "{}"),
        ReplayEvent::status(200, OK_BODY),
    ]);
    let transport = builder(replay.clone()).build().expect("builds");
    let response = transport
        .send(post("/mcp"), &CallOptions::idempotent("GetSession"))
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    replay.assert_done();
}

#[tokio::test(start_paused = true)]
async fn connect_errors_are_always_retried_and_other_4xx_never() {
    let replay = ReplayClient::new([
        ReplayEvent::error(TransportError::connect("refused")),
        ReplayEvent::status(404, "{}"),
    ]);
    let transport = builder(replay.clone()).build().expect("builds");
    let response = transport
        .send(post("/mcp"), &CallOptions::non_idempotent("CreateSession"))
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    replay.assert_done();
}

#[tokio::test(start_paused = true)]
async fn interrupted_non_idempotent_call_is_final_with_attempt_count() {
    let replay = ReplayClient::new([
        ReplayEvent::error(TransportError::connect("refused")),
        ReplayEvent::error(TransportError::interrupted("reset").with_request_id("RID-9")),
    ]);
    let transport = builder(replay.clone()).build().expect("builds");
    let error = transport
        .send(post("/mcp"), &CallOptions::non_idempotent("CreateSession"))
        .await
        .expect_err("interrupted");
    assert!(error.is_interrupted());
    assert_eq!(error.attempts(), 2);
    assert_eq!(error.request_id(), Some("RID-9"));
    replay.assert_done();
}

#[tokio::test(start_paused = true)]
async fn retry_budget_stops_retry_storms() {
    let budget = BudgetConfig {
        capacity: 7,
        retry_cost: 5,
        transient_retry_cost: 10,
        success_deposit: 1,
    };
    let replay = ReplayClient::new([
        ReplayEvent::status(503, "{}"),
        ReplayEvent::status(503, "{}"),
        // Second call: the bucket holds 2 tokens, so no retry.
        ReplayEvent::status(503, "{}"),
    ]);
    let transport = builder(replay.clone())
        .retry(RetryConfig::default().budget(Some(budget)))
        .build()
        .expect("builds");
    for _ in 0..2 {
        let response = transport
            .send(post("/mcp"), &CallOptions::idempotent("GetSession"))
            .await
            .expect("response");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
    assert_eq!(transport.retry_budget_available(), Some(2));
    replay.assert_done();
}

#[tokio::test(start_paused = true)]
async fn successes_refill_the_budget() {
    let budget = BudgetConfig {
        capacity: 10,
        ..BudgetConfig::default()
    };
    let replay = ReplayClient::new([
        ReplayEvent::status(503, "{}"),
        ReplayEvent::status(200, OK_BODY),
    ]);
    let transport = builder(replay.clone())
        .retry(RetryConfig::default().budget(Some(budget)))
        .build()
        .expect("builds");
    transport
        .send(post("/mcp"), &CallOptions::idempotent("GetSession"))
        .await
        .expect("succeeds");
    assert_eq!(transport.retry_budget_available(), Some(10));
    replay.assert_done();
}

#[tokio::test(start_paused = true)]
async fn total_retry_time_is_bounded() {
    let replay = ReplayClient::new([
        ReplayEvent::respond(status_with(503, ("retry-after", "3"))),
        ReplayEvent::respond(status_with(503, ("retry-after", "3"))),
    ]);
    let transport = builder(replay.clone())
        .retry(RetryConfig::default().retry_timeout(Duration::from_secs(5)))
        .build()
        .expect("builds");
    let start = Instant::now();
    let response = transport
        .send(post("/mcp"), &CallOptions::idempotent("GetSession"))
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    replay.assert_done();
}

#[tokio::test(start_paused = true)]
async fn operation_deadline_cuts_attempts_and_retries() {
    let never = NeverClient::new();
    let transport = builder(never.clone())
        .timeouts(
            TimeoutConfig::default()
                .attempt(Some(Duration::from_secs(2)))
                .operation(Some(Duration::from_secs(3))),
        )
        .build()
        .expect("builds");
    let start = Instant::now();
    let error = transport
        .send(post("/mcp"), &CallOptions::idempotent("GetSession"))
        .await
        .expect_err("deadline");
    assert!(error.is_timeout());
    assert!(error.to_string().contains("operation deadline"), "{error}");
    // 2 s attempt, 50 ms backoff, then the last 950 ms of the deadline.
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    assert_eq!(never.num_calls(), 2);
    assert_eq!(error.attempts(), 2);
}

#[tokio::test(start_paused = true)]
async fn per_call_timeout_overrides_the_client_limits() {
    let replay =
        ReplayClient::new([ReplayEvent::status(200, OK_BODY).after(Duration::from_secs(300))]);
    let transport = builder(replay.clone())
        .timeouts(
            TimeoutConfig::default()
                .attempt(Some(Duration::from_secs(60)))
                .operation(Some(Duration::from_secs(60))),
        )
        .build()
        .expect("builds");
    let options = CallOptions::non_idempotent("CallMcpTool").timeout(Duration::from_secs(305));
    let response = transport
        .send(post("/mcp"), &options)
        .await
        .expect("the long run is not cut");
    assert_eq!(response.status(), StatusCode::OK);
    replay.assert_done();
}

#[tokio::test]
async fn headers_base_url_and_auth_scope() {
    let capture = CaptureClient::new();
    let transport = Transport::builder()
        .endpoint("agb.test/prefix/")
        .api_key("akm-secret-key")
        .http_send(capture.clone())
        .build()
        .expect("builds");
    transport
        .send(
            post("/mcp/getSession?x=1"),
            &CallOptions::idempotent("GetSession"),
        )
        .await
        .expect("captured");
    transport
        .send(
            post("https://bucket.other.test/upload?sig=abc"),
            &CallOptions::idempotent("Upload"),
        )
        .await
        .expect("captured");
    transport
        .send(
            post("/link"),
            &CallOptions::idempotent("Link").without_auth(),
        )
        .await
        .expect("captured");
    let requests = capture.requests();
    let first = &requests[0];
    assert_eq!(
        first.uri().to_string(),
        "https://agb.test/prefix/mcp/getSession?x=1"
    );
    assert_eq!(first.headers()["authorization"], "Bearer akm-secret-key");
    assert!(first.headers()["authorization"].is_sensitive());
    assert_eq!(first.headers()["user-agent"], DEFAULT_USER_AGENT);
    assert!(DEFAULT_USER_AGENT.starts_with("agbcloud-rs/0."));
    assert!(!requests[1].headers().contains_key("authorization"));
    assert!(!requests[2].headers().contains_key("authorization"));
    let debug = format!("{transport:?} {:?}", requests[0]);
    assert!(!debug.contains("akm-secret-key"), "{debug}");
}

#[tokio::test]
async fn relative_uri_without_endpoint_is_an_invalid_request() {
    let transport = Transport::builder()
        .http_send(CaptureClient::new())
        .build()
        .expect("builds");
    let error = transport
        .send(post("/mcp"), &CallOptions::default())
        .await
        .expect_err("no base URL");
    assert!(error.is_invalid_request());
    assert!(!error.may_have_been_sent());
}

#[tokio::test(start_paused = true)]
async fn http_send_impl_reads_call_options_from_extensions() {
    let replay = ReplayClient::new([
        ReplayEvent::error(TransportError::timeout("slow")),
        ReplayEvent::status(200, OK_BODY),
    ]);
    let transport = builder(replay.clone()).build().expect("builds");
    let shared = SharedHttpSend::new(transport);
    let mut request = post("/mcp");
    request
        .extensions_mut()
        .insert(CallOptions::idempotent("GetSession"));
    let response = shared.send(request).await.expect("retried");
    assert_eq!(response.status(), StatusCode::OK);
    replay.assert_done();
}

#[test]
fn invalid_api_key_error_does_not_show_the_key() {
    let error = Transport::builder()
        .endpoint("http://agb.test")
        .api_key("akm-bad\nkey")
        .http_send(CaptureClient::new())
        .build()
        .expect_err("newline is not allowed");
    assert!(!format!("{error} {error:?}").contains("akm-bad"));
}
