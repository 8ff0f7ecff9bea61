//! The in-process engine: the router behind `HttpSend`, no socket.

use std::time::{Duration, Instant};

use agbcloud_server::auth::Tenant;
use agbcloud_server::{Embedded, ServerConfig};
use agbcloud_transport::HttpSend;
use bytes::Bytes;
use serde_json::{Value, json};

async fn send(engine: &Embedded, path: &str, body: Value) -> (u16, Value) {
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("{}{path}", engine.base_url()))
        .header("content-type", "application/json")
        .body(Bytes::from(body.to_string()))
        .unwrap();
    let response = engine.http_send().send(request).await.expect("in-process");
    assert!(response.headers().contains_key("x-request-id"));
    let status = response.status().as_u16();
    (status, serde_json::from_slice(response.body()).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_send_runs_code_without_a_socket() {
    let engine = Embedded::start(ServerConfig::embedded()).expect("engine");
    assert_eq!(engine.base_url(), "http://embedded.agb.local");
    let (status, created) = send(&engine, "/mcp/createSession?imageId=anything", json!({})).await;
    assert_eq!(status, 200, "{created}");
    let data = &created["data"];
    let id = data["sessionId"].as_str().unwrap().to_owned();
    assert!(data.get("wsUrl").is_none(), "no socket, no streaming URL");
    let (_, ran) = send(
        &engine,
        "/mcp?autoGenSession=false",
        json!({"args": json!({"code": "print(1)", "language": "python"}).to_string(),
               "sessionId": id, "name": "run_code"}),
    )
    .await;
    let text = ran["data"]["content"][0]["text"].as_str().unwrap();
    let report: Value = serde_json::from_str(text).unwrap();
    assert_eq!(report["stdout"], json!(["1\n"]));
    assert_eq!(engine.session_count(), 1);
    engine.shutdown().await;
    assert_eq!(engine.session_count(), 0);
    let (status, refused) = send(&engine, "/mcp/createSession?imageId=x", json!({})).await;
    assert_eq!(status, 503);
    assert!(refused["data"]["sessionId"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_last_clone_destroys_the_sessions() {
    let engine = Embedded::start(ServerConfig::embedded()).expect("engine");
    let (_, created) = send(&engine, "/mcp/createSession?imageId=x", json!({})).await;
    let id = created["data"]["sessionId"].as_str().unwrap().to_owned();
    let pid = engine
        .router()
        .app()
        .registry
        .get(&Tenant::new(""), &id)
        .expect("anonymous tenant owns it")
        .sandbox
        .init_pid();
    let proc_dir = format!("/proc/{pid}");
    let send_handle = engine.http_send();
    let twin = engine.clone();
    drop(engine);
    drop(twin);
    // The transport still holds the engine.
    assert!(std::path::Path::new(&proc_dir).exists());
    drop(send_handle);
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::path::Path::new(&proc_dir).exists() {
        assert!(
            Instant::now() < deadline,
            "the sandbox survived the last drop"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_works_in_process() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::WebSocketStream;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::protocol::Role;

    let engine = Embedded::start(ServerConfig::embedded()).expect("engine");
    let (_, created) = send(&engine, "/mcp/createSession?imageId=x", json!({})).await;
    let token = created["data"]["token"].as_str().unwrap();
    assert!(engine.websocket("tkn-unknown").is_none());
    let stream = engine.websocket(token).expect("known token");
    let mut socket = WebSocketStream::from_raw_socket(stream, Role::Client, None).await;
    let invocation = json!({
        "invocationId": "0123456789abcdef0123456789abcdef",
        "source": "SDK", "target": "wuying_codespace",
        "data": {"method": "run_code", "mode": "stream",
                 "params": {"language": "python", "timeoutS": 30, "code": "print(1)\n2 + 2"}}
    });
    socket
        .send(Message::text(invocation.to_string()))
        .await
        .unwrap();
    let mut seen = Vec::new();
    while let Some(Ok(message)) = socket.next().await {
        let Message::Text(text) = message else {
            continue;
        };
        let frame: Value = serde_json::from_str(text.as_str()).unwrap();
        let data = frame["data"].clone();
        let end = data["phase"] == "end";
        seen.push(data);
        if end {
            break;
        }
    }
    assert_eq!(seen[0]["chunk"], "1\n");
    assert_eq!(seen[1]["result"]["mime"]["text/plain"], "4");
    assert_eq!(seen[2]["status"], "finished");
    engine.shutdown().await;
}
