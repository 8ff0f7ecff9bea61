//! The SDK against the AGB server over loopback HTTP (as `agb serve --dev` runs it): live
//! streaming over the session's WebSocket, and authentication errors.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agbcloud::CodeEvent;
use agbcloud::prelude::*;
use agbcloud::server::serve::RunningServer;
use agbcloud::server::{Server, ServerConfig};
use futures_util::StreamExt;

async fn serve() -> RunningServer {
    Server::bind(ServerConfig::dev(SocketAddr::from(([127, 0, 0, 1], 0))))
        .await
        .expect("server binds")
        .spawn()
}

fn client(server: &RunningServer, key: Option<&str>) -> Agb {
    let mut builder = Agb::builder().use_environment(false).endpoint(server.url());
    if let Some(key) = key {
        builder = builder.api_key(key);
    }
    builder.build().expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdout_chunks_arrive_live_over_the_websocket() {
    let server = serve().await;
    let agb = client(&server, Some("test"));
    let session = agb
        .create_guarded(CreateParams::default())
        .await
        .expect("created");
    assert!(
        session.data().ws_url.is_some(),
        "the server advertises wsUrl"
    );

    let chunks: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let sink = chunks.clone();
    let run = session
        .code()
        .run(
            "import time\nprint('first', flush=True)\ntime.sleep(0.6)\nprint('second')\n6 * 7",
            Language::Python,
        )
        .on_stdout(move |chunk| {
            sink.lock()
                .unwrap()
                .push((Instant::now(), chunk.to_owned()))
        })
        .await
        .expect("ran");
    assert!(run.success, "{}", run.error_message);
    assert_eq!(run.text(), "42");
    let chunks = chunks.lock().unwrap().clone();
    let text: String = chunks.iter().map(|(_, chunk)| chunk.as_str()).collect();
    assert_eq!(text, "first\nsecond\n");
    let first = chunks
        .iter()
        .find(|(_, c)| c.contains("first"))
        .expect("first")
        .0;
    let second = chunks
        .iter()
        .find(|(_, c)| c.contains("second"))
        .expect("second")
        .0;
    assert!(
        second.duration_since(first) >= Duration::from_millis(400),
        "chunks were delivered as they were printed, not at the end"
    );

    let events: Vec<CodeEvent> = session
        .code()
        .run("print('x')\n1 / 0", "python")
        .stream()
        .map(|event| event.expect("event"))
        .collect()
        .await;
    assert!(
        matches!(events.first(), Some(CodeEvent::Stdout(chunk)) if chunk == "x\n"),
        "{events:?}"
    );
    match events.last() {
        Some(CodeEvent::End(run)) => {
            assert!(
                !run.success && run.error_message.contains("ZeroDivisionError"),
                "{run:?}"
            );
        }
        other => panic!("expected the end event, got {other:?}"),
    }

    // Streams share the session's connection; each gets only its own frames.
    let runs = (0..4).map(|i| {
        let session = &session;
        async move {
            let mut own = String::new();
            let run = session
                .code()
                .run(format!("print('run {i}')"), "python")
                .on_stdout(|chunk| own.push_str(chunk))
                .await
                .expect("ran");
            assert!(run.success);
            own
        }
    });
    let outputs = futures_util::future::join_all(runs).await;
    for (i, output) in outputs.iter().enumerate() {
        assert_eq!(output, &format!("run {i}\n"));
    }
    session.close().await.expect("closed");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_api_key_is_unauthenticated_and_was_sent() {
    let server = serve().await;
    let agb = client(&server, None);
    let error = agb.create(CreateParams::default()).await.unwrap_err();
    assert!(matches!(error, Error::Unauthenticated { .. }), "{error:?}");
    assert_eq!(error.request_sent(), agbcloud::RequestSent::Yes);
    server.shutdown().await;
}
