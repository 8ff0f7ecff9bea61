//! The default client against a real local hyper server that injects faults.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use agbcloud_transport::{
    Backoff, CallOptions, Clock, FixedRandom, HyperClient, RetryConfig, Sleep, TimeoutConfig,
    TokioClock, Transport, TransportBuilder,
};
use bytes::Bytes;
use http::{Request, StatusCode};
use support::{FaultServer, Reply, SelfSigned, Tls};
use tokio::net::TcpListener;

const API_KEY: &str = "akm-SECRET-9f8e7d6c";

fn builder(url: &str) -> TransportBuilder {
    Transport::builder()
        .endpoint(url)
        .api_key(API_KEY)
        .http_send(HyperClient::builder().build().expect("client"))
}

fn post() -> Request<Bytes> {
    Request::post("/mcp/getSession")
        .header("content-type", "application/json")
        .body(Bytes::from_static(br#"{"SessionId":"s-1"}"#))
        .expect("valid request")
}

fn idempotent() -> CallOptions {
    CallOptions::idempotent("GetSession")
}

fn non_idempotent() -> CallOptions {
    CallOptions::non_idempotent("CreateSession")
}

/// Records every backoff delay, then sleeps on tokio's clock.
#[derive(Debug, Default, Clone)]
struct RecordingClock {
    sleeps: Arc<Mutex<Vec<Duration>>>,
}

impl Clock for RecordingClock {
    fn now(&self) -> tokio::time::Instant {
        TokioClock.now()
    }

    fn system_now(&self) -> SystemTime {
        TokioClock.system_now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        self.sleeps.lock().expect("lock").push(duration);
        TokioClock.sleep(duration)
    }
}

#[tokio::test]
async fn succeeds_after_exactly_two_retries_of_503_with_delays_in_backoff_bounds() {
    let server = FaultServer::start(
        [Reply::json(503, "{}"), Reply::json(503, "{}")],
        Reply::ok(),
    )
    .await;
    let clock = RecordingClock::default();
    let backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(1));
    let transport = builder(&server.url())
        .clock(clock.clone())
        // No timeouts, so every sleep on the clock is a backoff delay.
        .timeouts(TimeoutConfig::none())
        .retry(RetryConfig::default().backoff(backoff))
        .build()
        .expect("builds");
    let response = transport
        .send(post(), &non_idempotent())
        .await
        .expect("succeeds");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(server.requests(), 3);
    let sleeps = clock.sleeps.lock().expect("lock").clone();
    assert_eq!(sleeps.len(), 2, "{sleeps:?}");
    for (retry, delay) in (1..).zip(&sleeps) {
        assert!(*delay <= backoff.ceiling(retry), "retry {retry}: {delay:?}");
    }
}

#[tokio::test]
async fn connection_refused_then_server_comes_up() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let server = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let listener = TcpListener::bind(addr).await.expect("rebind");
        FaultServer::serve(listener, [], Reply::ok(), Tls::Plain)
    });
    let transport = builder(&format!("http://{addr}"))
        // The largest delays (50, 100, 200, 200, ... ms): the server is up before they run out.
        .random(FixedRandom::new(1.0))
        .retry(
            RetryConfig::default()
                .max_attempts(10)
                .backoff(Backoff::new(
                    Duration::from_millis(50),
                    Duration::from_millis(200),
                )),
        )
        .build()
        .expect("builds");
    // Create is not idempotent, but a refused connection never sent it.
    let response = transport
        .send(post(), &non_idempotent())
        .await
        .expect("retried until the server was up");
    assert_eq!(response.status(), StatusCode::OK);
    let server = server.await.expect("server task");
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn refused_connection_error_says_not_sent() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let transport = builder(&format!("http://{addr}"))
        .retry(RetryConfig::default().max_attempts(2).backoff(Backoff::new(
            Duration::from_millis(1),
            Duration::from_millis(1),
        )))
        .build()
        .expect("builds");
    let error = transport
        .send(post(), &idempotent())
        .await
        .expect_err("nobody listens");
    assert!(error.is_connect(), "{error:?}");
    assert!(!error.may_have_been_sent());
    assert_eq!(error.attempts(), 2);
}

#[tokio::test]
async fn reset_mid_response_is_retried_only_when_idempotent() {
    let server = FaultServer::start(
        [Reply::ResetMidResponse {
            partial: r#"{"success":"#,
        }],
        Reply::ok(),
    )
    .await;
    let transport = builder(&server.url()).build().expect("builds");
    let response = transport
        .send(post(), &idempotent())
        .await
        .expect("second attempt succeeds");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(server.requests(), 2);

    let server = FaultServer::start(
        [Reply::ResetMidResponse {
            partial: r#"{"success":"#,
        }],
        Reply::ok(),
    )
    .await;
    let transport = builder(&server.url()).build().expect("builds");
    let error = transport
        .send(post(), &non_idempotent())
        .await
        .expect_err("not retried");
    assert!(error.is_body(), "{error:?}");
    assert!(error.may_have_been_sent());
    assert_eq!(error.request_id(), Some("RID-RESET"));
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn reset_before_the_response_is_interrupted_and_not_retried_when_unsafe() {
    let server = FaultServer::start([Reply::ResetBeforeResponse], Reply::ok()).await;
    let transport = builder(&server.url()).build().expect("builds");
    let error = transport
        .send(post(), &non_idempotent())
        .await
        .expect_err("reset");
    assert!(error.is_interrupted(), "{error:?}");
    assert!(error.may_have_been_sent());
    assert_eq!(server.requests(), 1);
    let response = transport
        .send(post(), &idempotent())
        .await
        .expect("the next call works");
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn honours_retry_after_on_503() {
    let server = FaultServer::start(
        [Reply::json(503, "{}").header("retry-after", "1")],
        Reply::ok(),
    )
    .await;
    let clock = RecordingClock::default();
    let transport = builder(&server.url())
        .clock(clock.clone())
        .build()
        .expect("builds");
    let start = tokio::time::Instant::now();
    let response = transport
        .send(post(), &non_idempotent())
        .await
        .expect("succeeds after the pause");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(start.elapsed() >= Duration::from_secs(1));
    assert!(
        clock
            .sleeps
            .lock()
            .expect("lock")
            .contains(&Duration::from_secs(1))
    );
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn retries_429_even_when_not_idempotent() {
    let server = FaultServer::start([Reply::json(429, "{}")], Reply::ok()).await;
    let transport = builder(&server.url()).build().expect("builds");
    let response = transport
        .send(post(), &non_idempotent())
        .await
        .expect("succeeds");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn slow_headers_hit_the_attempt_timeout() {
    let slow = Reply::ok().after(Duration::from_secs(5));
    let server = FaultServer::start([], slow).await;
    let transport = builder(&server.url())
        .timeouts(TimeoutConfig::default().attempt(Some(Duration::from_millis(200))))
        .build()
        .expect("builds");
    let error = transport
        .send(post(), &non_idempotent())
        .await
        .expect_err("times out");
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(error.attempts(), 1);
    assert_eq!(server.requests(), 1, "a non-idempotent call is not retried");

    let error = transport
        .send(
            post(),
            &idempotent().attempt_timeout(Some(Duration::from_millis(100))),
        )
        .await
        .expect_err("times out again");
    assert!(error.is_timeout());
    assert_eq!(error.attempts(), 4, "an idempotent call is retried");
}

#[tokio::test]
async fn truncated_body_is_a_body_error_with_the_request_id() {
    let server = FaultServer::start(
        [Reply::Truncated {
            declared: 100,
            sent: r#"{"succ"#,
        }],
        Reply::ok(),
    )
    .await;
    let transport = builder(&server.url()).build().expect("builds");
    let error = transport
        .send(post(), &non_idempotent())
        .await
        .expect_err("truncated");
    assert!(error.is_body(), "{error:?}");
    assert_eq!(error.request_id(), Some("RID-TRUNCATED"));
    let response = transport
        .send(post(), &idempotent())
        .await
        .expect("a fresh connection works");
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn sends_auth_user_agent_and_reads_the_request_id() {
    let server = FaultServer::start([], Reply::ok()).await;
    let transport = builder(&format!("{}/", server.url()))
        .build()
        .expect("builds");
    let response = transport
        .send(post(), &idempotent())
        .await
        .expect("succeeds");
    let id = response
        .extensions()
        .get::<agbcloud_transport::RequestId>()
        .expect("request id");
    assert_eq!(id.as_str(), "RID-OK");
    let headers = server.state.headers.lock().expect("lock");
    assert_eq!(headers[0]["authorization"], format!("Bearer {API_KEY}"));
    assert!(
        headers[0]["user-agent"]
            .to_str()
            .expect("ascii")
            .starts_with("agbcloud-rs/")
    );
}

async fn tls_server() -> (FaultServer, SelfSigned) {
    let cert = SelfSigned::generate();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let server = FaultServer::serve(
        listener,
        [],
        Reply::ok(),
        Tls::Rustls(cert.server_config.clone()),
    );
    (server, cert)
}

#[tokio::test]
async fn https_with_a_self_signed_certificate_through_custom_roots() {
    let (server, cert) = tls_server().await;
    let url = format!("https://localhost:{}", server.addr.port());
    for client in [
        HyperClient::builder().add_root_certificate_der(cert.cert_der.clone()),
        HyperClient::builder().add_root_certificates_pem(cert.cert_pem.clone()),
        HyperClient::builder().danger_accept_invalid_certs(true),
    ] {
        let transport = Transport::builder()
            .endpoint(url.as_str())
            .http_send(client.build().expect("client"))
            .build()
            .expect("builds");
        let response = transport
            .send(post(), &idempotent())
            .await
            .expect("trusted");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.version(), http::Version::HTTP_2, "ALPN picks h2");
    }
}

#[tokio::test]
async fn https_with_a_self_signed_certificate_is_refused_without_custom_roots() {
    let (server, _cert) = tls_server().await;
    let url = format!("https://localhost:{}", server.addr.port());
    let transport = builder(&url).build().expect("builds");
    let error = transport
        .send(post(), &idempotent())
        .await
        .expect_err("untrusted certificate");
    assert!(error.is_tls(), "{error:?}");
    assert!(!error.may_have_been_sent());
    assert_eq!(error.attempts(), 1, "TLS failures are not retried");
    assert_eq!(server.requests(), 0);
}

#[tokio::test]
async fn https_without_any_root_fails_before_connecting_but_http_works() {
    let client = HyperClient::builder()
        .webpki_roots(false)
        .native_roots(false)
        .build()
        .expect("a client without roots still builds");
    let request = Request::get("https://127.0.0.1:1/")
        .body(Bytes::new())
        .expect("request");
    let error = agbcloud_transport::HttpSend::send(&client, request)
        .await
        .expect_err("no roots");
    assert!(error.is_tls(), "{error:?}");
    assert!(error.to_string().contains("webpki-roots"));

    let server = FaultServer::start([], Reply::ok()).await;
    let request = Request::get(format!("{}/", server.url()))
        .body(Bytes::new())
        .expect("request");
    let response = agbcloud_transport::HttpSend::send(&client, request)
        .await
        .expect("plain http needs no roots");
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_share_a_bounded_pool() {
    let server = FaultServer::start([], Reply::ok().after(Duration::from_millis(5))).await;
    let client = HyperClient::builder()
        .max_connections_per_host(Some(8))
        .build()
        .expect("client");
    let transport = Transport::builder()
        .endpoint(server.url())
        .http_send(client)
        .build()
        .expect("builds");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let transport = transport.clone();
        tasks.spawn(async move { transport.send(post(), &idempotent()).await });
    }
    while let Some(result) = tasks.join_next().await {
        let response = result.expect("task").expect("response");
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(server.requests(), 100);
    let max_in_flight = server
        .state
        .max_in_flight
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(max_in_flight <= 8, "{max_in_flight} requests in flight");
    let accepted = server.accepted();
    eprintln!("accepted {accepted} connections, max in flight {max_in_flight}");
    assert!(accepted <= 16, "{accepted} connections for 100 requests");
}

#[tokio::test]
async fn invalid_uri_is_rejected_before_sending() {
    let client = HyperClient::builder().build().expect("client");
    let error = agbcloud_transport::HttpSend::send(&client, post())
        .await
        .expect_err("relative URI");
    assert!(error.is_invalid_request());
}

#[tokio::test]
async fn sequential_calls_reuse_one_kept_alive_connection() {
    let server = FaultServer::start([], Reply::ok()).await;
    let transport = builder(&server.url()).build().expect("builds");
    for _ in 0..50 {
        let response = transport
            .send(post(), &idempotent())
            .await
            .expect("succeeds");
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(server.requests(), 50);
    assert_eq!(server.accepted(), 1, "one connection, kept alive");
}

#[tokio::test]
async fn idle_connections_expire_and_the_idle_cap_applies() {
    let server = FaultServer::start([], Reply::ok()).await;
    let client = HyperClient::builder()
        .pool_idle_timeout(Some(Duration::from_millis(100)))
        .build()
        .expect("client");
    let transport = Transport::builder()
        .endpoint(server.url())
        .http_send(client)
        .build()
        .expect("builds");
    transport.send(post(), &idempotent()).await.expect("first");
    tokio::time::sleep(Duration::from_millis(400)).await;
    transport.send(post(), &idempotent()).await.expect("second");
    assert_eq!(server.accepted(), 2, "the idle connection expired");

    let server = FaultServer::start([], Reply::ok()).await;
    let client = HyperClient::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let transport = Transport::builder()
        .endpoint(server.url())
        .http_send(client)
        .build()
        .expect("builds");
    for _ in 0..3 {
        transport.send(post(), &idempotent()).await.expect("call");
    }
    assert_eq!(server.accepted(), 3, "no idle connection is kept");
}
