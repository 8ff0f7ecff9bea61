//! WebSocket streaming and the link route, over a real socket.

mod support;

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use http::Method;
use serde_json::{Value, json};
use support::{config, start};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

async fn connect(
    ws_url: &str,
    token: &str,
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    tokio_tungstenite::tungstenite::Error,
> {
    let mut request = ws_url.into_client_request().expect("ws request");
    request
        .headers_mut()
        .insert("X-Access-Token", token.parse().expect("header"));
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(socket, _)| socket)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_code_streams_output_as_it_happens_and_answers_pings() {
    let h = start(config()).await;
    let session = h.create("key-a", json!({})).await;
    let ws_url = session["wsUrl"].as_str().unwrap();
    let token = session["token"].as_str().unwrap();

    let rejected = connect(ws_url, "tkn-wrong").await.expect_err("bad token");
    match rejected {
        tokio_tungstenite::tungstenite::Error::Http(response) => {
            assert_eq!(response.status(), 401)
        }
        other => panic!("expected an HTTP rejection, got {other}"),
    }

    let mut socket = connect(ws_url, token).await.expect("handshake");
    socket
        .send(Message::text(r#"{"type":"ping"}"#))
        .await
        .unwrap();
    let invocation = json!({
        "invocationId": "0123456789abcdef0123456789abcdef",
        "source": "SDK",
        "target": "wuying_codespace",
        "data": {"method": "run_code", "mode": "stream", "params": {
            "language": "python", "timeoutS": 30,
            "code": "import time\nprint('a')\ntime.sleep(1)\nprint('b')\n6 * 7"
        }}
    });
    socket
        .send(Message::text(invocation.to_string()))
        .await
        .unwrap();
    socket
        .send(Message::Ping(b"still there?".to_vec().into()))
        .await
        .unwrap();

    let mut events: Vec<(Instant, Value)> = Vec::new();
    let mut pong_before_end = false;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let message = tokio::time::timeout_at(deadline.into(), socket.next())
            .await
            .expect("stream ends in time")
            .expect("socket open")
            .expect("frame");
        match message {
            Message::Pong(payload) => {
                assert_eq!(&payload[..], b"still there?");
                pong_before_end = true;
            }
            Message::Text(text) => {
                assert!(text.len() < 1 << 20);
                let frame: Value = serde_json::from_str(text.as_str()).unwrap();
                assert_eq!(frame["invocationId"], invocation["invocationId"]);
                assert_eq!(frame["target"], "SDK");
                let data = frame["data"].clone();
                let end = data["phase"] == "end";
                events.push((Instant::now(), data));
                if end {
                    break;
                }
            }
            _ => {}
        }
    }
    assert!(pong_before_end, "pings are answered while code runs");
    let kinds: Vec<String> = events
        .iter()
        .map(|(_, data)| {
            format!(
                "{}:{}",
                data["phase"].as_str().unwrap_or_default(),
                data["eventType"].as_str().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        kinds,
        ["event:stdout", "event:stdout", "event:result", "end:"],
        "{events:?}"
    );
    assert_eq!(events[0].1["chunk"], "a\n");
    assert_eq!(events[1].1["chunk"], "b\n");
    let gap = events[1].0 - events[0].0;
    assert!(
        gap >= Duration::from_millis(800),
        "chunks were batched: {gap:?}"
    );
    assert_eq!(events[2].1["result"]["mime"]["text/plain"], "42");
    assert_eq!(events[2].1["result"]["isMainResult"], json!(true));
    let end = &events[3].1;
    assert_eq!(end["status"], "finished");
    assert!(end["executionTime"].as_f64().unwrap() > 0.9);
    assert!(end.get("executionError").is_none());

    // A code error ends the stream with executionError.
    let failing = json!({
        "invocationId": "fedcba9876543210fedcba9876543210",
        "source": "SDK", "target": "wuying_codespace",
        "data": {"method": "run_code", "mode": "stream", "params": {
            "language": "python", "timeoutS": 30, "code": "1 / 0"}}
    });
    socket
        .send(Message::text(failing.to_string()))
        .await
        .unwrap();
    loop {
        let Some(Ok(Message::Text(text))) = socket.next().await else {
            continue;
        };
        let frame: Value = serde_json::from_str(text.as_str()).unwrap();
        if frame["data"]["phase"] == "end" {
            let error = frame["data"]["executionError"].as_str().unwrap();
            assert!(error.starts_with("ZeroDivisionError"), "{error}");
            break;
        }
    }

    // A malformed invocation that names itself gets an error frame, not silence.
    socket
        .send(Message::text(r#"{"invocationId":"bad1","data":{}}"#))
        .await
        .unwrap();
    loop {
        let Some(Ok(Message::Text(text))) = socket.next().await else {
            continue;
        };
        let frame: Value = serde_json::from_str(text.as_str()).unwrap();
        assert_eq!(frame["invocationId"], "bad1");
        assert_eq!(frame["data"]["phase"], "error");
        assert!(frame["data"]["error"].as_str().unwrap().contains("invalid"));
        break;
    }

    // Large output is split into frames under the client's 1 MiB limit.
    let large = json!({
        "invocationId": "00000000000000000000000000000001",
        "source": "SDK", "target": "wuying_codespace",
        "data": {"method": "run_code", "mode": "stream", "params": {
            "language": "python", "timeoutS": 30, "code": "print('é' * 700000)"}}
    });
    socket.send(Message::text(large.to_string())).await.unwrap();
    let mut stdout = String::new();
    loop {
        let Some(Ok(Message::Text(text))) = socket.next().await else {
            continue;
        };
        assert!(text.len() < 1 << 20, "frame of {} bytes", text.len());
        let frame: Value = serde_json::from_str(text.as_str()).unwrap();
        match frame["data"]["phase"].as_str() {
            Some("end") => break,
            _ => stdout.push_str(frame["data"]["chunk"].as_str().unwrap_or_default()),
        }
    }
    assert_eq!(stdout.chars().count(), 700_001);

    // After release the token is refused.
    let id = session["sessionId"].as_str().unwrap();
    h.post("/mcp/releaseSession", "key-a", json!({"sessionId": id}))
        .await;
    assert!(connect(ws_url, token).await.is_err());
    h.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_route_calls_tools_by_token_and_refuses_unknown_tokens() {
    let h = start(config()).await;
    let session = h.create("key-a", json!({})).await;
    let token = session["token"].as_str().unwrap();
    let call = |token: &str| {
        let body = json!({
            "args": {"command": "echo linked"},
            "server": "wuying_shell",
            "requestId": "link-1-000000001",
            "tool": "shell",
            "token": token,
        });
        let request = http::Request::builder()
            .method(Method::POST)
            .uri(format!("{}/link/callTool", h.url()))
            .header("content-type", "application/json")
            .header("X-Access-Token", token)
            .body(http_body_util::Full::new(bytes::Bytes::from(
                body.to_string(),
            )))
            .unwrap();
        h.client.request(request)
    };
    let ok = call(token).await.unwrap();
    assert_eq!(ok.status(), 200);
    let body = http_body_util::BodyExt::collect(ok.into_body())
        .await
        .unwrap()
        .to_bytes();
    let output = agbcloud_wire::tools::link::parse_link_response(&body).unwrap();
    assert!(!output.is_error);
    assert!(output.text.unwrap().contains("linked"));
    let refused = call("tkn-unknown").await.unwrap();
    assert_eq!(refused.status(), 401);
    h.server.shutdown().await;
}
