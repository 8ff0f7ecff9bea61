//! Start-up removes what a crashed server left behind (the sandbox engine's reconcile).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use agbcloud_sandbox::EngineConfig;
use agbcloud_server::{Embedded, Server, ServerConfig};
use bytes::Bytes;

/// Set in the child process that plays the crashing server.
const CHILD_ENV: &str = "AGB_SERVER_TEST_CRASH_CHILD";

/// The child half of `startup_removes_leftovers_of_a_crashed_server`: when started by it,
/// creates a session, says so, and waits to be killed. A no-op in a normal test run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_child_role() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let engine = Embedded::start(ServerConfig::embedded()).expect("engine");
    let request = http::Request::builder()
        .method("POST")
        .uri("http://embedded.agb.local/mcp/createSession?imageId=x")
        .body(Bytes::from_static(b"{}"))
        .expect("request");
    let response = engine.handle(request).await;
    assert_eq!(response.status(), 200);
    println!("READY");
    tokio::time::sleep(Duration::from_secs(120)).await;
}

fn leftovers(pid: u32) -> Vec<std::path::PathBuf> {
    let prefix = format!("e{pid}x");
    std::fs::read_dir(EngineConfig::default().state_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().starts_with(&prefix))
        .map(|entry| entry.path())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_removes_leftovers_of_a_crashed_server() {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "crash_child_role",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("child server");
    let stdout = child.stdout.take().expect("stdout");
    let ready = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|line| line.contains("READY"))
    });
    let ready = tokio::time::timeout(Duration::from_secs(60), ready).await;
    let pid = child.id();
    if !matches!(ready, Ok(Ok(true))) {
        child.kill().ok();
        child.wait().ok();
        panic!("the child server never created its session");
    }
    assert!(
        !leftovers(pid).is_empty(),
        "the child's engine keeps state while it runs"
    );
    // A crash: no clean-up code runs in the child.
    child.kill().expect("SIGKILL the child");
    child.wait().expect("reap the child");

    let server = Server::bind(ServerConfig::dev(([127, 0, 0, 1], 0).into()))
        .await
        .expect("a new server starts")
        .spawn();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !leftovers(pid).is_empty() {
        assert!(
            Instant::now() < deadline,
            "leftovers survived: {:?}",
            leftovers(pid)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.shutdown().await;
}
