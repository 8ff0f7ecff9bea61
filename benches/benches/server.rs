//! `print(1)` through `CallMcpTool` against a real sandbox session: over loopback HTTP with a
//! kept-alive connection, and in-process through the router, in the same run.
//!
//! Bench ids:
//! - `server/print1_http`: `POST /mcp` over 127.0.0.1 (hyper client, one pooled connection);
//!   target ≤ 0.6 ms p50.
//! - `server/print1_inprocess`: the same call through `Router::handle`, no socket (the
//!   embedded engine's path).

use std::time::Duration;

use agbcloud_server::{Server, ServerConfig};
use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

const KEY: &str = "bench-key";

fn call_body(session_id: &str) -> Bytes {
    Bytes::from(
        json!({
            "args": json!({"code": "print(1)", "language": "python", "timeout_s": 30}).to_string(),
            "sessionId": session_id,
            "name": "run_code",
        })
        .to_string(),
    )
}

fn check(body: &[u8]) {
    let envelope: Value = serde_json::from_slice(body).expect("envelope");
    let text = envelope["data"]["content"][0]["text"]
        .as_str()
        .expect("tool text");
    assert!(
        text.contains(r#""stdout":["1\n"]"#),
        "unexpected result: {text}"
    );
}

fn bench_server(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let config = ServerConfig::new(([127, 0, 0, 1], 0).into(), [KEY.to_owned()]);
    let server = runtime.block_on(Server::bind(config)).expect("server");
    let router = server.router().clone();
    let url = server.url();
    let _running = runtime.block_on(async { server.spawn() });
    let client = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .build_http::<Full<Bytes>>();

    let post = |path: &str, body: Bytes| {
        Request::builder()
            .method("POST")
            .uri(format!("{url}{path}"))
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {KEY}"))
            .body(body)
            .expect("request")
    };
    let created: Value = runtime.block_on(async {
        let response = client
            .request(
                post(
                    "/mcp/createSession?imageId=agb-code-space-1",
                    Bytes::from_static(b"{}"),
                )
                .map(Full::new),
            )
            .await
            .expect("create");
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        serde_json::from_slice(&body).expect("json")
    });
    let session_id = created["data"]["sessionId"]
        .as_str()
        .expect("session")
        .to_owned();
    let body = call_body(&session_id);

    let mut group = c.benchmark_group("server");
    group
        .sample_size(100)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(4));
    group.bench_function("print1_http", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let response = client
                    .request(post("/mcp?autoGenSession=false", body.clone()).map(Full::new))
                    .await
                    .expect("call");
                let bytes = response
                    .into_body()
                    .collect()
                    .await
                    .expect("body")
                    .to_bytes();
                check(&bytes);
            })
        })
    });
    group.bench_function("print1_inprocess", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let response = router
                    .handle(post("/mcp?autoGenSession=false", body.clone()))
                    .await;
                check(response.body());
            })
        })
    });
    group.finish();
    runtime.block_on(_running.shutdown());
}

criterion_group!(benches, bench_server);
criterion_main!(benches);
