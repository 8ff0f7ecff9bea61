//! The REST API over a real socket, against real sandboxes.

mod support;

use std::time::{Duration, Instant};

use agbcloud_server::ServerConfig;
use agbcloud_server::auth::Tenant;
use http::Method;
use serde_json::{Value, json};
use support::{assert_not_found, config, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_has_a_request_id_in_body_and_header() {
    let h = start(config()).await;
    let replies = [
        h.post(
            "/mcp/createSession?imageId=agb-code-space-1",
            "key-a",
            json!({}),
        )
        .await,
        h.info("key-a", "session-nope").await,
        h.raw(Method::GET, "/no/such/route", Some("key-a"), "")
            .await,
        h.raw(Method::POST, "/mcp/getSession", None, "{}").await,
    ];
    let mut seen = std::collections::HashSet::new();
    for reply in &replies {
        let id = reply.body["requestId"].as_str().expect("requestId");
        assert!(!id.is_empty());
        assert_eq!(reply.headers["x-request-id"], id);
        assert_eq!(reply.headers["content-type"], "application/json");
        assert_eq!(
            reply.body["httpStatusCode"].as_u64(),
            Some(u64::from(reply.status.as_u16()))
        );
        assert!(seen.insert(id.to_owned()), "request ids are unique");
    }
    assert_eq!(replies[0].body["success"], json!(true));
    assert_eq!(replies[0].body["code"], "ok");
    let data = replies[0].data();
    for field in [
        "sessionId",
        "appInstanceId",
        "resourceId",
        "token",
        "toolList",
    ] {
        assert!(
            data[field].as_str().is_some_and(|v| !v.is_empty()),
            "{field}"
        );
    }
    assert!(
        data["resourceUrl"]
            .as_str()
            .unwrap()
            .contains("resourceId=")
    );
    assert!(
        data["wsUrl"]
            .as_str()
            .unwrap()
            .starts_with("ws://127.0.0.1:")
    );
    assert_eq!(replies[2].status, 404);
    h.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_wrong_key_gets_401() {
    let h = start(config()).await;
    for key in [None, Some("key-z")] {
        let reply = h
            .raw(
                Method::POST,
                "/mcp/createSession?imageId=agb-code-space-1",
                key,
                "{}",
            )
            .await;
        assert_eq!(reply.status, 401);
        assert_eq!(reply.body["success"], json!(false));
        assert_eq!(reply.body["code"], "InvalidApiKey");
        assert!(reply.body["message"].as_str().unwrap().contains("API key"));
        assert!(reply.body["data"]["sessionId"].is_null());
    }
    assert_eq!(h.server.app().registry.len(), 0);
    h.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_key_can_neither_see_use_nor_delete_a_session() {
    let h = start(config()).await;
    let id = h.create_id("key-a").await;
    let b = "key-b";
    assert_not_found(&h.info(b, &id).await);
    assert_not_found(&h.post("/mcp/getSession", b, json!({"sessionId": id})).await);
    assert_not_found(&h.tool(b, &id, "shell", json!({"command": "echo hi"})).await);
    assert_not_found(
        &h.post(
            &format!("/mcp/refreshSessionIdleTime?sessionId={id}"),
            b,
            json!({}),
        )
        .await,
    );
    assert_not_found(
        &h.post(
            &format!("/sdk/SetLabel?sessionId={id}&Labels=%7B%22x%22%3A%22y%22%7D"),
            b,
            json!({}),
        )
        .await,
    );
    assert_not_found(
        &h.raw(
            Method::GET,
            &format!("/sdk/GetLabel?sessionId={id}"),
            Some(b),
            "",
        )
        .await,
    );
    assert_not_found(
        &h.post("/mcp/getMcpResource", b, json!({"sessionId": id}))
            .await,
    );
    assert_not_found(
        &h.post("/mcp/releaseSessionAsync", b, json!({"sessionId": id}))
            .await,
    );
    let listed = h
        .raw(
            Method::GET,
            "/sdk/ListSession?maxResults=10&labels=%7B%7D",
            Some(b),
            "",
        )
        .await;
    assert_eq!(listed.body["count"], 0);
    assert_eq!(listed.data(), &json!([]));
    // Still alive and usable for its owner.
    assert_eq!(h.info("key-a", &id).await.data()["status"], "RUNNING");
    let listed = h
        .raw(
            Method::GET,
            "/sdk/ListSession?maxResults=10&labels=%7B%7D",
            Some("key-a"),
            "",
        )
        .await;
    assert_eq!(listed.body["count"], 1);
    h.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_cap_gets_413() {
    let mut config = config();
    config.max_body = 1024;
    let h = start(config).await;
    let body = json!({"sessionId": "x".repeat(4096)}).to_string();
    let reply = h
        .raw(Method::POST, "/mcp/getSessionInfo", Some("key-a"), body)
        .await;
    assert_eq!(reply.status, 413);
    assert_eq!(reply.body["success"], json!(false));
    assert!(reply.body["message"].as_str().unwrap().contains("1024"));
    assert!(!reply.body["requestId"].as_str().unwrap().is_empty());
    h.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_400_naming_the_problem() {
    let h = start(config()).await;
    let id = h.create_id("key-a").await;
    let cases: Vec<(&str, String, &str)> = vec![
        ("/mcp/getSessionInfo", "{not json".into(), "malformed JSON"),
        ("/mcp/getSessionInfo", r#"{"sessionId": 42}"#.into(), "invalid type"),
        ("/mcp/getSessionInfo", "{}".into(), "sessionId"),
        ("/mcp/getSessionInfo", "[1, 2]".into(), "JSON object"),
        (
            "/mcp",
            json!({"args": json!({"path": "relative/a.txt"}).to_string(), "sessionId": id, "name": "read_file"})
                .to_string(),
            "relative",
        ),
        (
            "/mcp",
            json!({"args": "{\"path\": 7", "sessionId": id, "name": "read_file"}).to_string(),
            "args",
        ),
        (
            "/mcp",
            json!({"args": "{}", "sessionId": id, "name": "shell"}).to_string(),
            "command",
        ),
    ];
    for (path, body, needle) in cases {
        let reply = h.raw(Method::POST, path, Some("key-a"), body.clone()).await;
        assert_eq!(reply.status, 400, "{body}: {:?}", reply.body);
        assert_eq!(reply.body["code"], "InvalidParameter", "{body}");
        let message = reply.body["message"].as_str().unwrap();
        assert!(
            message.contains(needle),
            "{body}: {message:?} lacks {needle:?}"
        );
    }
    h.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_released_sessions_are_not_found() {
    let h = start(config()).await;
    assert_not_found(&h.info("key-a", "session-unknown").await);
    let id = h.create_id("key-a").await;
    let released = h
        .post(
            "/mcp/releaseSessionAsync",
            "key-a",
            json!({"sessionId": id}),
        )
        .await;
    assert_eq!(released.status, 200);
    assert_eq!(released.body["success"], json!(true));
    assert_not_found(&h.info("key-a", &id).await);
    assert_not_found(
        &h.tool("key-a", &id, "shell", json!({"command": "true"}))
            .await,
    );
    assert_not_found(
        &h.post(
            "/mcp/releaseSessionAsync",
            "key-a",
            json!({"sessionId": id}),
        )
        .await,
    );
    h.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_tool_is_a_tool_error() {
    let h = start(config()).await;
    let id = h.create_id("key-a").await;
    let reply = h.tool("key-a", &id, "fly_to_the_moon", json!({})).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["success"], json!(true));
    assert_eq!(reply.body["message"], "");
    assert!(reply.is_error());
    assert!(reply.text().contains("fly_to_the_moon"));
    h.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_reports_exit_codes_as_json() {
    let h = start(config()).await;
    let id = h.create_id("key-a").await;
    let ok = h
        .tool(
            "key-a",
            &id,
            "shell",
            json!({"command": "echo hi; id -u", "timeout_ms": 5000}),
        )
        .await;
    assert!(!ok.is_error());
    let report: Value = serde_json::from_str(&ok.text()).unwrap();
    assert_eq!(report["exit_code"], 0);
    let lines: Vec<&str> = report["stdout"].as_str().unwrap().lines().collect();
    assert_eq!(lines[0], "hi");
    assert_ne!(lines[1], "0", "commands never run as root");

    let failed = h
        .tool(
            "key-a",
            &id,
            "shell",
            json!({"command": "echo out; echo err >&2; exit 3", "cwd": "/tmp", "envs": {"A": "b"}}),
        )
        .await;
    assert!(failed.is_error());
    assert_eq!(failed.body["message"], "");
    let report: Value = serde_json::from_str(&failed.text()).unwrap();
    assert_eq!(report["exit_code"], 3);
    assert_eq!(report["errorCode"], 3);
    assert_eq!(report["stdout"], "out\n");
    assert_eq!(report["stderr"], "err\n");
    h.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_code_keeps_python_state_and_reports_errors() {
    let h = start(config()).await;
    let id = h.create_id("key-a").await;
    let run = |code: &'static str| {
        let h = &h;
        let id = id.clone();
        async move {
            let reply = h
                .tool(
                    "key-a",
                    &id,
                    "run_code",
                    json!({"code": code, "language": "python", "timeout_s": 30}),
                )
                .await;
            assert!(!reply.is_error(), "{:?}", reply.body);
            serde_json::from_str::<Value>(&reply.text()).unwrap()
        }
    };
    let first = run("x = 40\nprint('set')").await;
    assert_eq!(first["stdout"], json!(["set\n"]));
    assert_eq!(first["result"], json!([]));
    let second = run("x + 2").await;
    assert_eq!(second["result"][0]["text/plain"], "42");
    assert_eq!(second["result"][0]["isMainResult"], json!(true));
    let failed = run("print('before')\nraise ValueError('boom')").await;
    assert_eq!(failed["executionError"], "ValueError: boom");
    assert_eq!(failed["stdout"], json!(["before\n"]));
    assert!(failed["stderr"].to_string().contains("Traceback"));
    h.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_reads_by_byte_range_keep_multibyte_characters() {
    let h = start(config()).await;
    let id = h.create_id("key-a").await;
    // 51,199 ASCII bytes, then a 3-byte character straddling the 51,200-byte boundary.
    let text = format!("{}€{}", "a".repeat(51_199), "é".repeat(30_000));
    let path = "/home/user/deep/dir/text.txt";
    let written = h
        .tool(
            "key-a",
            &id,
            "write_file",
            json!({"path": path, "content": text, "mode": "overwrite"}),
        )
        .await;
    assert!(!written.is_error(), "{:?}", written.body);
    let info = h
        .tool("key-a", &id, "get_file_info", json!({"path": path}))
        .await;
    let size: usize = info
        .text()
        .lines()
        .find_map(|line| line.strip_prefix("size: "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(size, text.len());
    assert!(info.text().contains("isDirectory: false"));
    let mut joined = String::new();
    let mut offset = 0;
    while offset < size {
        let length = 51_200.min(size - offset);
        let chunk = h
            .tool(
                "key-a",
                &id,
                "read_file",
                json!({"path": path, "offset": offset, "length": length}),
            )
            .await;
        assert!(!chunk.is_error());
        joined.push_str(&chunk.text());
        offset += length;
    }
    assert_eq!(joined.len(), text.len());
    assert!(joined == text, "chunks concatenate to the exact text");
    // Code sees the same filesystem.
    let listed = h
        .tool(
            "key-a",
            &id,
            "shell",
            json!({"command": "wc -c < /home/user/deep/dir/text.txt"}),
        )
        .await;
    let report: Value = serde_json::from_str(&listed.text()).unwrap();
    assert_eq!(report["stdout"].as_str().unwrap().trim(), size.to_string());
    let binary = h
        .tool(
            "key-a",
            &id,
            "read_file",
            json!({"path": path, "offset": 51_199, "length": 3, "format": "binary"}),
        )
        .await;
    assert_eq!(binary.text(), "4oKs", "base64 of the euro sign");
    h.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_are_reaped_and_keep_alive_refreshes() {
    let mut config = config();
    config.reap_interval = Duration::from_millis(200);
    let h = start(config).await;
    let idle = h.create("key-a", json!({"timeout": 2})).await["sessionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let kept = h.create("key-a", json!({"timeout": 2})).await["sessionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let start = Instant::now();
    let mut refreshed = false;
    loop {
        // Status polling is not activity.
        let reply = h.info("key-a", &idle).await;
        if reply.status != 200 {
            assert_not_found(&reply);
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(6), "never reaped");
        if !refreshed && start.elapsed() > Duration::from_millis(1200) {
            let reply = h
                .post(
                    &format!("/mcp/refreshSessionIdleTime?sessionId={kept}"),
                    "key-a",
                    json!({}),
                )
                .await;
            assert_eq!(reply.status, 200);
            refreshed = true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        start.elapsed() >= Duration::from_millis(1800),
        "reaped too early"
    );
    assert!(refreshed);
    assert_eq!(
        h.info("key-a", &kept).await.status,
        200,
        "keep-alive refreshed it"
    );
    h.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_and_pagination() {
    let h = start(config()).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let labels = json!({"team": "ml", "n": n.to_string()}).to_string();
        ids.push(
            h.create("key-a", json!({ "labels": labels })).await["sessionId"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    h.create_id("key-a").await;
    let filter = "%7B%22team%22%3A+%22ml%22%7D";
    let page1 = h
        .raw(
            Method::GET,
            &format!("/sdk/ListSession?maxResults=2&labels={filter}"),
            Some("key-a"),
            "",
        )
        .await;
    assert_eq!(page1.body["count"], 3);
    assert_eq!(page1.body["maxResults"], 2);
    assert_eq!(page1.data().as_array().unwrap().len(), 2);
    let token = page1.body["nextToken"].as_str().unwrap();
    assert!(!token.is_empty());
    let page2 = h
        .raw(
            Method::GET,
            &format!("/sdk/ListSession?maxResults=2&labels={filter}&nextToken={token}"),
            Some("key-a"),
            "",
        )
        .await;
    assert_eq!(page2.data().as_array().unwrap().len(), 1);
    assert_eq!(page2.body["nextToken"].as_str().unwrap_or_default(), "");
    let set = h
        .post(
            &format!(
                "/sdk/SetLabel?sessionId={}&Labels=%7B%22k%22%3A+%22a+%26+b%22%7D",
                ids[0]
            ),
            "key-a",
            json!({}),
        )
        .await;
    assert_eq!(set.status, 200);
    let got = h
        .raw(
            Method::GET,
            &format!("/sdk/GetLabel?sessionId={}", ids[0]),
            Some("key-a"),
            "",
        )
        .await;
    let labels: Value = serde_json::from_str(got.data()["labels"].as_str().unwrap()).unwrap();
    assert_eq!(labels, json!({"k": "a & b"}));
    h.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_tools_is_a_json_string() {
    let h = start(config()).await;
    let reply = h
        .post(
            "/mcp/listTools?imageId=agb-code-space-1",
            "key-a",
            json!({}),
        )
        .await;
    let tools: Vec<Value> = serde_json::from_str(reply.data().as_str().unwrap()).unwrap();
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    for name in [
        "shell",
        "run_code",
        "read_file",
        "get_file_change",
        "get_metrics",
    ] {
        assert!(names.contains(&name), "{name}");
    }
    h.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_destroys_every_session() {
    let h = start(ServerConfig::dev(support::localhost())).await;
    let id = h.create_id("any").await;
    let session = h
        .server
        .app()
        .registry
        .get(&Tenant::new("any"), &id)
        .expect("session");
    let pid = session.sandbox.init_pid();
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    drop(session);
    let app = std::sync::Arc::clone(h.server.app());
    h.server.shutdown().await;
    assert!(app.registry.is_empty());
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        assert!(
            Instant::now() < deadline,
            "sandbox init {pid} survived shutdown"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extreme_numbers_are_answered_not_panicked_on() {
    let h = start(config()).await;
    let id = h.create_id("key-a").await;
    h.tool(
        "key-a",
        &id,
        "write_file",
        json!({"path": "/tmp/x", "content": "héllo", "mode": "overwrite"}),
    )
    .await;
    let max = u64::MAX;
    let read = h
        .tool(
            "key-a",
            &id,
            "read_file",
            json!({"path": "/tmp/x", "offset": 2, "length": max}),
        )
        .await;
    assert_eq!(
        read.text(),
        "llo",
        "the continuation byte at offset 2 is skipped"
    );
    let far = h
        .tool(
            "key-a",
            &id,
            "read_file",
            json!({"path": "/tmp/x", "offset": max, "length": 10}),
        )
        .await;
    assert_eq!(far.status, 200);
    let shell = h
        .tool(
            "key-a",
            &id,
            "shell",
            json!({"command": "echo ok", "timeout_ms": max}),
        )
        .await;
    assert!(!shell.is_error(), "{:?}", shell.body);
    let code = h
        .tool(
            "key-a",
            &id,
            "run_code",
            json!({"code": "1", "language": "python", "timeout_s": max}),
        )
        .await;
    assert!(!code.is_error(), "{:?}", code.body);
    let created = h
        .post(
            "/mcp/createSession?imageId=x",
            "key-a",
            json!({"timeout": max}),
        )
        .await;
    assert_eq!(created.status, 200);
    let listed = h
        .raw(
            Method::GET,
            &format!("/sdk/ListSession?maxResults={max}&nextToken={max}"),
            Some("key-a"),
            "",
        )
        .await;
    assert_eq!(listed.status, 400, "{:?}", listed.body);
    assert!(
        listed.body["message"]
            .as_str()
            .unwrap()
            .contains("too large")
    );
    h.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doubled_slashes_and_empty_bodies_are_accepted() {
    let h = start(config()).await;
    let id = h.create_id("key-a").await;
    // An endpoint configured with a trailing slash makes the Python SDK send `//mcp/...`.
    let info = h.info("key-a", &id).await;
    let doubled = h
        .post("//mcp//getSessionInfo", "key-a", json!({ "sessionId": id }))
        .await;
    assert_eq!(doubled.status, 200);
    assert_eq!(doubled.data(), info.data());
    // TypeScript sends query-only POSTs without a body.
    let refreshed = h
        .raw(
            Method::POST,
            &format!("/mcp/refreshSessionIdleTime?sessionId={id}"),
            Some("key-a"),
            "",
        )
        .await;
    assert_eq!(refreshed.status, 200, "{:?}", refreshed.body);
    h.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_sane() {
    let h = start(config()).await;
    let id = h.create_id("key-a").await;
    for _ in 0..2 {
        let reply = h.tool("key-a", &id, "get_metrics", json!({})).await;
        assert!(!reply.is_error());
        let m: Value = serde_json::from_str(&reply.text()).unwrap();
        assert!(m["cpu_count"].as_u64().unwrap() >= 1);
        let pct = m["cpu_used_pct"].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&pct));
        let (used, total) = (
            m["mem_used"].as_u64().unwrap(),
            m["mem_total"].as_u64().unwrap(),
        );
        assert!(0 < used && used <= total);
        assert!(m["disk_used"].as_u64().unwrap() <= m["disk_total"].as_u64().unwrap());
        for field in [
            "rx_rate_kbyte_per_s",
            "tx_rate_kbyte_per_s",
            "rx_used_kbyte",
            "tx_used_kbyte",
        ] {
            assert!(m[field].as_f64().unwrap() >= 0.0, "{field}");
        }
        assert!(m["timestamp"].as_str().unwrap().ends_with('Z'));
    }
    h.server.shutdown().await;
}

/// How many processes in the session run the Python interpreter, seen from inside it.
async fn pythons_running(h: &support::Harness, session: &str) -> usize {
    let script = r"for p in /proc/[0-9]*; do tr '\0' ' ' < $p/cmdline 2>/dev/null; echo; done";
    let reply = h
        .tool(
            "key-a",
            session,
            "shell",
            json!({"command": script, "timeout_ms": 5000}),
        )
        .await;
    let report: Value = serde_json::from_str(&reply.text()).unwrap();
    let stdout = report["stdout"].as_str().unwrap();
    stdout
        .lines()
        .filter(|l| l.starts_with("/usr/bin/python3"))
        .count()
}

#[tokio::test]
async fn sessions_come_from_the_warm_pool_with_python_started() {
    let mut config = config();
    config.warm_pool = 1;
    let h = start(config).await;
    for _ in 0..3 {
        let id = h.create_id("key-a").await;
        assert_eq!(
            pythons_running(&h, &id).await,
            1,
            "Python was started before create"
        );
        let run = h
            .tool(
                "key-a",
                &id,
                "run_code",
                json!({"code": "x = 41\nx + 1", "language": "python"}),
            )
            .await;
        assert!(run.text().contains("42"), "{}", run.text());
        assert_eq!(
            pythons_running(&h, &id).await,
            1,
            "the pooled kernel ran the code"
        );
    }

    let mut config = support::config();
    config.warm_pool = 0;
    let h = start(config).await;
    let id = h.create_id("key-a").await;
    assert_eq!(
        pythons_running(&h, &id).await,
        0,
        "without a pool, Python starts on first use"
    );
}
