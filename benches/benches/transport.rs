//! Latency of a small JSON call through the transport over loopback: a kept-alive pooled
//! connection against a new connection per call, measured in the same run.
//!
//! Bench ids:
//! - `transport/keepalive`, `transport/new_connection`: the hyper server runs on the client's
//!   current-thread runtime, so the numbers measure the client stack and the kernel's
//!   loopback, not the cost of waking another core (large and noisy on a small VM).
//! - `transport_cross_thread/keepalive`, `transport_cross_thread/new_connection`: the server
//!   runs on its own thread, as a separate local server process would.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use agbcloud_transport::{CallOptions, HyperClient, RetryConfig, Transport};
use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

const RESPONSE: &str = r#"{"success":true,"code":"ok","message":"","requestId":"7F3C-11","httpStatusCode":200,"data":{"status":"RUNNING"}}"#;

/// Starts a hyper server on a new thread with its own runtime; returns its address.
fn start_server_thread() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        tx.send(start_server(&runtime)).expect("send address");
        runtime.block_on(std::future::pending::<()>());
    });
    rx.recv().expect("server address")
}

/// Starts a hyper server on `runtime`; returns its address.
fn start_server(runtime: &tokio::runtime::Runtime) -> SocketAddr {
    let listener = runtime
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    runtime.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = service_fn(|request: Request<Incoming>| async move {
                    let _ = request.into_body().collect().await;
                    Ok::<_, Infallible>(
                        Response::builder()
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from_static(RESPONSE.as_bytes())))
                            .expect("response"),
                    )
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

fn transport(addr: SocketAddr, keep_alive: bool) -> Transport {
    let client = HyperClient::builder()
        .pool_max_idle_per_host(if keep_alive { 16 } else { 0 })
        .build()
        .expect("client");
    Transport::builder()
        .endpoint(format!("http://{addr}"))
        .api_key("akm-bench")
        .http_send(client)
        .retry(RetryConfig::disabled())
        .build()
        .expect("transport")
}

fn request() -> Request<Bytes> {
    Request::post("/mcp/getSession")
        .header("content-type", "application/json")
        .body(Bytes::from_static(br#"{"SessionId":"s-1"}"#))
        .expect("request")
}

fn bench_pair(c: &mut Criterion, group: &str, runtime: &tokio::runtime::Runtime, addr: SocketAddr) {
    let options = CallOptions::idempotent("GetSession");
    let mut group = c.benchmark_group(group);
    // New connections leave sockets in TIME_WAIT: keep the number of calls moderate.
    group
        .sample_size(50)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for (id, keep_alive) in [("keepalive", true), ("new_connection", false)] {
        let transport = transport(addr, keep_alive);
        group.bench_function(id, |b| {
            b.iter_custom(|iterations| {
                runtime.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iterations {
                        let response = transport.send(request(), &options).await.expect("response");
                        assert!(response.status().is_success());
                    }
                    start.elapsed()
                })
            });
        });
    }
    group.finish();
}

fn client_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime")
}

fn bench_transport(c: &mut Criterion) {
    let runtime = client_runtime();
    let addr = start_server(&runtime);
    bench_pair(c, "transport", &runtime, addr);
}

fn bench_transport_cross_thread(c: &mut Criterion) {
    let runtime = client_runtime();
    let addr = start_server_thread();
    bench_pair(c, "transport_cross_thread", &runtime, addr);
}

criterion_group!(benches, bench_transport, bench_transport_cross_thread);
criterion_main!(benches);
