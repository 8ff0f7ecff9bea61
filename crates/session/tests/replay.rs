//! The session layer against scripted transports: request shapes, error mapping, chunking,
//! pagination and the result cache, with no server.

use std::sync::{Arc, Mutex};

use agbcloud_session::{Agb, CreateParams, Error, Language, ListFilter, RequestSent, ResultCache};
use agbcloud_transport::test_util::{CaptureClient, ReplayClient, ReplayEvent};
use agbcloud_transport::{HttpSend, RetryConfig, SendFuture, Transport};
use bytes::Bytes;
use futures_util::TryStreamExt;
use serde_json::{Value, json};

fn agb(http: impl HttpSend + 'static) -> Agb {
    let transport = Transport::builder()
        .endpoint("http://agb.test")
        .api_key("akm-test")
        .retry(RetryConfig::default().max_attempts(1))
        .http_send(http)
        .build()
        .expect("transport");
    Agb::from_transport(transport)
}

fn ok(data: Value) -> String {
    json!({"success": true, "code": "ok", "message": "", "requestId": "r-1", "httpStatusCode": 200, "data": data}).to_string()
}

fn tool_ok(text: &str) -> String {
    ok(json!({"isError": false, "content": [{"type": "text", "text": text}]}))
}

fn respond(body: String) -> ReplayEvent {
    ReplayEvent::respond(http::Response::new(Bytes::from(body)))
}

fn body_json(request: &http::Request<Bytes>) -> Value {
    serde_json::from_slice(request.body()).expect("JSON body")
}

#[tokio::test]
async fn create_sends_the_official_shape_and_returns_the_session() {
    let replay = ReplayClient::new([respond(ok(json!({"sessionId": "s-1", "resourceUrl": "u?resourceId=1"})))
        .expect_path(http::Method::POST, "/mcp/createSession?imageId=agb-code-space-1&sdkStats=%7B%22source%22%3A%22sdk%22%2C%22sdk_language%22%3A%22rust%22%2C%22sdk_version%22%3A%220.1.0%22%2C%22is_release%22%3Atrue%7D")]);
    let client = agb(replay.clone());
    let session = client
        .create(CreateParams::default().label("team", "ml"))
        .await
        .expect("created");
    assert_eq!(session.id(), "s-1");
    assert_eq!(session.request_id(), Some("r-1"));
    replay.assert_done();
    let request = &replay.requests()[0];
    assert_eq!(body_json(request)["labels"], "{\"team\":\"ml\"}");
    assert_eq!(request.headers()["authorization"], "Bearer akm-test");
}

#[tokio::test]
async fn refusals_happen_before_any_request() {
    let replay = ReplayClient::new([]);
    let client = agb(replay.clone());
    let session = client.session("s-1");
    let unsupported = session.code().run("puts 1", "ruby").await.unwrap_err();
    assert!(
        unsupported
            .to_string()
            .contains("Unsupported language: ruby")
    );
    assert_eq!(unsupported.request_sent(), RequestSent::No);
    let relative = session.fs().read_text("notes.txt").await.unwrap_err();
    assert!(
        matches!(relative, Error::InvalidArgument { .. }),
        "{relative}"
    );
    let escape = session
        .fs()
        .write_text("/../etc/passwd", "x")
        .await
        .unwrap_err();
    assert_eq!(escape.request_sent(), RequestSent::No);
    assert!(client.create(CreateParams::new("  ")).await.is_err());
    replay.assert_done();
}

#[tokio::test]
async fn a_gone_session_is_session_not_found_with_its_request_id() {
    let gone = r#"{"success": false, "code": "InvalidMcpSession.NotFound", "message": "Session not found", "requestId": "r-9", "httpStatusCode": 400}"#;
    let replay = ReplayClient::new([ReplayEvent::status(400, gone)]);
    let client = agb(replay.clone());
    let error = client
        .session("s-gone")
        .code()
        .run("1", Language::Python)
        .await
        .unwrap_err();
    match &error {
        Error::SessionNotFound { session_id, .. } => assert_eq!(session_id, "s-gone"),
        other => panic!("expected SessionNotFound, got {other:?}"),
    }
    assert_eq!(error.request_id(), Some("r-9"));
    assert_eq!(error.request_sent(), RequestSent::Yes);
}

#[tokio::test]
async fn exit_codes_and_exceptions_are_data() {
    let shell =
        r#"{"stdout": "", "stderr": "nope\n", "exit_code": 2, "errorCode": 2, "traceId": ""}"#;
    let run = r#"{"result": [], "stdout": [], "stderr": ["Traceback...\n"], "executionError": "NameError: name 'x' is not defined"}"#;
    let replay = ReplayClient::new([
        respond(ok(
            json!({"isError": true, "content": [{"type": "text", "text": shell}]}),
        )),
        respond(tool_ok(run)),
    ]);
    let client = agb(replay.clone());
    let session = client.session("s-1");
    let output = session.command().exec("ls /nope").await.expect("data");
    assert_eq!(output.exit_code, Some(2));
    assert!(!output.success());
    assert_eq!(output.stderr, "nope\n");
    let failed = session.code().run("x", "PY").await.expect("data");
    assert!(!failed.success);
    assert!(failed.error_message.starts_with("NameError"));
    let args: Value = serde_json::from_str(
        body_json(&replay.requests()[1])["args"]
            .as_str()
            .expect("args string"),
    )
    .expect("args JSON");
    assert_eq!(args["language"], "python");
    assert_eq!(args["timeout_s"], 60);
}

/// A tiny in-memory file server: `get_file_info`, ranged `read_file`, `write_file`.
#[derive(Debug, Default, Clone)]
struct Files {
    content: Arc<Mutex<Vec<u8>>>,
    calls: Arc<Mutex<Vec<Value>>>,
}

impl HttpSend for Files {
    fn send(&self, request: http::Request<Bytes>) -> SendFuture<'_> {
        let body = body_json(&request);
        let args: Value =
            serde_json::from_str(body["args"].as_str().unwrap_or("{}")).unwrap_or_default();
        let name = body["name"].as_str().unwrap_or_default().to_owned();
        self.calls
            .lock()
            .unwrap()
            .push(json!({"name": name, "args": args}));
        let mut content = self.content.lock().unwrap();
        let text = match name.as_str() {
            "get_file_info" => format!("size: {}\nisDirectory: false\n", content.len()),
            "read_file" => {
                let offset = args["offset"].as_u64().unwrap_or(0) as usize;
                let length = args["length"].as_u64().unwrap_or(0) as usize;
                String::from_utf8_lossy(&content[offset..offset + length]).into_owned()
            }
            "write_file" => {
                if args["mode"] == "overwrite" {
                    content.clear();
                }
                content.extend(args["content"].as_str().unwrap_or_default().as_bytes());
                "ok".to_owned()
            }
            _ => "unknown".to_owned(),
        };
        let response = http::Response::new(Bytes::from(tool_ok(&text)));
        Box::pin(async move { Ok(response) })
    }
}

#[tokio::test]
async fn large_files_are_chunked_transparently() {
    let files = Files::default();
    let client = agb(files.clone());
    let session = client.session("s-1");
    let text: String = "a".repeat(120_000);
    session
        .fs()
        .write_text("/tmp/big.txt", &text)
        .await
        .expect("written");
    assert_eq!(
        session.fs().read_text("/tmp/big.txt").await.expect("read"),
        text
    );
    let calls = files.calls.lock().unwrap().clone();
    let modes: Vec<&str> = calls
        .iter()
        .filter(|c| c["name"] == "write_file")
        .map(|c| c["args"]["mode"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(modes, ["overwrite", "append", "append"]);
    let ranges: Vec<(u64, u64)> = calls
        .iter()
        .filter(|c| c["name"] == "read_file")
        .map(|c| {
            (
                c["args"]["offset"].as_u64().unwrap(),
                c["args"]["length"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(ranges, [(0, 51_200), (51_200, 51_200), (102_400, 17_600)]);
}

#[tokio::test]
async fn list_follows_next_token_across_pages() {
    let page1 = json!({"success": true, "requestId": "r", "data": [{"sessionId": "a", "sessionStatus": "RUNNING"}, {"sessionId": "b", "sessionStatus": "RUNNING"}], "nextToken": "p2", "maxResults": 2, "count": 3}).to_string();
    let page2 = json!({"success": true, "requestId": "r", "data": [{"sessionId": "c", "sessionStatus": "RUNNING"}], "nextToken": "", "maxResults": 2, "count": 3}).to_string();
    let replay = ReplayClient::new([respond(page1), respond(page2)]);
    let client = agb(replay.clone());
    let ids: Vec<String> = client
        .list(ListFilter::all().label("team", "ml").page_size(2))
        .map_ok(|summary| summary.session_id)
        .try_collect()
        .await
        .expect("listed");
    assert_eq!(ids, ["a", "b", "c"]);
    let second = replay.requests()[1].uri().to_string();
    assert!(second.contains("nextToken=p2"), "{second}");
    replay.assert_done();
}

#[tokio::test]
async fn delete_releases_then_waits_until_gone() {
    let gone = r#"{"success": false, "code": "InvalidMcpSession.NotFound", "message": "Session not found", "requestId": "r", "httpStatusCode": 400}"#;
    let replay = ReplayClient::new([
        respond(ok(json!({}))).expect_path(http::Method::POST, "/mcp/releaseSessionAsync"),
        respond(ok(json!({"status": "DELETING"})))
            .expect_path(http::Method::POST, "/mcp/getSessionInfo"),
        ReplayEvent::status(400, gone).expect_path(http::Method::POST, "/mcp/getSessionInfo"),
    ]);
    let client = agb(replay.clone());
    client.delete("s-1").await.expect("deleted");
    replay.assert_done();
}

#[tokio::test]
async fn the_cache_serves_the_second_identical_run_without_a_request() {
    let run =
        r#"{"result": [{"text/plain": "42", "isMainResult": true}], "stdout": [], "stderr": []}"#;
    let capture = CaptureClient::with_response(http::Response::new(Bytes::from(tool_ok(run))));
    let client = agb(capture.clone());
    let session = client.session("s-1");
    let cache = ResultCache::default();
    let first = session
        .code()
        .run("6 * 7", Language::Python)
        .cache(&cache)
        .await
        .expect("run");
    let second = session
        .code()
        .run("6 * 7", Language::Python)
        .cache(&cache)
        .await
        .expect("run");
    assert_eq!((first.text(), second.text()), ("42".into(), "42".into()));
    assert!(!first.from_cache && second.from_cache);
    assert_eq!(
        capture.requests().len(),
        1,
        "the second run sent no request"
    );
    let other = session
        .code()
        .run("6 * 8", Language::Python)
        .cache(&cache)
        .await
        .expect("run");
    assert!(!other.from_cache);
    assert_eq!(capture.requests().len(), 2);
    assert_eq!((cache.metrics().hits, cache.metrics().misses), (1, 2));
}

#[tokio::test(start_paused = true)]
async fn create_with_a_mount_waits_for_its_sync() {
    let status = |state: &str| {
        let items = json!([{"contextId": "c-1", "path": "/home/user/p", "status": state, "taskType": "download", "startTime": 1, "finishTime": 2, "errorMessage": ""}]).to_string();
        let outer = json!([{"type": "data", "data": items}]).to_string();
        ok(json!({"contextStatus": outer}))
    };
    let replay = ReplayClient::new([
        respond(ok(json!({"sessionId": "s-1"}))),
        respond(status("Running"))
            .expect_path(http::Method::GET, "/sdk/GetContextInfo?sessionId=s-1"),
        respond(status("Success"))
            .expect_path(http::Method::GET, "/sdk/GetContextInfo?sessionId=s-1"),
    ]);
    let client = agb(replay.clone());
    let params =
        CreateParams::default().mount(agbcloud_session::ContextMount::new("c-1", "/home/user/p"));
    let session = client.create(params).await.expect("created");
    assert_eq!(session.id(), "s-1");
    let body = body_json(&replay.requests()[0]);
    assert_eq!(body["persistenceDataList"][0]["contextId"], "c-1");
    replay.assert_done();
}
