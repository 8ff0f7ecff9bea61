//! Tracing output: one span per request with its fields, retries at debug, and never a secret.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agbcloud_transport::{
    Backoff, CallOptions, HyperClient, RetryConfig, TimeoutConfig, Transport,
};
use bytes::Bytes;
use http::Request;
use support::{FaultServer, Reply};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;

const API_KEY: &str = "akm-SECRET-0a1b2c3d";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn post(path: &str) -> Request<Bytes> {
    Request::post(path)
        .header("x-access-token", "tok-SECRET-SESSION")
        .body(Bytes::from_static(b"{}"))
        .expect("valid request")
}

#[tokio::test]
async fn spans_carry_the_fields_and_no_log_line_or_error_has_a_secret() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(captured.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = FaultServer::start(
        [
            Reply::json(503, "{}"),
            Reply::ok(),
            Reply::ok().after(Duration::from_secs(2)),
        ],
        Reply::ok(),
    )
    .await;
    let transport = Transport::builder()
        .endpoint(server.url())
        .api_key(API_KEY)
        .http_send(
            HyperClient::builder()
                .danger_accept_invalid_certs(true)
                .build()
                .expect("client"),
        )
        .retry(RetryConfig::default().backoff(Backoff::new(
            Duration::from_millis(10),
            Duration::from_millis(10),
        )))
        .timeouts(TimeoutConfig::default().attempt(Some(Duration::from_millis(200))))
        .build()
        .expect("builds");
    let mut texts = vec![format!("{transport:?}")];

    transport
        .send(
            post("/mcp/getSession"),
            &CallOptions::idempotent("GetSession"),
        )
        .await
        .expect("retried to success");
    let timeout = transport
        .send(post("/mcp"), &CallOptions::non_idempotent("CallMcpTool"))
        .await
        .expect_err("times out");
    texts.push(format!("{timeout} {timeout:?}"));

    let refused = Transport::builder()
        .endpoint("http://127.0.0.1:1")
        .api_key(API_KEY)
        .retry(RetryConfig::disabled())
        .build()
        .expect("builds")
        .send(post("/mcp"), &CallOptions::idempotent("GetSession"))
        .await
        .expect_err("refused");
    texts.push(format!("{refused} {refused:?}"));

    let logs = captured.text();
    for needle in [
        "agb_request",
        "method=POST",
        "path=\"/mcp/getSession\"",
        "connection failed: client error (Connect): tcp connect error",
        "operation=\"GetSession\"",
        "status=200",
        "attempt=2",
        "latency_ms=",
        "request_id=\"RID-OK\"",
        "retrying",
        "delay_ms=",
        "status 503",
    ] {
        assert!(logs.contains(needle), "missing {needle:?} in logs:\n{logs}");
    }
    texts.push(logs);
    for text in &texts {
        assert!(!text.contains(API_KEY), "API key leaked:\n{text}");
        assert!(!text.contains("SECRET"), "secret leaked:\n{text}");
    }
}
